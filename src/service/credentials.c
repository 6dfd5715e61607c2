/* The client id (<name>@<host>/<suffix>) and the client secret
 * (secret-token:conductorone.com:v1:<base64url JWK>) checked at start-up,
 * before any network traffic. Error texts never quote the secret. */
#include "service/svc.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errsz, const char *msg)
{
    snprintf(err, errsz, "%s", msg);
    return -1;
}

/* Host characters we are willing to put in a URL: [A-Za-z0-9.-], and a
 * trailing :port of digits. */
static bool host_ok(const char *h, size_t n)
{
    size_t colon = n;
    for (size_t i = 0; i < n; i++) {
        char ch = h[i];
        if (ch == ':' && colon == n && i > 0)
            colon = i;
        else if (i > colon ? !(ch >= '0' && ch <= '9')
                           : !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                               (ch >= '0' && ch <= '9') || ch == '.' || ch == '-'))
            return false;
    }
    if (colon == n)
        return n > 0;
    return n - colon - 1 >= 1 && n - colon - 1 <= 5; /* ":" then 1-5 digits */
}

int bt_svc_parse_client_id(const char *id, bt_svc_creds *c, char *err, size_t errsz)
{
    const char *at = strchr(id, '@');
    const char *slash = at ? strchr(at + 1, '/') : NULL;
    if (!at || !slash)
        return fail(err, errsz, "invalid client id: expected <name>@<host>/<suffix>");
    for (const char *p = id; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return fail(err, errsz, "invalid client id: it holds spaces or control characters");
    size_t hn = (size_t)(slash - at - 1);
    if (!host_ok(at + 1, hn))
        return fail(err, errsz, "invalid client id: the part after '@' is not a host name");
    c->client_id = strdup(id);
    c->client_name = strndup(id, (size_t)(at - id));
    c->host = strndup(at + 1, hn);
    const char *colon = memchr(at + 1, ':', hn);
    c->aud = strndup(at + 1, colon ? (size_t)(colon - at - 1) : hn);
    if (!c->client_id || !c->client_name || !c->host || !c->aud)
        return fail(err, errsz, "out of memory");
    return 0;
}

/* A base64url member of the JWK that must decode to exactly 32 bytes. */
static int key_member(const char *jwk, size_t len, const char *name, unsigned char out[32])
{
    bt_jmin_value v;
    unsigned char tmp[48];
    int found = bt_jmin_find(jwk, len, name, &v);
    long n = -1;
    if (found == 1 && v.type == BT_JMIN_STRING && v.len <= 64)
        n = bt_b64url_decode(v.text, v.len, tmp);
    bt_jmin_value_free(&v);
    if (n == 32)
        memcpy(out, tmp, 32);
    explicit_bzero(tmp, sizeof tmp);
    return n == 32 ? 0 : -1;
}

static bool member_is(const char *jwk, size_t len, const char *name, const char *want)
{
    bt_jmin_value v;
    bool ok = bt_jmin_find(jwk, len, name, &v) == 1 && v.type == BT_JMIN_STRING &&
              strcmp(v.text, want) == 0;
    bt_jmin_value_free(&v);
    return ok;
}

/* The public key derived from the seed must be the JWK's x. */
static bool seed_matches(const bt_svc_creds *c)
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, c->seed, 32);
    unsigned char pub[32];
    size_t n = sizeof pub;
    bool ok = k && EVP_PKEY_get_raw_public_key(k, pub, &n) == 1 && n == 32 &&
              memcmp(pub, c->pub, 32) == 0;
    EVP_PKEY_free(k);
    return ok;
}

static int read_kid(const char *jwk, size_t len, bt_svc_creds *c, char *err, size_t errsz)
{
    bt_jmin_value v;
    int found = bt_jmin_find(jwk, len, "kid", &v);
    if (found == 1 && v.type != BT_JMIN_STRING) {
        bt_jmin_value_free(&v);
        return fail(err, errsz, "invalid client secret: the key's kid is not a string");
    }
    if (found == 1)
        c->kid = strndup(v.text, v.len);
    bt_jmin_value_free(&v);
    return 0;
}

static int parse_jwk(const char *jwk, size_t len, bt_svc_creds *c, char *err, size_t errsz)
{
    bt_jmin_value v;
    if (bt_jmin_find(jwk, len, "kty", &v) < 0)
        return fail(err, errsz, "invalid client secret: the key is not a JSON object");
    bt_jmin_value_free(&v);
    if (!member_is(jwk, len, "kty", "OKP") || !member_is(jwk, len, "crv", "Ed25519"))
        return fail(err, errsz, "invalid client secret: the key is not an Ed25519 (OKP) key");
    if (key_member(jwk, len, "x", c->pub) != 0)
        return fail(err, errsz, "invalid client secret: the key's x is missing or not 32 bytes");
    if (key_member(jwk, len, "d", c->seed) != 0)
        return fail(err, errsz, "invalid client secret: not a private key (d missing or not 32 bytes)");
    if (!seed_matches(c))
        return fail(err, errsz, "invalid client secret: the key's x does not match its d");
    return read_kid(jwk, len, c, err, errsz);
}

int bt_svc_parse_client_secret(const char *secret, bt_svc_creds *c, char *err, size_t errsz)
{
    const char *p1 = strchr(secret, ':');
    const char *p2 = p1 ? strchr(p1 + 1, ':') : NULL;
    const char *p3 = p2 ? strchr(p2 + 1, ':') : NULL;
    if (!p3)
        return fail(err, errsz, "invalid client secret: expected 4 parts separated by ':'");
    if (p3 - p2 - 1 != 2 || strncmp(p2 + 1, "v1", 2) != 0)
        return fail(err, errsz, "invalid client secret: unsupported version (want v1)");
    const char *payload = p3 + 1;
    size_t n = strlen(payload);
    unsigned char *jwk = malloc(n * 3 / 4 + 1);
    if (!jwk)
        return fail(err, errsz, "out of memory");
    long len = bt_b64url_decode(payload, n, jwk);
    int rc = len <= 0 ? fail(err, errsz, "invalid client secret: the key is not unpadded base64url")
                      : parse_jwk((const char *)jwk, (size_t)len, c, err, errsz);
    explicit_bzero(jwk, n * 3 / 4 + 1);
    free(jwk);
    return rc;
}

void bt_svc_creds_free(bt_svc_creds *c)
{
    free(c->client_id);
    free(c->client_name);
    free(c->host);
    free(c->aud);
    free(c->kid);
    explicit_bzero(c, sizeof *c);
}
