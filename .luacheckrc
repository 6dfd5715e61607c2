-- luacheck configuration (https://luacheck.readthedocs.io). Run from the repo
-- root: luacheck scripts tests/lua examples (ctest runs it as lint.luacheck).
std = "lua54"
max_line_length = 110
codes = true

-- Exactly what the runtime's sandbox (src/host/sandbox.c) gives a script: the
-- base library without dofile/loadfile (load is text-only), coroutine, table,
-- string, math, utf8, os without execute/exit/remove/rename/tmpname/setlocale/
-- getenv, package without loadlib; no io, no debug. Names are read-only
-- (strict globals: a script cannot create one).
stds.sandbox = {
  read_globals = {
    "_G", "_VERSION", "assert", "collectgarbage", "error", "getmetatable", "ipairs", "load",
    "next", "pairs", "pcall", "print", "rawequal", "rawget", "rawlen", "rawset", "require",
    "select", "setmetatable", "tonumber", "tostring", "type", "warn", "xpcall",
    coroutine = { other_fields = true }, table = { other_fields = true },
    string = { other_fields = true }, math = { other_fields = true },
    utf8 = { other_fields = true },
    os = { fields = { "clock", "date", "difftime", "time" } },
    package = { fields = { "config", "cpath", "loaded", "path", "preload", "searchers",
      "searchpath" } },
  },
}

files["scripts"] = { std = "sandbox" }
files["examples/extend/twingate"] = { std = "sandbox" }
files["examples/extend/spec"] = { std = "lua54+busted" }

-- Specs hold long fixture strings: a little more room there.
files["tests/lua"] = { std = "+busted", max_line_length = 120 }
-- The sandbox and fixture helpers read files and locate themselves.
files["tests/lua/helpers"] = { std = "lua54" }
files["tests/lua/fixtures"] = { std = "lua54" }

exclude_files = { "build*/**", ".ci/**" }
