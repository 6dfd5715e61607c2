/* A small streaming JSON writer (compact or indented) to a FILE*. */
#ifndef BT_JSON_WRITE_H
#define BT_JSON_WRITE_H
#include <stdbool.h>
#include <stdio.h>

#define BT_JW_MAX_DEPTH 32

typedef struct {
    FILE *f;
    int indent; /* 0: compact */
    int depth;
    bool has_items[BT_JW_MAX_DEPTH];
    bool after_key;
} bt_jw;

void bt_jw_init(bt_jw *w, FILE *f, int indent);
void bt_jw_begin_object(bt_jw *w);
void bt_jw_end_object(bt_jw *w);
void bt_jw_begin_array(bt_jw *w);
void bt_jw_end_array(bt_jw *w);
void bt_jw_key(bt_jw *w, const char *key);
void bt_jw_string(bt_jw *w, const char *s);
void bt_jw_int(bt_jw *w, long long v);
void bt_jw_bool(bt_jw *w, bool v);
/* Convenience: "key": "value" */
void bt_jw_kv_string(bt_jw *w, const char *key, const char *value);
/* Write s as a JSON string literal (UTF-8 passes through, controls escaped). */
void bt_json_write_string(FILE *f, const char *s);

#endif
