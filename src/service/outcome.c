/* The outcome a task process sends its daemon: a fixed header, the status
 * text, the response type URL and the response bytes. */
#include "service/svc.h"

#include <string.h>
#include <unistd.h>

typedef struct {
    char magic[4]; /* "BTO1" */
    int32_t code;
    int32_t non_retryable;
    uint32_t text_len, type_len, value_len;
} header;

int bt_svc_outcome_encode(const bt_svc_outcome *o, bt_http_buf *b)
{
    header h = {{'B', 'T', 'O', '1'}, o->code, o->non_retryable, (uint32_t)strlen(o->text),
                (uint32_t)strlen(o->type_url), (uint32_t)o->value.len};
    int rc = bt_http_buf_append(b, &h, sizeof h);
    rc |= bt_http_buf_append(b, o->text, h.text_len);
    rc |= bt_http_buf_append(b, o->type_url, h.type_len);
    if (h.value_len)
        rc |= bt_http_buf_append(b, o->value.data, h.value_len);
    return rc;
}

int bt_svc_outcome_decode(const bt_http_buf *b, bt_svc_outcome *o)
{
    header h;
    memset(o, 0, sizeof *o);
    if (b->len < sizeof h)
        return -1;
    memcpy(&h, b->data, sizeof h);
    if (memcmp(h.magic, "BTO1", 4) != 0 || h.text_len >= sizeof o->text ||
        h.type_len >= sizeof o->type_url ||
        (size_t)h.text_len + h.type_len + h.value_len != b->len - sizeof h)
        return -1;
    const char *p = b->data + sizeof h;
    o->code = h.code;
    o->non_retryable = h.non_retryable != 0;
    memcpy(o->text, p, h.text_len);
    memcpy(o->type_url, p + h.text_len, h.type_len);
    if (h.value_len && bt_http_buf_append(&o->value, p + h.text_len + h.type_len, h.value_len) != 0)
        return -1;
    return 0;
}

void bt_svc_outcome_write_now(int fd, int code, const char *text)
{
    size_t n = strlen(text);
    if (n >= sizeof ((bt_svc_outcome *)0)->text)
        n = sizeof ((bt_svc_outcome *)0)->text - 1;
    header h = {{'B', 'T', 'O', '1'}, code, 0, (uint32_t)n, 0, 0};
    ssize_t w = write(fd, &h, sizeof h);
    if (w == (ssize_t)sizeof h)
        w = write(fd, text, n);
    (void)w; /* the daemon reports a short outcome as a lost one */
}
