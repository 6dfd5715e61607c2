/* A growable byte buffer shared by the HTTP client and the JSON encoder. */
#include <stdlib.h>
#include <string.h>

#include "bt/http.h"

int bt_http_buf_reserve(bt_http_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return -1;
    size_t need = b->len + extra + 1; /* room for the NUL */
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int bt_http_buf_append(bt_http_buf *b, const void *p, size_t n)
{
    if (bt_http_buf_reserve(b, n) != 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int bt_http_buf_puts(bt_http_buf *b, const char *s) { return bt_http_buf_append(b, s, strlen(s)); }

void bt_http_buf_clear(bt_http_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void bt_http_buf_free(bt_http_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
