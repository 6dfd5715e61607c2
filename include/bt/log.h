/* Leveled logging to stderr, console or JSON lines, with secret redaction. */
#ifndef BT_LOG_H
#define BT_LOG_H
#include <stdarg.h>
#include <stddef.h>
#include <time.h>

typedef enum { BT_LOG_DEBUG = 0, BT_LOG_INFO, BT_LOG_WARN, BT_LOG_ERROR } bt_log_level;
typedef enum { BT_LOG_CONSOLE = 0, BT_LOG_JSON } bt_log_format;

/* Parse "debug|info|warn|error"; returns -1 when unknown. */
int bt_log_level_parse(const char *s);
void bt_log_set_level(bt_log_level level);
void bt_log_set_format(bt_log_format format);
bt_log_format bt_log_get_format(void);

/* Register a secret: every later log line has each occurrence replaced by
 * "[REDACTED]". Secrets shorter than 4 bytes are ignored (too many false hits). */
void bt_log_add_secret(const char *secret);
/* Wipe and drop every registered secret (at exit). */
void bt_log_forget_secrets(void);
/* Replace every registered secret in s (in place into out, size outsz). */
void bt_log_redact(const char *s, char *out, size_t outsz);

int bt_log_enabled(bt_log_level level);
/* From this time on (0: never), debug lines are not written whatever the
 * level (--log-level-debug-expires-at). */
void bt_log_set_debug_until(time_t t);
void bt_log(bt_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A record for monitors: with --log-format json one JSON object
 * {"level","ts","msg":msg, <fields>...} (numbers as numbers); on the console
 * the line `console`. Redacted like every line. */
typedef enum { BT_LOG_STR, BT_LOG_INT, BT_LOG_REAL } bt_log_field_kind;
typedef struct {
    const char *key;
    bt_log_field_kind kind;
    const char *s;
    long long i;
    double r;
} bt_log_field;
#define BT_LOG_FSTR(k, v) ((bt_log_field){(k), BT_LOG_STR, (v), 0, 0})
#define BT_LOG_FINT(k, v) ((bt_log_field){(k), BT_LOG_INT, NULL, (long long)(v), 0})
#define BT_LOG_FREAL(k, v) ((bt_log_field){(k), BT_LOG_REAL, NULL, 0, (double)(v)})
void bt_log_record(bt_log_level level, const char *console, const char *msg,
                   const bt_log_field *fields, size_t n);

/* --log-path: log lines are appended to this file instead of stderr
 * (the final `error:` line of a failed run still goes to stderr). */
int bt_log_set_file(const char *path, char *err, size_t errsz);
void bt_log_close_file(void);

/* Send log lines to a callback instead of stderr (tests). NULL restores stderr. */
typedef void (*bt_log_sink_fn)(bt_log_level level, const char *line, void *ud);
void bt_log_set_sink(bt_log_sink_fn fn, void *ud);

#define bt_debug(...) bt_log(BT_LOG_DEBUG, __VA_ARGS__)
#define bt_info(...) bt_log(BT_LOG_INFO, __VA_ARGS__)
#define bt_warn(...) bt_log(BT_LOG_WARN, __VA_ARGS__)
#define bt_error(...) bt_log(BT_LOG_ERROR, __VA_ARGS__)

#endif
