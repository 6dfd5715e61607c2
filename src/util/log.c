/* Leveled logging to stderr: console lines or JSON lines, secrets redacted. */
#include "bt/log.h"
#include "bt/model.h"
#include "bt/secret.h"
#include "bt/json_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/time.h>

#define BT_LOG_MAX_SECRETS 8
#define BT_LOG_LINE 8192

static bt_log_level current_level = BT_LOG_INFO;
static bt_log_format current_format = BT_LOG_CONSOLE;
static char *secrets[BT_LOG_MAX_SECRETS];
static int secret_count;
static bt_log_sink_fn sink_fn;
static void *sink_ud;
static FILE *log_file; /* --log-path; NULL: stderr */

static const char *level_names[] = {"debug", "info", "warn", "error"};

int bt_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, level_names[i]) == 0)
            return i;
    if (s && strcmp(s, "warning") == 0)
        return BT_LOG_WARN;
    return -1;
}

void bt_log_set_level(bt_log_level level) { current_level = level; }
void bt_log_set_format(bt_log_format format) { current_format = format; }
bt_log_format bt_log_get_format(void) { return current_format; }
static time_t debug_until; /* --log-level-debug-expires-at; 0: no end */

void bt_log_set_debug_until(time_t t) { debug_until = t; }

/* Debug logging that ConductorOne turned on for a while ends on time, in a
 * daemon too, not only at start-up. */
int bt_log_enabled(bt_log_level level)
{
    if (level == BT_LOG_DEBUG && debug_until && time(NULL) >= debug_until)
        return 0;
    return level >= current_level;
}

void bt_log_set_sink(bt_log_sink_fn fn, void *ud)
{
    sink_fn = fn;
    sink_ud = ud;
}

void bt_log_add_secret(const char *secret)
{
    if (!secret || strlen(secret) < 4 || secret_count == BT_LOG_MAX_SECRETS)
        return;
    for (int i = 0; i < secret_count; i++)
        if (strcmp(secrets[i], secret) == 0)
            return;
    secrets[secret_count] = strdup(secret);
    if (secrets[secret_count])
        secret_count++;
}

void bt_log_forget_secrets(void)
{
    for (int i = 0; i < secret_count; i++)
        bt_secret_free(secrets[i]);
    secret_count = 0;
}

/* Length of the registered secret starting at s, or 0. */
static size_t secret_at(const char *s)
{
    for (int i = 0; i < secret_count; i++) {
        size_t n = strlen(secrets[i]);
        if (strncmp(s, secrets[i], n) == 0)
            return n;
    }
    return 0;
}

void bt_log_redact(const char *s, char *out, size_t outsz)
{
    static const char mark[] = "[REDACTED]";
    size_t o = 0;
    if (outsz == 0)
        return;
    while (*s && o + 1 < outsz) {
        size_t n = secret_count ? secret_at(s) : 0;
        if (n) {
            for (size_t k = 0; mark[k] && o + 1 < outsz; k++)
                out[o++] = mark[k];
            s += n;
        } else {
            out[o++] = *s++;
        }
    }
    out[o] = '\0';
}

/* A JSON string literal: the codec's escaper (bytes that are not UTF-8, a
 * script's bytes or a line cut inside a character, become U+FFFD), so every
 * line stays valid JSON. */
static void json_string(FILE *f, const char *s) { bt_json_write_string(f, s, strlen(s)); }

static void timestamp(char *buf, size_t n)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t len = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + len, n - len, ".%03ldZ", (long)(tv.tv_usec / 1000));
}

static void write_line(bt_log_level level, const char *msg)
{
    char ts[40];
    FILE *out = log_file ? log_file : stderr;
    timestamp(ts, sizeof ts);
    if (current_format == BT_LOG_JSON) {
        fprintf(out, "{\"level\":\"%s\",\"ts\":\"%s\",\"msg\":", level_names[level], ts);
        json_string(out, msg);
        fputs("}\n", out);
    } else {
        fprintf(out, "%s %-5s %s\n", ts, level_names[level], msg);
    }
    if (log_file)
        fflush(log_file); /* a line is on disk when the process dies */
}

static char log_path[4096]; /* the file log_file appends to */

/* Appends, never truncates or replaces: a regular file (created 0600), a
 * character device such as /dev/stderr, or a pipe with a reader (/dev/stdout
 * under `| cat` or a container runtime; O_NONBLOCK makes a FIFO without one
 * fail at open instead of hanging). Sockets and directories are refused. */
int bt_log_set_file(const char *path, char *err, size_t errsz)
{
    if (log_file && strcmp(path, log_path) == 0)
        return 0; /* opened already (the early set-up) */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 ||
        !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
        snprintf(err, errsz, "--log-path \"%s\": %s", path,
                 fd < 0 ? strerror(errno) : "not a file, character device or pipe");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, O_WRONLY | O_APPEND);
    FILE *f = fdopen(fd, "a");
    if (!f) {
        close(fd);
        snprintf(err, errsz, "--log-path \"%s\": %s", path, strerror(errno));
        return -1;
    }
    if (log_file)
        fclose(log_file);
    log_file = f;
    snprintf(log_path, sizeof log_path, "%s", path);
    return 0;
}

void bt_log_close_file(void)
{
    if (log_file)
        fclose(log_file);
    log_file = NULL;
}

static void log_va(bt_log_level level, const char *fmt, va_list ap)
{
    if (!bt_log_enabled(level))
        return;
    /* Redact the whole message before cutting it to one line: a secret that
     * straddled the cut would otherwise leave its first bytes in the log. */
    char small[BT_LOG_LINE], clean[BT_LOG_LINE], *raw = small;
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(small, sizeof small, fmt, copy);
    va_end(copy);
    if (n >= (int)sizeof small && (raw = malloc((size_t)n + 1)) != NULL)
        vsnprintf(raw, (size_t)n + 1, fmt, ap);
    else if (!raw)
        raw = small;
    bt_log_redact(raw, clean, sizeof clean);
    if (raw != small)
        free(raw);
    if (sink_fn)
        sink_fn(level, clean, sink_ud);
    else
        write_line(level, clean);
}

static void write_field(FILE *out, const bt_log_field *f)
{
    char clean[BT_LOG_LINE];
    fputc(',', out);
    json_string(out, f->key);
    fputc(':', out);
    if (f->kind == BT_LOG_INT) {
        fprintf(out, "%lld", f->i);
    } else if (f->kind == BT_LOG_REAL) {
        fprintf(out, "%.1f", f->r == f->r && f->r < 1e15 && f->r > -1e15 ? f->r : 0.0);
    } else {
        bt_log_redact(f->s ? f->s : "", clean, sizeof clean);
        json_string(out, clean);
    }
}

void bt_log_record(bt_log_level level, const char *console, const char *msg,
                   const bt_log_field *fields, size_t n)
{
    if (!bt_log_enabled(level))
        return;
    if (current_format != BT_LOG_JSON || sink_fn) {
        bt_log(level, "%s", console);
        return;
    }
    char ts[40];
    FILE *out = log_file ? log_file : stderr;
    timestamp(ts, sizeof ts);
    fprintf(out, "{\"level\":\"%s\",\"ts\":\"%s\",\"msg\":", level_names[level], ts);
    json_string(out, msg);
    for (size_t i = 0; i < n; i++)
        write_field(out, &fields[i]);
    fputs("}\n", out);
    if (log_file)
        fflush(log_file);
}

void bt_log(bt_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_va(level, fmt, ap);
    va_end(ap);
}
