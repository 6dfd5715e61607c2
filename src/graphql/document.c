/* Is a GraphQL document a write? A tiny lexer: a `mutation` keyword outside
 * every bracket makes it one. Looking past the first keyword matters: a
 * document may start with a fragment and hold its mutation further down. */
#include <stdio.h>
#include <string.h>

#include "bt/graphql.h"

typedef struct lex {
    const char *p, *end;
} lex;

static bool name_start(char c)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

static void skip_comment(lex *x)
{
    while (x->p < x->end && *x->p != '\n' && *x->p != '\r')
        x->p++;
}

static bool at(const lex *x, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(x->end - x->p) >= n && memcmp(x->p, s, n) == 0;
}

/* x->p is on the opening quote. */
static void skip_string(lex *x)
{
    bool block = at(x, "\"\"\"");
    x->p += block ? 3 : 1;
    while (x->p < x->end) {
        if (block && at(x, "\\\"\"\"")) {
            x->p += 4;
        } else if (block && at(x, "\"\"\"")) {
            x->p += 3;
            return;
        } else if (!block && *x->p == '\\' && x->p + 1 < x->end) {
            x->p += 2;
        } else if (!block && (*x->p == '"' || *x->p == '\n')) {
            x->p++;
            return;
        } else {
            x->p++;
        }
    }
}

static bool is_word(const char *s, size_t n, const char *word)
{
    return n == strlen(word) && memcmp(s, word, n) == 0;
}

/* The name after the first operation keyword at depth 0 ("query Users(...)"
 * -> "Users"); "" for an anonymous operation or shorthand "{ ... }". */
void bt_graphql_operation_name(const char *doc, size_t len, char *out, size_t n)
{
    lex x = {doc, doc + len};
    bool after_keyword = false;
    out[0] = '\0';
    while (x.p < x.end) {
        char c = *x.p;
        if (c == '#') {
            skip_comment(&x);
        } else if (name_start(c)) {
            const char *s = x.p;
            while (x.p < x.end && name_char(*x.p))
                x.p++;
            size_t w = (size_t)(x.p - s);
            if (after_keyword) {
                snprintf(out, n, "%.*s", (int)w, s);
                return;
            }
            after_keyword = is_word(s, w, "query") || is_word(s, w, "mutation") ||
                            is_word(s, w, "subscription");
            if (!after_keyword)
                return; /* a fragment or something else first */
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || (unsigned char)c >= 0x80) {
            x.p++;
        } else {
            return; /* "(" or "{": no name */
        }
    }
}

bool bt_graphql_is_mutation(const char *doc, size_t len)
{
    lex x = {doc, doc + len};
    int depth = 0;
    while (x.p < x.end) {
        char c = *x.p;
        if (c == '#') {
            skip_comment(&x);
        } else if (c == '"') {
            skip_string(&x);
        } else if (name_start(c)) {
            const char *s = x.p;
            while (x.p < x.end && name_char(*x.p))
                x.p++;
            if (depth == 0 && is_word(s, (size_t)(x.p - s), "mutation"))
                return true;
        } else {
            if (c == '{' || c == '(' || c == '[')
                depth++;
            else if ((c == '}' || c == ')' || c == ']') && depth > 0)
                depth--;
            x.p++; /* whitespace, commas, BOM bytes, punctuators, digits */
        }
    }
    return false;
}
