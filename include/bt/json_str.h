/* A JSON string literal from any bytes (src/util/json_str.c): '"' and '\'
 * escaped, control characters as \n, \t ... or \u00XX, and every byte that
 * is not part of valid UTF-8 replaced by U+FFFD, so the result is always
 * valid JSON. (src/graphql/json_encode.c has its own escaper, which refuses
 * invalid UTF-8 instead of replacing it.) */
#ifndef BT_JSON_STR_H
#define BT_JSON_STR_H
#include <stddef.h>

#include "bt/http.h"

/* Append the literal, quotes included. 0, or -1 when out of memory. */
int bt_json_str_append(bt_http_buf *out, const char *s, size_t n);

#endif
