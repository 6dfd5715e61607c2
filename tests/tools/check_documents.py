"""Validates every GraphQL document the scripts can send (an override DIR's and
the bundled ones, as tests/tools/documents.lua lists them with DIR searched
first) against vendor/twingate/schema.graphql: one named operation each, no
validation error. Prints one `error:` line per problem; exit 1 when any.

    /usr/bin/python3 tests/tools/check_documents.py [DIR]
"""
import json
import os
import subprocess
import sys

from graphql import build_ast_schema, parse, validate
from graphql.error import GraphQLError
from graphql.language import ast

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def documents(override):
    args = ["lua5.4", os.path.join(ROOT, "tests", "tools", "documents.lua"), ROOT]
    run = subprocess.run(args + ([override] if override else []), capture_output=True, text=True)
    if run.returncode != 0:
        # the error itself (its first line), not the traceback's last frame
        lines = [l for l in run.stderr.strip().splitlines() if l.strip()]
        why = lines[0] if lines else "lua5.4 exited with %d" % run.returncode
        if why.startswith("lua5.4: "):
            why = why[len("lua5.4: "):]
        sys.exit("error: cannot load the scripts: %s" % why)
    return json.loads(run.stdout)


def problems(schema, doc):
    try:
        tree = parse(doc)
    except GraphQLError as e:
        return [str(e).splitlines()[0]]
    ops = [d for d in tree.definitions if isinstance(d, ast.OperationDefinition)]
    if len(ops) != 1 or ops[0].name is None:
        return ["must hold exactly one named operation"]
    return [str(e) for e in validate(schema, tree)]


def main():
    override = sys.argv[1] if len(sys.argv) > 1 else None
    with open(os.path.join(ROOT, "vendor", "twingate", "schema.graphql"), encoding="utf-8") as f:
        schema = build_ast_schema(parse(f.read()))
    docs = documents(override)
    failed = 0
    for name, doc in sorted(docs.items()):
        for p in problems(schema, doc):
            print("error: %s: %s" % (name, p), file=sys.stderr)
            failed += 1
    if failed:
        sys.exit(1)
    print("%d GraphQL documents valid against vendor/twingate/schema.graphql" % len(docs))


if __name__ == "__main__":
    main()
