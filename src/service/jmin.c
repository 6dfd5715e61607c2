/* The two small objects service mode reads (the client secret's JWK and the
 * token answer): the codec's JSON reader validates the whole text, and this
 * sink keeps one top-level member. Values are never logged; a kept value is
 * wiped when freed. */
#include "service/svc.h"

#include <stdlib.h>
#include <string.h>

#include "bt/json_read.h"

typedef struct {
    const char *key;
    int depth;
    bool at_key; /* the next value at depth 1 is the member asked for */
    bool found;
    bt_jmin_value *v;
} finder;

/* A value of the top-level object: the wanted one is kept (the last one
 * when the key repeats). */
static const char *keep(finder *f, bt_jmin_type type, const char *s, size_t n)
{
    bool wanted = f->depth == 1 && f->at_key;
    f->at_key = false;
    if (!wanted)
        return NULL;
    bt_jmin_value_free(f->v);
    f->v->text = malloc(n + 1);
    if (!f->v->text)
        return "out of memory";
    if (n)
        memcpy(f->v->text, s, n);
    f->v->text[n] = '\0';
    f->v->type = type;
    f->v->len = n;
    f->found = true;
    return NULL;
}

static const char *begin_object(void *ud)
{
    finder *f = ud;
    const char *why = f->depth > 0 ? keep(f, BT_JMIN_OTHER, "", 0) : NULL;
    f->depth++;
    return why;
}

static const char *begin_array(void *ud)
{
    finder *f = ud;
    if (f->depth == 0)
        return "not an object";
    return begin_object(ud);
}

static const char *close_container(void *ud)
{
    ((finder *)ud)->depth--;
    return NULL;
}

static const char *key(void *ud, const char *s, size_t n)
{
    finder *f = ud;
    if (f->depth == 1)
        f->at_key = strlen(f->key) == n && memcmp(f->key, s, n) == 0;
    return NULL;
}

static const char *top_level(finder *f)
{
    return f->depth == 0 ? "not an object" : NULL;
}

static const char *string(void *ud, const char *s, size_t n)
{
    finder *f = ud;
    return top_level(f) ? top_level(f) : keep(f, BT_JMIN_STRING, s, n);
}

static const char *number(void *ud, const char *text, size_t n, bool integer)
{
    finder *f = ud;
    (void)integer;
    return top_level(f) ? top_level(f) : keep(f, BT_JMIN_NUMBER, text, n);
}

static const char *boolean(void *ud, bool v)
{
    finder *f = ud;
    (void)v;
    return top_level(f) ? top_level(f) : keep(f, BT_JMIN_OTHER, "", 0);
}

static const char *null(void *ud)
{
    finder *f = ud;
    return top_level(f) ? top_level(f) : keep(f, BT_JMIN_OTHER, "", 0);
}

/* begin and end object, begin and end array, key, string, number, boolean, null */
static const bt_json_sink finder_sink = {begin_object, close_container, begin_array,
                                         close_container, key, string,
                                         number, boolean, null};

int bt_jmin_find(const char *json, size_t len, const char *name, bt_jmin_value *v)
{
    /* Lone surrogates and \u0000 are refused: the values become C strings. */
    static const bt_json_read_opts opts = {
        .max_depth = 32, .lone_surrogate = BT_JSON_SURROGATE_REFUSE, .refuse_nul = true};
    finder f = {.key = name, .v = v};
    memset(v, 0, sizeof *v);
    if (bt_json_read(json, len, &opts, &finder_sink, &f, NULL, 0) != 0) {
        bt_jmin_value_free(v);
        return -1;
    }
    return f.found ? 1 : 0;
}

void bt_jmin_value_free(bt_jmin_value *v)
{
    if (v->text) {
        explicit_bzero(v->text, v->len);
        free(v->text);
    }
    memset(v, 0, sizeof *v);
}
