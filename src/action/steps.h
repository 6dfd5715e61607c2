/* The steps the rows of the action table (actions.c) point at: one-shot
 * request builders (flags_request.c), service-mode task checks and request
 * builders (task_request.c) and answers (task_answer.c). */
#ifndef BT_ACTION_STEPS_H
#define BT_ACTION_STEPS_H
#include "action/action.h"

int bt_act_grant_from_flags(bt_host *h, const bt_contract *c, const bt_cli *cli, char *err, size_t n);
int bt_act_revoke_from_flags(bt_host *h, const bt_contract *c, const bt_cli *cli, char *err, size_t n);
int bt_act_create_from_flags(bt_host *h, const bt_contract *c, const bt_cli *cli, char *err, size_t n);
int bt_act_delete_from_flags(bt_host *h, const bt_contract *c, const bt_cli *cli, char *err, size_t n);

const char *bt_act_grant_malformed(const SvcTask *t);
const char *bt_act_revoke_malformed(const SvcTask *t);
const char *bt_act_create_malformed(const SvcTask *t);
const char *bt_act_delete_malformed(const SvcTask *t);

void bt_act_grant_from_task(lua_State *L, const SvcTask *t);
void bt_act_revoke_from_task(lua_State *L, const SvcTask *t);
void bt_act_create_from_task(lua_State *L, const SvcTask *t);
void bt_act_delete_from_task(lua_State *L, const SvcTask *t);

int bt_act_grant_answer(lua_State *L, int idx, const bt_contract *c, const SvcTask *t,
                        const bt_action_answer *out);
int bt_act_revoke_answer(lua_State *L, int idx, const bt_contract *c, const SvcTask *t,
                         const bt_action_answer *out);
int bt_act_create_answer(lua_State *L, int idx, const bt_contract *c, const SvcTask *t,
                         const bt_action_answer *out);
int bt_act_delete_answer(lua_State *L, int idx, const bt_contract *c, const SvcTask *t,
                         const bt_action_answer *out);

#endif
