-- Errors at the author's line in `./dev test-scripts`: an error raised at a
-- position that a tail call hid (`return page.walk{...}` in an override
-- replaces the override's frame, so a misuse check's position lands in the
-- bundled caller, twingate/sync.lua) names the override's line instead.
-- A line hook keeps the last line run in an author file (M.AUTHORS: path
-- prefixes, the scripts directory under test); the error handler uses it when
-- a tail call lies between the raise and the position the message names.
local M = {}

M.AUTHORS = {}

local last -- { short_src, line } of the last line run in an author file

local function is_author(source)
  if type(source) ~= "string" or source:sub(1, 1) ~= "@" then return false end
  for _, prefix in ipairs(M.AUTHORS) do
    if source:sub(2, #prefix + 1) == prefix then return true end
  end
  return false
end

local function hook(event, line)
  local info = debug.getinfo(2, "St")
  if not info then return end
  if event == "line" then
    if is_author(info.source) then last = { info.short_src, line } end
  elseif is_author(info.source) or info.istailcall then
    last = nil -- the author's frame ended (a tail-called frame returning ends it too)
  end
end

-- The error err placed at the author's line when a tail call hid it.
local function place(err)
  if type(err) ~= "string" or last == nil then return err end
  local file, line, rest = err:match("^(.-):(%d+): (.*)$")
  if not file then return err end
  local crossed = false
  for level = 3, 400 do
    local info = debug.getinfo(level, "Slt")
    if not info then break end
    if info.short_src == file and tostring(info.currentline) == line then
      if crossed and not is_author(info.source) then
        return string.format("%s:%d: %s", last[1], last[2], rest)
      end
      return err
    end
    if info.istailcall then crossed = true end
  end
  return err
end

-- Calls fn(...) with the hook on; returns table.pack of its results, or
-- raises its error (placed).
function M.call(fn, ...)
  if M.AUTHORS[1] == nil then return table.pack(fn(...)) end
  local saved = table.pack(debug.gethook())
  last = nil
  debug.sethook(hook, "lr")
  local out = table.pack(xpcall(fn, place, ...))
  debug.sethook(table.unpack(saved, 1, saved.n))
  if not out[1] then error(out[2], 0) end
  return table.pack(table.unpack(out, 2, out.n))
end

return M
