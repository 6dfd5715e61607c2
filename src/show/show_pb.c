/* Decoding the c1.connector.v2 blobs of a c1z with protobuf-c, after the
 * shared descriptor-guided check of the wire data (bt/pb_check.h: depth,
 * bounds, UTF-8). */
#include <string.h>

#include "bt/model.h"
#include "bt/pb_check.h"
#include "bt/show.h"
#include "c1/connector/v2/annotation_entitlement.pb-c.h"
#include "c1/connector/v2/annotation_external_link.pb-c.h"
#include "c1/connector/v2/annotation_grant.pb-c.h"
#include "c1/connector/v2/annotation_resource_tree.pb-c.h"
#include "c1/connector/v2/annotation_trait.pb-c.h"
#include "c1/connector/v2/annotation_v1_identifier.pb-c.h"
#include "c1/connector/v2/asset.pb-c.h"
#include "c1/connector/v2/connector.pb-c.h"
#include "c1/connector/v2/entitlement.pb-c.h"
#include "c1/connector/v2/grant.pb-c.h"
#include "c1/connector/v2/resource.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/struct.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"

ProtobufCMessage *bt_show_decode(const ProtobufCMessageDescriptor *d, const void *data, size_t n,
                                 bt_show_err *e)
{
    return bt_pb_decode(d, data, n, e->msg, sizeof e->msg);
}

void bt_show_msg_free(ProtobufCMessage *m)
{
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
}

/* The sink's registry of known Any payloads serves the reader too. */
const ProtobufCMessageDescriptor *bt_show_type_for_url(const char *type_url)
{
    return bt_pb_find_type(type_url);
}
