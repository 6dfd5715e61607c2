/* 200k grants through each sink: memory in use must not grow with the
 * number of rows (c1z), or only by the documented 8-16 bytes per id (jsonl).
 * Throughput and sizes are printed, not asserted. */
#include "test_sink_util.h"

#include <malloc.h>
#include <sys/resource.h>
#include <time.h>

#define USERS 10000
#define GROUPS 20
#define GRANTS (USERS * GROUPS) /* 200k */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Bytes malloc has handed out and not taken back (0 under ASan, which keeps
 * its own heap: the assertions on it are skipped there). */
static size_t heap_in_use(void)
{
    return mallinfo2().uordblks;
}

static void add_small_user(bt_sink *s, const char *id)
{
    C1__Connector__V2__UserTrait ut = C1__CONNECTOR__V2__USER_TRAIT__INIT;
    bt_pb_resource *r = bt_arena_alloc(&tb_arena, sizeof *r);
    c1__connector__v2__resource__init(r);
    r->id = tb_rid("user", id);
    r->display_name = bt_arena_strdup(&tb_arena, id);
    r->annotations = tb_anys(&ut.base);
    r->n_annotations = 1;
    TB_ADD(bt_sink_add_resource, s, r, BT_SINK_ADDED);
}

typedef struct {
    size_t heap_at_warmup, heap_at_end;
    double seconds;
} run_stats;

/* Users, groups, entitlements, then every group's 10k member grants. */
static void write_tenant(bt_sink *s, run_stats *st)
{
    char id[32], gid[32];
    TB_ADD(bt_sink_add_resource_type, s, tb_rt("user", "User", 1, 1), BT_SINK_ADDED);
    TB_ADD(bt_sink_add_resource_type, s, tb_rt("group", "Group", 2, 0), BT_SINK_ADDED);
    for (int u = 0; u < USERS; u++) {
        snprintf(id, sizeof id, "U%05d", u);
        add_small_user(s, id);
        bt_arena_reset(&tb_arena);
    }
    double t0 = now();
    long n = 0;
    for (int g = 0; g < GROUPS; g++) {
        snprintf(gid, sizeof gid, "G%02d", g);
        TB_ADD(bt_sink_add_resource, s, tb_group(gid, gid), BT_SINK_ADDED);
        TB_ADD(bt_sink_add_entitlement, s, tb_member_of(gid, gid), BT_SINK_ADDED);
        for (int u = 0; u < USERS; u++, n++) {
            snprintf(id, sizeof id, "U%05d", u);
            TB_ADD(bt_sink_add_grant, s, tb_grant("group", gid, "member", "user", id),
                   BT_SINK_ADDED);
            bt_arena_reset(&tb_arena);
            if (n == GRANTS / 4)
                st->heap_at_warmup = heap_in_use();
        }
    }
    st->heap_at_end = heap_in_use();
    st->seconds = now() - t0;
}

static void report(const char *what, const char *path, const run_stats *st, double commit_s)
{
    struct stat sb;
    stat(path, &sb);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%s: %d grants in %.2f s (%.0f grants/s), commit %.2f s, file %.1f MiB, heap growth "
           "after warm-up %+.1f KiB, sqlite high-water %.1f MiB, max RSS %.1f MiB\n",
           what, GRANTS, st->seconds, GRANTS / st->seconds, commit_s,
           (double)sb.st_size / 1048576.0,
           ((double)st->heap_at_end - (double)st->heap_at_warmup) / 1024.0,
           (double)sqlite3_memory_highwater(0) / 1048576.0, (double)ru.ru_maxrss / 1024.0);
}

static void c1z_memory_is_flat(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *out = tu_path(dir, "big.c1z");
    bt_arena_init(&tb_arena, 0);
    char err[1024] = "";
    bt_sink *s = bt_sink_open(out, NULL, err, sizeof err);
    assert_non_null(s);
    run_stats st = {0};
    write_tenant(s, &st);
    double t0 = now();
    int rc = bt_sink_commit(s, err, sizeof err);
    if (rc != 0)
        print_error("commit: %s\n", err);
    assert_int_equal(rc, 0);
    report("c1z", out, &st, now() - t0);
    if (st.heap_at_end)
        assert_true(st.heap_at_end < st.heap_at_warmup + 1024 * 1024); /* flat: < 1 MiB drift */
    assert_true(sqlite3_memory_highwater(0) < 24 * 1024 * 1024);

    char dbp[4096];
    sqlite3 *db = tu_c1z_open(out, dbp, sizeof dbp);
    assert_non_null(db);
    assert_int_equal(tu_sql_int(db, "select count(*) from v1_grants"), GRANTS);
    assert_int_equal(tu_sql_int(db, "select count(*) from v1_resources"), USERS + GROUPS);
    assert_int_equal(tu_sql_int(db, "select count(distinct entitlement_id) from v1_grants"), GROUPS);
    sqlite3_close(db);
    bt_arena_free(&tb_arena);
    free(out);
    tu_rmtree(dir);
}

static void jsonl_memory_is_bounded(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *out = tu_path(dir, "big.jsonl");
    bt_arena_init(&tb_arena, 0);
    char err[1024] = "";
    bt_sink *s = bt_sink_open(out, NULL, err, sizeof err);
    assert_non_null(s);
    run_stats st = {0};
    write_tenant(s, &st);
    double t0 = now();
    assert_int_equal(bt_sink_commit(s, err, sizeof err), 0);
    report("jsonl", out, &st, now() - t0);
    /* The digest set: at most 16 bytes per id (8 bytes at >= 50% load). */
    if (st.heap_at_end)
        assert_true(st.heap_at_end < st.heap_at_warmup + (size_t)GRANTS * 16 + 1024 * 1024);
    bt_arena_free(&tb_arena);
    free(out);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(c1z_memory_is_flat),
        cmocka_unit_test(jsonl_memory_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
