/* The text ConductorOne is sent carries no local file paths: a script
 * position ("/usr/share/baton-twingate/scripts/twingate/groups.lua:87") keeps
 * only the script's own name ("twingate/groups.lua:87"), and any other
 * absolute path only its last component. */
#include "service/svc.h"

#include <stdbool.h>
#include <string.h>

static bool path_char(char c) { return c && c != ' ' && c != '"' && c != '\'' && c != '(' && c != ')'; }

/* A token that names a local file: starts with '/', or with "..." (Lua's
 * shortened source name) followed by a '/' somewhere. */
static bool is_local_path(const char *t, size_t len)
{
    if (t[0] == '/')
        return true;
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
