/* What the inspection commands read out of decoded messages: annotations by
 * message type, a resource type's traits, a resource's status and login. */
#include <string.h>

#include "bt/show.h"

#include "c1/connector/v2/annotation_trait.pb-c.h"

typedef C1__Connector__V2__UserTrait UserTrait;

ProtobufCMessage *bt_show_annotation(size_t n, Google__Protobuf__Any **anns,
                                     const ProtobufCMessageDescriptor *d)
{
    for (size_t i = 0; i < n; i++) {
        if (!anns[i] || !anns[i]->type_url || bt_show_type_for_url(anns[i]->type_url) != d)
            continue;
        bt_show_err ignored;
        return bt_show_decode(d, anns[i]->value.data, anns[i]->value.len, &ignored);
    }
    return NULL;
}

bool bt_show_type_has_trait(const C1__Connector__V2__ResourceType *rt, int trait)
{
    for (size_t i = 0; rt && i < rt->n_traits; i++)
        if ((int)rt->traits[i] == trait)
            return true;
    return false;
}

static UserTrait *user_trait(const C1__Connector__V2__Resource *r)
{
    return (UserTrait *)bt_show_annotation(r->n_annotations, r->annotations,
                                           &c1__connector__v2__user_trait__descriptor);
}

/* "enabled", "disabled", "deleted" or "" (unknown): the resource's status,
 * else its user trait's. */
const char *bt_show_resource_status(const C1__Connector__V2__Resource *r)
{
    static const char *const NAMES[] = {"", "enabled", "disabled", "deleted"};
    int v = r->status ? (int)r->status->status : 0;
    if (v == 0) {
        UserTrait *u = user_trait(r);
        v = u && u->status ? (int)u->status->status : 0;
        bt_show_msg_free((ProtobufCMessage *)u);
    }
    return v > 0 && v < 4 ? NAMES[v] : "";
}

/* The user trait's login, else its primary (or first) email; "" if none. */
char *bt_show_resource_login(const C1__Connector__V2__Resource *r)
{
    UserTrait *u = user_trait(r);
    const char *s = "";
    if (u && u->login && *u->login)
        s = u->login;
    else if (u && u->n_emails) {
        s = u->emails[0]->address;
        for (size_t i = 0; i < u->n_emails; i++)
            if (u->emails[i]->is_primary)
                s = u->emails[i]->address;
    }
    char *copy = strdup(s ? s : "");
    bt_show_msg_free((ProtobufCMessage *)u);
    return copy;
}

void bt_show_split_id(const char *s, const char **type, size_t *type_len, const char **id,
                      size_t *id_len)
{
    const char *colon = s ? strchr(s, ':') : NULL;
    *type = *id = NULL;
    *type_len = *id_len = 0;
    if (!colon)
        return;
    *type = s;
    *type_len = (size_t)(colon - s);
    *id = colon + 1;
    *id_len = strlen(colon + 1);
}
