/* Shared by the files of `show diff` (show_diff*.c). */
#ifndef BT_SHOW_DIFF_H
#define BT_SHOW_DIFF_H
#include "bt/show.h"

struct sqlite3_stmt;

typedef struct {
    struct sqlite3 *db;
    bt_show_sync sync;
    bool partial;                   /* a targeted sync: compared on what it covers */
    struct sqlite3_stmt *has_resource; /* is TYPE:ID among its resources? */
} diff_side;

typedef struct {
    diff_side old, new;
    FILE *out;
    bool json;
    bool first;               /* JSON: no change printed yet */
    const char *group;        /* the heading printed last (table) */
    char group_buf[256];
    size_t added, removed, changed;
} diff_state;

/* The three tables, each merged on external_id (show_diff_merge.c). */
int diff_merge_all(diff_state *d, bt_show_err *e);

/* One change (show_diff_out.c). kind: "resource", "entitlement", "grant";
 * type: the group heading (resource type); label: how the row reads. */
void diff_added(diff_state *d, const char *kind, const char *type, const char *key,
                const char *label);
void diff_removed(diff_state *d, const char *kind, const char *type, const char *key,
                  const char *label);
void diff_changed(diff_state *d, const char *type, const char *key, const char *name,
                  const char *field, const char *was, const char *now);
void diff_summary(diff_state *d);

/* Resources present on both sides: display name, status, profile
 * (show_diff_resource.c). */
int diff_resource_pair(diff_state *d, const char *key, const void *a, size_t alen,
                       const void *b, size_t blen, bt_show_err *e);

#endif
