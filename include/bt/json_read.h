/* A strict JSON reader that feeds a callback sink (src/codec/json_read.c).
 * No Lua, no I/O. Derived from the GraphQL decoder: strict UTF-8 (raw bytes
 * must be valid UTF-8, no control characters), numbers handed over as their
 * text so nothing is lost (2^53+1 and 64-bit ids stay exact: the sink
 * converts), a nesting limit, and an error "<why> at byte <offset>".
 *
 * Events come in document order. An object is begin_object, then for each
 * member key() followed by exactly one value (which may be a container),
 * then end_object; an array is begin_array, values, end_array. A null is
 * null(): what it means (an absent key, a sentinel in an array) is the
 * sink's choice. String and key bytes are valid only during the call (copy
 * them) and are not NUL-terminated (they may point into the input); they
 * hold NUL bytes only when \u0000 is allowed. A number's text is
 * NUL-terminated.
 *
 * Each callback returns NULL to go on, or a static reason to stop: the
 * reader then fails with that reason. A NULL callback ignores its event. */
#ifndef BT_JSON_READ_H
#define BT_JSON_READ_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *(*begin_object)(void *ud);
    const char *(*end_object)(void *ud);
    const char *(*begin_array)(void *ud);
    const char *(*end_array)(void *ud);
    const char *(*key)(void *ud, const char *s, size_t n);
    const char *(*string)(void *ud, const char *s, size_t n);
    /* A number as its JSON text (at most 511 bytes); integer: no fraction and
     * no exponent. bt_json_number_int64 converts an integer exactly. */
    const char *(*number)(void *ud, const char *text, size_t n, bool integer);
    const char *(*boolean)(void *ud, bool v);
    const char *(*null)(void *ud);
} bt_json_sink;

/* What a \uXXXX escape of a lone surrogate (no pair) becomes. */
typedef enum {
    BT_JSON_SURROGATE_REPLACE = 0, /* U+FFFD */
    BT_JSON_SURROGATE_KEEP,        /* its three bytes (not valid UTF-8: the sink decides) */
    BT_JSON_SURROGATE_REFUSE,      /* "invalid escape in string" */
} bt_json_surrogates;

typedef struct {
    int max_depth; /* containers open at once; <= 0: BT_JSON_READ_MAX_DEPTH */
    bt_json_surrogates lone_surrogate;
    bool refuse_nul; /* \u0000 is an error (for C strings) */
} bt_json_read_opts;

#define BT_JSON_READ_MAX_DEPTH 200

/* Read exactly one JSON value (surrounding white space allowed) from
 * s[0..len). 0, or -1 with "<why> at byte <n>" in err. opts may be NULL. */
int bt_json_read(const char *s, size_t len, const bt_json_read_opts *opts, const bt_json_sink *sink,
                 void *ud, char *err, size_t errsz);

/* An integer number text as int64: 0, or -1 when it has a fraction or an
 * exponent or does not fit. */
int bt_json_number_int64(const char *text, int64_t *out);

#endif
