/* The packed head of a grant row per entitlement (Grant field 1: the entitlement id and the
 * stored resource it embeds), kept for the packed-grant path of the c1z backend: grants of one
 * entitlement share those bytes, so they are packed once instead of once per row. A set-
 * associative table of BT_GRANT_PREFIX_SETS sets of BT_GRANT_PREFIX_WAYS entries keyed by
 * (entitlement id, resource type, resource id); a full set replaces its least recently used. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static bt_grant_prefix *set_of(bt_grant_prefixes *c, const char *ent_id, const char *type,
                               const char *id)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    const char *parts[3] = {ent_id, type, id};
    for (int p = 0; p < 3; p++) {
        for (const unsigned char *s = (const unsigned char *)parts[p]; *s; s++)
            h = (h ^ *s) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    h ^= h >> 32; /* FNV's low bits alone spread ids that differ in a digit poorly */
    h *= 0x9e3779b97f4a7c15ULL;
    h ^= h >> 29;
    return &c->slots[(h % BT_GRANT_PREFIX_SETS) * BT_GRANT_PREFIX_WAYS];
}

static bool same(const bt_grant_prefix *e, const char *ent_id, const char *type, const char *id)
{
    return e->ent_id && strcmp(e->ent_id, ent_id) == 0 && strcmp(e->type, type) == 0 &&
           strcmp(e->id, id) == 0;
}

const bt_bytes *bt_grant_prefix_find(bt_grant_prefixes *c, const char *ent_id, const char *type,
                                     const char *id)
{
    bt_grant_prefix *set = set_of(c, ent_id, type, id);
    for (int i = 0; i < BT_GRANT_PREFIX_WAYS; i++) {
        if (same(&set[i], ent_id, type, id)) {
            set[i].used = ++c->tick;
            return &set[i].bytes;
        }
    }
    return NULL;
}

static void clear(bt_grant_prefix *e)
{
    free(e->ent_id);
    free(e->type);
    free(e->id);
    e->ent_id = e->type = e->id = NULL;
    bt_bytes_clear(&e->bytes);
}

bt_bytes *bt_grant_prefix_slot(bt_grant_prefixes *c, const char *ent_id, const char *type,
                               const char *id)
{
    bt_grant_prefix *set = set_of(c, ent_id, type, id), *e = &set[0];
    for (int i = 1; i < BT_GRANT_PREFIX_WAYS && e->ent_id; i++)
        if (!set[i].ent_id || set[i].used < e->used)
            e = &set[i];
    clear(e);
    e->used = ++c->tick;
    e->ent_id = strdup(ent_id);
    e->type = strdup(type);
    e->id = strdup(id);
    if (!e->ent_id || !e->type || !e->id) {
        clear(e);
        return NULL;
    }
    return &e->bytes;
}

void bt_grant_prefix_forget(bt_grant_prefixes *c, const bt_bytes *bytes)
{
    for (size_t i = 0; i < BT_GRANT_PREFIX_SLOTS; i++)
        if (&c->slots[i].bytes == bytes)
            clear(&c->slots[i]);
}

void bt_grant_prefixes_free(bt_grant_prefixes *c)
{
    for (size_t i = 0; i < BT_GRANT_PREFIX_SLOTS; i++) {
        clear(&c->slots[i]);
        bt_bytes_free(&c->slots[i].bytes);
    }
}
