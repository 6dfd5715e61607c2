/* The growable byte buffer and array (bt/buf.h). */
#include "bt/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(bt_buf *b)
{
    b->oom = true;
    return -1;
}

int bt_buf_reserve(bt_buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (extra > SIZE_MAX - b->len - 1)
        return fail(b);
    size_t need = b->len + extra + 1; /* room for the NUL */
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return fail(b);
    b->data = p;
    b->cap = cap;
    return 0;
}

int bt_buf_append(bt_buf *b, const void *p, size_t n)
{
    if (bt_buf_reserve(b, n) != 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int bt_buf_puts(bt_buf *b, const char *s) { return bt_buf_append(b, s, strlen(s)); }

int bt_buf_putc(bt_buf *b, char c) { return bt_buf_append(b, &c, 1); }

int bt_buf_printf(bt_buf *b, const char *fmt, ...)
{
    char small[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return fail(b);
    if ((size_t)n < sizeof small)
        return bt_buf_append(b, small, (size_t)n);
    if (bt_buf_reserve(b, (size_t)n) != 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void bt_buf_clear(bt_buf *b)
{
    b->len = 0;
    b->oom = false;
    if (b->data)
        b->data[0] = '\0';
}

void bt_buf_free(bt_buf *b)
{
    free(b->data);
    *b = (bt_buf){0};
}

int bt_grow_array(void *array, size_t *cap, size_t n, size_t size, size_t first)
{
    if (n < *cap)
        return 0;
    size_t grown = *cap ? *cap * 2 : first;
    if (grown < *cap || grown > SIZE_MAX / size)
        return -1;
    void *old;
    memcpy(&old, array, sizeof old); /* array points at a T *, whatever T is */
    void *bigger = realloc(old, grown * size);
    if (!bigger)
        return -1;
    memcpy(array, &bigger, sizeof bigger);
    *cap = grown;
    return 0;
}
