/* Compact sets of 64-bit id digests (XXH64), for the jsonl sink: 8 bytes per
 * id at most 50% load, instead of keeping the ids. Two different ids share a
 * digest with probability about n^2 / 2^65 (1e-6 at 6 million ids). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t xround(uint64_t acc, uint64_t input)
{
    return rotl(acc + input * P2, 31) * P1;
}

static uint64_t merge(uint64_t acc, uint64_t v)
{
    return (acc ^ xround(0, v)) * P1 + P4;
}

static uint64_t stripes(const uint8_t **pp, size_t *np, uint64_t seed)
{
    const uint8_t *p = *pp;
    size_t n = *np;
    uint64_t v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
    while (n >= 32) {
        v1 = xround(v1, rd64(p));
        v2 = xround(v2, rd64(p + 8));
        v3 = xround(v3, rd64(p + 16));
        v4 = xround(v4, rd64(p + 24));
        p += 32;
        n -= 32;
    }
    *pp = p;
    *np = n;
    uint64_t h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
    return merge(merge(merge(merge(h, v1), v2), v3), v4);
}

uint64_t bt_xxh64(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data;
    size_t n = len;
    uint64_t h = n >= 32 ? stripes(&p, &n, seed) : seed + P5;
    h += (uint64_t)len;
    for (; n >= 8; p += 8, n -= 8)
        h = rotl(h ^ xround(0, rd64(p)), 27) * P1 + P4;
    if (n >= 4) {
        h = rotl(h ^ (uint64_t)rd32(p) * P1, 23) * P2 + P3;
        p += 4;
        n -= 4;
    }
    for (; n > 0; p++, n--)
        h = rotl(h ^ (uint64_t)*p * P5, 11) * P1;
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

uint64_t bt_id_digest(char kind, const char *a, const char *b)
{
    /* Chained: the first part's digest (length included) seeds the second's. */
    uint64_t h = bt_xxh64(a, strlen(a), (uint64_t)(unsigned char)kind);
    return b ? bt_xxh64(b, strlen(b), h) : h;
}

/* 0 marks an empty slot, so digest 0 is stored as 1. */
static uint64_t slot_key(uint64_t d)
{
    return d ? d : 1;
}

static bool idset_grow(bt_idset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 1024;
    uint64_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < s->cap; i++) {
        uint64_t k = s->slots[i];
        if (!k)
            continue;
        size_t j = (size_t)k & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = k;
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return true;
}

int bt_idset_add(bt_idset *s, uint64_t digest)
{
    if ((s->n + 1) * 2 > s->cap && !idset_grow(s))
        return -1;
    uint64_t k = slot_key(digest);
    size_t j = (size_t)k & (s->cap - 1);
    while (s->slots[j]) {
        if (s->slots[j] == k)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->slots[j] = k;
    s->n++;
    return 1;
}

bool bt_idset_has(const bt_idset *s, uint64_t digest)
{
    if (!s->cap)
        return false;
    uint64_t k = slot_key(digest);
    size_t j = (size_t)k & (s->cap - 1);
    while (s->slots[j]) {
        if (s->slots[j] == k)
            return true;
        j = (j + 1) & (s->cap - 1);
    }
    return false;
}

void bt_idset_free(bt_idset *s)
{
    free(s->slots);
    s->slots = NULL;
    s->cap = s->n = 0;
}
