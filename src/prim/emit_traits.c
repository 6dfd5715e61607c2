/* bt.emit trait builders: user/group/role/app traits as Resource annotations, and
 * the profile/status/created_at a resource mirrors from them. */
#include "emit_internal.h"

static C1__Connector__V2__Status *make_status(ctx *c, int status, char *details)
{
    C1__Connector__V2__Status *s = NEW(c, C1__Connector__V2__Status, c1__connector__v2__status__init);
    s->status = (C1__Connector__V2__Status__ResourceStatus)status;
    if (details)
        s->details = details;
    return s;
}

static C1__Connector__V2__UserTrait__Email **user_emails(ctx *c, int u, size_t *n)
{
    lua_State *L = c->L;
    C1__Connector__V2__UserTrait__Email **v = NULL;
    *n = 0;
    if (bt_emit_push_table(c, u, "emails")) {
        size_t len = lua_rawlen(L, -1);
        v = bt_emit_alloc(c, (len + 1) * sizeof *v);
        for (size_t i = 0; i < len; i++) {
            lua_rawgeti(L, -1, (lua_Integer)i + 1);
            int e = lua_gettop(L);
            char *addr = bt_emit_get_text(c, e, "address");
            if (addr && *addr) { /* the SDK ignores empty addresses */
                C1__Connector__V2__UserTrait__Email *em = NEW(
                    c, C1__Connector__V2__UserTrait__Email, c1__connector__v2__user_trait__email__init);
                em->address = addr;
                em->is_primary = bt_emit_get_bool(c, e, "primary");
                v[(*n)++] = em;
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    return v;
}

static C1__Connector__V2__UserTrait__StructuredName *user_name(ctx *c, int u)
{
    char *given = bt_emit_get_text(c, u, "given_name"),
         *family = bt_emit_get_text(c, u, "family_name");
    if (!given && !family)
        return NULL;
    C1__Connector__V2__UserTrait__StructuredName *sn =
        NEW(c, C1__Connector__V2__UserTrait__StructuredName,
            c1__connector__v2__user_trait__structured_name__init);
    if (given)
        sn->given_name = given;
    if (family)
        sn->family_name = family;
    return sn;
}

/* Drop empty strings from a list (the SDK ignores empty logins). */
size_t bt_emit_drop_empty(char **v, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i][0])
            v[k++] = v[i];
    return k;
}

/* Annotates the resource with a trait; the trait's profile is the one the
 * resource mirrors unless an earlier trait gave one. */
static void add_trait(ctx *c, annotations *an, mirror *m, const ProtobufCMessage *trait,
                      bt_pb_struct *profile)
{
    bt_emit_annotate(c, an, trait);
    m->profile = m->profile ? m->profile : profile;
}

/* user = {...} -> UserTrait (NewUserTrait defaults: enabled, human). */
static void user_trait(ctx *c, int t, annotations *an, mirror *m)
{
    if (!bt_emit_push_table(c, t, "user")) {
        lua_pop(c->L, 1);
        return;
    }
    int u = lua_gettop(c->L);
    C1__Connector__V2__UserTrait ut = C1__CONNECTOR__V2__USER_TRAIT__INIT;
    ut.emails = user_emails(c, u, &ut.n_emails);
    C1__Connector__V2__UserTrait__Status *st = NEW(c, C1__Connector__V2__UserTrait__Status,
                                                   c1__connector__v2__user_trait__status__init);
    st->status = (C1__Connector__V2__UserTrait__Status__Status)bt_emit_get_enum(
        c, u, "status", bt_emit_statuses, 1);
    char *details = bt_emit_get_text(c, u, "status_details");
    if (details)
        st->details = details;
    ut.status = st;
    ut.profile = bt_emit_get_profile(c, u, "profile", "user.profile");
    ut.account_type = (C1__Connector__V2__UserTrait__AccountType)bt_emit_get_enum(
        c, u, "account_type", bt_emit_account_types, 1);
    ut.login = bt_emit_get_text_or(c, u, "login", ut.login);
    ut.login_aliases = bt_emit_get_strlist(c, u, "login_aliases", &ut.n_login_aliases);
    ut.n_login_aliases = bt_emit_drop_empty(ut.login_aliases, ut.n_login_aliases);
    ut.created_at = bt_emit_get_time(c, u, "created_at");
    ut.structured_name = user_name(c, u);
    add_trait(c, an, m, &ut.base, ut.profile);
    m->status = make_status(c, (int)st->status, details); /* same numbers 1..3 */
    m->created_at = ut.created_at;
    lua_pop(c->L, 1);
}

static void group_trait(ctx *c, int t, annotations *an, mirror *m)
{
    if (bt_emit_push_table(c, t, "group")) {
        int g = lua_gettop(c->L);
        C1__Connector__V2__GroupTrait gt = C1__CONNECTOR__V2__GROUP_TRAIT__INIT;
        gt.profile = bt_emit_get_profile(c, g, "profile", "group.profile");
        gt.group_source_type = bt_emit_get_text_or(c, g, "source_type", gt.group_source_type);
        gt.raw_group_source_type =
            bt_emit_get_text_or(c, g, "raw_source_type", gt.raw_group_source_type);
        add_trait(c, an, m, &gt.base, gt.profile);
    }
    lua_pop(c->L, 1);
}

static void role_trait(ctx *c, int t, annotations *an, mirror *m)
{
    if (bt_emit_push_table(c, t, "role")) {
        C1__Connector__V2__RoleTrait rt = C1__CONNECTOR__V2__ROLE_TRAIT__INIT;
        rt.profile = bt_emit_get_profile(c, lua_gettop(c->L), "profile", "role.profile");
        add_trait(c, an, m, &rt.base, rt.profile);
    }
    lua_pop(c->L, 1);
}

static void app_trait(ctx *c, int t, annotations *an, mirror *m)
{
    if (bt_emit_push_table(c, t, "app")) {
        int a = lua_gettop(c->L);
        C1__Connector__V2__AppTrait at = C1__CONNECTOR__V2__APP_TRAIT__INIT;
        at.profile = bt_emit_get_profile(c, a, "profile", "app.profile");
        at.help_url = bt_emit_get_text_or(c, a, "help_url", at.help_url);
        add_trait(c, an, m, &at.base, at.profile);
    }
    lua_pop(c->L, 1);
}

void bt_emit_resource_annotations(ctx *c, bt_pb_resource *r, mirror *m)
{
    annotations an = {{0}, 0};
    char *link = bt_emit_get_text(c, 1, "external_link");
    if (link) {
        C1__Connector__V2__ExternalLink el = C1__CONNECTOR__V2__EXTERNAL_LINK__INIT;
        el.url = link;
        bt_emit_annotate(c, &an, &el.base);
    }
    user_trait(c, 1, &an, m);
    group_trait(c, 1, &an, m);
    role_trait(c, 1, &an, m);
    app_trait(c, 1, &an, m);
    r->annotations = bt_emit_annotations_array(c, &an);
    r->n_annotations = an.n;
}

/* Resource.profile/status/created_at: the script's, else the trait's (HEAD). */
void bt_emit_resource_state(ctx *c, bt_pb_resource *r, const mirror *m)
{
    r->profile = bt_emit_get_profile(c, 1, "profile", "profile");
    if (!r->profile)
        r->profile = m->profile;
    int status = bt_emit_get_enum(c, 1, "status", bt_emit_statuses, 0);
    char *details = bt_emit_get_text(c, 1, "status_details");
    r->status = status || details ? make_status(c, status, details) : m->status;
    r->created_at = bt_emit_get_time(c, 1, "created_at");
    if (!r->created_at)
        r->created_at = m->created_at;
}
