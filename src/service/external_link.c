/* The Hello's ExternalLink annotation, as the Go connector sends it: the URL
 * comes from the script's optional `external_link()` (the runtime knows no
 * tenant URLs); only an https URL is sent. Read once in the daemon. */
#include "service/svc.h"
#include "bt/log.h"
#include "bt/prim.h"
#include "c1/connector/v2/annotation_external_link.pb-c.h"

#include <string.h>

#define LINK_TYPE_URL "type.googleapis.com/c1.connector.v2.ExternalLink"
#define LINK_MAX 2048

/* The URL external_link() returns, copied into the arena; NULL for none. */
static char *script_link(bt_host *h, const bt_contract *c, bt_arena *a)
{
    lua_State *L = bt_host_lua(h);
    int top = lua_gettop(L);
    char *url = NULL;
    bt_host_error err;
    bt_contract_push_function(h, c, "external_link");
    if (!lua_isfunction(L, -1)) {
        lua_settop(L, top);
        return NULL;
    }
    bt_config_set_readable(true);
    int rc = bt_host_call(h, 0, 1, &err);
    bt_config_set_readable(false);
    if (rc != 0)
        bt_warn("service: the Hello goes without a link: external_link failed: %s", err.message);
    else if (lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) < LINK_MAX &&
             strncmp(lua_tostring(L, -1), "https://", 8) == 0)
        url = bt_arena_strdup(a, lua_tostring(L, -1));
    else if (!lua_isnil(L, -1))
        bt_warn("service: external_link returned no https URL; the Hello goes without a link");
    lua_settop(L, top);
    return url;
}

int bt_svc_external_link(bt_host *h, const bt_contract *c, bt_arena *a,
                         C1__Connector__V2__ConnectorMetadata *m)
{
    char *url = script_link(h, c, a);
    if (!url)
        return 0;
    C1__Connector__V2__ExternalLink link = C1__CONNECTOR__V2__EXTERNAL_LINK__INIT;
    link.url = url;
    size_t n = protobuf_c_message_get_packed_size(&link.base);
    Google__Protobuf__Any *any = bt_arena_alloc(a, sizeof *any);
    Google__Protobuf__Any **list = bt_arena_alloc(a, sizeof *list);
    uint8_t *bytes = bt_arena_alloc(a, n ? n : 1);
    if (!any || !list || !bytes)
        return -1;
    google__protobuf__any__init(any);
    any->type_url = bt_arena_strdup(a, LINK_TYPE_URL);
    any->value.len = protobuf_c_message_pack(&link.base, bytes);
    any->value.data = bytes;
    list[0] = any;
    m->annotations = list;
    m->n_annotations = 1;
    return 0;
}
