/* pterm-style tables for `show` (the baton CLI's console output). */
#include <string.h>

#include "bt/show.h"

static const char REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD */
static const char SEPARATOR[] = " | ";
static const char ELLIPSIS[] = "\xE2\x80\xA6"; /* U+2026 */

/* A table cell shows at most this many characters, the last an ellipsis when
 * cut: one huge value must not pad every row to its width (--json shows all). */
#define CELL_MAX 80

static bool is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/* Length in bytes of the next printable unit of s: a valid non-control code
 * point (*printable = true), or one byte/code point shown as U+FFFD. */
static size_t next_unit(const char *s, size_t n, bool *printable)
{
    uint32_t cp = 0;
    size_t len = bt_show_utf8_next((const unsigned char *)s, n, &cp);
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

/* The first `units` printable units of s, as bt_show_print_display shows them. */
static void print_units(FILE *out, const char *s, size_t units)
{
    size_t n = s ? strlen(s) : 0;
    bool printable;
    for (size_t i = 0; i < n && units > 0; units--) {
        size_t len = next_unit(s + i, n - i, &printable);
        if (printable)
            fwrite(s + i, 1, len, out);
        else
            fputs(REPLACEMENT, out);
        i += len;
    }
}

void bt_show_print_display(FILE *out, const char *s)
{
    print_units(out, s, (size_t)-1);
}

static size_t cell_width(const char *s)
{
    size_t w = bt_show_display_width(s);
    return w > CELL_MAX ? CELL_MAX : w;
}

static void print_cell(FILE *out, const char *s)
{
    if (bt_show_display_width(s) <= CELL_MAX) {
        bt_show_print_display(out, s);
        return;
    }
    print_units(out, s, CELL_MAX - 1);
    fputs(ELLIPSIS, out);
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
        size_t w = cell_width(cells[i]);
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
    for (size_t i = 0; i < t->ncols; i++) {
        if (i > 0)
            fputs(SEPARATOR, t->out);
        size_t w = cell_width(cells[i]);
        print_cell(t->out, cells[i]);
        print_padding(t->out, w < t->width[i] ? t->width[i] - w : 0);
    }
    fputc('\n', t->out);
}
