#!/usr/bin/env python3
"""src/codec/ stays the bottom layer: no Lua, no I/O, no other folder.

Every #include of a codec source must be the C library, protobuf-c, a
generated google/protobuf header or one of the codec's own headers; and no
call may read or write a file, a stream or the environment. Exit 1 naming
each offending line."""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
OWN = {"bt/buf.h", "bt/codec.h", "bt/json_read.h", "bt/protojson.h"}
LIBC = {"errno.h", "limits.h", "math.h", "stdarg.h", "stdbool.h", "stddef.h", "stdint.h",
        "stdio.h", "stdlib.h", "string.h"}
IO = re.compile(r"(?<![\w.>])(fopen|fclose|fwrite|fread|fputs|fputc|fprintf|printf|puts|putchar|"
                r"getenv|open|read|write|close|lua_\w+|luaL_\w+)\s*\(|\b(stdout|stderr|stdin)\b")


def include_ok(name):
    return (name in OWN or name in LIBC or name == "protobuf-c/protobuf-c.h"
            or name.startswith("google/protobuf/"))


def main():
    bad = []
    files = sorted((ROOT / "src/codec").glob("*.c"))
    headers = [ROOT / "include" / h for h in sorted(OWN)]
    for path in files + headers:
        for no, line in enumerate(path.read_text().splitlines(), 1):
            m = re.match(r'\s*#\s*include\s*[<"]([^>"]+)[>"]', line)
            if m and not include_ok(m.group(1)):
                bad.append(f"{path.relative_to(ROOT)}:{no}: includes {m.group(1)}")
            code = re.sub(r'"(\\.|[^"\\])*"', '""', line.split("//")[0])
            if not line.lstrip().startswith(("/*", "*")) and IO.search(code):
                bad.append(f"{path.relative_to(ROOT)}:{no}: I/O or Lua: {line.strip()}")
    if not files:
        bad.append("src/codec/ holds no C file")
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
