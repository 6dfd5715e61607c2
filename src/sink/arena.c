/* bt_arena: a bump allocator for the short-lived messages bt.emit builds.
 * Blocks are chained; reset frees all but the newest block and reuses it. */
#include "bt/model.h"

#include <stdarg.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

struct bt_arena_block {
    bt_arena_block *next;
    size_t cap, used;
    alignas(max_align_t) unsigned char data[];
};

#define ARENA_DEFAULT_BLOCK (16u * 1024u)
#define ARENA_ALIGN (alignof(max_align_t))

void bt_arena_init(bt_arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : ARENA_DEFAULT_BLOCK;
}

static bt_arena_block *arena_new_block(bt_arena *a, size_t need)
{
    size_t cap = a->block_size ? a->block_size : ARENA_DEFAULT_BLOCK;
    if (cap < need)
        cap = need;
    bt_arena_block *b = malloc(sizeof *b + cap);
    if (!b)
        return NULL;
    b->cap = cap;
    b->used = 0;
    b->next = a->head;
    a->head = b;
    return b;
}

void *bt_arena_alloc(bt_arena *a, size_t n)
{
    if (n == 0)
        n = 1;
    size_t rounded = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    if (rounded < n)
        return NULL; /* overflow */
    bt_arena_block *b = a->head;
    if (!b || b->cap - b->used < rounded) {
        b = arena_new_block(a, rounded);
        if (!b)
            return NULL;
    }
    void *p = b->data + b->used;
    b->used += rounded;
    memset(p, 0, n);
    return p;
}

char *bt_arena_strndup(bt_arena *a, const char *s, size_t n)
{
    char *p = bt_arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *bt_arena_strdup(bt_arena *a, const char *s)
{
    return bt_arena_strndup(a, s, strlen(s));
}

char *bt_arena_join(bt_arena *a, const char *sep, ...)
{
    va_list ap;
    size_t total = 0, nparts = 0, seplen = strlen(sep);
    va_start(ap, sep);
    for (const char *s; (s = va_arg(ap, const char *)) != NULL; nparts++)
        total += strlen(s);
    va_end(ap);
    if (nparts > 1)
        total += seplen * (nparts - 1);
    char *out = bt_arena_alloc(a, total + 1);
    if (!out)
        return NULL;
    char *p = out;
    va_start(ap, sep);
    for (size_t i = 0; i < nparts; i++) {
        const char *s = va_arg(ap, const char *);
        if (i > 0) {
            memcpy(p, sep, seplen);
            p += seplen;
        }
        size_t n = strlen(s);
        memcpy(p, s, n);
        p += n;
    }
    va_end(ap);
    *p = '\0';
    return out;
}

/* Frees b and every block after it. */
static void free_blocks(bt_arena_block *b)
{
    while (b) {
        bt_arena_block *next = b->next;
        free(b);
        b = next;
    }
}

void bt_arena_reset(bt_arena *a)
{
    bt_arena_block *keep = a->head;
    if (!keep)
        return;
    free_blocks(keep->next);
    keep->next = NULL;
    keep->used = 0;
    /* A block grown for one huge request is not kept around. */
    size_t normal = a->block_size ? a->block_size : ARENA_DEFAULT_BLOCK;
    if (keep->cap > normal) {
        free(keep);
        a->head = NULL;
    }
}

void bt_arena_free(bt_arena *a)
{
    free_blocks(a->head);
    a->head = NULL;
}
