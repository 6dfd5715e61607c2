/* `show` on files that are not what they claim: every one must fail with
 * exit status 1, nothing on stdout, exactly one line on stderr naming the
 * file and the problem, and no temporary database left behind. Also a few
 * unusual but valid variants of the basic fixture, edited in place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "bt/show.h"
#include "tmpdir.h"

#define BASIC BT_TEST_SOURCE_DIR "/tests/fixtures/c1z/basic.c1z"

typedef struct {
    char *dir;      /* files made by a test */
    char *tmp;      /* $TMPDIR while show runs */
    char path[512]; /* the c1z under test */
    char db[512];   /* basic.c1z's database, unpacked */
} fixture;

/* ---- files ------------------------------------------------------------------ */

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static uint8_t *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    uint8_t *buf = malloc(*n + 1);
    assert_int_equal(fread(buf, 1, *n, f), *n);
    fclose(f);
    return buf;
}

static void unpack_basic(const char *db_path)
{
    size_t n;
    uint8_t *c1z = read_bytes(BASIC, &n);
    unsigned long long size = ZSTD_getFrameContentSize(c1z + 5, n - 5);
    assert_true(size < (1u << 24));
    void *db = malloc(size);
    assert_int_equal(ZSTD_decompress(db, size, c1z + 5, n - 5), size);
    write_bytes(db_path, db, size);
    free(db);
    free(c1z);
}

/* "C1ZF\0" + one zstd frame of the file at src (content size in the header or not). */
static void pack(const char *src, const char *out, bool content_size)
{
    size_t n;
    uint8_t *data = read_bytes(src, &n);
    size_t cap = ZSTD_compressBound(n) + 5;
    uint8_t *buf = malloc(cap);
    memcpy(buf, "C1ZF", 5);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, content_size);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    size_t z = ZSTD_compress2(cctx, buf + 5, cap - 5, data, n);
    assert_false(ZSTD_isError(z));
    write_bytes(out, buf, z + 5);
    ZSTD_freeCCtx(cctx);
    free(buf);
    free(data);
}

/* Runs sql on the unpacked database; ?1 is bound to blob when given. */
static void edit_db(fixture *f, const char *sql, const void *blob, size_t blob_len)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    if (!blob) {
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    } else {
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        sqlite3_bind_blob(st, 1, blob, (int)blob_len, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
}

static void pack_db(fixture *f)
{
    pack(f->db, f->path, true);
}

/* ---- running show ----------------------------------------------------------------- */

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tmpdir_make("show-hostile");
    f->tmp = malloc(strlen(f->dir) + 8);
    sprintf(f->tmp, "%s/tmp", f->dir);
    mkdir(f->tmp, 0700);
    setenv("TMPDIR", f->tmp, 1);
    snprintf(f->path, sizeof f->path, "%s/test.c1z", f->dir);
    snprintf(f->db, sizeof f->db, "%s/basic.db", f->dir);
    unpack_basic(f->db);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    unsetenv("TMPDIR");
    free(f->tmp);
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

static size_t entries_in(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

typedef struct {
    int rc;
    char *out, *err;
    size_t out_len, err_len;
} result;

static result run_opts(fixture *f, const bt_show_opts *o)
{
    result r = {0};
    FILE *out = open_memstream(&r.out, &r.out_len);
    FILE *err = open_memstream(&r.err, &r.err_len);
    r.rc = bt_show_run(o, out, err);
    fclose(out);
    fclose(err);
    assert_int_equal(entries_in(f->tmp), 0); /* the unpacked copy is gone */
    return r;
}

static result run_view(fixture *f, const char *view)
{
    bt_show_opts o;
    char err[128];
    char *argv[] = {"show", f->path, (char *)view};
    assert_int_equal(bt_show_parse_args(view ? 3 : 2, argv, &o, err, sizeof err), 0);
    return run_opts(f, &o);
}

/* Status 1, no output, one stderr line "show: <file>: ...<fragment>...". */
static void assert_fails_with(fixture *f, result r, const char *fragment)
{
    char prefix[600];
    snprintf(prefix, sizeof prefix, "show: %s: ", f->path);
    assert_int_equal(r.rc, 1);
    assert_string_equal(r.out, "");
    assert_true(strncmp(r.err, prefix, strlen(prefix)) == 0);
    assert_non_null(strstr(r.err, fragment));
    assert_ptr_equal(strchr(r.err, '\n'), r.err + r.err_len - 1);
    free(r.out);
    free(r.err);
}

static void fails(fixture *f, const char *fragment)
{
    assert_fails_with(f, run_view(f, NULL), fragment);
}

/* ---- the container ---------------------------------------------------------------- */

static void empty_file(void **state)
{
    fixture *f = *state;
    write_bytes(f->path, "", 0);
    fails(f, "empty file");
}

static void v3_pebble_file(void **state)
{
    fixture *f = *state;
    write_bytes(f->path, "C1Z3\0\0\0\0\x10", 9);
    fails(f, "c1z format v3 (C1Z3, Pebble store) is not supported");
}

static void wrong_magic(void **state)
{
    fixture *f = *state;
    write_bytes(f->path, "SQLite format 3\0", 16);
    fails(f, "not a c1z file");
}

static void shorter_than_the_magic(void **state)
{
    fixture *f = *state;
    write_bytes(f->path, "C1", 2);
    fails(f, "not a c1z file");
}

static void magic_without_payload(void **state)
{
    fixture *f = *state;
    write_bytes(f->path, "C1ZF", 5);
    fails(f, "no zstd data after the C1ZF header");
}

static void truncated_payload(void **state)
{
    fixture *f = *state;
    size_t n;
    uint8_t *c1z = read_bytes(BASIC, &n);
    write_bytes(f->path, c1z, n - 7);
    fails(f, "truncated zstd data");
    write_bytes(f->path, c1z, n / 2);
    fails(f, "truncated zstd data");
    free(c1z);
}

static void flipped_byte_in_the_frame(void **state)
{
    fixture *f = *state;
    size_t n;
    uint8_t *c1z = read_bytes(BASIC, &n);
    c1z[n / 2] ^= 0x5A;
    write_bytes(f->path, c1z, n);
    fails(f, "corrupt zstd data");
    free(c1z);
}

static void garbage_after_the_magic(void **state)
{
    fixture *f = *state;
    write_bytes(f->path, "C1ZF\0this is not zstd", 21);
    fails(f, "corrupt zstd data: Unknown frame descriptor");
}

static void window_larger_than_the_memory_limit(void **state)
{
    fixture *f = *state;
    /* frame header: no content size, window descriptor 0xA0 = 2^30 bytes */
    const uint8_t frame[] = {'C',  '1',  'Z',  'F',  0,    0x28, 0xB5,
                             0x2F, 0xFD, 0x00, 0xA0, 0x01, 0x00, 0x00};
    write_bytes(f->path, frame, sizeof frame);
    fails(f, "window size exceeds the decoder memory limit");
}

static void declared_size_over_the_limit(void **state)
{
    fixture *f = *state;
    pack(f->db, f->path, true);
    bt_show_opts o = {.file = f->path, .limits = {4096, 128u << 20}};
    assert_fails_with(f, run_opts(f, &o), "over the limit of 4096 bytes");
}

static void streamed_size_over_the_limit(void **state)
{
    fixture *f = *state;
    pack(f->db, f->path, false);
    bt_show_opts o = {.file = f->path, .limits = {4096, 128u << 20}};
    assert_fails_with(f, run_opts(f, &o), "decompressed data exceeds the limit of 4096 bytes");
}

/* ---- zstd bombs: nothing of a frame that announces too much is written ---- */

/* One zstd frame of n bytes (random or zeros), content size in its header. */
static uint8_t *frame_of(size_t n, bool random_bytes, size_t *out_len)
{
    uint8_t *data = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = random_bytes ? (uint8_t)rand() : 0;
    size_t cap = ZSTD_compressBound(n);
    uint8_t *z = malloc(cap);
    *out_len = ZSTD_compress(z, cap, data, n, 1);
    assert_false(ZSTD_isError(*out_len));
    free(data);
    return z;
}

/* bt_show_inflate into a scratch file; returns the bytes it wrote. */
static long inflate_file(fixture *f, uint64_t max_decoded, bt_show_err *e, int *rc)
{
    FILE *in = fopen(f->path, "rb");
    assert_non_null(in);
    assert_int_equal(fseek(in, 5, SEEK_SET), 0);
    FILE *out = tmpfile();
    bt_show_limits lim = {max_decoded, 128u << 20};
    *rc = bt_show_inflate(in, out, &lim, e);
    fflush(out);
    long written = ftell(out);
    fclose(out);
    fclose(in);
    return written;
}

/* "C1ZF\0" + a small honest frame + a frame announcing 64 MiB of zeros. */
static void write_two_frames(fixture *f, size_t first_len, bool random_first)
{
    size_t a_len, b_len;
    uint8_t *a = frame_of(first_len, random_first, &a_len);
    uint8_t *b = frame_of(64u << 20, false, &b_len);
    FILE *out = fopen(f->path, "wb");
    assert_non_null(out);
    fwrite("C1ZF", 1, 5, out);
    fwrite(a, 1, a_len, out);
    fwrite(b, 1, b_len, out);
    fclose(out);
    free(a);
    free(b);
}

static void second_frame_announcing_too_much(void **state)
{
    fixture *f = *state;
    write_two_frames(f, 1000, false);
    bt_show_err e;
    int rc;
    long written = inflate_file(f, 1u << 20, &e, &rc);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(e.msg, "declares 67108864 bytes"));
    assert_int_equal(written, 1000); /* the first frame only */
    bt_show_opts o = {.file = f->path, .limits = {1u << 20, 128u << 20}};
    assert_fails_with(f, run_opts(f, &o), "over the limit of 1048576 bytes");
}

/* The second frame's header straddles two reads of the input. */
static void frame_header_across_reads(void **state)
{
    fixture *f = *state;
    size_t want = ZSTD_DStreamInSize() - 3, len = want - 40, got = 0;
    for (; len < want; len++) { /* random data is stored: size = len + overhead */
        uint8_t *z = frame_of(len, true, &got);
        free(z);
        if (got == want)
            break;
    }
    assert_int_equal(got, want);
    write_two_frames(f, len, true);
    bt_show_err e;
    int rc;
    long written = inflate_file(f, 1u << 20, &e, &rc);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(e.msg, "declares 67108864 bytes"));
    assert_int_equal(written, (long)len);
}

/* Without an announced size, writing stops at the limit. */
static void unannounced_size_stops_at_the_limit(void **state)
{
    fixture *f = *state;
    size_t n = 8u << 20;
    uint8_t *zeros = calloc(1, n);
    size_t cap = ZSTD_compressBound(n);
    uint8_t *z = malloc(cap + 5);
    memcpy(z, "C1ZF", 5);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
    ZSTD_inBuffer in = {zeros, n, 0};
    ZSTD_outBuffer out = {z + 5, cap, 0};
    assert_int_equal(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end), 0);
    write_bytes(f->path, z, out.pos + 5);
    ZSTD_freeCCtx(cctx);
    free(z);
    free(zeros);
    bt_show_err e;
    int rc;
    long written = inflate_file(f, 1u << 20, &e, &rc);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(e.msg, "decompressed data exceeds the limit of 1048576 bytes"));
    assert_true(written <= (1L << 20));
}

static void missing_file(void **state)
{
    fixture *f = *state;
    fails(f, "cannot open: No such file or directory");
}

/* ---- the database ------------------------------------------------------------------- */

static void payload_is_not_a_database(void **state)
{
    fixture *f = *state;
    char text[512];
    snprintf(text, sizeof text, "%s/text", f->dir);
    write_bytes(text, "just some text, long enough to look like a file...", 50);
    pack(text, f->path, true);
    fails(f, "the payload is not a readable SQLite database");
}

static void corrupt_pages(void **state)
{
    fixture *f = *state;
    size_t n;
    uint8_t *db = read_bytes(f->db, &n);
    for (size_t page = 4096; page + 16 <= n; page += 4096)
        memset(db + page, 0xEE, 16); /* every b-tree page header after page 1 */
    write_bytes(f->db, db, n);
    free(db);
    pack_db(f);
    fails(f, "malformed");
}

static void missing_table(void **state)
{
    fixture *f = *state;
    edit_db(f, "DROP TABLE v1_grants", NULL, 0);
    pack_db(f);
    fails(f, "table v1_grants is missing");
}

static void view_instead_of_table(void **state)
{
    fixture *f = *state;
    edit_db(f, "DROP TABLE v1_grants; CREATE VIEW v1_grants AS SELECT * FROM v1_entitlements", NULL,
            0);
    pack_db(f);
    fails(f, "table v1_grants is missing");
}

static void no_sync_runs(void **state)
{
    fixture *f = *state;
    edit_db(f, "DELETE FROM v1_sync_runs", NULL, 0);
    pack_db(f);
    fails(f, "no sync runs in the file");
}

/* ---- the blobs ------------------------------------------------------------------------ */

static void truncated_grant_blob(void **state)
{
    fixture *f = *state;
    edit_db(f, "UPDATE v1_grants SET data = x'0aff01' WHERE id = 2", NULL, 0);
    pack_db(f);
    fails(f, "v1_grants row 2: bad blob: malformed protobuf: field runs past the end");
}

static void invalid_utf8_in_a_name(void **state)
{
    fixture *f = *state;
    /* Resource{id{user, VXNlcjoxMDAy}, display_name "\xff"} */
    static const uint8_t blob[] = {0x0a, 0x14, 0x0a, 0x04, 'u',  's',  'e', 'r', 0x12,
                                   0x0c, 'V',  'X',  'N',  'l',  'c',  'j', 'o', 'x',
                                   'M',  'D',  'A',  'y',  0x1a, 0x01, 0xff};
    edit_db(f, "UPDATE v1_resources SET data = ?1 WHERE external_id = 'user:VXNlcjoxMDAy'", blob,
            sizeof blob);
    pack_db(f);
    fails(f, "bad blob: invalid UTF-8 in string field display_name");
}

static size_t put_len_field(uint8_t *dst, uint8_t tag, const uint8_t *body, size_t n)
{
    size_t i = 0;
    dst[i++] = tag;
    for (size_t v = n;; v >>= 7) {
        dst[i++] = (uint8_t)(v & 0x7F) | (v >= 0x80 ? 0x80 : 0);
        if (v < 0x80)
            break;
    }
    memmove(dst + i, body, n);
    return i + n;
}

/* Struct{fields{"k": value}} into dst; returns its length. */
static size_t struct_with(uint8_t *dst, const uint8_t *value, size_t n)
{
    uint8_t entry[16 + 16384];
    size_t e = put_len_field(entry, 0x0a, (const uint8_t *)"k", 1); /* key */
    e += put_len_field(entry + e, 0x12, value, n);                  /* value */
    return put_len_field(dst, 0x0a, entry, e);                      /* fields */
}

static void deeply_nested_profile(void **state)
{
    fixture *f = *state;
    static uint8_t value[16384], body[16384];
    size_t n = put_len_field(value, 0x1a, (const uint8_t *)"leaf", 4); /* string_value */
    for (int level = 0; level < 300; level++) {
        size_t s = struct_with(body, value, n);
        n = put_len_field(value, 0x2a, body, s); /* Value.struct_value */
    }
    size_t s = struct_with(body, value, n);
    n = put_len_field(value, 0x4a, body, s); /* Resource.profile */
    edit_db(f, "UPDATE v1_resources SET data = data || ?1 WHERE id = 4", value, n);
    pack_db(f);
    fails(f, "v1_resources row 4: bad blob: messages nested deeper than");
}

static void dangling_principal(void **state)
{
    fixture *f = *state;
    edit_db(f, "DELETE FROM v1_resources WHERE external_id = 'user:VXNlcjoxMDAy'", NULL, 0);
    pack_db(f);
    assert_fails_with(f, run_view(f, "--grants"),
                      "grant group:R3JvdXA6MjAwMg==:member:user:VXNlcjoxMDAy: "
                      "resource user:VXNlcjoxMDAy not found in sync");
}

static void dangling_resource_type(void **state)
{
    fixture *f = *state;
    edit_db(f, "DELETE FROM v1_resource_types WHERE external_id = 'role'", NULL, 0);
    pack_db(f);
    assert_fails_with(f, run_view(f, "--resources"),
                      "resource ADMIN: resource type role not found in sync");
}

/* ---- unusual but valid ------------------------------------------------------------------ */

/* Only a finished resources_only sync: shown, and its stats have no
 * entitlements or grants rows (like `baton stats`). */
static void resources_only_sync(void **state)
{
    fixture *f = *state;
    edit_db(f,
            "ALTER TABLE v1_sync_runs ADD COLUMN sync_type text not null default 'full';"
            "UPDATE v1_sync_runs SET sync_type = 'resources_only'",
            NULL, 0);
    pack_db(f);
    result r = run_view(f, "--stats");
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "(resources_only, started "));
    assert_string_equal(strchr(r.out, '\n') + 1, "Type           | Count\n"
                               "group          | 2    \n"
                               "resource_types | 3    \n"
                               "role           | 1    \n"
                               "user           | 3    \n");
    free(r.out);
    free(r.err);
}

/* Control characters in a name cannot reach the terminal. */
static void escape_sequence_in_a_name(void **state)
{
    fixture *f = *state;
    /* Resource{id{user, VXNlcjoxMDAy}, display_name "\e[2Jx"} */
    static const uint8_t blob[] = {0x0a, 0x14, 0x0a, 0x04, 'u',  's', 'e', 'r', 0x12, 0x0c,
                                   'V',  'X',  'N',  'l',  'c',  'j', 'o', 'x', 'M',  'D',
                                   'A',  'y',  0x1a, 0x05, 0x1b, '[', '2', 'J', 'x'};
    edit_db(f, "UPDATE v1_resources SET data = ?1 WHERE external_id = 'user:VXNlcjoxMDAy'", blob,
            sizeof blob);
    pack_db(f);
    result r = run_view(f, "--resources");
    assert_int_equal(r.rc, 0);
    assert_null(strchr(r.out, 0x1b));
    assert_non_null(strstr(r.out, "VXNlcjoxMDAy     | \xEF\xBF\xBD[2Jx "));
    free(r.out);
    free(r.err);
}

/* ---- cleanup on success ---------------------------------------------------------------- */

/* The unpacked copy is unlinked as soon as SQLite has it open. */
static void no_temporary_file_while_open(void **state)
{
    fixture *f = *state;
    bt_show_c1z *c = NULL;
    bt_show_err e;
    bt_show_limits lim = bt_show_default_limits();
    assert_int_equal(bt_show_c1z_open(BASIC, &lim, &c, &e), 0);
    assert_int_equal(entries_in(f->tmp), 0);
    bt_show_sync sync;
    assert_int_equal(bt_show_pick_sync(bt_show_c1z_db(c), NULL, &sync, &e), 0);
    assert_string_equal(sync.id, "2frSFYakMz4OPnd2b3MDHin9cD4");
    assert_string_equal(sync.type, "full");
    assert_string_equal(sync.ended_at, "2024-05-01 10:00:03.5");
    bt_show_sync_free(&sync);
    bt_show_c1z_close(c);
}

static void good_file_still_reads(void **state)
{
    fixture *f = *state;
    pack_db(f); /* repacked by libzstd here, not by the zstd tool */
    result r = run_view(f, "--stats");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    assert_non_null(strstr(r.out, "grants         | 6    \n"));
    free(r.out);
    free(r.err);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(empty_file),
        T(v3_pebble_file),
        T(wrong_magic),
        T(shorter_than_the_magic),
        T(magic_without_payload),
        T(truncated_payload),
        T(flipped_byte_in_the_frame),
        T(garbage_after_the_magic),
        T(window_larger_than_the_memory_limit),
        T(declared_size_over_the_limit),
        T(streamed_size_over_the_limit),
        T(second_frame_announcing_too_much),
        T(frame_header_across_reads),
        T(unannounced_size_stops_at_the_limit),
        T(missing_file),
        T(payload_is_not_a_database),
        T(corrupt_pages),
        T(missing_table),
        T(view_instead_of_table),
        T(no_sync_runs),
        T(truncated_grant_blob),
        T(invalid_utf8_in_a_name),
        T(deeply_nested_profile),
        T(dangling_principal),
        T(dangling_resource_type),
        T(no_temporary_file_while_open),
        T(good_file_still_reads),
        T(resources_only_sync),
        T(escape_sequence_in_a_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
