/* The text ConductorOne is sent carries no local file paths: a script
 * position ("/usr/share/baton-twingate/scripts/twingate/groups.lua:87") keeps
 * only the script's own name ("twingate/groups.lua:87"), and any other local
 * path only its last component. A path of the API's ("/api/graphql/",
 * "/groups/abc" in a server's message) is not local and stays whole. */
#include "service/svc.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

static bool path_char(char c) { return c && c != ' ' && c != '"' && c != '\'' && c != '(' && c != ')'; }

/* The top directories of a Unix file system: a path under one is local. */
static bool under_system_root(const char *t, size_t len)
{
    static const char *const roots[] = {"/bin/", "/boot/", "/dev/", "/etc/", "/home/", "/lib/",
                                        "/lib64/", "/media/", "/mnt/", "/nix/", "/opt/", "/proc/",
                                        "/root/", "/run/", "/sbin/", "/snap/", "/srv/", "/sys/",
                                        "/tmp/", "/usr/", "/var/", NULL};
    for (int i = 0; roots[i]; i++)
        if (len >= strlen(roots[i]) && strncmp(t, roots[i], strlen(roots[i])) == 0)
            return true;
    return false;
}

/* Whether the directory holding the absolute path t[0..len) exists here (a
 * file under a --scripts-dir or --c1z-temp-dir of any name; the root itself
 * does not count, or every "/word" would). */
static bool parent_exists(const char *t, size_t len)
{
    const char *slash = NULL;
    for (size_t i = 1; i < len; i++)
        if (t[i] == '/' && i + 1 < len)
            slash = t + i;
    char dir[PATH_MAX];
    size_t n = slash ? (size_t)(slash - t) : 0;
    if (n == 0 || n >= sizeof dir)
        return false;
    memcpy(dir, t, n);
    dir[n] = '\0';
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A token that names a local file: a Lua script position ("....lua"), a path
 * under a system directory or in a directory that exists here, or Lua's
 * shortened source name ("..." then a '/'). */
static bool is_local_path(const char *t, size_t len)
{
    if (t[0] == '/') {
        const char *lua = strstr(t, ".lua");
        bool script = lua && (size_t)(lua - t) < len;
        return script || under_system_root(t, len) || parent_exists(t, len);
    }
    return len > 3 && strncmp(t, "...", 3) == 0 && memchr(t, '/', len) != NULL;
}

/* Where the kept part of a path token starts: the last two components when
 * the last one is a Lua script (its directory names the script's module),
 * else the last one. */
static size_t kept_from(const char *t, size_t len)
{
    size_t slashes[2] = {0, 0};
    int seen = 0;
    for (size_t i = 0; i < len; i++)
        if (t[i] == '/') {
            slashes[1] = slashes[0];
            slashes[0] = i + 1;
            seen++;
        }
    const char *lua = strstr(t, ".lua");
    bool script = lua && (size_t)(lua - t) < len && seen >= 2;
    return script ? slashes[1] : slashes[0];
}

void bt_svc_public_text(const char *in, char *out, size_t n)
{
    size_t w = 0;
    if (n == 0)
        return;
    for (size_t i = 0; in[i] && w + 1 < n;) {
        bool token_start = i == 0 || !path_char(in[i - 1]);
        size_t len = 0;
        while (token_start && path_char(in[i + len]))
            len++;
        size_t from = token_start && len && is_local_path(in + i, len) ? kept_from(in + i, len) : 0;
        if (!len) {
            out[w++] = in[i++];
            continue;
        }
        for (size_t k = from; k < len && w + 1 < n; k++)
            out[w++] = in[i + k];
        i += len;
    }
    out[w] = '\0';
}
