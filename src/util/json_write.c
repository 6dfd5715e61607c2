/* Streaming JSON writer: commas, indentation and escaping in one place. */
#include "bt/json_write.h"

void bt_json_write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (c < 0x20)
                fprintf(f, "\\u%04x", c);
            else
                fputc(c, f);
        }
    }
    fputc('"', f);
}

void bt_jw_init(bt_jw *w, FILE *f, int indent)
{
    *w = (bt_jw){.f = f, .indent = indent};
}

static void newline(bt_jw *w)
{
    if (!w->indent)
        return;
    fputc('\n', w->f);
    for (int i = 0; i < w->depth * w->indent; i++)
        fputc(' ', w->f);
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
            fputc(',', w->f);
        w->has_items[w->depth] = true;
        newline(w);
    }
}

static void open_container(bt_jw *w, char c)
{
    before_value(w);
    fputc(c, w->f);
    if (w->depth + 1 < BT_JW_MAX_DEPTH)
        w->depth++;
    w->has_items[w->depth] = false;
}

static void close_container(bt_jw *w, char c)
{
    bool had = w->has_items[w->depth];
    if (w->depth > 0)
        w->depth--;
    if (had)
        newline(w);
    fputc(c, w->f);
}

void bt_jw_begin_object(bt_jw *w) { open_container(w, '{'); }
void bt_jw_end_object(bt_jw *w) { close_container(w, '}'); }
void bt_jw_begin_array(bt_jw *w) { open_container(w, '['); }
void bt_jw_end_array(bt_jw *w) { close_container(w, ']'); }

void bt_jw_key(bt_jw *w, const char *key)
{
    before_value(w);
    bt_json_write_string(w->f, key);
    fputs(w->indent ? ": " : ":", w->f);
    w->after_key = true;
}

void bt_jw_string(bt_jw *w, const char *s)
{
    before_value(w);
    bt_json_write_string(w->f, s);
}

void bt_jw_int(bt_jw *w, long long v)
{
    before_value(w);
    fprintf(w->f, "%lld", v);
}

void bt_jw_bool(bt_jw *w, bool v)
{
    before_value(w);
    fputs(v ? "true" : "false", w->f);
}

void bt_jw_kv_string(bt_jw *w, const char *key, const char *value)
{
    bt_jw_key(w, key);
    bt_jw_string(w, value);
}
