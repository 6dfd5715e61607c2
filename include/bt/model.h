/* The baton data model as protobuf-c messages (vendor/baton/proto, generated
 * into build/gen), plus the helpers shared by whoever builds, encodes,
 * decodes or prints them: bt.emit, the sinks and the `show` reader.
 * Nothing here knows Lua, SQLite or Twingate.
 *
 *   arena.c      bt_arena: bump allocator for building messages
 *   encode.c     packing, Any, deterministic Struct, ids
 *   protojson.c  message -> protojson text (the codec's writer, Any payloads known here)
 *   ksuid.c      KSUIDs and the sync-file time layout */
#ifndef BT_MODEL_H
#define BT_MODEL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bt/codec.h"

#include "c1/connector/v2/annotation_entitlement.pb-c.h"
#include "c1/connector/v2/annotation_external_link.pb-c.h"
#include "c1/connector/v2/annotation_grant.pb-c.h"
#include "c1/connector/v2/annotation_resource_tree.pb-c.h"
#include "c1/connector/v2/annotation_trait.pb-c.h"
#include "c1/connector/v2/annotation_v1_identifier.pb-c.h"
#include "c1/connector/v2/connector.pb-c.h"
#include "c1/connector/v2/entitlement.pb-c.h"
#include "c1/connector/v2/grant.pb-c.h"
#include "c1/connector/v2/resource.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/struct.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"

/* Short names for the messages everybody handles. */
typedef C1__Connector__V2__ResourceType bt_pb_resource_type;
typedef C1__Connector__V2__ResourceId bt_pb_resource_id;
typedef C1__Connector__V2__Resource bt_pb_resource;
typedef C1__Connector__V2__Entitlement bt_pb_entitlement;
typedef C1__Connector__V2__Grant bt_pb_grant;
typedef Google__Protobuf__Any bt_pb_any;
typedef Google__Protobuf__Struct bt_pb_struct;
typedef Google__Protobuf__Value bt_pb_value;

/* "type.googleapis.com/" */
#define BT_TYPE_URL_PREFIX "type.googleapis.com/"

/* ------------------------------------------------------------------------
 * Arena (arena.c): many small allocations, freed together. Memory is zeroed
 * and aligned for any type. bt_arena_reset keeps one block for reuse. */

typedef struct bt_arena_block bt_arena_block;
typedef struct {
    bt_arena_block *head;
    size_t block_size; /* default size of a new block; 0 = 16 KiB */
} bt_arena;

void bt_arena_init(bt_arena *a, size_t block_size);
/* Zeroed memory, NULL when out of memory. */
void *bt_arena_alloc(bt_arena *a, size_t n);
/* Copy of s[0..n) plus a NUL, NULL when out of memory. */
char *bt_arena_strndup(bt_arena *a, const char *s, size_t n);
char *bt_arena_strdup(bt_arena *a, const char *s);
/* Concatenate NULL-terminated list of strings, joined by sep. */
char *bt_arena_join(bt_arena *a, const char *sep, ...) __attribute__((sentinel));
void bt_arena_reset(bt_arena *a);
void bt_arena_free(bt_arena *a);

/* ------------------------------------------------------------------------
 * The byte buffer is the codec's (bt/buf.h); bt_bytes* are its old names,
 * kept while other branches still use them. New code says bt_buf. */

typedef bt_buf bt_bytes;
#define bt_bytes_reserve bt_buf_reserve
#define bt_bytes_append bt_buf_append
#define bt_bytes_puts bt_buf_puts
#define bt_bytes_putc bt_buf_putc
#define bt_bytes_printf bt_buf_printf
#define bt_bytes_clear bt_buf_clear
#define bt_bytes_free bt_buf_free

/* ------------------------------------------------------------------------
 * Encoding (encode.c) */

/* Replace b's content with the protobuf encoding of m. -1 when out of memory.
 * protobuf-c writes fields in field-number order and skips proto3 defaults,
 * which is Go's deterministic encoding once map entries are sorted (Struct
 * fields: bt_pb_struct_sort; Struct is the only map this project fills). */
int bt_pb_pack(const ProtobufCMessage *m, bt_buf *b);

/* Append to b Grant fields 2 and 3 of a grant whose principal is a Resource
 * holding only its id {ptype, pid}: the bytes bt_pb_pack writes for them
 * (strings left out when empty), without a walk of descriptors (the c1z sink
 * writes one per membership). Out of memory shows in b->oom. */
void bt_pb_append_grant_principal_and_id(bt_buf *b, const char *ptype, const char *pid,
                                         const char *grant_id);

/* An Any holding m: type_url "type.googleapis.com/<full name>", value = the
 * encoding of m. Allocated in a. NULL when out of memory. */
bt_pb_any *bt_pb_any_new(bt_arena *a, const ProtobufCMessage *m);
/* The descriptor an Any's type_url names (the text after the last '/'), among
 * the messages of vendor/baton/proto; NULL when unknown. */
const ProtobufCMessageDescriptor *bt_pb_find_type(const char *type_url);
/* True when any's type_url names the message `desc`. */
bool bt_pb_any_is(const bt_pb_any *any, const ProtobufCMessageDescriptor *desc);

/* Sort s's entries by key (bytewise, like Go's deterministic marshal),
 * recursively through nested structs and lists. */
void bt_pb_struct_sort(bt_pb_struct *s);

/* Baton ids (shared/c1z-format.md 5.1). Allocated in a; NULL when out of memory. */
char *bt_id_resource(bt_arena *a, const char *type, const char *id);     /* type:id */
char *bt_id_entitlement(bt_arena *a, const char *type, const char *id, const char *slug);
char *bt_id_grant(bt_arena *a, const char *entitlement_id, const char *ptype, const char *pid);

/* ISO-8601 times and UTF-8 checks: bt/codec.h. */

/* ------------------------------------------------------------------------
 * protojson (protojson.c): the codec's writer (bt/protojson.h), with Any
 * payloads of the types bt_pb_find_type knows decoded. */

/* Append m as JSON. -1 when out of memory. */
int bt_protojson_append(bt_buf *b, const ProtobufCMessage *m);
/* Append m's members without the braces (bt_protojson_write_members). */
int bt_protojson_append_members(bt_buf *b, const ProtobufCMessage *m, bool *first);

/* ------------------------------------------------------------------------
 * KSUIDs and times (ksuid.c) */

#define BT_KSUID_LEN 27
#define BT_KSUID_EPOCH 1400000000LL
/* Base62 (0-9A-Za-z) of the 20 raw bytes, left-padded with '0'; out gets 28 bytes. */
void bt_ksuid_encode(const uint8_t raw[20], char out[BT_KSUID_LEN + 1]);
/* A new KSUID for `unix_seconds` with 16 random bytes (getrandom). -1 when no
 * randomness is available. */
int bt_ksuid_new(int64_t unix_seconds, char out[BT_KSUID_LEN + 1]);
/* True when s is 27 base62 characters not above the largest KSUID. */
bool bt_ksuid_is_valid(const char *s);

/* The sync file's fixed-width time layout, local wall clock like the SDK:
 * "YYYY-MM-DD HH:MM:SS.fffffffff" (29 characters; out gets 30 bytes). */
#define BT_SYNC_TIME_LEN 29
void bt_sync_time_format(int64_t unix_seconds, long nanos, char out[BT_SYNC_TIME_LEN + 1]);
/* The same for the current time (CLOCK_REALTIME); returns the Unix seconds. */
int64_t bt_sync_time_now(char out[BT_SYNC_TIME_LEN + 1]);

#endif
