/* SSL_CERT_FILE reaches every curl handle: the Twingate client's and service
 * mode's. A CA file that does not exist makes the TLS set-up fail with
 * "bad CA file" before a byte is sent; without the variable being honoured
 * the handshake would fail differently (the loopback server speaks plain HTTP). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/http.h"
#include "httpd.h"
#include "service/svc.h"

static void twingate_client_uses_ssl_cert_file(void **state)
{
    (void)state;
    httpd *srv = httpd_start(0);
    char url[64];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/api/graphql/", httpd_port(srv));
    bt_http_limits lim = {.connect_timeout = 2, .timeout = 2, .max_attempts = 1,
                          .max_response_bytes = 1 << 20};
    bt_http_request req = {.url = url, .body = "{}", .body_len = 2, .idempotent = true,
                           .limits = &lim};
    bt_http_response resp;
    setenv("SSL_CERT_FILE", "/nonexistent/bt-test-ca.pem", 1);
    bt_http_client *c = bt_http_client_new("test-agent/1", NULL, NULL);
    bt_http_post(c, &req, &resp);
    assert_int_equal(resp.curl_code, CURLE_SSL_CACERT_BADFILE);
    unsetenv("SSL_CERT_FILE");
    bt_http_client_free(c);
    c = bt_http_client_new("test-agent/1", NULL, NULL);
    bt_http_post(c, &req, &resp); /* unset: the handshake itself fails (or times out) */
    assert_int_not_equal(resp.curl_code, CURLE_SSL_CACERT_BADFILE);
    assert_int_not_equal(resp.curl_code, CURLE_OK);
    bt_http_client_free(c);
    httpd_stop(srv);
}

static void grpc_connection_uses_ssl_cert_file(void **state)
{
    (void)state;
    httpd *srv = httpd_start(0);
    char authority[64];
    snprintf(authority, sizeof authority, "127.0.0.1:%d", httpd_port(srv));
    bt_grpc_conn *c = bt_grpc_conn_new(authority, "test-agent/1");
    bt_buf framed = {0};
    bt_grpc_frame_append(&framed, "", 0);
    bt_grpc_membody mem = {&framed, 0};
    bt_grpc_body body = bt_grpc_body_mem(&mem);
    bt_grpc_result r;
    setenv("SSL_CERT_FILE", "/nonexistent/bt-test-ca.pem", 1);
    assert_int_equal(bt_grpc_call(c, "/x.Y/Z", "Bearer t", &body, 5, &r), BT_GRPC_UNAVAILABLE);
    assert_non_null(strstr(r.message, "/nonexistent/bt-test-ca.pem"));
    assert_null(strstr(r.message, "Bearer")); /* the token is never in a message */
    unsetenv("SSL_CERT_FILE");
    bt_buf_free(&framed);
    bt_grpc_conn_free(c);
    httpd_stop(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(twingate_client_uses_ssl_cert_file),
        cmocka_unit_test(grpc_connection_uses_ssl_cert_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
