/* "did you mean ...?" for misspelt field names: the closest known name. */
#ifndef BT_SUGGEST_H
#define BT_SUGGEST_H
#include <stddef.h>

/* The candidate (a NULL-terminated list) closest to word by edit distance, or
 * NULL when none is close enough to be a plausible typo. */
const char *bt_suggest(const char *word, const char *const *candidates);

/* Writes " (did you mean 'x'?)" into out, or "" when there is no suggestion. */
void bt_suggest_hint(const char *word, const char *const *candidates, char *out, size_t n);

#endif
