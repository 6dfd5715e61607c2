/* Private to src/prim/emit*.c: the call context, the field specs and the helpers the
 * bt.emit files share. Helpers taking a ctx raise "<fn>: <message>" through bt_emit_fail. */
#ifndef BT_PRIM_EMIT_INTERNAL_H
#define BT_PRIM_EMIT_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>

#include "bt/lua.h"
#include "bt/model.h"
#include "bt/sink.h"

#define MAX_ANNOTATIONS 8
#define PATH_LEN 256

typedef struct {
    lua_State *L;
    const char *fn; /* "bt.emit.resource" */
    bt_arena *a;
    bt_sink *sink;
} ctx;

typedef struct {
    bt_pb_any *v[MAX_ANNOTATIONS];
    size_t n;
} annotations;

/* Traits' contributions the resource mirrors when it does not set its own. */
typedef struct {
    bt_pb_struct *profile;
    C1__Connector__V2__Status *status;
    Google__Protobuf__Timestamp *created_at;
} mirror;

/* ------------------------------------------------------------------------
 * emit.c: errors, allocation, annotations */

int bt_emit_fail(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
struct field; /* the table specs, below */
void bt_emit_begin(lua_State *L, ctx *c, const char *fn, const struct field *spec);
void bt_emit_sink_result(ctx *c, int rc, const char *err);
void bt_emit_pathf(char out[PATH_LEN], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void *bt_emit_alloc(ctx *c, size_t n);
void *bt_emit_check_mem(ctx *c, void *p);
void bt_emit_annotate(ctx *c, annotations *an, const ProtobufCMessage *m);
Google__Protobuf__Any **bt_emit_annotations_array(ctx *c, const annotations *an);

#define NEW(c, T, init)                                                                            \
    ({                                                                                             \
        T *_p = bt_emit_alloc((c), sizeof(T));                                                     \
        init(_p);                                                                                  \
        _p;                                                                                        \
    })

/* ------------------------------------------------------------------------
 * emit_check.c: field specifications and validation */

typedef enum {
    K_STR,      /* string */
    K_ID,       /* non-empty string, or an integer (formatted in base 10) */
    K_BOOL,     /* boolean */
    K_STRLIST,  /* array of strings */
    K_ENUM,     /* one of f->enums */
    K_ENUMLIST, /* array of f->enums */
    K_TABLE,    /* table checked against f->sub */
    K_LIST,     /* array of tables checked against f->sub */
    K_PROFILE,  /* any JSON-like table: becomes a google.protobuf.Struct */
    K_TIME,     /* ISO-8601 string or Unix seconds */
} kind;

typedef struct field {
    const char *name;
    kind k;
    bool required;
    const struct field *sub;
    const char *const *enums; /* value i+1 on the wire */
} field;

/* Enum names, NULL-terminated: name i is wire value i + 1. */
extern const char *const bt_emit_traits[];
extern const char *const bt_emit_statuses[];
extern const char *const bt_emit_account_types[];
extern const char *const bt_emit_purposes[];

/* The argument tables of emit.resource_type/resource/entitlement/grant. */
extern const field bt_emit_resource_type_fields[];
extern const field bt_emit_resource_fields[];
extern const field bt_emit_entitlement_fields[];
extern const field bt_emit_grant_fields[];

int bt_emit_rawfield(lua_State *L, int t, const char *name);
int bt_emit_enum_index(const char *const *names, const char *s);
void bt_emit_check_text(ctx *c, int idx, const char *path);
void bt_emit_check_table(ctx *c, int t, const char *prefix, const field *spec);

/* ------------------------------------------------------------------------
 * emit_read.c: readers (run after validation, so types are known) */

char *bt_emit_get_text(ctx *c, int t, const char *name);
char *bt_emit_get_text_or(ctx *c, int t, const char *name, char *dflt);
bool bt_emit_get_bool(ctx *c, int t, const char *name);
int bt_emit_get_enum(ctx *c, int t, const char *name, const char *const *names, int dflt);
bool bt_emit_push_table(ctx *c, int t, const char *name);
char **bt_emit_get_strlist(ctx *c, int t, const char *name, size_t *n);
Google__Protobuf__Timestamp *bt_emit_get_time(ctx *c, int t, const char *name);
bt_pb_resource_id *bt_emit_make_id(ctx *c, char *type, char *id);
bt_pb_resource_id *bt_emit_get_ref(ctx *c, int t, const char *name);
bt_pb_resource *bt_emit_stub_resource(ctx *c, bt_pb_resource_id *rid);
bt_pb_struct *bt_emit_get_profile(ctx *c, int t, const char *name, const char *path);

/* ------------------------------------------------------------------------
 * emit_grants.c: emit.grants{...} */

int bt_emit_l_grants(lua_State *L);

/* ------------------------------------------------------------------------
 * emit_traits.c: trait builders and what a resource mirrors from them */

size_t bt_emit_drop_empty(char **v, size_t n);
void bt_emit_resource_annotations(ctx *c, bt_pb_resource *r, mirror *m);
void bt_emit_resource_state(ctx *c, bt_pb_resource *r, const mirror *m);

#endif
