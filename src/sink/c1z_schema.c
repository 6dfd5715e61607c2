/* The v1 SQLite schema of a c1z file (c1z-format.md section 3.1): the seven
 * v1_* tables with the SDK's column names, declared types and index names,
 * HEAD's columns and grants indexes included. Two of the resources index
 * names are swapped relative to their columns in every SDK version; readers
 * run CREATE INDEX IF NOT EXISTS with those names, so the file must use them.
 *
 * The unique indexes are created with the tables (the writer relies on them
 * to absorb duplicates), and so are the two partial grant indexes (empty for
 * a connector's rows); the others at commit, after the bulk inserts. */
#include "internal.h"

const char bt_c1z_schema_sql[] =
    "create table if not exists v1_resource_types (\n"
    "    id integer primary key,\n"
    "    external_id text not null,\n"
    "    data blob not null,\n"
    "    sync_id text not null,\n"
    "    discovered_at datetime not null\n"
    ");\n"
    "create unique index if not exists idx_resource_types_external_sync_v1"
    " on v1_resource_types (external_id, sync_id);\n"
    "\n"
    "create table if not exists v1_resources (\n"
    "    id integer primary key,\n"
    "    resource_type_id text not null,\n"
    "    external_id text not null,\n"
    "    parent_resource_type_id text,\n"
    "    parent_resource_id text,\n"
    "    data blob not null,\n"
    "    sync_id text not null,\n"
    "    discovered_at datetime not null\n"
    ");\n"
    "create unique index if not exists idx_resources_parent_resource_id_v1"
    " on v1_resources (external_id, sync_id);\n"
    "\n"
    "create table if not exists v1_entitlements (\n"
    "    id integer primary key,\n"
    "    resource_type_id text not null,\n"
    "    resource_id text not null,\n"
    "    external_id text not null,\n"
    "    data blob not null,\n"
    "    sync_id text not null,\n"
    "    discovered_at datetime not null\n"
    ");\n"
    "create unique index if not exists idx_entitlements_external_sync_v1"
    " on v1_entitlements (external_id, sync_id);\n"
    "\n"
    "create table if not exists v1_grants (\n"
    "    id integer primary key,\n"
    "    resource_type_id text not null,\n"
    "    resource_id text not null,\n"
    "    entitlement_id text not null,\n"
    "    principal_resource_type_id text not null,\n"
    "    principal_resource_id text not null,\n"
    "    external_id text not null,\n"
    "    expansion blob,\n"
    "    needs_expansion integer not null default 0,\n"
    "    data blob not null,\n"
    "    sync_id text not null,\n"
    "    discovered_at datetime not null\n"
    ");\n"
    "create unique index if not exists idx_grants_external_sync_v1"
    " on v1_grants (external_id, sync_id);\n"
    /* partial indexes no connector row enters: free to keep during the inserts, while
     * building them at commit would scan the whole grants table twice */
    "create index if not exists idx_grants_sync_expansion_v1"
    " on v1_grants (sync_id) where expansion is not null;\n"
    "create index if not exists idx_grants_sync_needs_expansion_v1"
    " on v1_grants (sync_id) where needs_expansion = 1;\n"
    "\n"
    "create table if not exists v1_sync_runs (\n"
    "    id integer primary key,\n"
    "    sync_id text not null,\n"
    "    started_at datetime not null,\n"
    "    ended_at datetime,\n"
    "    sync_token text not null,\n"
    "    sync_type text not null default 'full',\n"
    "    parent_sync_id text not null default '',\n"
    "    linked_sync_id text not null default '',\n"
    "    supports_diff integer not null default 0,\n"
    "    grants_backfilled integer not null default 0,\n"
    "    stats text,\n"
    "    ingest_invariant_generation text not null default '',\n"
    "    ingest_invariant_coverage text not null default '',\n"
    "    ingest_invariant_mode text not null default ''\n"
    ");\n"
    "create unique index if not exists idx_sync_runs_sync_id_v1 on v1_sync_runs (sync_id);\n"
    "\n"
    "create table if not exists v1_assets (\n"
    "    id integer primary key,\n"
    "    external_id text not null,\n"
    "    content_type text not null,\n"
    "    data blob not null,\n"
    "    sync_id text not null,\n"
    "    discovered_at datetime not null\n"
    ");\n"
    "create unique index if not exists idx_assets_external_sync_v1"
    " on v1_assets (external_id, sync_id);\n"
    "\n"
    "create table if not exists v1_connector_sessions (\n"
    "    id integer primary key,\n"
    "    sync_id text not null,\n"
    "    key text not null,\n"
    "    value blob not null\n"
    ");\n"
    "create unique index if not exists idx_session_store_sync_key_v1"
    " on v1_connector_sessions (sync_id, key);\n";

const char bt_c1z_index_sql[] =
    "create index if not exists idx_resources_resource_type_id_v1"
    " on v1_resources (resource_type_id);\n"
    "create index if not exists idx_resources_external_sync_v1"
    " on v1_resources (parent_resource_type_id, parent_resource_id);\n"
    "create index if not exists idx_entitlements_resource_id_v1"
    " on v1_entitlements (resource_type_id, resource_id);\n"
    "create index if not exists idx_grants_resource_type_id_resource_id_v1"
    " on v1_grants (resource_type_id, resource_id);\n"
    "create index if not exists idx_grants_principal_id_v1"
    " on v1_grants (principal_resource_type_id, principal_resource_id);\n"
    "create index if not exists idx_grants_entitlement_id_principal_id_v1"
    " on v1_grants (entitlement_id, principal_resource_type_id, principal_resource_id);\n"
    "create index if not exists idx_grants_entitlement_sync_grant_v1"
    " on v1_grants (entitlement_id, sync_id, id);\n"
    "";

/* Every index a v1 file carries, for tests and readers that check a file. */
const char *const bt_c1z_index_names[] = {
    "idx_resource_types_external_sync_v1",
    "idx_resources_resource_type_id_v1",
    "idx_resources_external_sync_v1",
    "idx_resources_parent_resource_id_v1",
    "idx_entitlements_resource_id_v1",
    "idx_entitlements_external_sync_v1",
    "idx_grants_resource_type_id_resource_id_v1",
    "idx_grants_principal_id_v1",
    "idx_grants_entitlement_id_principal_id_v1",
    "idx_grants_external_sync_v1",
    "idx_grants_entitlement_sync_grant_v1",
    "idx_grants_sync_expansion_v1",
    "idx_grants_sync_needs_expansion_v1",
    "idx_sync_runs_sync_id_v1",
    "idx_assets_external_sync_v1",
    "idx_session_store_sync_key_v1",
    0,
};
