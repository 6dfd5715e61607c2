/* The resolved configuration (flag > BATON_* env > .baton.yaml > default).
 * A process-wide store of name -> string value. Secret values can be read from
 * C (e.g. to build an auth header) but are never handed to Lua or logged. */
#ifndef BT_CONFIG_H
#define BT_CONFIG_H
#include <stdbool.h>

void bt_config_reset(void);
/* Copies name and value. secret=true also registers the value for log redaction. */
int bt_config_set(const char *name, const char *value, bool secret);
/* NULL when unset. */
const char *bt_config_get(const char *name);
bool bt_config_is_secret(const char *name);
/* Treat field name as secret whatever the contract said (scripts cannot read
 * it, the log redacts it); a field not set yet is recorded as secret and
 * unset. 0, or -1 when the store is full. */
int bt_config_mark_secret(const char *name);

#endif
