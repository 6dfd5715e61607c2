/* The streaming JSON writer of bt/codec.h, to a FILE* (src/util/json_file.c). */
#ifndef BT_JSON_WRITE_H
#define BT_JSON_WRITE_H
#include <stdio.h>

#include "bt/codec.h"

/* Write through fwrite to f. */
void bt_jw_init(bt_jw *w, FILE *f, int indent);
/* s[0..n) as a JSON string literal to f (bt_json_escape). */
void bt_json_write_string(FILE *f, const char *s, size_t n);

#endif
