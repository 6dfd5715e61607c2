/* CreateAccountResponse.success for a created account: the new resource with
 * its id, the display name the handler gave (else the email) and a UserTrait
 * with the email as primary, enabled; is_create_account_result true. */
#include "service/svc.h"

#include <stdio.h>
#include <string.h>

int bt_svc_account_response(const char *type, const char *id, const char *email,
                            const char *display_name, bt_svc_outcome *out)
{
    bt_arena a;
    bt_arena_init(&a, 0);
    C1__Connector__V2__UserTrait trait = C1__CONNECTOR__V2__USER_TRAIT__INIT;
    C1__Connector__V2__UserTrait__Email mail = C1__CONNECTOR__V2__USER_TRAIT__EMAIL__INIT;
    C1__Connector__V2__UserTrait__Email *mails[1] = {&mail};
    C1__Connector__V2__UserTrait__Status status = C1__CONNECTOR__V2__USER_TRAIT__STATUS__INIT;
    status.status = C1__CONNECTOR__V2__USER_TRAIT__STATUS__STATUS__STATUS_ENABLED;
    trait.status = &status;
    if (email) {
        mail.address = (char *)email;
        mail.is_primary = true;
        trait.emails = mails;
        trait.n_emails = 1;
    }
    bt_pb_any *annotations[1] = {bt_pb_any_new(&a, &trait.base)};
    bt_pb_resource_id rid = C1__CONNECTOR__V2__RESOURCE_ID__INIT;
    bt_pb_resource res = C1__CONNECTOR__V2__RESOURCE__INIT;
    rid.resource_type = (char *)type;
    rid.resource = (char *)id;
    res.id = &rid;
    res.display_name = (char *)(display_name ? display_name : email ? email : id);
    res.annotations = annotations;
    res.n_annotations = annotations[0] ? 1 : 0;
    C1__Connector__V2__CreateAccountResponse__SuccessResult ok = C1__CONNECTOR__V2__CREATE_ACCOUNT_RESPONSE__SUCCESS_RESULT__INIT;
    ok.resource = &res;
    ok.is_create_account_result = true;
    C1__Connector__V2__CreateAccountResponse r = C1__CONNECTOR__V2__CREATE_ACCOUNT_RESPONSE__INIT;
    r.result_case = C1__CONNECTOR__V2__CREATE_ACCOUNT_RESPONSE__RESULT_SUCCESS;
    r.success = &ok;
    size_t n = protobuf_c_message_get_packed_size(&r.base);
    int rc = bt_http_buf_reserve(&out->value, n + 1);
    if (rc == 0) {
        out->value.len = protobuf_c_message_pack(&r.base, (uint8_t *)out->value.data);
        snprintf(out->type_url, sizeof out->type_url, "type.googleapis.com/%s", r.base.descriptor->name);
    }
    bt_arena_free(&a);
    return rc;
}
