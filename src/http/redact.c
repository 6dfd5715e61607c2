/* Keeping the secret header out of debug output. bt_log redacts registered
 * secrets too; this does not rely on it. */
#include <string.h>
#include <strings.h>

#include "bt/http.h"

static const char REDACTED[] = "[REDACTED]";

typedef struct out_t {
    char *p;
    size_t size, len;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    size_t room = o->size - 1 - o->len;
    if (n > room)
        n = room;
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

/* Copy s[0..n), replacing every occurrence of secret. */
static void put_blanked(out_t *o, const char *s, size_t n, const char *secret)
{
    size_t sl = secret ? strlen(secret) : 0;
    size_t i = 0, from = 0;
    while (sl && i + sl <= n) {
        if (memcmp(s + i, secret, sl) == 0) {
            put(o, s + from, i - from);
            put(o, REDACTED, sizeof REDACTED - 1);
            i += sl;
            from = i;
        } else {
            i++;
        }
    }
    put(o, s + from, n - from);
}

/* Length of "Name:" when line is header `name`, else 0. */
static size_t header_prefix(const char *line, size_t len, const char *name)
{
    size_t nl = name ? strlen(name) : 0;
    if (nl == 0 || len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
        return 0;
    return nl + 1;
}

size_t bt_http_redact_line(const char *line, size_t len, const char *name, const char *secret,
                           char *out, size_t outsz)
{
    if (outsz == 0)
        return 0;
    out_t o = {out, outsz, 0};
    size_t prefix = header_prefix(line, len, name);
    if (prefix) {
        put(&o, line, prefix);
        put(&o, " ", 1);
        put(&o, REDACTED, sizeof REDACTED - 1);
    } else {
        put_blanked(&o, line, len, secret);
    }
    out[o.len] = '\0';
    return o.len;
}
