/* Resolving ids to rows of the shown sync, the way the baton CLI resolves
 * display names: resource types by id, resources by (type, id), entitlements
 * by id. Blobs are cached in a direct-mapped table per kind. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "bt/show.h"

#define CACHE_SLOTS 256

typedef struct {
    char *key; /* type id, or "<type>\0<id>" for resources */
    size_t key_len;
    uint8_t *blob;
    size_t blob_len;
} slot;

typedef struct {
    const char *sql;
    const char *what;
    const ProtobufCMessageDescriptor *desc;
    sqlite3_stmt *st;
    slot slots[CACHE_SLOTS];
} kind;

enum { KIND_RESOURCE_TYPE, KIND_RESOURCE, KIND_ENTITLEMENT, KIND_COUNT };

struct bt_show_lookup {
    sqlite3 *db;
    char *sync_id;
    kind kinds[KIND_COUNT];
};

static const kind KIND_TEMPLATES[KIND_COUNT] = {
    [KIND_RESOURCE_TYPE] = {"SELECT data FROM v1_resource_types "
                            "WHERE external_id = ?1 AND sync_id = ?2 LIMIT 1",
                            "resource type",
                            &c1__connector__v2__resource_type__descriptor,
                            NULL,
                            {{0}}},
    [KIND_RESOURCE] = {"SELECT data FROM v1_resources "
                       "WHERE external_id = ?1 AND sync_id = ?2 AND resource_type_id = ?3 LIMIT 1",
                       "resource",
                       &c1__connector__v2__resource__descriptor,
                       NULL,
                       {{0}}},
    [KIND_ENTITLEMENT] = {"SELECT data FROM v1_entitlements "
                          "WHERE external_id = ?1 AND sync_id = ?2 LIMIT 1",
                          "entitlement",
                          &c1__connector__v2__entitlement__descriptor,
                          NULL,
                          {{0}}},
};

static int prepare_all(bt_show_lookup *l, bt_show_err *e)
{
    for (int k = 0; k < KIND_COUNT; k++) {
        l->kinds[k] = KIND_TEMPLATES[k];
        if (sqlite3_prepare_v2(l->db, l->kinds[k].sql, -1, &l->kinds[k].st, NULL) != SQLITE_OK) {
            bt_show_fail(e, "cannot read the database: %s", sqlite3_errmsg(l->db));
            return -1;
        }
    }
    return 0;
}

bt_show_lookup *bt_show_lookup_new(sqlite3 *db, const char *sync_id, bt_show_err *e)
{
    bt_show_lookup *l = calloc(1, sizeof *l);
    if (l) {
        l->db = db;
        l->sync_id = strdup(sync_id);
    }
    if (!l || !l->sync_id) {
        bt_show_fail(e, "out of memory");
        bt_show_lookup_free(l);
        return NULL;
    }
    if (prepare_all(l, e) < 0) {
        bt_show_lookup_free(l);
        return NULL;
    }
    return l;
}

static void slot_clear(slot *s)
{
    free(s->key);
    free(s->blob);
    memset(s, 0, sizeof *s);
}

void bt_show_lookup_free(bt_show_lookup *l)
{
    if (!l)
        return;
    for (int k = 0; k < KIND_COUNT; k++) {
        sqlite3_finalize(l->kinds[k].st);
        for (size_t i = 0; i < CACHE_SLOTS; i++)
            slot_clear(&l->kinds[k].slots[i]);
    }
    free(l->sync_id);
    free(l);
}

/* ---- cache ----------------------------------------------------------------- */

static slot *slot_for(kind *k, const char *key, size_t key_len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < key_len; i++)
        h = (h ^ (uint8_t)key[i]) * 16777619u;
    return &k->slots[h % CACHE_SLOTS];
}

static bool slot_holds(const slot *s, const char *key, size_t key_len)
{
    return s->key && s->key_len == key_len && memcmp(s->key, key, key_len) == 0;
}

static int slot_fill(slot *s, const char *key, size_t key_len, const void *blob, size_t len)
{
    slot_clear(s);
    s->key = malloc(key_len ? key_len : 1);
    s->blob = malloc(len ? len : 1);
    if (!s->key || !s->blob) {
        slot_clear(s);
        return -1;
    }
    memcpy(s->key, key, key_len);
    s->key_len = key_len;
    if (len)
        memcpy(s->blob, blob, len);
    s->blob_len = len;
    return 0;
}

/* ---- queries --------------------------------------------------------------- */

/* Runs the kind's query and stores the blob in *s. 1 found, 0 missing, -1 error. */
static int fetch(bt_show_lookup *l, kind *k, slot *s, const char *key, size_t key_len,
                 const char *const binds[2], bt_show_err *e)
{
    sqlite3_reset(k->st);
    sqlite3_bind_text(k->st, 1, binds[0], -1, SQLITE_STATIC);
    sqlite3_bind_text(k->st, 2, l->sync_id, -1, SQLITE_STATIC);
    if (binds[1])
        sqlite3_bind_text(k->st, 3, binds[1], -1, SQLITE_STATIC);
    int rc = sqlite3_step(k->st), found = 0;
    if (rc == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob(k->st, 0);
        found =
            slot_fill(s, key, key_len, blob, (size_t)sqlite3_column_bytes(k->st, 0)) < 0 ? -1 : 1;
        if (found < 0)
            bt_show_fail(e, "out of memory");
    } else if (rc != SQLITE_DONE) {
        bt_show_fail(e, "cannot read the database: %s", sqlite3_errmsg(l->db));
        found = -1;
    }
    sqlite3_reset(k->st);
    return found;
}

static ProtobufCMessage *decode_slot(kind *k, const slot *s, const char *label, bt_show_err *e)
{
    bt_show_err inner;
    ProtobufCMessage *m = bt_show_decode(k->desc, s->blob, s->blob_len, &inner);
    if (!m)
        bt_show_fail(e, "%s %s: bad blob: %s", k->what, label, inner.msg);
    return m;
}

/* missing == NULL: a row that is not there is an error; else *missing says so. */
static ProtobufCMessage *lookup(bt_show_lookup *l, int which, const char *key, size_t key_len,
                                const char *const binds[2], const char *label, bool *missing,
                                bt_show_err *e)
{
    kind *k = &l->kinds[which];
    slot *s = slot_for(k, key, key_len);
    if (!slot_holds(s, key, key_len)) {
        int found = fetch(l, k, s, key, key_len, binds, e);
        if (found < 0)
            return NULL;
        if (found == 0 && missing) {
            *missing = true;
            return NULL;
        }
        if (found == 0) {
            bt_show_fail(e, "%s %s not found in sync %s", k->what, label, l->sync_id);
            return NULL;
        }
    }
    return decode_slot(k, s, label, e);
}

/* ---- public -------------------------------------------------------------- */

C1__Connector__V2__ResourceType *bt_show_lookup_resource_type(bt_show_lookup *l,
                                                              const char *type_id, bt_show_err *e)
{
    const char *binds[2] = {type_id, NULL};
    return (C1__Connector__V2__ResourceType *)lookup(l, KIND_RESOURCE_TYPE, type_id,
                                                     strlen(type_id), binds, type_id, NULL, e);
}

/* "<type><sep><id>", malloc'd; *len excludes the terminating NUL. */
static char *join(const char *type, char sep, const char *id, size_t *len)
{
    size_t tlen = strlen(type), ilen = strlen(id);
    char *s = malloc(tlen + ilen + 2);
    if (s) {
        memcpy(s, type, tlen);
        s[tlen] = sep;
        memcpy(s + tlen + 1, id, ilen + 1);
        *len = tlen + 1 + ilen;
    }
    return s;
}

/* Cached under "<type>\0<id>" (unambiguous); queried by the composite
 * external id "<type>:<id>" plus the type column, like the SDK. */
C1__Connector__V2__Resource *
bt_show_lookup_resource(bt_show_lookup *l, const C1__Connector__V2__ResourceId *id, bt_show_err *e)
{
    return bt_show_lookup_resource_if_any(l, id, NULL, e);
}

C1__Connector__V2__Resource *bt_show_lookup_resource_if_any(bt_show_lookup *l,
                                                            const C1__Connector__V2__ResourceId *id,
                                                            bool *missing, bt_show_err *e)
{
    const char *type = id && id->resource_type ? id->resource_type : "";
    const char *rid = id && id->resource ? id->resource : "";
    size_t key_len = 0, external_len = 0;
    char *key = join(type, '\0', rid, &key_len);
    char *external = join(type, ':', rid, &external_len);
    ProtobufCMessage *m = NULL;
    if (key && external) {
        const char *binds[2] = {external, type};
        m = lookup(l, KIND_RESOURCE, key, key_len, binds, external, missing, e);
    } else {
        bt_show_fail(e, "out of memory");
    }
    free(key);
    free(external);
    return (C1__Connector__V2__Resource *)m;
}

C1__Connector__V2__Entitlement *
bt_show_lookup_entitlement(bt_show_lookup *l, const char *entitlement_id, bt_show_err *e)
{
    const char *binds[2] = {entitlement_id, NULL};
    return (C1__Connector__V2__Entitlement *)lookup(
        l, KIND_ENTITLEMENT, entitlement_id, strlen(entitlement_id), binds, entitlement_id, NULL,
        e);
}
