/* Process-wide store of resolved configuration values. */
#include "bt/config.h"
#include "bt/log.h"
#include "bt/secret.h"

#include <stdlib.h>
#include <string.h>

#define BT_CONFIG_MAX 64

typedef struct {
    char *name;
    char *value;
    bool secret;
} config_entry;

static config_entry entries[BT_CONFIG_MAX];
static int entry_count;

void bt_config_reset(void)
{
    for (int i = 0; i < entry_count; i++) {
        free(entries[i].name);
        bt_secret_free(entries[i].value);
    }
    entry_count = 0;
}

static config_entry *find(const char *name)
{
    for (int i = 0; i < entry_count; i++)
        if (strcmp(entries[i].name, name) == 0)
            return &entries[i];
    return NULL;
}

int bt_config_set(const char *name, const char *value, bool secret)
{
    config_entry *e = find(name);
    if (!e) {
        if (entry_count == BT_CONFIG_MAX)
            return -1;
        e = &entries[entry_count];
        e->name = strdup(name);
        e->value = NULL;
        if (!e->name)
            return -1;
        entry_count++;
    }
    bt_secret_free(e->value);
    e->value = value ? strdup(value) : NULL;
    e->secret = secret;
    if (secret && value)
        bt_log_add_secret(value);
    return 0;
}

const char *bt_config_get(const char *name)
{
    config_entry *e = find(name);
    return e ? e->value : NULL;
}

bool bt_config_is_secret(const char *name)
{
    config_entry *e = find(name);
    return e && e->secret;
}


int bt_config_mark_secret(const char *name)
{
    config_entry *e = find(name);
    if (!e)
        return bt_config_set(name, NULL, true);
    e->secret = true;
    if (e->value)
        bt_log_add_secret(e->value);
    return 0;
}
