/* "did you mean ...?" for misspelt field names: the closest known name. */
#ifndef BT_SUGGEST_H
#define BT_SUGGEST_H
#include <stddef.h>

/* Writes " (did you mean 'x'?)" into out, or "" when there is no suggestion. */
void bt_suggest_hint(const char *word, const char *const *candidates, char *out, size_t n);

#endif
