/* What the Hello says: build info, OS info (uname, /etc/os-release, the host
 * name) with the SDK's placeholders for empty fields, and the connector
 * metadata derived from the script's contract (as `capabilities` prints it). */
#include "service/svc.h"
#include "service/pb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef BT_PACKAGE_PATH
#define BT_PACKAGE_PATH "github.com/conductorone/" BT_PROGRAM
#endif

void bt_svc_os_release(const char *text, const char *key, char *out, size_t outsz)
{
    size_t k = strlen(key);
    out[0] = '\0';
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, k) != 0 || line[k] != '=')
            continue;
        const char *v = line + k + 1, *end = strchr(v, '\n');
        size_t n = end ? (size_t)(end - v) : strlen(v);
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
            v++, n -= 2;
        snprintf(out, outsz, "%.*s", (int)n, v);
    }
}

static char *read_small_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 16384);
    if (buf)
        buf[fread(buf, 1, 16383, f)] = '\0';
    fclose(f);
    return buf;
}

static const char *virtualization(void)
{
    if (access("/.dockerenv", F_OK) == 0)
        return "docker";
    if (access("/run/.containerenv", F_OK) == 0)
        return "podman";
    return "";
}

static char *dup_or(bt_arena *a, const char *v, const char *fallback)
{
    const char *s = *v ? v : fallback;
    size_t n = strlen(s);
    return bt_arena_strndup(a, s, n > 256 ? 256 : n); /* the proto's limit */
}

/* The placeholder rule: later fields fall back on earlier results. */
static SvcOSInfo *os_info(bt_arena *a)
{
    SvcOSInfo *o = bt_arena_alloc(a, sizeof *o);
    struct utsname u;
    char host[256] = "", id[256], ver[256], like[256], family[256];
    c1__connectorapi__baton__v1__baton_service_hello_request__osinfo__init(o);
    if (uname(&u) != 0)
        memset(&u, 0, sizeof u);
    gethostname(host, sizeof host - 1);
    char *rel = read_small_file("/etc/os-release");
    bt_svc_os_release(rel ? rel : "", "ID", id, sizeof id);
    bt_svc_os_release(rel ? rel : "", "VERSION_ID", ver, sizeof ver);
    bt_svc_os_release(rel ? rel : "", "ID_LIKE", like, sizeof like);
    free(rel);
    snprintf(family, sizeof family, "%.*s", (int)strcspn(like, " "), like);
    o->hostname = dup_or(a, host, "unknown");
    o->os = dup_or(a, "linux", "linux");
    o->platform = dup_or(a, id, o->os);
    o->platform_family = dup_or(a, family, o->platform);
    o->kernel_version = dup_or(a, u.release, "unknown");
    o->platform_version = dup_or(a, ver, o->kernel_version);
    o->kernel_arch = dup_or(a, u.machine, BT_BUILD_ARCH);
    o->virtualization_system = dup_or(a, virtualization(), "none");
    return o;
}

static SvcBuildInfo *build_info(bt_arena *a)
{
    SvcBuildInfo *b = bt_arena_alloc(a, sizeof *b);
    c1__connectorapi__baton__v1__baton_service_hello_request__build_info__init(b);
#ifdef __VERSION__
    b->lang_version = dup_or(a, "C11 gcc-" __VERSION__, "0.0.0");
#else
    b->lang_version = dup_or(a, "", "0.0.0");
#endif
    b->package = bt_arena_strdup(a, BT_PACKAGE_PATH);
    b->package_version = bt_arena_strdup(a, BT_VERSION);
    return b;
}

int bt_svc_hello_build(SvcHelloReq *req, bt_host *h, const bt_contract *c, const char *host_id,
                       bt_arena *a)
{
    c1__connectorapi__baton__v1__baton_service_hello_request__init(req);
    req->host_id = bt_arena_strdup(a, host_id);
    req->task_id = bt_arena_strdup(a, "");
    req->build_info = build_info(a);
    req->os_info = os_info(a);
    req->connector_metadata = bt_svc_metadata_build(h, c, a);
    return req->connector_metadata && req->os_info && req->build_info ? 0 : -1;
}
