-- Prints, as one JSON object, the batched documents lib.batch sends for the
-- bundled lists (users and groups, with and without nested lists; count
-- requests, page requests, single parts and batched follow-ups), so that
-- tests/e2e/test_batch_queries.py validates them against the schema.
--   lua5.4 tests/tools/batch_documents.lua REPO_ROOT
local root = arg[1]
package.path = root .. "/tests/lua/?.lua;" .. package.path
local cjson = require "cjson"
local fake = require "helpers.fake_runtime"
local sandbox = require "helpers.sandbox"

fake.install{ phase = "load" }
local require_ = sandbox.new(root .. "/scripts/", nil)
local batch = require_("lib.batch")
local Q = require_("twingate.queries")
local docs = {}
local lists = {
  { "USERS", Q.PARTITION.users }, { "USERS_WITH_GROUPS", Q.PARTITION.users },
  { "GROUP_LIST", Q.PARTITION.groups }, { "GROUPS", Q.PARTITION.groups },
}
for _, l in ipairs(lists) do
  local name, p = l[1], l[2]
  local sel = batch.selection(Q[name], p.field)
  docs[name .. ".counts"] = batch.document(p, sel, 0, 28, true)
  docs[name .. ".pages"] = batch.document(p, sel, 3, 0, false)
  docs[name .. ".single"] = batch.single_document(p, sel)
  docs[name .. ".count"] = batch.count_document(p)
end
docs["USER_GROUPS.follow"] = batch.follow_document({ query = Q.USER_GROUPS }, "user", 3)
docs["GROUP_MEMBERS.follow"] = batch.follow_document({ query = Q.GROUP_MEMBERS }, "group", 3)
io.write(cjson.encode(docs), "\n")
