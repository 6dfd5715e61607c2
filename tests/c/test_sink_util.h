/* Helpers shared by the sink tests (test_c1z*.c, test_sink*.c, test_emit*.c):
 * scratch directories, reading files, and unpacking a c1z with libzstd and
 * SQLite directly (not through the code under test). */
#ifndef TEST_SINK_UTIL_H
#define TEST_SINK_UTIL_H
#define _GNU_SOURCE
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* A zstd frame header parsed by hand (RFC 8878 3.1.1.1). */
typedef struct {
    int single_segment, checksum, dict_id_flag, fcs_present;
    unsigned long long content_size, window_size;
} tu_zstd_header;

static inline int tu_zstd_parse_header(const unsigned char *p, size_t n, tu_zstd_header *h)
{
    static const unsigned char magic[4] = {0x28, 0xB5, 0x2F, 0xFD};
    if (n < 6 || memcmp(p, magic, 4) != 0)
        return -1;
    unsigned char fhd = p[4];
    int fcs_flag = fhd >> 6;
    h->single_segment = (fhd >> 5) & 1;
    h->checksum = (fhd >> 2) & 1;
    h->dict_id_flag = fhd & 3;
    size_t pos = 5;
    h->window_size = 0;
    if (!h->single_segment) {
        unsigned exp = p[pos] >> 3, mant = p[pos] & 7;
        unsigned long long base = 1ULL << (10 + exp);
        h->window_size = base + (base / 8) * mant;
        pos++;
    }
    static const size_t dict_sizes[] = {0, 1, 2, 4};
    pos += dict_sizes[h->dict_id_flag];
    size_t fcs_size = fcs_flag == 0 ? (h->single_segment ? 1 : 0) : (size_t)1 << fcs_flag;
    h->fcs_present = fcs_size > 0;
    unsigned long long v = 0;
    for (size_t i = 0; i < fcs_size; i++)
        v |= (unsigned long long)p[pos + i] << (8 * i);
    if (fcs_size == 2)
        v += 256;
    h->content_size = v;
    if (h->single_segment)
        h->window_size = v;
    return 0;
}

/* A fresh directory under $TMPDIR (or /tmp). */
static inline char *tu_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[PATH_MAX];
    snprintf(tmpl, sizeof tmpl, "%s/bt-sink-test-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

static inline int tu_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void tu_rmtree(char *dir)
{
    if (dir)
        nftw(dir, tu_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

static inline char *tu_path(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

/* Entries of dir other than . and .., one per line, sorted. */
static inline char *tu_listdir(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    size_t cap = 1;
    for (int i = 0; i < n; i++)
        cap += strlen(names[i]->d_name) + 1;
    char *out = calloc(1, cap);
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
            strcat(out, names[i]->d_name);
            strcat(out, "\n");
        }
        free(names[i]);
    }
    free(names);
    return out;
}

/* Whole file, NUL-terminated; *n its size. NULL when missing. */
static inline unsigned char *tu_read(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)len + 1);
    size_t got = fread(buf, 1, (size_t)len, f);
    fclose(f);
    buf[got] = 0;
    if (n)
        *n = got;
    return buf;
}

static inline int tu_write(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

/* Decompress a c1z (after checking its 5-byte magic) into db_path. Returns
 * the decompressed size, or -1. */
static inline long long tu_c1z_inflate(const char *c1z, const char *db_path)
{
    size_t n;
    unsigned char *data = tu_read(c1z, &n);
    if (!data || n < 5 || memcmp(data, "C1ZF\0", 5) != 0) {
        free(data);
        return -1;
    }
    FILE *out = fopen(db_path, "wb");
    ZSTD_DStream *ds = ZSTD_createDStream();
    ZSTD_initDStream(ds);
    ZSTD_inBuffer in = {data + 5, n - 5, 0};
    unsigned char obuf[65536];
    long long total = 0;
    size_t rc = 1;
    while (in.pos < in.size) {
        ZSTD_outBuffer o = {obuf, sizeof obuf, 0};
        rc = ZSTD_decompressStream(ds, &o, &in);
        if (ZSTD_isError(rc)) {
            total = -1;
            break;
        }
        fwrite(obuf, 1, o.pos, out);
        total += (long long)o.pos;
    }
    if (rc != 0) /* 0 means a frame was completely decoded and flushed */
        total = -1;
    ZSTD_freeDStream(ds);
    fclose(out);
    free(data);
    return total;
}

/* Open the c1z at path as SQLite (decompressed beside it as "<path>.db"). */
static inline sqlite3 *tu_c1z_open(const char *c1z, char *db_path_out, size_t outsz)
{
    snprintf(db_path_out, outsz, "%s.db", c1z);
    if (tu_c1z_inflate(c1z, db_path_out) < 0)
        return NULL;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(db_path_out, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* First column of the first row as a malloc'd string ("(null)" for NULL). */
static inline char *tu_sql_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    char *out = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        out = strdup(t ? (const char *)t : "(null)");
    }
    sqlite3_finalize(st);
    return out ? out : strdup("(no row)");
}

static inline long long tu_sql_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -999;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The blob of the first row of sql, malloc'd; *n its size. */
static inline unsigned char *tu_sql_blob(sqlite3 *db, const char *sql, size_t *n)
{
    sqlite3_stmt *st = NULL;
    unsigned char *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        *n = (size_t)sqlite3_column_bytes(st, 0);
        out = malloc(*n + 1);
        memcpy(out, sqlite3_column_blob(st, 0), *n);
    }
    sqlite3_finalize(st);
    return out;
}

/* Rows of sql joined: columns by '|', rows by '\n'. */
static inline char *tu_sql_rows(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 4096, len = 0;
    char *out = calloc(1, cap);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(out, cap, "prepare failed: %s", sqlite3_errmsg(db));
        return out;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const unsigned char *t = sqlite3_column_text(st, i);
            const char *cell = t ? (const char *)t : "NULL";
            size_t need = len + strlen(cell) + 2;
            if (need >= cap) {
                cap = need * 2;
                out = realloc(out, cap);
            }
            len += (size_t)sprintf(out + len, "%s%s", i ? "|" : "", cell);
        }
        if (len + 2 >= cap) {
            cap *= 2;
            out = realloc(out, cap);
        }
        out[len++] = '\n';
        out[len] = 0;
    }
    sqlite3_finalize(st);
    return out;
}

/* "YYYY-MM-DD HH:MM:SS.fffffffff" */
static inline int tu_is_sync_time(const char *s)
{
    static const char pat[] = "dddd-dd-dd dd:dd:dd.ddddddddd";
    if (strlen(s) != sizeof pat - 1)
        return 0;
    for (size_t i = 0; pat[i]; i++) {
        if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
            return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------------
 * Builders: the messages of tests/fixtures/golden/derive.py, made by hand
 * with protobuf-c (complete ones) or as the references bt.emit hands a sink
 * (entitlement/grant stubs). Memory comes from tb_arena. */
#include "bt/model.h"
#include "bt/sink.h"

static bt_arena tb_arena;

static inline bt_pb_value *tb_str_value(const char *s)
{
    bt_pb_value *v = bt_arena_alloc(&tb_arena, sizeof *v);
    google__protobuf__value__init(v);
    v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
    v->string_value = bt_arena_strdup(&tb_arena, s);
    return v;
}

static inline bt_pb_value *tb_value_of(int kind, double num)
{
    bt_pb_value *v = bt_arena_alloc(&tb_arena, sizeof *v);
    google__protobuf__value__init(v);
    v->kind_case = (Google__Protobuf__Value__KindCase)kind;
    if (kind == GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE)
        v->number_value = num;
    else if (kind == GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE)
        v->bool_value = num != 0;
    return v;
}

/* Sorted Struct from (key, value) pairs, NULL-terminated. */
static inline bt_pb_struct *tb_struct(const char *k, ...)
{
    bt_pb_struct *s = bt_arena_alloc(&tb_arena, sizeof *s);
    google__protobuf__struct__init(s);
    s->fields = bt_arena_alloc(&tb_arena, 16 * sizeof *s->fields);
    va_list ap;
    va_start(ap, k);
    for (; k; k = va_arg(ap, const char *)) {
        Google__Protobuf__Struct__FieldsEntry *e = bt_arena_alloc(&tb_arena, sizeof *e);
        google__protobuf__struct__fields_entry__init(e);
        e->key = bt_arena_strdup(&tb_arena, k);
        e->value = va_arg(ap, bt_pb_value *);
        s->fields[s->n_fields++] = e;
    }
    va_end(ap);
    bt_pb_struct_sort(s);
    return s;
}

static inline bt_pb_resource_id *tb_rid(const char *type, const char *id)
{
    bt_pb_resource_id *r = bt_arena_alloc(&tb_arena, sizeof *r);
    c1__connector__v2__resource_id__init(r);
    r->resource_type = bt_arena_strdup(&tb_arena, type);
    r->resource = bt_arena_strdup(&tb_arena, id);
    return r;
}

static inline Google__Protobuf__Any **tb_anys(const ProtobufCMessage *m)
{
    Google__Protobuf__Any **v = bt_arena_alloc(&tb_arena, 2 * sizeof *v);
    v[0] = bt_pb_any_new(&tb_arena, m);
    return v;
}

/* RT_USER / RT_GROUP of derive.py. */
static inline bt_pb_resource_type *tb_rt(const char *id, const char *name, int trait, int skip)
{
    bt_pb_resource_type *rt = bt_arena_alloc(&tb_arena, sizeof *rt);
    c1__connector__v2__resource_type__init(rt);
    rt->id = bt_arena_strdup(&tb_arena, id);
    rt->display_name = bt_arena_strdup(&tb_arena, name);
    rt->traits = bt_arena_alloc(&tb_arena, sizeof *rt->traits);
    rt->traits[0] = (C1__Connector__V2__ResourceType__Trait)trait;
    rt->n_traits = trait ? 1 : 0;
    if (skip) {
        C1__Connector__V2__SkipEntitlementsAndGrants sk =
            C1__CONNECTOR__V2__SKIP_ENTITLEMENTS_AND_GRANTS__INIT;
        rt->annotations = tb_anys(&sk.base);
        rt->n_annotations = 1;
    }
    return rt;
}

/* RES_USER of derive.py when id = "U1" and name = "Ann Lee". */
static inline bt_pb_resource *tb_user(const char *id, const char *name)
{
    Google__Protobuf__Timestamp *created = bt_arena_alloc(&tb_arena, sizeof *created);
    google__protobuf__timestamp__init(created);
    created->seconds = 1700000000;
    created->nanos = 125000000;
    C1__Connector__V2__UserTrait__Email *email = bt_arena_alloc(&tb_arena, sizeof *email);
    c1__connector__v2__user_trait__email__init(email);
    email->address = "ann@example.com";
    email->is_primary = 1;
    C1__Connector__V2__UserTrait__Email **emails = bt_arena_alloc(&tb_arena, sizeof *emails);
    emails[0] = email;
    C1__Connector__V2__UserTrait__Status st = C1__CONNECTOR__V2__USER_TRAIT__STATUS__INIT;
    st.status = C1__CONNECTOR__V2__USER_TRAIT__STATUS__STATUS__STATUS_ENABLED;
    C1__Connector__V2__UserTrait__StructuredName sn =
        C1__CONNECTOR__V2__USER_TRAIT__STRUCTURED_NAME__INIT;
    sn.given_name = "Ann";
    sn.family_name = "Lee";
    C1__Connector__V2__UserTrait ut = C1__CONNECTOR__V2__USER_TRAIT__INIT;
    ut.n_emails = 1;
    ut.emails = emails;
    ut.status = &st;
    ut.profile = tb_struct("last_name", tb_str_value("Lee"), "is_admin",
                           tb_value_of(GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE, 0), "score",
                           tb_value_of(GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE, 1.5),
                           "first_name", tb_str_value("Ann"), "id", tb_str_value("U1"), "email",
                           tb_str_value("ann@example.com"), NULL);
    ut.account_type = C1__CONNECTOR__V2__USER_TRAIT__ACCOUNT_TYPE__ACCOUNT_TYPE_HUMAN;
    ut.login = "ann@example.com";
    ut.created_at = created;
    ut.structured_name = &sn;
    bt_pb_resource *r = bt_arena_alloc(&tb_arena, sizeof *r);
    c1__connector__v2__resource__init(r);
    r->id = tb_rid("user", id);
    r->display_name = bt_arena_strdup(&tb_arena, name);
    r->annotations = tb_anys(&ut.base);
    r->n_annotations = 1;
    r->profile = ut.profile;
    C1__Connector__V2__Status *rs = bt_arena_alloc(&tb_arena, sizeof *rs);
    c1__connector__v2__status__init(rs);
    rs->status = C1__CONNECTOR__V2__STATUS__RESOURCE_STATUS__RESOURCE_STATUS_ENABLED;
    r->status = rs;
    r->created_at = created;
    return r;
}

/* RES_GROUP of derive.py when id = "G1" and name = "Eng". */
static inline bt_pb_resource *tb_group(const char *id, const char *name)
{
    bt_pb_struct *p = tb_struct("group_name", tb_str_value(name), "group_id", tb_str_value(id), NULL);
    C1__Connector__V2__GroupTrait gt = C1__CONNECTOR__V2__GROUP_TRAIT__INIT;
    gt.profile = p;
    gt.group_source_type = "native";
    gt.raw_group_source_type = "MANUAL";
    bt_pb_resource *r = bt_arena_alloc(&tb_arena, sizeof *r);
    c1__connector__v2__resource__init(r);
    r->id = tb_rid("group", id);
    r->display_name = bt_arena_strdup(&tb_arena, name);
    r->annotations = tb_anys(&gt.base);
    r->n_annotations = 1;
    r->profile = p;
    return r;
}

/* An entitlement as bt.emit hands it over: resource and grantable_to by id. */
static inline bt_pb_entitlement *tb_entitlement(const char *type, const char *id, const char *slug,
                                                const char *name, const char *desc,
                                                const char *grantable)
{
    bt_pb_entitlement *e = bt_arena_alloc(&tb_arena, sizeof *e);
    c1__connector__v2__entitlement__init(e);
    bt_pb_resource *stub = bt_arena_alloc(&tb_arena, sizeof *stub);
    c1__connector__v2__resource__init(stub);
    stub->id = tb_rid(type, id);
    e->resource = stub;
    e->id = bt_id_entitlement(&tb_arena, type, id, slug);
    if (name)
        e->display_name = bt_arena_strdup(&tb_arena, name);
    if (desc)
        e->description = bt_arena_strdup(&tb_arena, desc);
    if (grantable) {
        e->grantable_to = bt_arena_alloc(&tb_arena, sizeof *e->grantable_to);
        e->grantable_to[0] = bt_arena_alloc(&tb_arena, sizeof **e->grantable_to);
        c1__connector__v2__resource_type__init(e->grantable_to[0]);
        e->grantable_to[0]->id = bt_arena_strdup(&tb_arena, grantable);
        e->n_grantable_to = 1;
    }
    e->purpose = C1__CONNECTOR__V2__ENTITLEMENT__PURPOSE_VALUE__PURPOSE_VALUE_ASSIGNMENT;
    e->slug = bt_arena_strdup(&tb_arena, slug);
    return e;
}

/* The group:G1:member entitlement of derive.py. */
static inline bt_pb_entitlement *tb_member_of(const char *gid, const char *name)
{
    char display[128], desc[160];
    snprintf(display, sizeof display, "%s Group Member", name);
    snprintf(desc, sizeof desc, "Is member of the %s group in Twingate", name);
    return tb_entitlement("group", gid, "member", display, desc, "user");
}

/* A grant as bt.emit hands it over: entitlement {id, resource {id}}, principal {id}. */
static inline bt_pb_grant *tb_grant(const char *type, const char *id, const char *slug,
                                    const char *ptype, const char *pid)
{
    bt_pb_entitlement *e = bt_arena_alloc(&tb_arena, sizeof *e);
    c1__connector__v2__entitlement__init(e);
    bt_pb_resource *stub = bt_arena_alloc(&tb_arena, sizeof *stub);
    c1__connector__v2__resource__init(stub);
    stub->id = tb_rid(type, id);
    e->resource = stub;
    e->id = bt_id_entitlement(&tb_arena, type, id, slug);
    bt_pb_resource *p = bt_arena_alloc(&tb_arena, sizeof *p);
    c1__connector__v2__resource__init(p);
    p->id = tb_rid(ptype, pid);
    bt_pb_grant *g = bt_arena_alloc(&tb_arena, sizeof *g);
    c1__connector__v2__grant__init(g);
    g->entitlement = e;
    g->principal = p;
    g->id = bt_id_grant(&tb_arena, e->id, ptype, pid);
    return g;
}

/* Add, expecting `want` (BT_SINK_ADDED, ...); print the error otherwise. */
#define TB_ADD(fn, s, m, want)                                                                     \
    do {                                                                                           \
        char _err[1024] = "";                                                                      \
        int _rc = fn((s), (m), _err, sizeof _err);                                                 \
        if (_rc != (want))                                                                         \
            print_error("%s: %s\n", #fn, _err);                                                    \
        assert_int_equal(_rc, (want));                                                             \
    } while (0)

/* The standard small tenant: types user+group, user U1, group G1, its member
 * entitlement and U1's grant (every row of derive.py's goldens). */
static inline void tb_add_tenant(bt_sink *s)
{
    TB_ADD(bt_sink_add_resource_type, s, tb_rt("user", "User", 1, 1), BT_SINK_ADDED);
    TB_ADD(bt_sink_add_resource_type, s, tb_rt("group", "Group", 2, 0), BT_SINK_ADDED);
    TB_ADD(bt_sink_add_resource, s, tb_user("U1", "Ann Lee"), BT_SINK_ADDED);
    TB_ADD(bt_sink_add_resource, s, tb_group("G1", "Eng"), BT_SINK_ADDED);
    TB_ADD(bt_sink_add_entitlement, s, tb_member_of("G1", "Eng"), BT_SINK_ADDED);
    TB_ADD(bt_sink_add_grant, s, tb_grant("group", "G1", "member", "user", "U1"), BT_SINK_ADDED);
}


/* A scratch directory and an output path in it, per test. The test file
 * defines TU_OUT_NAME ("out.c1z", "out.jsonl") before including this header. */
#ifdef TU_OUT_NAME
typedef struct {
    char *dir;
    char *out;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp();
    f->out = tu_path(f->dir, TU_OUT_NAME);
    bt_arena_init(&tb_arena, 0);
    *state = f;
    return f->dir ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_rmtree(f->dir);
    free(f->out);
    free(f);
    bt_arena_free(&tb_arena);
    return 0;
}

/* Open a sink at path and check it picked the format `want` from the name. */
static bt_sink *tu_open_sink(const char *path, const char *want)
{
    char err[512] = "";
    bt_sink *s = bt_sink_open(path, NULL, err, sizeof err);
    if (!s)
        print_error("open: %s\n", err);
    assert_non_null(s);
    assert_string_equal(bt_sink_format(s), want);
    return s;
}

static void commit_ok(bt_sink *s)
{
    char err[1024] = "";
    int rc = bt_sink_commit(s, err, sizeof err);
    if (rc != 0)
        print_error("commit: %s\n", err);
    assert_int_equal(rc, 0);
}

static void assert_listing(const char *dir, const char *want)
{
    char *got = tu_listdir(dir);
    assert_string_equal(got, want);
    free(got);
}

static uint64_t tu_skipped(const bt_sink *s, const char *cause)
{
    bt_sink_counts n;
    bt_sink_get_counts(s, &n);
    for (size_t i = 0; i < n.n_skipped; i++)
        if (strcmp(n.skipped[i].cause, cause) == 0)
            return n.skipped[i].n;
    return 0;
}

/* Either backend: a repeated row is silent, a row repeated with other
 * content is counted as a skip (before the fix both were silent); skips
 * count per cause; has_resource answers from what was added. */
static inline void tu_conflicts_skips_and_lookups(bt_sink *s)
{
    char err[512];
    tb_add_tenant(s);
    TB_ADD(bt_sink_add_resource, s, tb_user("U1", "Ann Lee"), BT_SINK_DUPLICATE);
    /* once settled (the c1z sink tells grant repeats apart only from then on) */
    assert_int_equal(bt_sink_settle(s, err, sizeof err), 0);
    TB_ADD(bt_sink_add_grant, s, tb_grant("group", "G1", "member", "user", "U1"),
           BT_SINK_DUPLICATE);
    assert_int_equal(tu_skipped(s, "duplicate_id_different_content"), 0);
    TB_ADD(bt_sink_add_resource, s, tb_user("U1", "Somebody Else"), BT_SINK_DUPLICATE);
    TB_ADD(bt_sink_add_entitlement, s, tb_member_of("G1", "Other Name"), BT_SINK_DUPLICATE);
    assert_int_equal(tu_skipped(s, "duplicate_id_different_content"), 2);
    assert_int_equal(bt_sink_skip(s, "principal_gone"), 1);
    assert_int_equal(bt_sink_skip(s, "principal_gone"), 2);
    for (int i = 0; i < 40; i++) { /* causes beyond the table go to "other" */
        char cause[32];
        snprintf(cause, sizeof cause, "c%d", i);
        bt_sink_skip(s, cause);
    }
    bt_sink_counts n;
    bt_sink_get_counts(s, &n);
    assert_int_equal(n.duplicates, 4);
    assert_int_equal(n.n_skipped, BT_SINK_SKIP_CAUSES);
    assert_string_equal(n.skipped[BT_SINK_SKIP_CAUSES - 1].cause, "other");
    assert_int_equal(tu_skipped(s, "other"), 40 - (BT_SINK_SKIP_CAUSES - 3));
    assert_int_equal(bt_sink_has_resource(s, "user", "U1", err, sizeof err), 1);
    assert_int_equal(bt_sink_has_resource(s, "group", "G1", err, sizeof err), 1);
    assert_int_equal(bt_sink_has_resource(s, "user", "U2", err, sizeof err), 0);
    assert_int_equal(bt_sink_has_resource(s, "group", "U1", err, sizeof err), 0);
    assert_int_equal(bt_sink_has_resource(s, "user", "", err, sizeof err), -1);
    commit_ok(s);
}
#endif

#endif
