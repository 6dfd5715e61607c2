/* BATON_* environment names and the flat YAML config file (./.baton.yaml or
 * $BATON_CONFIG_PATH): `key: value` lines, # comments, quoted or bare scalars. */
#include "bt/cli.h"
#include "bt/files.h"
#include "bt/log.h"
#include "bt/suggest.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define MAX_FILE_KEYS 64

typedef struct {
    bool loaded;
    char *keys[MAX_FILE_KEYS];
    char *values[MAX_FILE_KEYS];
    int lines[MAX_FILE_KEYS];
    int count;
    char path[1024];
    unsigned mode; /* the file's permission bits */
    bool checked;  /* its warnings were given (once per run) */
} config_file;

static config_file file_cache;

void bt_cli_env_name(const char *flag, char *out, size_t n)
{
    size_t o = (size_t)snprintf(out, n, "BATON_");
    for (; *flag && o + 1 < n; flag++)
        out[o++] = *flag == '-' ? '_' : (char)toupper((unsigned char)*flag);
    out[o] = '\0';
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Unquote a scalar in place: "..." (escapes \" and \\ only) or '...' ('' escape),
 * then only white space or a # comment may follow; a bare value loses a
 * trailing " # comment". Returns NULL on success, else what is wrong. */
static const char *unquote(char *v, char **out)
{
    char q = v[0];
    if (q == '"' || q == '\'') {
        char *r = v + 1, *w = v + 1;
        for (;; r++) {
            if (*r == '\0')
                return "unterminated quote";
            if (q == '"' && *r == '\\' && (r[1] == '"' || r[1] == '\\'))
                r++;
            else if (q == '\'' && *r == '\'' && r[1] == '\'')
                r++;
            else if (*r == q)
                break;
            *w++ = *r;
        }
        char *rest = trim(r + 1);
        if (*rest && *rest != '#')
            return "unexpected text after the quoted value";
        *w = '\0';
        *out = v + 1;
        return NULL;
    }
    /* Flow collections, block scalars, anchors, aliases, tags and reserved
     * indicators would mean something else to a YAML parser. */
    if (q && strchr("[]{}|>&*!%@`", q))
        return "unsupported YAML value (quote it; lists, blocks, anchors and tags are not supported)";
    char *hash = strstr(v, " #");
    if (hash)
        *hash = '\0';
    *out = trim(v);
    return NULL;
}

static int parse_line(config_file *cf, char *line, int lineno, char *err, size_t errsz)
{
    char *s = trim(line), *value;
    if (*s == '\0' || *s == '#' || strcmp(s, "---") == 0)
        return 0;
    char *colon = strchr(s, ':');
    if (!colon || isspace((unsigned char)line[0]) || *s == '-') {
        snprintf(err, errsz, "%s:%d: expected a flat `key: value` line", cf->path, lineno);
        return -1;
    }
    *colon = '\0';
    const char *key = trim(s), *bad = unquote(trim(colon + 1), &value);
    if (bad) {
        snprintf(err, errsz, "%s:%d: %s", cf->path, lineno, bad);
        return -1;
    }
    for (int i = 0; i < cf->count; i++)
        if (strcmp(cf->keys[i], key) == 0) {
            snprintf(err, errsz, "%s:%d: duplicate key '%s' (first on line %d)", cf->path, lineno,
                     key, cf->lines[i]);
            return -1;
        }
    if (cf->count == MAX_FILE_KEYS) {
        snprintf(err, errsz, "%s: too many keys", cf->path);
        return -1;
    }
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        snprintf(err, errsz, "%s: out of memory", cf->path);
        return -1;
    }
    cf->keys[cf->count] = k;
    cf->values[cf->count] = v;
    cf->lines[cf->count++] = lineno;
    return 0;
}

static int load_file(char *err, size_t errsz)
{
    config_file *cf = &file_cache;
    if (cf->loaded)
        return 0;
    cf->loaded = true;
    const char *explicit_path = getenv("BATON_CONFIG_PATH");
    snprintf(cf->path, sizeof cf->path, "%s", explicit_path && *explicit_path ? explicit_path : ".baton.yaml");
    bool named = explicit_path && *explicit_path;
    /* Only a regular file: a directory would read as empty, a FIFO would hang. */
    struct stat st;
    int fd = bt_open_regular(cf->path, &st);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        if (fd == -1 && errno == ENOENT && !named)
            return 0; /* the default file is optional */
        snprintf(err, errsz, "config file %s%s %s", cf->path, named ? " (BATON_CONFIG_PATH)" : "",
                 fd == -2 ? (S_ISDIR(st.st_mode) ? "is a directory" : "is not a regular file")
                          : "cannot be read");
        return -1;
    }
    cf->mode = (unsigned)st.st_mode & 07777;
    char line[4096];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        ++lineno;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errsz, "%s:%d: line longer than %zu bytes", cf->path, lineno,
                     sizeof line - 2);
            rc = -1;
        } else {
            rc = parse_line(cf, line, lineno, err, errsz);
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errsz, "cannot read config file %s: %s", cf->path, strerror(errno));
        rc = -1;
    }
    fclose(f);
    return rc;
}

int bt_cli_config_file_lookup(const char *name, char **out, char *err, size_t errsz)
{
    if (load_file(err, errsz) != 0)
        return -1;
    for (int i = 0; i < file_cache.count; i++) {
        if (strcmp(file_cache.keys[i], name) == 0) {
            *out = strdup(file_cache.values[i]);
            return *out ? 1 : -1;
        }
    }
    return 0;
}

/* An unknown key is skipped with one warning, as baton-sdk ignores it (a
 * file shared with other connectors keeps working); a near-typo of one of
 * our flags gets "did you mean". */
static void warn_unknown(const bt_cli *cli, int i)
{
    const char *names[BT_CLI_MAX_FLAGS + 1];
    int n = 0;
    for (int j = 0; j < cli->flag_count; j++)
        if (!cli->flags[j].hidden)
            names[n++] = cli->flags[j].name;
    names[n] = NULL;
    char hint[200];
    bt_suggest_hint(file_cache.keys[i], names, hint, sizeof hint);
    bt_warn("%s:%d: unknown key '%.80s' ignored%s", file_cache.path, file_cache.lines[i],
            file_cache.keys[i], hint);
}

/* A secret in a file that group or others may read: warned, not refused (a
 * --<name>-file in that state is refused; the config file is older practice). */
static void warn_readable_secret(const bt_cli *cli, int i)
{
    if (!(file_cache.mode & 077))
        return;
    for (int j = 0; j < cli->flag_count; j++)
        if (cli->flags[j].secret && strcmp(cli->flags[j].name, file_cache.keys[i]) == 0)
            bt_warn("%s holds %s but is readable by group/others (mode %04o): chmod 600 %s, "
                    "or move the secret to %s-file", file_cache.path, file_cache.keys[i],
                    file_cache.mode, file_cache.path, file_cache.keys[i]);
}

int bt_cli_config_file_check(const bt_cli *cli, char *err, size_t errsz)
{
    if (load_file(err, errsz) != 0)
        return -1;
    bool warn = !file_cache.checked;
    file_cache.checked = true;
    for (int i = 0; i < file_cache.count; i++) {
        bool known = false;
        for (int j = 0; j < cli->flag_count && !known; j++)
            known = strcmp(cli->flags[j].name, file_cache.keys[i]) == 0;
        const char *key = file_cache.keys[i];
        if (known && warn)
            warn_readable_secret(cli, i);
        const bt_sdk_flag *sdk = known ? NULL : bt_cli_sdk_flag(key, strlen(key));
        char where[sizeof file_cache.path + 160];
        snprintf(where, sizeof where, "%s:%d: %s '%.80s'", file_cache.path, file_cache.lines[i],
                 sdk ? "key" : "unknown key", key);
        if (sdk && bt_cli_refuse_sdk_flag(sdk, file_cache.values[i], where, err, errsz) != 0)
            return -1;
        if (!known && !sdk && warn)
            warn_unknown(cli, i);
    }
    return 0;
}

void bt_cli_config_file_reset(void)
{
    for (int i = 0; i < file_cache.count; i++) {
        free(file_cache.keys[i]);
        free(file_cache.values[i]);
    }
    memset(&file_cache, 0, sizeof file_cache);
}
