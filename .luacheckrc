-- luacheck configuration (https://luacheck.readthedocs.io). Run from the repo root: luacheck .
std = "lua54"
max_line_length = 110
codes = true

-- Bundled scripts run in the runtime's sandbox: standard library only (no
-- os/io/debug/package.loadlib), every name local, modules through require.
files["scripts"] = {
  std = "lua54",
  not_globals = { "os", "io", "debug", "package", "load", "loadfile", "dofile",
    "collectgarbage", "print" },
}

files["tests/lua"] = { std = "+busted" }
-- The sandbox and fixture helpers read files and locate themselves.
files["tests/lua/helpers"] = { std = "lua54" }

exclude_files = { "build*/**", ".ci/**" }
