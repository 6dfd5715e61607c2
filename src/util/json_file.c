/* The codec's JSON output to a FILE* (bt/json_write.h). */
#include "bt/json_write.h"

static int put_file(void *f, const char *s, size_t n)
{
    return fwrite(s, 1, n, f) == n ? 0 : -1;
}

void bt_jw_init(bt_jw *w, FILE *f, int indent) { bt_jw_start(w, put_file, f, indent); }

void bt_json_write_string(FILE *f, const char *s, size_t n)
{
    bt_json_escape(s, n, put_file, f);
}
