/* What an HTTP result is to a script before its body is read, with no Lua:
 * {kind, status, message}. prim/graphql_response.c reads the body and builds
 * the Lua error object. */
#include <stdio.h>
#include <string.h>

#include "bt/graphql.h"

static const char *kind_of_status(long status)
{
    if (status == 401 || status == 403)
        return "auth";
    if (status == 404)
        return "endpoint"; /* the URL, not an object: never "no such id" */
    if (status == 429)
        return "rate_limited";
    if (status >= 500 && status <= 599)
        return "server";
    return "http";
}

static const char *default_message(const char *kind)
{
    if (strcmp(kind, "auth") == 0)
        return "not authorized (check the credentials and their permissions)";
    if (strcmp(kind, "endpoint") == 0)
        return "no API at this URL (HTTP 404; check the domain or url)";
    if (strcmp(kind, "rate_limited") == 0)
        return "rate limited by the server";
    if (strcmp(kind, "server") == 0)
        return "server error";
    return "unexpected HTTP status";
}

void bt_graphql_error_set(bt_graphql_error *e, const bt_http_response *r, const char *kind,
                          long status, const char *message)
{
    char full[sizeof e->message];
    if (r->attempts > 1)
        snprintf(full, sizeof full, "%s (after %d attempts)", message, r->attempts);
    else
        snprintf(full, sizeof full, "%s", message);
    bt_graphql_redact(full, e->message, sizeof e->message);
    e->kind = kind;
    e->status = status;
    e->retry_after = r->retry_after;
}

bool bt_graphql_http_error(const bt_http_response *r, bt_graphql_error *e)
{
    if (r->outcome == BT_HTTP_TOO_LARGE) {
        bt_graphql_error_set(e, r, "decode", r->status, r->message);
        return true;
    }
    if (r->outcome != BT_HTTP_DONE) {
        bt_graphql_error_set(e, r, "transport", 0, r->message);
        return true;
    }
    if (r->status >= 200 && r->status <= 299)
        return false;
    const char *kind = kind_of_status(r->status);
    bt_graphql_error_set(e, r, kind, r->status, default_message(kind));
    return true;
}
