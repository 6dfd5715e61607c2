/* Closest-name suggestions for unknown fields (Levenshtein distance with
 * adjacent swaps counted as one edit, so "secrte" is one step from "secret"). */
#include "bt/suggest.h"

#include <stdio.h>
#include <string.h>

#define MAX_WORD 64

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

/* Optimal string alignment distance; words longer than MAX_WORD never match. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > MAX_WORD || lb > MAX_WORD)
        return (size_t)-1;
    size_t d[MAX_WORD + 1][MAX_WORD + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < d[i][j])
                d[i][j] = d[i - 2][j - 2] + 1;
        }
    return d[la][lb];
}

/* The candidate (a NULL-terminated list) closest to word by edit distance, or
 * NULL when none is close enough to be a plausible typo. */
static const char *closest(const char *word, const char *const *candidates)
{
    /* A third of the word's length (at least one edit) is still a typo; more
     * would suggest unrelated names. */
    size_t limit = strlen(word) / 3 > 0 ? strlen(word) / 3 : 1;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; candidates[i]; i++) {
        size_t dist = distance(word, candidates[i]);
        if (dist < best_d) {
            best = candidates[i];
            best_d = dist;
        }
    }
    return best;
}

void bt_suggest_hint(const char *word, const char *const *candidates, char *out, size_t n)
{
    const char *best = closest(word, candidates);
    if (best)
        snprintf(out, n, " (did you mean '%s'?)", best);
    else if (n > 0)
        out[0] = '\0';
}
