/* The client assertion: a compact JWS, EdDSA over
 * BASE64URL(header) "." BASE64URL(payload), with a fresh random nonce. */
#include "service/svc.h"
#include "bt/codec.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A JSON string of the few values we put in (ids are printable). */
static void json_str(bt_buf *b, const char *s)
{
    bt_json_str_append(b, s, strlen(s));
}

static int header_json(const bt_svc_creds *c, bt_buf *b)
{
    unsigned char nonce[16];
    char hex[33];
    if (RAND_bytes(nonce, sizeof nonce) != 1)
        return -1;
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", nonce[i]);
    bt_buf_puts(b, "{\"alg\":\"EdDSA\",\"nonce\":\"");
    bt_buf_puts(b, hex);
    bt_buf_puts(b, "\"");
    if (c->kid) {
        bt_buf_puts(b, ",\"kid\":");
        json_str(b, c->kid);
    }
    return bt_buf_puts(b, "}");
}

static int payload_json(const bt_svc_creds *c, long now, bt_buf *b)
{
    char times[128];
    bt_buf_puts(b, "{\"iss\":");
    json_str(b, c->client_id);
    bt_buf_puts(b, ",\"sub\":");
    json_str(b, c->client_id);
    bt_buf_puts(b, ",\"aud\":");
    json_str(b, c->aud);
    snprintf(times, sizeof times, ",\"iat\":%ld,\"nbf\":%ld,\"exp\":%ld}", now, now - 120,
             now + 120);
    return bt_buf_puts(b, times);
}

static int append_b64(bt_buf *out, const unsigned char *p, size_t n)
{
    if (bt_buf_reserve(out, bt_b64url_encoded_len(n) + 1) != 0)
        return -1;
    out->len += bt_b64url_encode(p, n, out->data + out->len);
    return 0;
}

static int sign(const bt_svc_creds *c, const bt_buf *input, unsigned char sig[64])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, c->seed, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t n = 64;
    int ok = k && ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) == 1 &&
             EVP_DigestSign(ctx, sig, &n, (const unsigned char *)input->data, input->len) == 1 &&
             n == 64;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    return ok ? 0 : -1;
}

char *bt_svc_jws_assertion(const bt_svc_creds *c, long now)
{
    bt_buf h = {0}, p = {0}, out = {0};
    unsigned char sig[64];
    int rc = header_json(c, &h) | payload_json(c, now, &p);
    rc |= append_b64(&out, (unsigned char *)h.data, h.len);
    rc |= bt_buf_puts(&out, ".");
    rc |= append_b64(&out, (unsigned char *)p.data, p.len);
    if (rc == 0 && out.data && sign(c, &out, sig) == 0) {
        rc |= bt_buf_puts(&out, ".");
        rc |= append_b64(&out, sig, sizeof sig);
    } else
        rc = -1;
    bt_buf_free(&h);
    bt_buf_free(&p);
    if (rc != 0) {
        bt_buf_free(&out);
        return NULL;
    }
    return out.data;
}
