/* A resource on both sides of `show diff`: its display name, its status and
 * each key of its profile (the resource's, else its trait's) are compared;
 * each difference is one "~" line. */
#define _GNU_SOURCE /* open_memstream */
#include <stdlib.h>
#include <string.h>

#include "show_diff.h"

#include "c1/connector/v2/annotation_trait.pb-c.h"

typedef C1__Connector__V2__Resource Resource;
typedef Google__Protobuf__Struct Struct;

/* The profile and the message holding it (free that one), NULL if none. */
static Struct *profile_of(const Resource *r, ProtobufCMessage **holder)
{
    *holder = NULL;
    if (r->profile)
        return r->profile;
    static const ProtobufCMessageDescriptor *const TRAITS[] = {
        &c1__connector__v2__user_trait__descriptor, &c1__connector__v2__group_trait__descriptor,
        &c1__connector__v2__role_trait__descriptor, &c1__connector__v2__app_trait__descriptor};
    for (size_t i = 0; i < sizeof TRAITS / sizeof TRAITS[0]; i++) {
        ProtobufCMessage *t = bt_show_annotation(r->n_annotations, r->annotations, TRAITS[i]);
        if (!t)
            continue;
        *holder = t;
        /* every trait message has its profile as a Struct field named "profile" */
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(TRAITS[i], "profile");
        return f ? *(Struct **)((char *)t + f->offset) : NULL;
    }
    return NULL;
}

static char *value_text(const Struct *s, const char *key)
{
    for (size_t i = 0; s && i < s->n_fields; i++) {
        if (strcmp(s->fields[i]->key, key) != 0 || !s->fields[i]->value)
            continue;
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        bt_show_err ignored;
        if (f && bt_show_json_message(f, &s->fields[i]->value->base, &ignored) < 0)
            fputs("?", f);
        if (f)
            fclose(f);
        return buf;
    }
    return strdup("(none)");
}

static void compare_key(diff_state *d, const char *rkey, const Resource *b, const char *key,
                        const Struct *pa, const Struct *pb)
{
    char *va = value_text(pa, key), *vb = value_text(pb, key);
    if (va && vb && strcmp(va, vb) != 0) {
        char field[160];
        snprintf(field, sizeof field, "profile.%.140s", key);
        diff_changed(d, b->id->resource_type, rkey, b->display_name, field, va, vb);
    }
    free(va);
    free(vb);
}

static bool has_key(const Struct *s, const char *key)
{
    for (size_t i = 0; s && i < s->n_fields; i++)
        if (strcmp(s->fields[i]->key, key) == 0)
            return true;
    return false;
}

static void compare_profiles(diff_state *d, const char *rkey, const Resource *a,
                             const Resource *b)
{
    ProtobufCMessage *ha, *hb;
    const Struct *pa = profile_of(a, &ha), *pb = profile_of(b, &hb);
    for (size_t i = 0; pa && i < pa->n_fields; i++)
        compare_key(d, rkey, b, pa->fields[i]->key, pa, pb);
    for (size_t i = 0; pb && i < pb->n_fields; i++)
        if (!has_key(pa, pb->fields[i]->key))
            compare_key(d, rkey, b, pb->fields[i]->key, pa, pb);
    bt_show_msg_free(ha);
    bt_show_msg_free(hb);
}

static const char *or_none(const char *s)
{
    return s && *s ? s : "(none)";
}

static void compare(diff_state *d, const char *key, const Resource *a, const Resource *b)
{
    const char *type = b->id->resource_type;
    if (strcmp(or_none(a->display_name), or_none(b->display_name)) != 0)
        diff_changed(d, type, key, b->display_name, "display name", or_none(a->display_name),
                     or_none(b->display_name));
    const char *sa = bt_show_resource_status(a), *sb = bt_show_resource_status(b);
    if (strcmp(sa, sb) != 0)
        diff_changed(d, type, key, b->display_name, "status", or_none(sa), or_none(sb));
    compare_profiles(d, key, a, b);
}

int diff_resource_pair(diff_state *d, const char *key, const void *a, size_t alen,
                       const void *b, size_t blen, bt_show_err *e)
{
    Resource *ra = (Resource *)bt_show_decode(&c1__connector__v2__resource__descriptor, a, alen, e);
    Resource *rb = ra ? (Resource *)bt_show_decode(&c1__connector__v2__resource__descriptor, b,
                                                   blen, e)
                      : NULL;
    int rc = rb && ra->id && rb->id ? 0 : -1;
    if (rc == 0)
        compare(d, key, ra, rb);
    else if (ra && rb)
        bt_show_fail(e, "resource %s: no id", key);
    else {
        bt_show_err inner = *e;
        bt_show_fail(e, "resource %s (%s file): %s", key, ra ? "new" : "old", inner.msg);
    }
    bt_show_msg_free((ProtobufCMessage *)ra);
    bt_show_msg_free((ProtobufCMessage *)rb);
    return rc;
}
