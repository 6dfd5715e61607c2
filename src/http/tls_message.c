/* A TLS verification failure said the way an operator acts on it: "TLS:
 * certificate not trusted for <host>" and libcurl's detail, not a bare
 * "SSL peer certificate or SSH remote key was not OK". */
#include "bt/http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

bool bt_http_tls_message(void *curl, int curl_code, const char *detail, char *out, size_t n)
{
    if (curl_code != CURLE_PEER_FAILED_VERIFICATION)
        return false;
    char *url = NULL, host[256] = "the server";
    CURLU *u = curl_url();
    char *h = NULL;
    if (u && curl_easy_getinfo((CURL *)curl, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url &&
        curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK)
        snprintf(host, sizeof host, "%s", h);
    curl_free(h);
    curl_url_cleanup(u);
    snprintf(out, n, "TLS: certificate not trusted for %s (%s); check the address, or point "
             "SSL_CERT_FILE at the CA that signed it", host, detail && *detail ? detail : "not verified");
    return true;
}
