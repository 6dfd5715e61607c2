/* SSL_CERT_FILE / SSL_CERT_DIR, when set, point every libcurl handle of the
 * binary at another trust store (a private CA, a test CA), as OpenSSL's own
 * defaults and Go's crypto/x509 read them. */
#include "bt/http.h"

#include <curl/curl.h>
#include <stdlib.h>

bool bt_http_apply_ca_env(void *curl)
{
    const char *file = getenv("SSL_CERT_FILE"), *dir = getenv("SSL_CERT_DIR");
    bool ok = true;
    if (file && *file)
        ok &= curl_easy_setopt(curl, CURLOPT_CAINFO, file) == CURLE_OK;
    if (dir && *dir)
        ok &= curl_easy_setopt(curl, CURLOPT_CAPATH, dir) == CURLE_OK;
    return ok;
}
