/* Progress records of the lists a sync walks, for a person (console) and a
 * monitor (JSON fields). */
#include <stdio.h>
#include <string.h>

#include "bt/graphql.h"
#include "bt/log.h"

/* 20000 -> "20,000" */
static void thousands(long long v, char *out, size_t n)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%lld", v < 0 ? -v : v);
    size_t o = 0;
    if (v < 0 && o + 1 < n)
        out[o++] = '-';
    for (int i = 0; i < len && o + 1 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0 && o + 1 < n)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

/* 165 -> "2m45s", 3725 -> "1h02m", 45 -> "45s" */
void bt_graphql_format_duration(long long s, char *out, size_t n)
{
    if (s < 60)
        snprintf(out, n, "%llds", s < 0 ? 0 : s);
    else if (s < 3600)
        snprintf(out, n, "%lldm%02llds", s / 60, s % 60);
    else
        snprintf(out, n, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
}

static void console_line(const bt_graphql_progress *p, char *out, size_t n)
{
    char done[32], total[32], eta[32];
    thousands(p->done, done, sizeof done);
    if (p->total < 0) {
        snprintf(out, n, "%s %s · %ld requests", p->phase, done, p->requests);
        return;
    }
    thousands(p->total, total, sizeof total);
    long long pct = p->total > 0 ? p->done * 100 / p->total : 100;
    if (pct > 100)
        pct = 100;
    if (p->eta_s == 0)
        snprintf(eta, sizeof eta, "done");
    else {
        char d[24];
        bt_graphql_format_duration(p->eta_s, d, sizeof d);
        snprintf(eta, sizeof eta, "ETA %s", d);
    }
    snprintf(out, n, "%s %s/%s (%lld%%) · %ld/%lld requests · %s", p->phase, done, total, pct,
             p->requests, p->expected, eta);
}

void bt_graphql_log_progress(const bt_graphql_progress *p)
{
    char line[512];
    console_line(p, line, sizeof line);
    bt_log_field f[5];
    size_t n = 0;
    f[n++] = BT_LOG_FSTR("phase", p->phase);
    f[n++] = BT_LOG_FINT("done", p->done);
    if (p->total >= 0)
        f[n++] = BT_LOG_FINT("total", p->total);
    f[n++] = BT_LOG_FINT("requests", p->requests);
    if (p->eta_s >= 0)
        f[n++] = BT_LOG_FINT("eta_s", p->eta_s);
    bt_log_record(BT_LOG_INFO, line, "progress", f, n);
}
