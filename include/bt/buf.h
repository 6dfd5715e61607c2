/* The one growable byte buffer (src/codec/buf.c), used by the HTTP client,
 * the JSON and protobuf writers and the sinks, and the growable array
 * (bt_grow_array). No Lua, no I/O.
 *
 * data is NUL-terminated whenever it is not NULL. Memory running out sets
 * `oom`; from then on appends change nothing and return -1, so a caller may
 * check each call or only once at the end. bt_buf_clear resets oom. */
#ifndef BT_BUF_H
#define BT_BUF_H
#include <stdbool.h>
#include <stddef.h>

typedef struct bt_buf {
    char *data;
    size_t len, cap;
    bool oom;
} bt_buf;

/* Each returns 0, or -1 when memory ran out (the content is left unchanged). */
int bt_buf_reserve(bt_buf *b, size_t extra); /* room for extra bytes and the NUL */
int bt_buf_append(bt_buf *b, const void *p, size_t n);
int bt_buf_puts(bt_buf *b, const char *s);
int bt_buf_putc(bt_buf *b, char c);
int bt_buf_printf(bt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bt_buf_clear(bt_buf *b); /* len = 0 and oom = false; memory kept */
void bt_buf_free(bt_buf *b);

/* Room for one more element in a growable array: when n has reached *cap, the
 * array *(T **)array is reallocated to twice *cap elements of `size` bytes
 * (`first` the first time) and *cap updated. 0, or -1 when memory ran out (the
 * array is left as it was). */
int bt_grow_array(void *array, size_t *cap, size_t n, size_t size, size_t first);

#endif
