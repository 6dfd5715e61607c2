/* Opening a .c1z for reading (shared/c1z-format.md 1.1-1.3): the 5-byte
 * magic, one (or more) zstd frames holding a SQLite database. The payload is
 * stream-decompressed into a temporary file under $TMPDIR. Once SQLite has it
 * open (immutable, read-only) the file is unlinked: the open descriptor keeps
 * it readable and nothing is left behind however the process ends. Until
 * then, failures remove it, and so do SIGINT/SIGTERM/SIGHUP when
 * bt_show_install_signal_cleanup ran. */
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "bt/files.h"
#include "bt/show.h"
#include "bt/sig.h"

#define MAGIC_LEN 5
static const unsigned char MAGIC_V1[MAGIC_LEN] = {'C', '1', 'Z', 'F', 0};
static const unsigned char MAGIC_V3[MAGIC_LEN] = {'C', '1', 'Z', '3', 0};

struct bt_show_c1z {
    sqlite3 *db;
    char *temp_path;
};

void bt_show_fail(bt_show_err *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

/* ---- magic ---------------------------------------------------------- */

static int check_magic(FILE *in, bt_show_err *e)
{
    unsigned char magic[MAGIC_LEN];
    size_t n = fread(magic, 1, MAGIC_LEN, in);
    if (ferror(in)) {
        bt_show_fail(e, "cannot read: %s", strerror(errno));
        return -1;
    }
    if (n == 0) {
        bt_show_fail(e, "empty file: no sync data");
        return -1;
    }
    if (n == MAGIC_LEN && memcmp(magic, MAGIC_V1, MAGIC_LEN) == 0)
        return 0;
    if (n == MAGIC_LEN && memcmp(magic, MAGIC_V3, MAGIC_LEN) == 0)
        bt_show_fail(e, "c1z format v3 (C1Z3, Pebble store) is not supported; "
                        "only format v1 (C1ZF, SQLite) can be shown");
    else
        bt_show_fail(e, "not a c1z file (the first bytes are not C1ZF\\0)");
    return -1;
}

/* ---- zstd ------------------------------------------------------------- */

typedef struct {
    ZSTD_DCtx *dctx;
    FILE *out;
    const bt_show_limits *lim;
    uint64_t written;
    size_t last_ret; /* 0 once a frame is complete */
    void *obuf;
    size_t osize;
} inflater;

#define WINDOW_LOG_MIN 10 /* ZSTD_WINDOWLOG_ABSOLUTEMIN */
#define WINDOW_LOG_MAX 31 /* ZSTD_WINDOWLOG_MAX_64 */

/* Largest log2 window not above max_window. */
static unsigned window_log_for(uint64_t max_window)
{
    unsigned log = WINDOW_LOG_MIN;
    while (log < WINDOW_LOG_MAX && ((uint64_t)1 << (log + 1)) <= max_window)
        log++;
    return log;
}

/* A frame header is at most this long (zstd's ZSTD_FRAMEHEADERSIZE_MAX). */
#define FRAME_HEADER_MAX 18

/* Before a frame is decoded: the size its header announces, added to what
 * earlier frames wrote, must fit the limit, so nothing of a bomb is written.
 * A frame without a size (or a header the decoder will reject) is left to
 * the streaming check in emit(). */
static int check_announced_size(const inflater *z, const void *buf, size_t n, bt_show_err *e)
{
    unsigned long long declared = ZSTD_getFrameContentSize(buf, n);
    if (declared == ZSTD_CONTENTSIZE_UNKNOWN || declared == ZSTD_CONTENTSIZE_ERROR)
        return 0;
    if (declared <= z->lim->max_decoded - z->written)
        return 0;
    bt_show_fail(e,
                 "zstd frame declares %llu bytes%s, over the limit of %llu bytes "
                 "(BATON_DECODER_MAX_DECODED_SIZE_MB)",
                 declared, z->written ? " after earlier frames" : "",
                 (unsigned long long)z->lim->max_decoded);
    return -1;
}

static int zstd_error(size_t ret, bt_show_err *e)
{
    if (ZSTD_getErrorCode(ret) == ZSTD_error_frameParameter_windowTooLarge)
        bt_show_fail(e, "corrupt zstd data: window size exceeds the decoder memory limit "
                        "(BATON_DECODER_MAX_MEMORY_MB)");
    else
        bt_show_fail(e, "corrupt zstd data: %s", ZSTD_getErrorName(ret));
    return -1;
}

static int emit(inflater *z, size_t n, bt_show_err *e)
{
    z->written += n;
    if (z->written > z->lim->max_decoded) {
        bt_show_fail(e,
                     "decompressed data exceeds the limit of %llu bytes "
                     "(BATON_DECODER_MAX_DECODED_SIZE_MB)",
                     (unsigned long long)z->lim->max_decoded);
        return -1;
    }
    if (n && fwrite(z->obuf, 1, n, z->out) != n) {
        bt_show_fail(e, "cannot write the temporary database: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* One ZSTD_decompressStream call; *produced tells whether output came out. */
static int step(inflater *z, ZSTD_inBuffer *in, bool *produced, bt_show_err *e)
{
    ZSTD_outBuffer out = {z->obuf, z->osize, 0};
    size_t ret = ZSTD_decompressStream(z->dctx, &out, in);
    if (ZSTD_isError(ret))
        return zstd_error(ret, e);
    z->last_ret = ret;
    *produced = out.pos > 0;
    return emit(z, out.pos, e);
}

/* Input is exhausted: flush what the decoder still holds. */
static int drain(inflater *z, bt_show_err *e)
{
    ZSTD_inBuffer in = {NULL, 0, 0};
    bool produced = true;
    while (z->last_ret != 0 && produced)
        if (step(z, &in, &produced, e) < 0)
            return -1;
    if (z->last_ret != 0) {
        bt_show_fail(e, "truncated zstd data (the stream ends inside a frame)");
        return -1;
    }
    return 0;
}

/* The compressed input, read in chunks; at a frame start the buffer is
 * topped up so that the whole frame header can be looked at. */
typedef struct {
    FILE *f;
    unsigned char *buf;
    size_t cap, pos, len;
    uint64_t total; /* bytes read */
} source;

/* Make at least `want` unread bytes available unless the input ends first. */
static int refill(source *in, size_t want, bt_show_err *e)
{
    if (in->len - in->pos >= want)
        return 0;
    memmove(in->buf, in->buf + in->pos, in->len - in->pos);
    in->len -= in->pos;
    in->pos = 0;
    while (in->len < want) {
        size_t n = fread(in->buf + in->len, 1, in->cap - in->len, in->f);
        if (n == 0)
            break;
        in->len += n;
        in->total += n;
    }
    if (ferror(in->f)) {
        bt_show_fail(e, "cannot read: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int pump(inflater *z, source *in, bt_show_err *e)
{
    bool at_frame_start = true;
    for (;;) {
        if (refill(in, at_frame_start ? FRAME_HEADER_MAX : 1, e) < 0)
            return -1;
        if (in->pos == in->len)
            break;
        if (at_frame_start &&
            check_announced_size(z, in->buf + in->pos, in->len - in->pos, e) < 0)
            return -1;
        ZSTD_inBuffer zin = {in->buf, in->len, in->pos};
        bool produced;
        if (step(z, &zin, &produced, e) < 0)
            return -1;
        in->pos = zin.pos;
        at_frame_start = z->last_ret == 0; /* the decoder stops at each frame's end */
    }
    if (in->total == 0) {
        bt_show_fail(e, "no zstd data after the C1ZF header");
        return -1;
    }
    return drain(z, e);
}

int bt_show_inflate(FILE *in, FILE *out, const bt_show_limits *lim, bt_show_err *e)
{
    inflater z = {.dctx = ZSTD_createDCtx(), .out = out, .lim = lim, .last_ret = 1};
    source src = {.f = in, .cap = ZSTD_DStreamInSize()};
    src.buf = malloc(src.cap);
    z.osize = ZSTD_DStreamOutSize();
    z.obuf = malloc(z.osize);
    int rc = -1;
    if (!z.dctx || !src.buf || !z.obuf)
        bt_show_fail(e, "out of memory");
    else if (ZSTD_isError(ZSTD_DCtx_setParameter(z.dctx, ZSTD_d_windowLogMax,
                                                 (int)window_log_for(lim->max_window))))
        bt_show_fail(e, "cannot configure the zstd decoder");
    else
        rc = pump(&z, &src, e);
    free(src.buf);
    free(z.obuf);
    ZSTD_freeDCtx(z.dctx);
    return rc;
}

/* ---- temporary file ----------------------------------------------------- */

/* The temporary file that exists right now, for the signal handler. */
static char pending_temp[4096];
static volatile sig_atomic_t pending_temp_set;

static void on_fatal_signal(int sig)
{
    if (pending_temp_set)
        unlink(pending_temp);
    signal(sig, SIG_DFL);
    raise(sig);
}

void bt_show_install_signal_cleanup(void)
{
    static const int signals[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa = bt_sig_action(on_fatal_signal, 0);
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        sigaction(signals[i], &sa, NULL);
}

static void remember_temp(const char *path)
{
    pending_temp_set = 0;
    if (strlen(path) >= sizeof pending_temp)
        return;
    strcpy(pending_temp, path);
    pending_temp_set = 1;
}

static void remove_temp(bt_show_c1z *c)
{
    if (!c->temp_path)
        return;
    pending_temp_set = 0;
    unlink(c->temp_path);
    free(c->temp_path);
    c->temp_path = NULL;
}

static char *temp_template(void)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    size_t n = strlen(dir) + sizeof "/bt-show-XXXXXX.db";
    char *path = malloc(n);
    if (path)
        snprintf(path, n, "%s/bt-show-XXXXXX.db", dir);
    return path;
}

static FILE *create_temp(char **path_out, bt_show_err *e)
{
    char *path = temp_template();
    int fd = path ? mkstemps(path, 3) : -1;
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (f) {
        remember_temp(path);
        *path_out = path;
        return f;
    }
    bt_show_fail(e, "cannot create a temporary file in $TMPDIR: %s", strerror(errno));
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    free(path);
    return NULL;
}

static int finish_temp(FILE *f, bt_show_err *e)
{
    int failed = fflush(f) != 0 || ferror(f);
    if (fclose(f) != 0 || failed) {
        bt_show_fail(e, "cannot write the temporary database: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int unpack_to_temp(FILE *in, const bt_show_limits *lim, bt_show_c1z *c, bt_show_err *e)
{
    if (check_magic(in, e) < 0)
        return -1;
    FILE *tmp = create_temp(&c->temp_path, e);
    if (!tmp)
        return -1;
    int rc = bt_show_inflate(in, tmp, lim, e);
    bt_show_err ignored;
    if (finish_temp(tmp, rc < 0 ? &ignored : e) < 0)
        rc = -1;
    return rc;
}

/* ---- SQLite ----------------------------------------------------------- */

/* "file:" URI with every byte outside [A-Za-z0-9/._-] percent-encoded. */
static char *file_uri(const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    static const char tail[] = "?mode=ro&immutable=1";
    char *uri = malloc(5 + 3 * strlen(path) + sizeof tail);
    if (!uri)
        return NULL;
    char *p = uri + sprintf(uri, "file:");
    for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
        if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
            strchr("/._-", *s))
            *p++ = (char)*s;
        else
            p += sprintf(p, "%%%c%c", hex[*s >> 4], hex[*s & 15]);
    }
    strcpy(p, tail);
    return uri;
}

static int harden(sqlite3 *db)
{
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL);
    return sqlite3_exec(db, "PRAGMA query_only = ON", NULL, NULL, NULL);
}

/* Touch the schema once so a payload that is not a database fails here. */
static int probe(sqlite3 *db, bt_show_err *e)
{
    int rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return 0;
    bt_show_fail(e, "the payload is not a readable SQLite database (%s)", sqlite3_errmsg(db));
    return -1;
}

static int open_database(bt_show_c1z *c, bt_show_err *e)
{
    char *uri = file_uri(c->temp_path);
    int rc = uri ? sqlite3_open_v2(uri, &c->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL)
                 : SQLITE_NOMEM;
    free(uri);
    if (rc != SQLITE_OK) {
        bt_show_fail(e, "cannot open the database: %s",
                     c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        return -1;
    }
    if (harden(c->db) != SQLITE_OK) {
        bt_show_fail(e, "cannot open the database: %s", sqlite3_errmsg(c->db));
        return -1;
    }
    return probe(c->db, e);
}

/* ---- public ------------------------------------------------------------ */

/* A regular file only: a FIFO or a device would block or never end. */
static FILE *open_input(const char *path, bt_show_err *e)
{
    struct stat st;
    int fd = bt_open_regular(path, &st);
    if (fd == -2) {
        bt_show_fail(e, "not a regular file");
        return NULL;
    }
    FILE *in = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!in) {
        bt_show_fail(e, "cannot open: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    return in;
}

static int open_into(const char *path, const bt_show_limits *lim, bt_show_c1z *c, bt_show_err *e)
{
    FILE *in = open_input(path, e);
    if (!in)
        return -1;
    int rc = unpack_to_temp(in, lim, c, e);
    fclose(in);
    if (rc == 0)
        rc = open_database(c, e);
    remove_temp(c);
    return rc;
}

int bt_show_c1z_open(const char *path, const bt_show_limits *lim, bt_show_c1z **out, bt_show_err *e)
{
    bt_show_c1z *c = calloc(1, sizeof *c);
    if (!c) {
        bt_show_fail(e, "out of memory");
        return -1;
    }
    if (open_into(path, lim, c, e) < 0) {
        bt_show_c1z_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

sqlite3 *bt_show_c1z_db(const bt_show_c1z *c)
{
    return c->db;
}

void bt_show_c1z_close(bt_show_c1z *c)
{
    if (!c)
        return;
    sqlite3_close_v2(c->db);
    remove_temp(c);
    free(c);
}
