/* The one way a heap copy of a secret is released (bt/secret.h). */
#include "bt/secret.h"

#include <stdlib.h>
#include <string.h>

void bt_secret_free(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}
