/* Inside a task process: a fresh Lua state, and the sync of a sync_full task
 * written to <task dir>/sync.c1z. */
#include "service/svc.h"
#include "bt/driver.h"
#include "bt/sync_options.h"

#include <stdio.h>
#include <string.h>

bt_host *bt_svc_child_host(bt_svc_daemon *d, bt_contract *c, bt_svc_outcome *out)
{
    bt_host_error err;
    bt_host *h = bt_host_new(d->set.scripts_dir, bt_host_default_scripts_dir(), &err);
    if (h && bt_contract_load(h, BT_CONNECTOR_MODULE, c, &err) == 0)
        return h;
    out->code = BT_GRPC_UNKNOWN;
    snprintf(out->text, sizeof out->text, "cannot load the connector script: %.900s", err.message);
    bt_host_free(h);
    return NULL;
}

/* The upload runs here too, on a connection of this process's own, so the
 * daemon keeps heartbeating (and polling) meanwhile. The cached token came
 * along with fork; a new one is fetched only if it expired. */
static void upload(bt_svc_daemon *d, const char *task_id, const char *path, bt_svc_outcome *out)
{
    bt_svc_client cl = d->client;
    cl.conn = bt_grpc_conn_new(d->set.api_host, d->client.user_agent);
    if (!cl.conn) {
        out->code = BT_GRPC_INTERNAL;
        snprintf(out->text, sizeof out->text, "UploadAsset: cannot set up a connection");
        return;
    }
    out->code = bt_svc_upload(&cl, task_id, path, out->text, sizeof out->text);
    out->non_retryable = false;
    bt_grpc_conn_free(cl.conn);
}

/* A SyncFullTask's options as the one-shot flags give them: the skips, the
 * targeted resources and the resource type ids. Expanded grants are never
 * written (skip_expand_grants), and only SQLite files exist (storage_engine).
 * 0, or -1 on out of memory. */
static int task_options(const C1__Connectorapi__Baton__V1__Task__SyncFullTask *t,
                        bt_sync_options *o)
{
    memset(o, 0, sizeof *o);
    o->skip_entitlements_and_grants = t->skip_entitlements_and_grants;
    o->skip_grants = t->skip_grants;
    for (size_t i = 0; i < t->n_targeted_sync_resources; i++) {
        const C1__Connector__V2__ResourceId *id = t->targeted_sync_resources[i]->id;
        if (id && bt_sync_options_add_target(o, id->resource_type, id->resource) != 0)
            return -1;
    }
    for (size_t i = 0; i < t->n_sync_resource_type_ids; i++)
        if (bt_sync_options_add_type(o, t->sync_resource_type_ids[i]) != 0)
            return -1;
    return 0;
}

void bt_svc_child_sync(bt_svc_daemon *d, const SvcTask *task, const char *dir, bt_svc_outcome *out)
{
    bt_contract c;
    bt_sync_options opts;
    char path[4200];
    bt_host *h = bt_svc_child_host(d, &c, out);
    if (!h)
        return;
    snprintf(path, sizeof path, "%s/sync.c1z", dir);
    if (task_options(task->sync_full, &opts) != 0) {
        out->code = BT_GRPC_INTERNAL;
        snprintf(out->text, sizeof out->text, "out of memory reading the task's options");
    } else if (bt_driver_sync_quiet(h, &c, path, &opts, out->text, sizeof out->text) != 0) {
        out->code = BT_GRPC_UNKNOWN;
    } else {
        upload(d, task->id, path, out);
    }
    bt_sync_options_free(&opts);
    bt_contract_free(&c);
    bt_host_free(h);
}
