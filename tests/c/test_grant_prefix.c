/* The packed grant heads kept per entitlement (src/sink/grant_prefix.c): a tenant's groups all
 * stay cached at once, and a full set gives up its least recently used entry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sink/internal.h"

static void ent_of(char *out, size_t n, int i)
{
    snprintf(out, n, "group:R3JvdXA6%d:member", i);
}

static void id_of(char *out, size_t n, int i)
{
    snprintf(out, n, "R3JvdXA6%d", i);
}

static bt_bytes *put(bt_grant_prefixes *c, int i)
{
    char ent[64], id[32];
    ent_of(ent, sizeof ent, i);
    id_of(id, sizeof id, i);
    bt_bytes *b = bt_grant_prefix_slot(c, ent, "group", id);
    assert_non_null(b);
    bt_bytes_append(b, ent, strlen(ent));
    return b;
}

static const bt_bytes *get(bt_grant_prefixes *c, int i)
{
    char ent[64], id[32];
    ent_of(ent, sizeof ent, i);
    id_of(id, sizeof id, i);
    return bt_grant_prefix_find(c, ent, "group", id);
}

/* A user's groups come in any order: with 300 groups (a direct-mapped table of 1024 lost dozens
 * of them to collisions, re-packed on every user) every one is still there after all went in. */
static void test_keeps_every_group_of_a_tenant(void **state)
{
    (void)state;
    bt_grant_prefixes *c = calloc(1, sizeof *c);
    assert_non_null(c);
    for (int i = 0; i < 300; i++)
        put(c, i);
    int missing = 0;
    for (int i = 0; i < 300; i++) {
        const bt_bytes *b = get(c, i);
        char ent[64];
        ent_of(ent, sizeof ent, i);
        if (!b)
            missing++;
        else
            assert_memory_equal(b->data, ent, strlen(ent));
    }
    assert_int_equal(missing, 0);
    bt_grant_prefixes_free(c);
    free(c);
}

/* Past capacity the table stays bounded and keeps what was used last. */
static void test_bounded_and_recent_wins(void **state)
{
    (void)state;
    bt_grant_prefixes *c = calloc(1, sizeof *c);
    assert_non_null(c);
    int n = 3 * BT_GRANT_PREFIX_SLOTS;
    for (int i = 0; i < n; i++) {
        put(c, i);
        assert_non_null(get(c, i)); /* what just went in is there */
    }
    int kept = 0;
    for (int i = 0; i < n; i++)
        kept += get(c, i) != NULL;
    assert_true(kept <= BT_GRANT_PREFIX_SLOTS);
    bt_grant_prefixes_free(c);
    free(c);
}

/* An entry that could not be filled is forgotten, not served empty. */
static void test_forget(void **state)
{
    (void)state;
    bt_grant_prefixes *c = calloc(1, sizeof *c);
    assert_non_null(c);
    bt_bytes *b = put(c, 7);
    bt_grant_prefix_forget(c, b);
    assert_null(get(c, 7));
    bt_grant_prefixes_free(c);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keeps_every_group_of_a_tenant),
        cmocka_unit_test(test_bounded_and_recent_wins),
        cmocka_unit_test(test_forget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
