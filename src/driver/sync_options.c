/* Sync options: baton resource ids and comma-separated flag lists parsed into
 * bt_sync_options, checked against the contract before any request. */
#include "bt/errf.h"
#include "bt/sync_options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BID_RESOURCE "bid:r:"
#define MAX_PARTS 4

/* Split s (the part after "bid:r:") on unescaped '/', unescaping into buf;
 * parts[] point into buf. Returns the part count, or -1 when malformed. */
static int split_bid(const char *s, char *buf, char *parts[MAX_PARTS])
{
    int n = 0;
    char *w = buf;
    parts[n++] = w;
    for (; *s; s++) {
        if (*s == '\\') {
            if (s[1] != '\\' && s[1] != '/' && s[1] != ':')
                return -1; /* only these three are escaped */
            *w++ = *++s;
        } else if (*s == '/') {
            *w++ = '\0';
            if (n == MAX_PARTS)
                return -1;
            parts[n++] = w;
        } else if (*s == ':') {
            return -1; /* must be escaped inside a part */
        } else {
            *w++ = *s;
        }
    }
    *w = '\0';
    for (int i = 0; i < n; i++)
        if (!parts[i][0])
            return -1;
    return n;
}

static int set_target(bt_sync_target *out, const char *type, const char *id, char *err,
                      size_t errsz)
{
    out->type = strdup(type);
    out->id = strdup(id);
    if (out->type && out->id)
        return 0;
    free(out->type);
    free(out->id);
    out->type = out->id = NULL;
    return bt_errf(err, errsz, "%s", "out of memory");
}

/* "<type>:<id>": a type of letters, digits, '_' or '-', then any non-empty id. */
static int parse_short(const char *text, bt_sync_target *out, char *err, size_t errsz)
{
    size_t tlen = strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
    if (tlen == 0 || text[tlen] != ':' || text[tlen + 1] == '\0')
        return bt_errf(err, errsz,
                    "--sync-resources: \"%s\" is not a resource id (want bid:r:<type>/<id> or <type>:<id>)",
                    text);
    char type[128];
    if (tlen >= sizeof type)
        return bt_errf(err, errsz, "--sync-resources: the resource type of \"%.200s\" is too long", text);
    memcpy(type, text, tlen);
    type[tlen] = '\0';
    return set_target(out, type, text + tlen + 1, err, errsz);
}

int bt_sync_target_parse(const char *text, bt_sync_target *out, char *err, size_t errsz)
{
    out->type = out->id = NULL;
    if (strncmp(text, "bid:", 4) != 0) /* an entitlement or grant bid is no resource */
        return parse_short(text, out, err, errsz);
    bool resource = strncmp(text, BID_RESOURCE, strlen(BID_RESOURCE)) == 0;
    const char *rest = resource ? text + strlen(BID_RESOURCE) : "";
    char *buf = malloc(strlen(rest) + 1), *parts[MAX_PARTS];
    if (!buf)
        return bt_errf(err, errsz, "%s", "out of memory");
    int n = resource ? split_bid(rest, buf, parts) : -1;
    int rc = n == 2 || n == 4 ? set_target(out, parts[n - 2], parts[n - 1], err, errsz)
                              : bt_errf(err, errsz,
                                     "--sync-resources: \"%.300s\" is not a resource baton id "
                                     "(want bid:r:<type>/<id>)", text);
    free(buf);
    return rc;
}

int bt_sync_options_add_target(bt_sync_options *o, const char *type, const char *id)
{
    bt_sync_target *v = realloc(o->targets, (o->target_count + 1) * sizeof *v);
    if (!v)
        return -1;
    o->targets = v;
    char e[64];
    if (set_target(&v[o->target_count], type, id, e, sizeof e) != 0)
        return -1;
    o->target_count++;
    return 0;
}

int bt_sync_options_add_type(bt_sync_options *o, const char *type)
{
    char **v = realloc(o->resource_types, (o->type_count + 1) * sizeof *v);
    if (!v)
        return -1;
    o->resource_types = v;
    if (!(v[o->type_count] = strdup(type)))
        return -1;
    o->type_count++;
    return 0;
}

/* Calls add(o, item) for each comma-separated, space-trimmed, non-empty
 * item of list. */
typedef int (*item_fn)(bt_sync_options *o, const char *item, char *err, size_t errsz);

static int each_item(const char *list, item_fn add, bt_sync_options *o, char *err, size_t errsz)
{
    char *copy = strdup(list ? list : ""), *save = NULL;
    if (!copy)
        return bt_errf(err, errsz, "%s", "out of memory");
    int rc = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        size_t n = strlen(tok);
        while (n > 0 && tok[n - 1] == ' ')
            tok[--n] = '\0';
        if (n > 0)
            rc = add(o, tok, err, errsz);
    }
    free(copy);
    return rc;
}

static int add_target_text(bt_sync_options *o, const char *item, char *err, size_t errsz)
{
    bt_sync_target t;
    if (bt_sync_target_parse(item, &t, err, errsz) != 0)
        return -1;
    int rc = bt_sync_options_add_target(o, t.type, t.id);
    free(t.type);
    free(t.id);
    return rc == 0 ? 0 : bt_errf(err, errsz, "%s", "out of memory");
}

static int add_type_text(bt_sync_options *o, const char *item, char *err, size_t errsz)
{
    return bt_sync_options_add_type(o, item) == 0 ? 0 : bt_errf(err, errsz, "%s", "out of memory");
}

int bt_sync_options_from_cli(const bt_cli *cli, bt_sync_options *o, char *err, size_t errsz)
{
    memset(o, 0, sizeof *o);
    o->skip_entitlements_and_grants = bt_cli_get_bool(cli, BT_FLAG_SKIP_ENTITLEMENTS_AND_GRANTS);
    o->skip_grants = bt_cli_get_bool(cli, BT_FLAG_SKIP_GRANTS);
    if (each_item(bt_cli_get(cli, BT_FLAG_SYNC_RESOURCES), add_target_text, o, err, errsz) != 0 ||
        each_item(bt_cli_get(cli, BT_FLAG_SYNC_RESOURCE_TYPES), add_type_text, o, err, errsz) != 0) {
        bt_sync_options_free(o);
        return -1;
    }
    return 0;
}

static const bt_resource_type_decl *find_type(const bt_contract *c, const char *id)
{
    for (int i = 0; i < c->type_count; i++)
        if (strcmp(c->types[i].id, id) == 0)
            return &c->types[i];
    return NULL;
}

int bt_sync_options_check(const bt_sync_options *o, const bt_contract *c, char *err, size_t errsz)
{
    for (size_t i = 0; i < o->type_count; i++)
        if (!find_type(c, o->resource_types[i]))
            return bt_errf(err, errsz, "--sync-resource-types: unknown resource type \"%.200s\"",
                        o->resource_types[i]);
    for (size_t i = 0; i < o->target_count; i++) {
        const bt_resource_type_decl *t = find_type(c, o->targets[i].type);
        if (!t)
            return bt_errf(err, errsz, "--sync-resources: unknown resource type \"%.200s\"",
                        o->targets[i].type);
        if (!t->targeted_sync)
            return bt_errf(err, errsz,
                        "--sync-resources: resources of type \"%.200s\" cannot be synced alone",
                        t->id);
    }
    return 0;
}

const char *bt_sync_options_sync_type(const bt_sync_options *o)
{
    if (o->target_count > 0)
        return "partial";
    return o->skip_entitlements_and_grants ? "resources_only" : "full";
}

bool bt_sync_options_is_default(const bt_sync_options *o)
{
    return o->target_count == 0 && o->type_count == 0 && !o->skip_entitlements_and_grants &&
           !o->skip_grants;
}

void bt_sync_options_free(bt_sync_options *o)
{
    for (size_t i = 0; i < o->target_count; i++) {
        free(o->targets[i].type);
        free(o->targets[i].id);
    }
    for (size_t i = 0; i < o->type_count; i++)
        free(o->resource_types[i]);
    free(o->targets);
    free(o->resource_types);
    memset(o, 0, sizeof *o);
}
