/* pterm-style tables for `show` (the baton CLI's console output). */
#include <stdint.h>
#include <string.h>

#include "bt/codec.h"
#include "bt/show.h"

static const char REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD */
static const char SEPARATOR[] = " | ";

static bool is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/* Length in bytes of the next printable unit of s: a valid non-control code
 * point (*printable = true), or one byte/code point shown as U+FFFD. */
static size_t next_unit(const char *s, size_t n, bool *printable)
{
    uint32_t cp = 0;
    size_t len = bt_utf8_next(s, n, &cp);
    *printable = len > 0 && !is_control(cp);
    return len ? len : 1;
}

size_t bt_show_display_width(const char *s)
{
    size_t n = s ? strlen(s) : 0, width = 0;
    bool printable;
    for (size_t i = 0; i < n; width++)
        i += next_unit(s + i, n - i, &printable);
    return width;
}

/* Print at most max code points of s made printable; returns how many. */
static size_t print_display_n(FILE *out, const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0, shown = 0;
    bool printable;
    for (size_t i = 0; i < n && shown < max; shown++) {
        size_t len = next_unit(s + i, n - i, &printable);
        if (printable)
            fwrite(s + i, 1, len, out);
        else
            fputs(REPLACEMENT, out);
        i += len;
    }
    return shown;
}

void bt_show_print_display(FILE *out, const char *s) { (void)print_display_n(out, s, SIZE_MAX); }

void bt_show_print_failure(FILE *out, const char *command, const char *file, const char *msg)
{
    fputs(command, out);
    fputs(": ", out);
    if (file) {
        bt_show_print_display(out, file);
        fputs(": ", out);
    }
    bt_show_print_display(out, msg);
    fputc('\n', out);
}

/* A cell wider than BT_SHOW_MAX_CELL shows its first BT_SHOW_MAX_CELL - 1
 * code points and an ellipsis. */
static size_t print_cell(FILE *out, const char *s)
{
    size_t w = bt_show_display_width(s);
    if (w <= BT_SHOW_MAX_CELL)
        return print_display_n(out, s, w);
    print_display_n(out, s, BT_SHOW_MAX_CELL - 1);
    fputs("\xE2\x80\xA6", out); /* U+2026 */
    return BT_SHOW_MAX_CELL;
}

/* RFC 4180: quoted when it holds a comma, a quote or a line break. */
static void print_csv_cell(FILE *out, const char *s)
{
    s = s ? s : "";
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void print_csv_row(const bt_show_table *t, const char *const *cells)
{
    for (size_t i = 0; i < t->ncols; i++) {
        if (i > 0)
            fputc(',', t->out);
        print_csv_cell(t->out, cells[i]);
    }
    fputs("\r\n", t->out);
}

void bt_show_table_init(bt_show_table *t, FILE *out, const char *const *header, size_t ncols)
{
    memset(t, 0, sizeof *t);
    t->out = out;
    t->ncols = ncols < BT_SHOW_MAX_COLS ? ncols : BT_SHOW_MAX_COLS;
    bt_show_table_measure(t, header);
}

void bt_show_table_measure(bt_show_table *t, const char *const *cells)
{
    for (size_t i = 0; i < t->ncols; i++) {
        size_t w = bt_show_display_width(cells[i]);
        w = w > BT_SHOW_MAX_CELL ? BT_SHOW_MAX_CELL : w;
        if (w > t->width[i])
            t->width[i] = w;
    }
}

static void print_padding(FILE *out, size_t n)
{
    while (n--)
        fputc(' ', out);
}

void bt_show_table_print(const bt_show_table *t, const char *const *cells)
{
    if (t->csv) {
        print_csv_row(t, cells);
        return;
    }
    for (size_t i = 0; i < t->ncols; i++) {
        if (i > 0)
            fputs(SEPARATOR, t->out);
        size_t w = print_cell(t->out, cells[i]);
        print_padding(t->out, w < t->width[i] ? t->width[i] - w : 0);
    }
    fputc('\n', t->out);
}
