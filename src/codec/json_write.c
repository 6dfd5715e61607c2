/* Streaming JSON writer: commas, indentation and escaping in one place
 * (bt/codec.h). Output goes through a callback; bt/json_write.h has the
 * FILE adapter. */
#include "bt/codec.h"

#include <stdio.h>
#include <string.h>

static void out(bt_jw *w, const char *s, size_t n)
{
    if (!w->failed && w->put(w->ctx, s, n) != 0)
        w->failed = true;
}

static void outs(bt_jw *w, const char *s) { out(w, s, strlen(s)); }

static void string(bt_jw *w, const char *s)
{
    if (!w->failed && bt_json_escape(s ? s : "", s ? strlen(s) : 0, w->put, w->ctx) != 0)
        w->failed = true;
}

void bt_jw_start(bt_jw *w, bt_json_put_fn put, void *ctx, int indent)
{
    *w = (bt_jw){.put = put, .ctx = ctx, .indent = indent};
}

static void newline(bt_jw *w)
{
    if (!w->indent)
        return;
    out(w, "\n", 1);
    for (int i = 0; i < w->depth * w->indent; i++)
        out(w, " ", 1);
}

/* Separator before a value: nothing after a key, else a comma when needed. */
static void before_value(bt_jw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0) {
        if (w->has_items[w->depth])
            out(w, ",", 1);
        w->has_items[w->depth] = true;
        newline(w);
    }
}

static void open_container(bt_jw *w, const char *c)
{
    before_value(w);
    out(w, c, 1);
    if (w->depth + 1 < BT_JW_MAX_DEPTH)
        w->depth++;
    w->has_items[w->depth] = false;
}

static void close_container(bt_jw *w, const char *c)
{
    bool had = w->has_items[w->depth];
    if (w->depth > 0)
        w->depth--;
    if (had)
        newline(w);
    out(w, c, 1);
}

void bt_jw_begin_object(bt_jw *w) { open_container(w, "{"); }
void bt_jw_end_object(bt_jw *w) { close_container(w, "}"); }
void bt_jw_begin_array(bt_jw *w) { open_container(w, "["); }
void bt_jw_end_array(bt_jw *w) { close_container(w, "]"); }

void bt_jw_key(bt_jw *w, const char *key)
{
    before_value(w);
    string(w, key);
    outs(w, w->indent ? ": " : ":");
    w->after_key = true;
}

void bt_jw_string(bt_jw *w, const char *s)
{
    before_value(w);
    string(w, s);
}

void bt_jw_int(bt_jw *w, long long v)
{
    char text[24];
    before_value(w);
    outs(w, (snprintf(text, sizeof text, "%lld", v), text));
}

void bt_jw_bool(bt_jw *w, bool v)
{
    before_value(w);
    outs(w, v ? "true" : "false");
}

void bt_jw_kv_string(bt_jw *w, const char *key, const char *value)
{
    bt_jw_key(w, key);
    bt_jw_string(w, value);
}
