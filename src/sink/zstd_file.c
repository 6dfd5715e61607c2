/* Compress a finished file into one zstd frame behind a magic prefix,
 * streaming (memory stays at the codec's window plus two buffers). The frame
 * records the content size (the size is pledged up front) and a checksum;
 * the window is the level's, at most 8 MiB for levels <= 19 (c1z-format.md
 * 1.2: readers cap decoder memory at 32 MiB). */
#include "bt/files.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

static int write_all(int fd, const void *p, size_t n, char *err, size_t errsz)
{
    if (bt_write_all(fd, p, n) == 0)
        return 0;
    bt_sink_errf(err, errsz, "write failed: %s", strerror(errno));
    return -1;
}

static ZSTD_CCtx *make_cctx(int level, unsigned long long size, char *err, size_t errsz)
{
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    if (!cctx) {
        bt_sink_errf(err, errsz, "zstd: out of memory");
        return NULL;
    }
    size_t rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
    /* A 1 MiB window: the compressor's memory is a large part of a sync's peak,
     * and SQLite pages gain little from matches further back. */
    if (!ZSTD_isError(rc))
        rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, BT_C1Z_ZSTD_WINDOW_LOG);
    if (!ZSTD_isError(rc))
        rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    if (!ZSTD_isError(rc))
        rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
    if (!ZSTD_isError(rc))
        rc = ZSTD_CCtx_setPledgedSrcSize(cctx, size);
    if (ZSTD_isError(rc)) {
        bt_sink_errf(err, errsz, "zstd: %s", ZSTD_getErrorName(rc));
        ZSTD_freeCCtx(cctx);
        return NULL;
    }
    return cctx;
}

/* Feed one input chunk (mode continue or end) and write what comes out. */
static int pump(ZSTD_CCtx *cctx, ZSTD_inBuffer *in, ZSTD_EndDirective mode, void *obuf,
                size_t osize, int out_fd, char *err, size_t errsz)
{
    for (;;) {
        ZSTD_outBuffer out = {obuf, osize, 0};
        size_t left = ZSTD_compressStream2(cctx, &out, in, mode);
        if (ZSTD_isError(left)) {
            bt_sink_errf(err, errsz, "zstd: %s", ZSTD_getErrorName(left));
            return -1;
        }
        if (write_all(out_fd, obuf, out.pos, err, errsz) != 0)
            return -1;
        bool done = mode == ZSTD_e_end ? left == 0 : in->pos == in->size;
        if (done)
            return 0;
    }
}

static int compress_stream(int in_fd, unsigned long long size, int out_fd, int level, char *err,
                           size_t errsz)
{
    ZSTD_CCtx *cctx = make_cctx(level, size, err, errsz);
    if (!cctx)
        return -1;
    size_t isize = ZSTD_CStreamInSize(), osize = ZSTD_CStreamOutSize();
    void *ibuf = malloc(isize), *obuf = malloc(osize);
    int rc = ibuf && obuf ? 0 : -1;
    if (rc != 0)
        bt_sink_errf(err, errsz, "out of memory");
    unsigned long long total = 0;
    while (rc == 0) {
        ssize_t got = read(in_fd, ibuf, isize);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            bt_sink_errf(err, errsz, "read failed: %s", strerror(errno));
            rc = -1;
            break;
        }
        total += (unsigned long long)got;
        ZSTD_inBuffer in = {ibuf, (size_t)got, 0};
        ZSTD_EndDirective mode = got == 0 ? ZSTD_e_end : ZSTD_e_continue;
        rc = pump(cctx, &in, mode, obuf, osize, out_fd, err, errsz);
        if (got == 0)
            break;
    }
    if (rc == 0 && total != size) {
        bt_sink_errf(err, errsz, "the database changed size while being compressed");
        rc = -1;
    }
    free(ibuf);
    free(obuf);
    ZSTD_freeCCtx(cctx);
    return rc;
}

int bt_zstd_compress_file(const char *src_path, int out_fd, const void *magic, size_t magic_len,
                          int level, char *err, size_t errsz)
{
    int in_fd = open(src_path, O_RDONLY | O_CLOEXEC);
    if (in_fd < 0) {
        bt_sink_errf(err, errsz, "cannot open %s: %s", src_path, strerror(errno));
        return -1;
    }
    struct stat st;
    int rc = fstat(in_fd, &st);
    if (rc != 0)
        bt_sink_errf(err, errsz, "cannot stat %s: %s", src_path, strerror(errno));
    if (rc == 0)
        rc = write_all(out_fd, magic, magic_len, err, errsz);
    if (rc == 0)
        rc = compress_stream(in_fd, (unsigned long long)st.st_size, out_fd, level, err, errsz);
    close(in_fd);
    return rc;
}
