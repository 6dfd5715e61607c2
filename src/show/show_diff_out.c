/* How `show diff` prints a change: grouped under a heading per kind and
 * resource type in the table form ("+ user Jane Doe (user:…)"), one object
 * per change in the JSON form. */
#include <string.h>

#include "show_diff.h"

static void heading(diff_state *d, const char *kind, const char *type)
{
    char now[256];
    snprintf(now, sizeof now, "%ss of type %s", kind, type);
    if (d->group && strcmp(d->group_buf, now) == 0)
        return;
    snprintf(d->group_buf, sizeof d->group_buf, "%s", now);
    d->group = d->group_buf;
    fprintf(d->out, "%s", d->added + d->removed + d->changed ? "\n" : "");
    bt_show_print_display(d->out, now);
    fputs(":\n", d->out);
}

static void json_key(FILE *out, const char *key, const char *value)
{
    fprintf(out, ",\"%s\":", key);
    bt_show_json_string(out, value, strlen(value));
}

static void json_change(diff_state *d, const char *op, const char *kind, const char *type,
                        const char *key)
{
    fprintf(d->out, "%s{\"op\":\"%s\",\"kind\":\"%s\"", d->first ? "" : ",", op, kind);
    d->first = false;
    json_key(d->out, "type", type);
    json_key(d->out, "id", key);
}

static void line(diff_state *d, const char *op, const char *kind, const char *type,
                 const char *key, const char *label)
{
    if (d->json) {
        json_change(d, op, kind, type, key);
        json_key(d->out, "label", label);
        fputc('}', d->out);
        return;
    }
    heading(d, kind, type);
    fprintf(d->out, "%s ", op); /* a resource reads as its type: "+ user Jane (user:…)" */
    bt_show_print_display(d->out, strcmp(kind, "resource") == 0 ? type : kind);
    fputc(' ', d->out);
    bt_show_print_display(d->out, label);
    fputc('\n', d->out);
}

void diff_added(diff_state *d, const char *kind, const char *type, const char *key,
                const char *label)
{
    line(d, "+", kind, type, key, label);
    d->added++;
}

void diff_removed(diff_state *d, const char *kind, const char *type, const char *key,
                  const char *label)
{
    line(d, "-", kind, type, key, label);
    d->removed++;
}

void diff_changed(diff_state *d, const char *type, const char *key, const char *name,
                  const char *field, const char *was, const char *now)
{
    if (d->json) {
        json_change(d, "~", "resource", type, key);
        json_key(d->out, "displayName", name);
        json_key(d->out, "field", field);
        json_key(d->out, "old", was);
        json_key(d->out, "new", now);
        fputc('}', d->out);
    } else {
        heading(d, "resource", type);
        fprintf(d->out, "~ %s ", type);
        bt_show_print_display(d->out, name);
        fprintf(d->out, ": %s ", field);
        bt_show_print_display(d->out, was);
        fputs(" \xE2\x86\x92 ", d->out);
        bt_show_print_display(d->out, now);
        fputc('\n', d->out);
    }
    d->changed++;
}

void diff_summary(diff_state *d)
{
    if (d->json) {
        fprintf(d->out, "],\"added\":%zu,\"removed\":%zu,\"changed\":%zu}\n", d->added, d->removed,
                d->changed);
        return;
    }
    if (d->added + d->removed + d->changed)
        fprintf(d->out, "\n%zu added, %zu removed, %zu changed\n", d->added, d->removed,
                d->changed);
}
