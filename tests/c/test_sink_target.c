/* Where a sink writes (issue 9, section 1): a path that is not a regular file
 * is refused and left alone, a symbolic link is written through and survives,
 * two sinks on one path both commit, and leftovers of crashed runs are
 * removed unless a live run holds them locked. */
#define TU_OUT_NAME "out.c1z"
#include "test_sink_util.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>

static void refused(const char *path, const char *fragment)
{
    char err[1024] = "";
    bt_sink *s = bt_sink_open(path, NULL, err, sizeof err);
    assert_null(s);
    if (!strstr(err, fragment))
        print_error("err: %s\n", err);
    assert_non_null(strstr(err, fragment));
}

static mode_t lmode(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode;
}

static void special_files_are_refused_and_kept(void **state)
{
    fixture *f = *state;
    assert_int_equal(mkfifo(f->out, 0600), 0);
    refused(f->out, "it is a FIFO; the output must be a regular file or not exist yet");
    assert_true(S_ISFIFO(lmode(f->out)));
    assert_int_equal(unlink(f->out), 0);

    int sock = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", f->out);
    assert_int_equal(bind(sock, (struct sockaddr *)&addr, sizeof addr), 0);
    refused(f->out, "it is a socket");
    assert_true(S_ISSOCK(lmode(f->out)));
    close(sock);
    assert_int_equal(unlink(f->out), 0);

    assert_int_equal(symlink("/dev/null", f->out), 0);
    refused(f->out, "it is a symbolic link to /dev/null, which is a character device");
    assert_true(S_ISLNK(lmode(f->out)));
    assert_true(S_ISCHR(lmode("/dev/null")));
    assert_listing(f->dir, "out.c1z\n");
}

static void symlink_loop_is_refused(void **state)
{
    fixture *f = *state;
    char *a = tu_path(f->dir, "a");
    assert_int_equal(symlink("out.c1z", a), 0);
    assert_int_equal(symlink("a", f->out), 0);
    refused(f->out, "too many levels of symbolic links");
    assert_listing(f->dir, "a\nout.c1z\n");
    free(a);
}

static void symlink_is_written_through(void **state)
{
    fixture *f = *state;
    char *sub = tu_path(f->dir, "sub"), *target = tu_path(f->dir, "sub/real.c1z");
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(tu_write(target, "old", 3), 0);
    assert_int_equal(symlink("sub/real.c1z", f->out), 0);
    bt_sink *s = tu_open_sink(f->out, "c1z");
    tb_add_tenant(s);
    /* the temporary files sit beside the target, not beside the link */
    assert_listing(f->dir, "out.c1z\nsub\n");
    commit_ok(s);
    assert_true(S_ISLNK(lmode(f->out)));
    assert_listing(sub, "real.c1z\n");
    char db[PATH_MAX];
    sqlite3 *h = tu_c1z_open(target, db, sizeof db);
    assert_int_equal(tu_sql_int(h, "select count(*) from v1_resources"), 2);
    sqlite3_close(h);
    unlink(db);
    free(sub);
    free(target);
}

static void two_sinks_on_one_path_both_commit(void **state)
{
    fixture *f = *state;
    for (int jsonl = 0; jsonl < 2; jsonl++) {
        char *path = tu_path(f->dir, jsonl ? "both.jsonl" : "both.c1z");
        bt_sink *a = tu_open_sink(path, jsonl ? "jsonl" : "c1z");
        bt_sink *b = tu_open_sink(path, jsonl ? "jsonl" : "c1z");
        tb_add_tenant(a);
        tb_add_tenant(b);
        commit_ok(a);
        commit_ok(b);
        free(path);
    }
    assert_listing(f->dir, "both.c1z\nboth.jsonl\n");
}

/* A new file is 0600 whatever the umask (it holds a directory of people);
 * a re-run keeps the replaced file's mode, narrower or wider. */
static void published_file_is_private_and_keeps_a_replaced_mode(void **state)
{
    fixture *f = *state;
    mode_t old = umask(022);
    bt_sink *s = tu_open_sink(f->out, "c1z");
    tb_add_tenant(s);
    commit_ok(s);
    umask(old);
    assert_int_equal(lmode(f->out) & 0777, 0600);
    static const mode_t modes[] = {0640, 0604, 0400};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        assert_int_equal(chmod(f->out, modes[i]), 0);
        s = tu_open_sink(f->out, "c1z");
        tb_add_tenant(s);
        commit_ok(s);
        assert_int_equal(lmode(f->out) & 0777, modes[i]);
    }
}

static void leftovers_go_live_files_stay(void **state)
{
    fixture *f = *state;
    static const char *const names[] = {
        "out.c1z.tmp-db-Ab3xYz", "out.c1z.tmp-db-Ab3xYz-journal", "out.c1z.tmp-db-OrPhan-journal",
        "out.c1z.tmp-out-Zz0011", "out.c1z.tmp-db-LiVe42", "out.c1z.tmp-db-LiVe42-journal",
        "out.c1z.tmp-out-LiVe42", "out.c1z.tmp", "out.c1z.tmp-db-toolong", "other.c1z.tmp-db-Ab3xYz"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *p = tu_path(f->dir, names[i]);
        assert_int_equal(tu_write(p, "x", 1), 0);
        free(p);
    }
    int held[2];
    const char *live[2] = {"out.c1z.tmp-db-LiVe42", "out.c1z.tmp-out-LiVe42"};
    for (int i = 0; i < 2; i++) {
        char *p = tu_path(f->dir, live[i]);
        held[i] = open(p, O_RDONLY);
        assert_int_equal(flock(held[i], LOCK_EX | LOCK_NB), 0);
        free(p);
    }
    char err[512];
    bt_sink *s = bt_sink_open(f->out, NULL, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(bt_sink_stale_removed(s), 4);
    bt_sink_abort(s);
    for (int i = 0; i < 2; i++)
        close(held[i]);
    assert_listing(f->dir, "other.c1z.tmp-db-Ab3xYz\nout.c1z.tmp\nout.c1z.tmp-db-LiVe42\n"
                           "out.c1z.tmp-db-LiVe42-journal\nout.c1z.tmp-db-toolong\n"
                           "out.c1z.tmp-out-LiVe42\n");
}

/* A second sink on the same path sees the first one's files as live. */
static void a_live_sink_is_not_cleaned_up(void **state)
{
    fixture *f = *state;
    bt_sink *a = tu_open_sink(f->out, "c1z");
    tb_add_tenant(a);
    bt_sink *b = tu_open_sink(f->out, "c1z");
    assert_int_equal(bt_sink_stale_removed(b), 0);
    bt_sink_abort(b);
    commit_ok(a);
    assert_listing(f->dir, "out.c1z\n");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(special_files_are_refused_and_kept),
        T(symlink_loop_is_refused),
        T(symlink_is_written_through),
        T(two_sinks_on_one_path_both_commit),
        T(published_file_is_private_and_keeps_a_replaced_mode),
        T(leftovers_go_live_files_stay),
        T(a_live_sink_is_not_cleaned_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
