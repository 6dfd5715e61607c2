/* The codec layer (src/codec/): bytes <-> text with no Lua and no I/O, under
 * every other folder. The byte buffer is bt/buf.h, the JSON reader
 * bt/json_read.h, the protobuf -> JSON writer bt/protojson.h.
 *
 *   utf8.c        strict UTF-8 (RFC 3629)
 *   base64.c      base64 (padded) and base64url (unpadded, strict decode)
 *   time.c        ISO-8601 / RFC 3339 parsing and formatting, civil dates
 *   json_str.c    the one JSON string escaper
 *   json_write.c  a streaming JSON writer (commas, indentation) over a callback
 *
 * Invalid UTF-8 in JSON output: every byte that is not part of a valid UTF-8
 * sequence becomes U+FFFD (written as its three UTF-8 bytes), one U+FFFD per
 * bad byte, so the text is always valid JSON and valid UTF-8. Where invalid
 * input must be refused instead (GraphQL variables: the script gets an
 * error), the caller checks bt_utf8_valid_prefix first and then escapes. */
#ifndef BT_CODEC_H
#define BT_CODEC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bt/buf.h"

/* ---- UTF-8: strict (no overlongs, surrogates or > U+10FFFF) ---- */

/* Length of the valid sequence at s (n bytes available), 0 when invalid; the
 * code point goes to *cp when cp is not NULL. */
size_t bt_utf8_next(const char *s, size_t n, uint32_t *cp);
bool bt_utf8_is_valid(const char *s, size_t n);
/* Offset of the first byte that is not valid UTF-8, or n. */
size_t bt_utf8_valid_prefix(const char *s, size_t n);
/* Encode cp (<= U+10FFFF) into out; returns the length, 1 to 4. */
size_t bt_utf8_put(uint32_t cp, char out[4]);

/* ---- base64 ---- */

/* Append the padded standard base64 of p[0..n). 0, or -1 when out of memory. */
int bt_base64_append(bt_buf *b, const void *p, size_t n);
/* base64url without padding (RFC 4648 §5), as JWS and the client secret use it. */
size_t bt_b64url_encoded_len(size_t n);
/* Writes bt_b64url_encoded_len(n) characters and a NUL; returns the length. */
size_t bt_b64url_encode(const unsigned char *in, size_t n, char *out);
/* Strict: only the url alphabet, no padding, no stray bits in the last
 * character, a length that is not 1 mod 4. Returns the decoded length or -1;
 * out holds n * 3 / 4 bytes. */
long bt_b64url_decode(const char *in, size_t n, unsigned char *out);

/* ---- times ---- */

/* Parse an ISO-8601 / RFC 3339 time: YYYY-MM-DD, optionally followed by
 * T or space, HH:MM[:SS[.fraction]], and Z, ±HH:MM, ±HHMM or ±HH (no zone =
 * UTC). Returns 0 and the UTC instant, or -1 when s is not such a time. */
int bt_time_parse_iso8601(const char *s, int64_t *seconds, int32_t *nanos);
/* Days from 1970-01-01 to the given proleptic Gregorian date, and back. */
int64_t bt_days_from_civil(int64_t y, unsigned m, unsigned d);
void bt_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* ---- JSON output ---- */

/* Where escaped text goes: 0, or -1 to stop. */
typedef int (*bt_json_put_fn)(void *ctx, const char *s, size_t n);
/* The one escaper: s[0..n) as a JSON string literal, quotes included. '"'
 * and '\' escaped, \b \t \n \f \r, other controls as \u00XX, invalid UTF-8 as
 * U+FFFD (see above). 0, or -1 when put failed. */
int bt_json_escape(const char *s, size_t n, bt_json_put_fn put, void *ctx);
/* The same into a buffer. 0, or -1 when out of memory. */
int bt_json_str_append(bt_buf *out, const char *s, size_t n);

/* A streaming JSON writer (compact or indented). Output goes to put; the
 * first failure is kept in `failed` and later output is dropped. */
#define BT_JW_MAX_DEPTH 32
typedef struct {
    bt_json_put_fn put;
    void *ctx;
    int indent; /* 0: compact */
    int depth;
    bool has_items[BT_JW_MAX_DEPTH];
    bool after_key;
    bool failed;
} bt_jw;

void bt_jw_start(bt_jw *w, bt_json_put_fn put, void *ctx, int indent);
void bt_jw_begin_object(bt_jw *w);
void bt_jw_end_object(bt_jw *w);
void bt_jw_begin_array(bt_jw *w);
void bt_jw_end_array(bt_jw *w);
void bt_jw_key(bt_jw *w, const char *key);
void bt_jw_string(bt_jw *w, const char *s); /* NULL writes "" */
void bt_jw_int(bt_jw *w, long long v);
void bt_jw_bool(bt_jw *w, bool v);
/* Convenience: "key": "value" */
void bt_jw_kv_string(bt_jw *w, const char *key, const char *value);

#endif
