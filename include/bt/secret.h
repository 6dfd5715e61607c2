/* Heap copies of secrets (the API key, the client secret, a token): every one
 * is released through bt_secret_free, so none is left readable in freed
 * memory. Copies: the cli values (cli/flags.c), the config store
 * (util/config.c), the log redaction list (util/log.c), the GraphQL session and
 * HTTP client (graphql/session.c, http/client.c), service credentials and
 * token (service/). */
#ifndef BT_SECRET_H
#define BT_SECRET_H

/* Overwrite the NUL-terminated s with zeros, then free it; NULL is a no-op. */
void bt_secret_free(char *s);

#endif
