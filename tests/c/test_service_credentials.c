/* Service mode's credentials: the client id and secret checks, the strict
 * base64url and JSON readers under them, and the EdDSA client assertion
 * verified with the public key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/svc.h"

/* ---- a key pair and secrets built from it ---- */

static unsigned char g_seed[32], g_pub[32];

static int make_key(void **state)
{
    (void)state;
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    size_t n = 32;
    EVP_PKEY_keygen_init(ctx);
    EVP_PKEY_keygen(ctx, &k);
    EVP_PKEY_get_raw_private_key(k, g_seed, &n);
    n = 32;
    EVP_PKEY_get_raw_public_key(k, g_pub, &n);
    EVP_PKEY_free(k);
    EVP_PKEY_CTX_free(ctx);
    return 0;
}

static void b64(const unsigned char *p, size_t n, char *out) { bt_b64url_encode(p, n, out); }

/* "secret-token:conductorone.com:<version>:<base64url(jwk)>" */
static char *secret_from_jwk(const char *version, const char *jwk)
{
    char *s = malloc(strlen(jwk) * 2 + 64);
    int at = sprintf(s, "secret-token:conductorone.com:%s:", version);
    b64((const unsigned char *)jwk, strlen(jwk), s + at);
    return s;
}

static char *jwk_text(const char *kty, const char *crv, const unsigned char *x,
                      const unsigned char *d, const char *kid)
{
    char xs[64], ds[64];
    char *j = malloc(512);
    b64(x, 32, xs);
    b64(d ? d : x, 32, ds);
    sprintf(j, "{\"kty\":\"%s\",\"crv\":\"%s\",\"x\":\"%s\"%s%s%s%s%s%s}", kty, crv, xs,
            d ? ",\"d\":\"" : "", d ? ds : "", d ? "\"" : "", kid ? ",\"kid\":\"" : "",
            kid ? kid : "", kid ? "\"" : "");
    return j;
}

static int parse_secret(const char *secret, bt_svc_creds *c, char *err, size_t n)
{
    memset(c, 0, sizeof *c);
    return bt_svc_parse_client_secret(secret, c, err, n);
}

/* ---- client id ---- */

static void client_id_parts(void **state)
{
    (void)state;
    bt_svc_creds c = {0};
    char err[256];
    assert_int_equal(bt_svc_parse_client_id("strange-hydra-68836@acme.conductor.one/pcc", &c, err,
                                            sizeof err), 0);
    assert_string_equal(c.client_name, "strange-hydra-68836");
    assert_string_equal(c.host, "acme.conductor.one");
    assert_string_equal(c.aud, "acme.conductor.one");
    assert_string_equal(c.client_id, "strange-hydra-68836@acme.conductor.one/pcc");
    bt_svc_creds_free(&c);
    assert_int_equal(bt_svc_parse_client_id("quiet-otter@localhost:8443/x/y", &c, err, sizeof err), 0);
    assert_string_equal(c.host, "localhost:8443");
    assert_string_equal(c.aud, "localhost"); /* the port never reaches aud */
    bt_svc_creds_free(&c);
}

static void client_id_refused(void **state)
{
    (void)state;
    const char *bad[] = {"no-at-sign.example/pcc", "name@host-without-slash", "",
                         "name@/pcc", "name@ho st/pcc", "name@host:/pcc", "name@host:123456/pcc",
                         "name@host\n/pcc", "name@evil.com#@x/pcc", NULL};
    for (int i = 0; bad[i]; i++) {
        bt_svc_creds c = {0};
        char err[256] = "";
        assert_int_equal(bt_svc_parse_client_id(bad[i], &c, err, sizeof err), -1);
        assert_non_null(strstr(err, "invalid client id"));
        bt_svc_creds_free(&c);
    }
}

/* ---- client secret ---- */

static void secret_accepted(void **state)
{
    (void)state;
    char *jwk = jwk_text("OKP", "Ed25519", g_pub, g_seed, "key-1");
    char *secret = secret_from_jwk("v1", jwk);
    bt_svc_creds c;
    char err[256];
    assert_int_equal(parse_secret(secret, &c, err, sizeof err), 0);
    assert_memory_equal(c.seed, g_seed, 32);
    assert_memory_equal(c.pub, g_pub, 32);
    assert_string_equal(c.kid, "key-1");
    bt_svc_creds_free(&c);
    free(secret);
    free(jwk);
}

static void expect_refused(const char *secret, const char *why)
{
    bt_svc_creds c;
    char err[256] = "";
    assert_int_equal(parse_secret(secret, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, why));
    /* The message never quotes the secret or its key material. */
    const char *payload = strrchr(secret, ':');
    if (payload && strlen(payload) > 8)
        assert_null(strstr(err, payload + 1));
    char ds[64];
    b64(g_seed, 32, ds);
    assert_null(strstr(err, ds));
    bt_svc_creds_free(&c);
}

static void secret_refused(void **state)
{
    (void)state;
    unsigned char other[32];
    memcpy(other, g_pub, 32);
    other[0] ^= 1;
    char *good = jwk_text("OKP", "Ed25519", g_pub, g_seed, NULL);
    char *s;
    expect_refused("secret-token:conductorone.com:v1", "4 parts");
    s = secret_from_jwk("v2", good);
    expect_refused(s, "version");
    free(s);
    char padded[600];
    s = secret_from_jwk("v1", good);
    snprintf(padded, sizeof padded, "%s==", s);
    expect_refused(padded, "base64url");
    snprintf(padded, sizeof padded, "%s:extra", s); /* a 5th part ends up in the payload */
    expect_refused(padded, "base64url");
    free(s);
    struct { char *jwk; const char *why; } cases[] = {
        {jwk_text("OKP", "Ed25519", g_pub, NULL, NULL), "not a private key"},
        {jwk_text("RSA", "Ed25519", g_pub, g_seed, NULL), "not an Ed25519"},
        {jwk_text("OKP", "X25519", g_pub, g_seed, NULL), "not an Ed25519"},
        {jwk_text("OKP", "Ed25519", other, g_seed, NULL), "does not match"},
        {strdup("[1,2,3]"), "not a JSON object"},
        {strdup("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\",\"d\":\"AAAA\"}"), "32 bytes"},
        {strdup("{\"kty\":\"OKP\",\"crv\":\"Ed25519\""), "not a JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s = secret_from_jwk("v1", cases[i].jwk);
        expect_refused(s, cases[i].why);
        free(s);
        free(cases[i].jwk);
    }
    free(good);
}

/* ---- strict readers ---- */

static void json_reader(void **state)
{
    (void)state;
    bt_jmin_value v;
    const char *j = "{ \"a\" : [1, {\"x\": null}], \"b\":\"q\\u00e9\\n\\\"\", \"n\": -12 }";
    assert_int_equal(bt_jmin_find(j, strlen(j), "b", &v), 1);
    assert_int_equal(v.type, BT_JMIN_STRING);
    assert_string_equal(v.text, "q\xc3\xa9\n\"");
    bt_jmin_value_free(&v);
    assert_int_equal(bt_jmin_find(j, strlen(j), "n", &v), 1);
    assert_int_equal(v.type, BT_JMIN_NUMBER);
    assert_string_equal(v.text, "-12");
    bt_jmin_value_free(&v);
    assert_int_equal(bt_jmin_find(j, strlen(j), "missing", &v), 0);
    const char *bad[] = {"{\"a\":1,}", "{\"a\" 1}", "{\"a\":\"\x01\"}", "{\"a\":1} x", "[]",
                         "{\"a\":tru}", "{\"a\":\"\\ud800\"}", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(bt_jmin_find(bad[i], strlen(bad[i]), "a", &v), -1);
}

/* NUL bytes inside the input (the length is explicit): a backslash before a
 * NUL used to read past the escape table (ASan: global-buffer-overflow), and a
 * NUL passed as a digit of a number. Both are malformed; so is \u0000. */
static void json_reader_nul_bytes(void **state)
{
    (void)state;
    bt_jmin_value v;
    static const char esc_nul[] = "{\"a\":\"x\\\0\"}";
    static const char num_nul[] = "{\"a\":1\0}";
    static const char num_nul2[] = "{\"a\":1\0 , \"b\":2}";
    static const char u0000[] = "{\"a\":\"x\\u0000y\"}";
    assert_int_equal(bt_jmin_find(esc_nul, sizeof esc_nul - 1, "a", &v), -1);
    assert_int_equal(bt_jmin_find(num_nul, sizeof num_nul - 1, "a", &v), -1);
    assert_int_equal(bt_jmin_find(num_nul2, sizeof num_nul2 - 1, "b", &v), -1);
    assert_int_equal(bt_jmin_find(u0000, sizeof u0000 - 1, "a", &v), -1);
    /* A backslash as the very last byte of the input. */
    assert_int_equal(bt_jmin_find("{\"a\":\"\\", 7, "a", &v), -1);
}

/* ---- the assertion ---- */

static char *decode_part(const char *p, size_t n)
{
    char *out = calloc(1, n + 1);
    assert_true(bt_b64url_decode(p, n, (unsigned char *)out) > 0);
    return out;
}

static long number(const char *json, const char *key)
{
    bt_jmin_value v;
    assert_int_equal(bt_jmin_find(json, strlen(json), key, &v), 1);
    long n = strtol(v.text, NULL, 10);
    bt_jmin_value_free(&v);
    return n;
}

static void string_is(const char *json, const char *key, const char *want)
{
    bt_jmin_value v;
    assert_int_equal(bt_jmin_find(json, strlen(json), key, &v), 1);
    assert_string_equal(v.text, want);
    bt_jmin_value_free(&v);
}

static void check_signature(const char *jws, const char *dot2)
{
    unsigned char sig[80];
    assert_int_equal(bt_b64url_decode(dot2 + 1, strlen(dot2 + 1), sig), 64);
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, g_pub, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk), 1);
    assert_int_equal(EVP_DigestVerify(ctx, sig, 64, (const unsigned char *)jws, (size_t)(dot2 - jws)), 1);
    /* One changed byte of the signed text no longer verifies. */
    char *tampered = strndup(jws, (size_t)(dot2 - jws));
    tampered[3] ^= 1;
    EVP_MD_CTX_free(ctx);
    ctx = EVP_MD_CTX_new();
    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk);
    assert_int_not_equal(EVP_DigestVerify(ctx, sig, 64, (unsigned char *)tampered, strlen(tampered)), 1);
    free(tampered);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
}

static void assertion_round_trip(void **state)
{
    (void)state;
    bt_svc_creds c = {0};
    char err[256];
    char *jwk = jwk_text("OKP", "Ed25519", g_pub, g_seed, NULL);
    char *secret = secret_from_jwk("v1", jwk);
    assert_int_equal(bt_svc_parse_client_id("quiet-otter-12345@localhost:9443/pcc", &c, err, sizeof err), 0);
    assert_int_equal(bt_svc_parse_client_secret(secret, &c, err, sizeof err), 0);
    char *jws = bt_svc_jws_assertion(&c, 1700000000);
    assert_non_null(jws);
    char *dot1 = strchr(jws, '.'), *dot2 = strrchr(jws, '.');
    assert_true(dot1 && dot2 && dot1 < dot2);
    char *header = decode_part(jws, (size_t)(dot1 - jws));
    char *payload = decode_part(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    string_is(header, "alg", "EdDSA");
    bt_jmin_value nonce;
    assert_int_equal(bt_jmin_find(header, strlen(header), "nonce", &nonce), 1);
    assert_int_equal(strlen(nonce.text), 32);
    assert_int_equal(strspn(nonce.text, "0123456789abcdef"), 32);
    bt_jmin_value_free(&nonce);
    assert_int_equal(bt_jmin_find(header, strlen(header), "kid", &nonce), 0);
    string_is(payload, "iss", "quiet-otter-12345@localhost:9443/pcc");
    string_is(payload, "sub", "quiet-otter-12345@localhost:9443/pcc");
    string_is(payload, "aud", "localhost");
    assert_int_equal(number(payload, "iat"), 1700000000);
    assert_int_equal(number(payload, "exp") - number(payload, "nbf"), 240);
    assert_int_equal(number(payload, "nbf"), 1700000000 - 120);
    check_signature(jws, dot2);
    char *again = bt_svc_jws_assertion(&c, 1700000000);
    assert_string_not_equal(again, jws); /* a fresh nonce every time */
    free(again);
    free(header);
    free(payload);
    free(jws);
    free(secret);
    free(jwk);
    bt_svc_creds_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(client_id_parts),
        cmocka_unit_test(client_id_refused),
        cmocka_unit_test(secret_accepted),
        cmocka_unit_test(secret_refused),
        cmocka_unit_test(json_reader),
        cmocka_unit_test(json_reader_nul_bytes),
        cmocka_unit_test(assertion_round_trip),
    };
    return cmocka_run_group_tests(tests, make_key, NULL);
}
