/* Telling a mutation from a query: the keyword, wherever the operation sits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "bt/graphql.h"

static bool is_mut(const char *doc) { return bt_graphql_is_mutation(doc, strlen(doc)); }

static void mutations_are_writes(void **state)
{
    (void)state;
    assert_true(is_mut("mutation { groupUpdate(id: $id) { ok } }"));
    assert_true(is_mut("mutation($id: ID!){x(id:$id){ok}}"));
    assert_true(is_mut("  \n\t# a comment\n  mutation Add($id: ID!) { x }"));
    assert_true(is_mut("\xEF\xBB\xBFmutation { x }"));
    assert_true(is_mut(",,, mutation { x }"));
    assert_true(is_mut("# c1\r# c2\rmutation{x}"));
    /* a fragment first must not hide the mutation after it */
    assert_true(is_mut("fragment F on User { id } mutation M { x { ...F } }"));
    assert_true(is_mut("query Q { a } mutation M { b }"));
}

static void queries_are_reads(void **state)
{
    (void)state;
    assert_false(is_mut("{ users { edges { node { id } } } }"));
    assert_false(is_mut("query Users($after: String) { users(after: $after) { x } }"));
    assert_false(is_mut("query { mutation }")); /* a field called mutation */
    assert_false(is_mut("query Q($m: String = \"mutation\") { a }"));
    assert_false(is_mut("query { a(s: \"\"\" mutation \\\"\"\" mutation \"\"\") }"));
    assert_false(is_mut("query { a(s: \"mutation \\\" mutation\") }"));
    assert_false(is_mut("# mutation\nquery { a }"));
    assert_false(is_mut("subscription { a }"));
    assert_false(is_mut("Mutation { a }"));
    assert_false(is_mut("mutations { a }"));
    assert_false(is_mut("fragment F on Mutation { id } query { ...F }"));
    assert_false(is_mut(""));
    assert_false(bt_graphql_is_mutation("mutation", 7)); /* length is respected */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mutations_are_writes),
        cmocka_unit_test(queries_are_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
