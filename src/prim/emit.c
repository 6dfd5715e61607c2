/* bt.emit: the sync phase's output. Each binding validates its table, builds the c1.connector.v2
 * message and hands it to the bound sink; a sink failure raises (the sync must stop). */
#include "emit_internal.h"

#include "bt/log.h"
#include "bt/prim.h"
#include "bt/sink.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char k_sink = 0;  /* registry[&k_sink] = light userdata bt_sink* */
static const char k_state = 0; /* registry[&k_state] = emit_state userdata */

/* Messages are built in a per-state arena that is reset at the start of
 * every call, so an error raised half-way leaks nothing. */
typedef struct {
    bt_arena arena;
} emit_state;

/* ------------------------------------------------------------------------
 * Errors and allocation */

/* [-0, +0, v] Raise "<fn>: <message>" at the caller's file:line. */
int bt_emit_fail(ctx *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    luaL_error(c->L, "%s: %s", c->fn, msg);
    abort(); /* not reached: luaL_error longjmps (its prototype lacks noreturn) */
}

/* A field path such as "user.emails[2].address" (truncated when huge). */
void bt_emit_pathf(char out[PATH_LEN], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, PATH_LEN, fmt, ap);
    va_end(ap);
}

void *bt_emit_alloc(ctx *c, size_t n)
{
    void *p = bt_arena_alloc(c->a, n);
    if (!p)
        bt_emit_fail(c, "out of memory");
    return p;
}

void *bt_emit_check_mem(ctx *c, void *p)
{
    if (!p)
        bt_emit_fail(c, "out of memory");
    return p;
}

/* ------------------------------------------------------------------------
 * Context */

static void table_arg(ctx *c)
{
    if (lua_gettop(c->L) != 1 || !lua_istable(c->L, 1))
        bt_emit_fail(c, "expects one table argument, got %s", luaL_typename(c->L, 1));
}

/* [-0, +0, v] Start an emit.* call: bound sink, one table argument that
 * passes spec (bt_emit_check_table). */
void bt_emit_begin(lua_State *L, ctx *c, const char *fn, const field *spec)
{
    c->L = L;
    c->fn = fn;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &k_sink);
    c->sink = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!c->sink)
        luaL_error(L, "bt.emit: not in the sync phase");
    lua_rawgetp(L, LUA_REGISTRYINDEX, &k_state);
    emit_state *st = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!st)
        luaL_error(L, "bt.emit: module state missing (require \"bt.emit\" first)");
    c->a = &st->arena;
    bt_arena_reset(c->a);
    table_arg(c);
    bt_emit_check_table(c, 1, "", spec);
}

/* Report a sink result: a duplicate is fine, an error raises. */
void bt_emit_sink_result(ctx *c, int rc, const char *err)
{
    if (rc == BT_SINK_ERROR)
        bt_emit_fail(c, "%s", err);
}

void bt_emit_annotate(ctx *c, annotations *an, const ProtobufCMessage *m)
{
    if (an->n == MAX_ANNOTATIONS)
        bt_emit_fail(c, "too many annotations");
    an->v[an->n++] = bt_emit_check_mem(c, bt_pb_any_new(c->a, m));
}

/* Copy the collected annotations into a message's repeated field. */
Google__Protobuf__Any **bt_emit_annotations_array(ctx *c, const annotations *an)
{
    Google__Protobuf__Any **v = bt_emit_alloc(c, (an->n + 1) * sizeof *v);
    memcpy(v, an->v, an->n * sizeof *v);
    return v;
}

/* ------------------------------------------------------------------------
 * emit.resource_type{...} */

static int l_resource_type(lua_State *L)
{
    ctx c;
    bt_emit_begin(L, &c, "bt.emit.resource_type", bt_emit_resource_type_fields);
    bt_pb_resource_type *rt =
        NEW(&c, bt_pb_resource_type, c1__connector__v2__resource_type__init);
    rt->id = bt_emit_get_text(&c, 1, "id");
    rt->display_name = bt_emit_get_text(&c, 1, "display_name");
    char *desc = bt_emit_get_text(&c, 1, "description");
    if (desc)
        rt->description = desc;
    size_t n;
    char **traits = bt_emit_get_strlist(&c, 1, "traits", &n);
    rt->traits = bt_emit_alloc(&c, (n + 1) * sizeof *rt->traits);
    for (size_t i = 0; i < n; i++)
        rt->traits[i] = (C1__Connector__V2__ResourceType__Trait)(
            bt_emit_enum_index(bt_emit_traits, traits[i]) + 1);
    rt->n_traits = n;
    annotations an = {{0}, 0};
    if (bt_emit_get_bool(&c, 1, "skip_entitlements_and_grants")) {
        C1__Connector__V2__SkipEntitlementsAndGrants skip =
            C1__CONNECTOR__V2__SKIP_ENTITLEMENTS_AND_GRANTS__INIT;
        bt_emit_annotate(&c, &an, &skip.base);
    }
    rt->annotations = bt_emit_annotations_array(&c, &an);
    rt->n_annotations = an.n;
    char err[1024];
    bt_emit_sink_result(&c, bt_sink_add_resource_type(c.sink, rt, err, sizeof err), err);
    return 0;
}

/* ------------------------------------------------------------------------
 * emit.resource{...} */

static int l_resource(lua_State *L)
{
    ctx c;
    bt_emit_begin(L, &c, "bt.emit.resource", bt_emit_resource_fields);
    bt_pb_resource *r = NEW(&c, bt_pb_resource, c1__connector__v2__resource__init);
    r->id = bt_emit_make_id(&c, bt_emit_get_text(&c, 1, "type"), bt_emit_get_text(&c, 1, "id"));
    r->parent_resource_id = bt_emit_get_ref(&c, 1, "parent");
    r->display_name = bt_emit_get_text(&c, 1, "display_name");
    char *desc = bt_emit_get_text(&c, 1, "description");
    if (desc)
        r->description = desc;
    mirror m = {0};
    bt_emit_resource_annotations(&c, r, &m);
    bt_emit_resource_state(&c, r, &m);
    char err[1024];
    bt_emit_sink_result(&c, bt_sink_add_resource(c.sink, r, err, sizeof err), err);
    return 0;
}

/* ------------------------------------------------------------------------
 * emit.entitlement{...} */

static bt_pb_resource_type **grantable_to(ctx *c, size_t *n)
{
    char **ids = bt_emit_get_strlist(c, 1, "grantable_to", n);
    bt_pb_resource_type **v = bt_emit_alloc(c, (*n + 1) * sizeof *v);
    for (size_t i = 0; i < *n; i++) {
        v[i] = NEW(c, bt_pb_resource_type, c1__connector__v2__resource_type__init);
        v[i]->id = ids[i];
    }
    return v;
}

static int l_entitlement(lua_State *L)
{
    ctx c;
    bt_emit_begin(L, &c, "bt.emit.entitlement", bt_emit_entitlement_fields);
    bt_pb_resource_id *rid = bt_emit_get_ref(&c, 1, "resource");
    char *slug = bt_emit_get_text(&c, 1, "slug");
    bt_pb_entitlement *e = NEW(&c, bt_pb_entitlement, c1__connector__v2__entitlement__init);
    e->resource = bt_emit_stub_resource(&c, rid);
    e->id = bt_emit_check_mem(&c, bt_id_entitlement(c.a, rid->resource_type, rid->resource, slug));
    char *name = bt_emit_get_text(&c, 1, "display_name"),
         *desc = bt_emit_get_text(&c, 1, "description");
    e->display_name = name ? name : slug;
    if (desc)
        e->description = desc;
    e->grantable_to = grantable_to(&c, &e->n_grantable_to);
    annotations an = {{0}, 0};
    if (bt_emit_get_bool(&c, 1, "immutable")) {
        C1__Connector__V2__EntitlementImmutable im = C1__CONNECTOR__V2__ENTITLEMENT_IMMUTABLE__INIT;
        bt_emit_annotate(&c, &an, &im.base);
    }
    e->annotations = bt_emit_annotations_array(&c, &an);
    e->n_annotations = an.n;
    e->purpose = (C1__Connector__V2__Entitlement__PurposeValue)bt_emit_get_enum(
        &c, 1, "purpose", bt_emit_purposes, 1);
    e->slug = slug;
    char err[1024];
    bt_emit_sink_result(&c, bt_sink_add_entitlement(c.sink, e, err, sizeof err), err);
    lua_pushstring(L, e->id);
    return 1;
}

/* ------------------------------------------------------------------------
 * emit.grant{...} */

static void grant_expandable(ctx *c, annotations *an)
{
    if (bt_emit_push_table(c, 1, "expandable")) {
        int x = lua_gettop(c->L);
        C1__Connector__V2__GrantExpandable ge = C1__CONNECTOR__V2__GRANT_EXPANDABLE__INIT;
        ge.entitlement_ids = bt_emit_get_strlist(c, x, "entitlement_ids", &ge.n_entitlement_ids);
        if (bt_emit_drop_empty(ge.entitlement_ids, ge.n_entitlement_ids) != ge.n_entitlement_ids ||
            ge.n_entitlement_ids == 0)
            bt_emit_fail(
                c, "field 'expandable.entitlement_ids' must list at least one entitlement id, "
                   "none empty");
        ge.shallow = bt_emit_get_bool(c, x, "shallow");
        ge.resource_type_ids =
            bt_emit_get_strlist(c, x, "resource_type_ids", &ge.n_resource_type_ids);
        bt_emit_annotate(c, an, &ge.base);
    }
    lua_pop(c->L, 1);
}

static int l_grant(lua_State *L)
{
    ctx c;
    bt_emit_begin(L, &c, "bt.emit.grant", bt_emit_grant_fields);
    bt_pb_resource_id *rid = bt_emit_get_ref(&c, 1, "resource"),
                      *pid = bt_emit_get_ref(&c, 1, "principal");
    char *slug = bt_emit_get_text(&c, 1, "slug");
    bt_pb_entitlement *ent = NEW(&c, bt_pb_entitlement, c1__connector__v2__entitlement__init);
    ent->resource = bt_emit_stub_resource(&c, rid);
    ent->id =
        bt_emit_check_mem(&c, bt_id_entitlement(c.a, rid->resource_type, rid->resource, slug));
    bt_pb_grant *g = NEW(&c, bt_pb_grant, c1__connector__v2__grant__init);
    g->entitlement = ent;
    g->principal = bt_emit_stub_resource(&c, pid);
    g->id = bt_emit_check_mem(&c, bt_id_grant(c.a, ent->id, pid->resource_type, pid->resource));
    annotations an = {{0}, 0};
    grant_expandable(&c, &an);
    if (bt_emit_get_bool(&c, 1, "immutable")) {
        C1__Connector__V2__GrantImmutable im = C1__CONNECTOR__V2__GRANT_IMMUTABLE__INIT;
        bt_emit_annotate(&c, &an, &im.base);
    }
    g->annotations = bt_emit_annotations_array(&c, &an);
    g->n_annotations = an.n;
    char err[1024];
    bt_emit_sink_result(&c, bt_sink_add_grant(c.sink, g, err, sizeof err), err);
    lua_pushstring(L, g->id);
    return 1;
}

/* ------------------------------------------------------------------------
 * emit.counts() */

static void set_count(lua_State *L, const char *name, uint64_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, name);
}

/* [-0, +0, v] The bound sink, or raise. */
static bt_sink *bound_sink(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &k_sink);
    bt_sink *s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!s)
        luaL_error(L, "bt.emit: not in the sync phase");
    return s;
}

static int l_counts(lua_State *L)
{
    bt_sink *s = bound_sink(L);
    char err[512];
    if (bt_sink_settle(s, err, sizeof err) != 0) /* exact counts: repeated grants sorted out */
        return luaL_error(L, "bt.emit.counts: %s", err);
    bt_sink_counts n;
    bt_sink_get_counts(s, &n);
    lua_createtable(L, 0, 6);
    set_count(L, "resource_types", n.resource_types);
    set_count(L, "resources", n.resources);
    set_count(L, "entitlements", n.entitlements);
    set_count(L, "grants", n.grants);
    set_count(L, "duplicates", n.duplicates);
    lua_createtable(L, 0, (int)n.n_skipped);
    for (size_t i = 0; i < n.n_skipped; i++)
        set_count(L, n.skipped[i].cause, n.skipped[i].n);
    lua_setfield(L, -2, "skipped");
    lua_createtable(L, 0, (int)n.n_filtered);
    for (size_t i = 0; i < n.n_filtered; i++)
        set_count(L, n.filtered[i].cause, n.filtered[i].n);
    lua_setfield(L, -2, "filtered");
    return 1;
}

/* ------------------------------------------------------------------------
 * emit.has_resource(type, id), emit.skip(cause, message), emit.filter(type, id) */

/* [-0, +1, e] emit.<name>(type, id): asks the sink about type:id and pushes
 * whether it answered 1; raises its error. */
static int ask_sink(lua_State *L, const char *name,
                    int (*ask)(bt_sink *, const char *, const char *, char *, size_t))
{
    bt_sink *s = bound_sink(L);
    const char *type = luaL_checkstring(L, 1), *id = luaL_checkstring(L, 2);
    char err[1024];
    int rc = ask(s, type, id, err, sizeof err);
    if (rc < 0)
        return luaL_error(L, "bt.emit.%s: %s", name, err);
    lua_pushboolean(L, rc == 1);
    return 1;
}

static int l_has_resource(lua_State *L)
{
    return ask_sink(L, "has_resource", bt_sink_has_resource);
}

/* emit.filter(type, id): the connector leaves resource type:id out on
 * purpose; true when new (counted under its type), false when recorded
 * before. emit.is_filtered(type, id) says whether it was. */
static int l_filter(lua_State *L)
{
    return ask_sink(L, "filter", bt_sink_filter);
}

static int l_is_filtered(lua_State *L)
{
    bt_sink *s = bound_sink(L);
    const char *type = luaL_checkstring(L, 1), *id = luaL_checkstring(L, 2);
    lua_pushboolean(L, bt_sink_is_filtered(s, type, id));
    return 1;
}

/* Skip lines logged one by one per cause; the rest only counted. */
#define SKIP_LINES 20

static bool cause_ok(const char *c)
{
    size_t n = strlen(c);
    if (n == 0 || n >= BT_SINK_CAUSE_LEN)
        return false;
    for (; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return false;
    return true;
}

static int l_skip(lua_State *L)
{
    bt_sink *s = bound_sink(L);
    const char *cause = luaL_checkstring(L, 1);
    const char *message = luaL_optstring(L, 2, NULL);
    if (!cause_ok(cause))
        return luaL_error(L, "bt.emit.skip: cause must be 1-%d characters of a-z, 0-9 and _",
                          BT_SINK_CAUSE_LEN - 1);
    uint64_t n = bt_sink_skip(s, cause);
    if (n <= SKIP_LINES && message)
        bt_warn("%s (skipped: %s)", message, cause);
    else if (n == SKIP_LINES + 1)
        bt_warn("more skips of cause %s are counted but not logged one by one", cause);
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

/* ------------------------------------------------------------------------
 * Binding and module */

void bt_emit_bind(lua_State *L, bt_sink *s)
{
    if (s)
        lua_pushlightuserdata(L, s);
    else
        lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &k_sink);
}

static int state_gc(lua_State *L)
{
    emit_state *st = lua_touserdata(L, 1);
    bt_arena_free(&st->arena);
    return 0;
}

/* [-0, +0, m] Create the arena userdata once per lua_State. */
static void ensure_state(lua_State *L)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &k_state) != LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    emit_state *st = lua_newuserdatauv(L, sizeof *st, 0);
    bt_arena_init(&st->arena, 16 * 1024);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, state_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &k_state);
}

int luaopen_bt_emit(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"resource_type", l_resource_type},
        {"resource", l_resource},
        {"entitlement", l_entitlement},
        {"grant", l_grant},
        {"grants", bt_emit_l_grants},
        {"counts", l_counts},
        {"has_resource", l_has_resource},
        {"skip", l_skip},
        {"filter", l_filter},
        {"is_filtered", l_is_filtered},
        {NULL, NULL},
    };
    ensure_state(L);
    luaL_newlib(L, funcs);
    return 1;
}
