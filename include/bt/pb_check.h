/* Protobuf wire data from outside (a c1z blob, a ConductorOne answer) checked
 * before protobuf-c unpacks it (src/util/pb_check.c). protobuf-c recurses once
 * per nested message without a limit, so a deeply nested google.protobuf.Struct
 * or Value would overflow the stack; the check walks the bytes once, guided by
 * the descriptor, and refuses malformed wire data, nesting deeper than
 * BT_PB_MAX_DEPTH and invalid UTF-8 in string fields (Go's runtime refuses the
 * last too). Unknown fields are skipped. */
#ifndef BT_PB_CHECK_H
#define BT_PB_CHECK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#define BT_PB_MAX_DEPTH 200

/* The checked, unpacked message (free with protobuf_c_message_free_unpacked),
 * or NULL with err filled. data may be NULL when n is 0. */
ProtobufCMessage *bt_pb_decode(const ProtobufCMessageDescriptor *d, const void *data, size_t n,
                               char *err, size_t errsz);
/* The same walk, refusing also a NUL byte in any string field at any depth
 * (protobuf-c's char * would cut the string there, so the message would name
 * another object): 0 when there is none, else -1 with err naming the first
 * such field by its dotted path from d ("task.id"). A malformed message is
 * refused as bt_pb_decode refuses it. */
int bt_pb_check_no_nul(const ProtobufCMessageDescriptor *d, const void *data, size_t n,
                       char *err, size_t errsz);
/* The bytes of the last length-delimited field number `field` at the top
 * level of the message p..p+n (a string as sent, NUL bytes included, which
 * protobuf-c's char * cannot carry); false when absent or malformed. */
bool bt_pb_field_bytes(const uint8_t *p, size_t n, uint32_t field, const uint8_t **out,
                       size_t *len);

#endif
