#!/usr/bin/env python3
"""src/graphql/ stays below prim/: no Lua, and no header of the layers above.

prim/ is the only place that pushes to the Lua stack; graphql/ hands it plain
results ({kind, status, message}, a response, a body). So no source of
src/graphql/, and no header one reaches through "bt/..." includes, may include
a Lua header or a header of host/ or prim/, or call lua_* / luaL_* or name a
lua_State. Exit 1 naming each offending line. An optional argument is the
tree to check (default: this one)."""
import pathlib
import re
import sys

ABOVE = {"lua.h", "lauxlib.h", "lualib.h", "luaconf.h", "bt/lua.h", "bt/graphql_lua.h",
         "bt/json_lua.h", "bt/prim.h", "bt/host.h", "bt/errobj.h", "bt/budget.h"}
LUA = re.compile(r"(?<![\w.>])(lua_\w+|luaL_\w+)\s*\(|\blua_State\b")
INCLUDE = re.compile(r'\s*#\s*include\s*[<"]([^>"]+)[>"]')


def check_file(root, path, seen, bad):
    if path in seen or not path.exists():
        return
    seen.add(path)
    for no, line in enumerate(path.read_text().splitlines(), 1):
        where = f"{path.relative_to(root)}:{no}"
        m = INCLUDE.match(line)
        if m and m.group(1) in ABOVE:
            bad.append(f"{where}: includes {m.group(1)}")
        elif m and m.group(1).startswith("bt/"):
            check_file(root, root / "include" / m.group(1), seen, bad)
        code = re.sub(r'"(\\.|[^"\\])*"', '""', line.split("//")[0])
        if not line.lstrip().startswith(("/*", "*")) and LUA.search(code):
            bad.append(f"{where}: Lua: {line.strip()}")


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                        pathlib.Path(__file__).resolve().parents[2]).resolve()
    files = sorted((root / "src/graphql").glob("*.c"))
    bad, seen = [], set()
    for path in files:
        check_file(root, path, seen, bad)
    if not files:
        bad.append("src/graphql/ holds no C file")
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
