/* A string-keyed open-addressing hash map of "type:id" -> index, for the
 * report's references between users, groups and resources. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt/report.h"

typedef struct {
    char *key;
    long value;
} slot;

struct bt_report_index {
    slot *slots;
    size_t cap, n; /* cap: a power of two */
};

static uint64_t hash(const char *type, const char *id)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = type; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ ':') * 1099511628211ULL;
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

static bool same(const char *key, const char *type, const char *id)
{
    size_t tl = strlen(type);
    return strncmp(key, type, tl) == 0 && key[tl] == ':' && strcmp(key + tl + 1, id) == 0;
}

bt_report_index *bt_report_index_new(void)
{
    bt_report_index *x = calloc(1, sizeof *x);
    if (x && !(x->slots = calloc(x->cap = 1024, sizeof *x->slots))) {
        free(x);
        return NULL;
    }
    return x;
}

void bt_report_index_free(bt_report_index *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->cap; i++)
        free(x->slots[i].key);
    free(x->slots);
    free(x);
}

static slot *find(const bt_report_index *x, const char *type, const char *id)
{
    size_t i = hash(type, id) & (x->cap - 1);
    while (x->slots[i].key && !same(x->slots[i].key, type, id))
        i = (i + 1) & (x->cap - 1);
    return &x->slots[i];
}

static int grow(bt_report_index *x)
{
    bt_report_index bigger = {calloc(x->cap * 2, sizeof(slot)), x->cap * 2, x->n};
    if (!bigger.slots)
        return -1;
    for (size_t i = 0; i < x->cap; i++) {
        if (!x->slots[i].key)
            continue;
        size_t j = 0;
        char *k = x->slots[i].key;
        uint64_t h = 1469598103934665603ULL;
        for (const char *p = k; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        for (j = h & (bigger.cap - 1); bigger.slots[j].key; j = (j + 1) & (bigger.cap - 1))
            ;
        bigger.slots[j] = x->slots[i];
    }
    free(x->slots);
    *x = bigger;
    return 0;
}

int bt_report_index_put(bt_report_index *x, const char *type, const char *id, long value)
{
    if ((x->n + 1) * 2 > x->cap && grow(x) < 0)
        return -1;
    slot *s = find(x, type, id);
    if (!s->key) {
        size_t n = strlen(type) + strlen(id) + 2;
        if (!(s->key = malloc(n)))
            return -1;
        snprintf(s->key, n, "%s:%s", type, id);
        x->n++;
    }
    s->value = value;
    return 0;
}

long bt_report_index_get(const bt_report_index *x, const char *type, const char *id)
{
    const slot *s = find(x, type, id);
    return s->key ? s->value : -1;
}
