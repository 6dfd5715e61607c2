/* `show`'s JSON: the codec's escaper and protojson writer (bt/codec.h,
 * bt/protojson.h) to the output stream, with Any payloads decoded and
 * checked like every blob `show` reads, and a nesting budget. */
#include <string.h>

#include "bt/json_write.h"
#include "bt/model.h"
#include "bt/protojson.h"
#include "bt/show.h"

/* Nesting budget across Any values, whose payloads are decoded on the way. */
#define JSON_MAX_DEPTH 300

void bt_show_json_string(FILE *out, const char *s, size_t n) { bt_json_write_string(out, s, n); }

static ProtobufCMessage *unpack_checked(void *ctx, const char *type_url, const uint8_t *data,
                                        size_t len)
{
    (void)ctx;
    const ProtobufCMessageDescriptor *d = bt_show_type_for_url(type_url);
    bt_show_err ignored;
    return d ? bt_show_decode(d, data, len, &ignored) : NULL;
}

int bt_show_json_message(FILE *out, const ProtobufCMessage *m, bt_show_err *e)
{
    static const bt_protojson_opts opts = {.unpack_any = unpack_checked,
                                           .max_depth = JSON_MAX_DEPTH};
    bt_buf b = {0};
    int rc = bt_protojson_write(&b, m, &opts);
    if (rc == 0)
        fwrite(b.data, 1, b.len, out);
    bt_buf_free(&b);
    if (rc == BT_PROTOJSON_TOO_DEEP)
        return bt_show_fail(e, "messages nested deeper than %d levels", JSON_MAX_DEPTH), -1;
    if (rc != 0)
        return bt_show_fail(e, "out of memory"), -1;
    return 0;
}
