/* One place that prints failures (one line on stderr, the traceback at
 * debug) and what a sync left out on purpose. */
#include "bt/driver.h"
#include "bt/log.h"

#include <stdio.h>
#include <string.h>

void bt_driver_report(const char *what, const bt_host_error *err)
{
    char clean[sizeof err->message];
    bt_log_redact(err->message, clean, sizeof clean);
    if (what)
        fprintf(stderr, "error: %s: %s\n", what, clean);
    else
        fprintf(stderr, "error: %s\n", clean);
    if (err->traceback[0])
        bt_debug("%s", err->traceback);
}

/* The total of counts, and "cause n, cause n" in summary; warn: one warn
 * line a cause (skips are data left out; filtered nodes are the user's choice). */
static uint64_t tally(const bt_sink_skip_count *counts, size_t count, bool warn, char *summary,
                      size_t size)
{
    uint64_t total = 0;
    size_t used = 0;
    summary[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        const bt_sink_skip_count *c = &counts[i];
        total += c->n;
        if (warn)
            bt_warn("sync skipped %llu (cause %s)", (unsigned long long)c->n, c->cause);
        if (used < size)
            used += (size_t)snprintf(summary + used, size - used, "%s%s %llu", i ? ", " : "",
                                     c->cause, (unsigned long long)c->n);
    }
    return total;
}

uint64_t bt_driver_report_skips(const bt_sink_counts *n, char *summary, size_t size)
{
    return tally(n->skipped, n->n_skipped, true, summary, size);
}

uint64_t bt_driver_report_filtered(const bt_sink_counts *n, char *summary, size_t size)
{
    return tally(n->filtered, n->n_filtered, false, summary, size);
}
