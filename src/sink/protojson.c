/* The sinks' protojson (bt/model.h): the codec's writer (bt/protojson.h) with
 * Any payloads looked up among the messages this build knows. */
#include "bt/model.h"
#include "bt/protojson.h"

static ProtobufCMessage *unpack_known(void *ctx, const char *type_url, const uint8_t *data,
                                      size_t len)
{
    (void)ctx;
    const ProtobufCMessageDescriptor *d = bt_pb_find_type(type_url);
    return d ? protobuf_c_message_unpack(d, NULL, len, data) : NULL;
}

static const bt_protojson_opts sink_opts = {.unpack_any = unpack_known};

int bt_protojson_append(bt_buf *b, const ProtobufCMessage *m)
{
    return bt_protojson_write(b, m, &sink_opts) == 0 ? 0 : -1;
}

int bt_protojson_append_members(bt_buf *b, const ProtobufCMessage *m, bool *first)
{
    return bt_protojson_write_members(b, m, first, &sink_opts) == 0 ? 0 : -1;
}
