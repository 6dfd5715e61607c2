"""Every GraphQL document the bundled scripts send (the strings of their
module tables, listed by tests/tools/documents.lua) is valid against
vendor/twingate/schema.graphql, takes ids and cursors as variables, pages at
most 100 items and selects what graphql.paginate needs.

Run: /usr/bin/python3 -m unittest -v test_queries   (graphql-core 2.3)
BT_SOURCE_DIR names the repository root (default: two directories up).
"""
import json
import os
import re
import subprocess
import unittest

from graphql import build_ast_schema, parse, validate
from graphql.language import ast
from graphql.language.visitor import Visitor, visit

ROOT = os.environ.get("BT_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QUERIES = os.path.join(ROOT, "scripts", "twingate", "queries.lua")
SCHEMA = os.path.join(ROOT, "vendor", "twingate", "schema.graphql")

# Q.NAME = [[ ... ]]  or  Q.NAME = [==[ ... ]==]
# A document may be handed through a splicing function first (with_access[[...]]).
DOC_RE = re.compile(r"^Q\.([A-Z][A-Z0-9_]*)\s*=\s*(?:[a-z_]+)?\[(=*)\[(.*?)\]\2\]", re.S | re.M)
TEMPLATE_RE = re.compile(r"^Q\.TEMPLATES\.([A-Z][A-Z0-9_]*)\s*=\s*(?:[a-z_]+)?\[(=*)\[(.*?)\]\2\]",
                         re.S | re.M)
LONG_STRING_RE = re.compile(r"\[(=*)\[.*?\]\1\]", re.S)

# Arguments that carry an id, a cursor or user data: always variables.
VARIABLE_ONLY = {"id", "after", "before", "groupId", "userId", "email", "eq",
                 "addedUserIds", "removedUserIds", "userIds", "role",
                 "firstName", "lastName", "shouldSendInvite"}
MAX_PAGE = 100


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def documents(override=None):
    """{name: document} of every document the scripts can send: twingate.queries'
    by their bare name (USERS), others as module.NAME."""
    args = ["lua5.4", os.path.join(ROOT, "tests", "tools", "documents.lua"), ROOT]
    out = subprocess.run(args + ([override] if override else []), capture_output=True,
                         text=True, check=True).stdout
    prefix = "twingate.queries."
    return {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in json.loads(out).items()}


class Collect(Visitor):
    """Gathers arguments and paginated fields of one document."""

    def __init__(self):
        self.arguments = []      # (field name, argument name, value node)
        self.paginated = []      # field nodes taking `after`

    def enter_Field(self, node, *args):
        for arg in node.arguments or []:
            self.arguments.append((node.name.value, arg.name.value, arg.value))
        if any(a.name.value == "after" for a in node.arguments or []):
            self.paginated.append(node)

    def enter_ObjectField(self, node, *args):
        self.arguments.append(("(input)", node.name.value, node.value))


def selected(field, name):
    for sel in (field.selection_set.selections if field.selection_set else []):
        if isinstance(sel, ast.Field) and sel.name.value == name:
            return sel
    return None


def selects_id(node):
    """The node selects `id`: directly, or (a union such as AccessPrincipal)
    in every inline fragment, of which there is at least one."""
    if selected(node, "id") is not None:
        return True
    fragments = [sel for sel in node.selection_set.selections
                 if isinstance(sel, ast.InlineFragment)]
    return bool(fragments) and all(selected(f, "id") is not None for f in fragments)


class QueriesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.schema = build_ast_schema(parse(read(SCHEMA)))
        cls.docs = documents()

    def test_every_long_string_is_a_document(self):
        source = read(QUERIES)
        self.assertGreaterEqual(len(self.docs), 12)
        # a selection written once for several documents is a local piece
        # (local ACCESS_CONNECTION = [[...]]), spliced into each of them
        pieces = len(re.findall(r"^local [A-Z_]+ = \[(=*)\[", source, re.M))
        self.assertEqual(len(LONG_STRING_RE.findall(source)) - pieces, len(self.docs))
        self.assertEqual(set(m.group(1) for m in DOC_RE.finditer(source))
                         | set(m.group(1) for m in TEMPLATE_RE.finditer(source)), set(self.docs))
        for name in ("USERS", "GROUPS", "GROUP_MEMBERS", "MEMBERSHIP", "USER_GROUPS", "USER",
                     "USER_BY_EMAIL", "GROUP_ADD_MEMBER", "GROUP_REMOVE_MEMBER",
                     "USER_ROLE_UPDATE", "USER_CREATE", "USER_DELETE"):
            self.assertIn(name, self.docs)

    def test_documents_validate_against_the_schema(self):
        for name, doc in sorted(self.docs.items()):
            with self.subTest(document=name):
                errors = validate(self.schema, parse(doc))
                self.assertEqual([], [str(e) for e in errors])

    def test_one_named_operation_per_document(self):
        for name, doc in sorted(self.docs.items()):
            with self.subTest(document=name):
                ops = [d for d in parse(doc).definitions
                       if isinstance(d, ast.OperationDefinition)]
                self.assertEqual(1, len(ops))
                self.assertIsNotNone(ops[0].name)

    def test_ids_cursors_and_user_data_are_variables(self):
        for name, doc in sorted(self.docs.items()):
            with self.subTest(document=name):
                c = Collect()
                visit(parse(doc), c)
                for field, arg, value in c.arguments:
                    self.assertNotIsInstance(value, ast.StringValue,
                                             "%s(%s:) has a string literal" % (field, arg))
                    if arg in VARIABLE_ONLY and not isinstance(value, ast.ObjectValue):
                        self.assertIsInstance(value, ast.Variable,
                                              "%s(%s:) must be a variable" % (field, arg))

    def test_pages_hold_at_most_100(self):
        source = read(QUERIES)
        self.assertRegex(source, r"(?m)^Q\.PAGE_SIZE\s*=\s*100\s*$")
        for name, doc in sorted(self.docs.items()):
            with self.subTest(document=name):
                c = Collect()
                visit(parse(doc), c)
                for field, arg, value in c.arguments:
                    if arg != "first":
                        continue
                    if isinstance(value, ast.Variable):
                        self.assertEqual("first", value.name.value)
                    else:
                        self.assertIsInstance(value, ast.IntValue)
                        self.assertLessEqual(int(value.value), MAX_PAGE)

    def test_paginated_fields_select_page_info_and_edges(self):
        for name, doc in sorted(self.docs.items()):
            with self.subTest(document=name):
                c = Collect()
                visit(parse(doc), c)
                for field in c.paginated:
                    info = selected(field, "pageInfo")
                    self.assertIsNotNone(info, field.name.value)
                    self.assertIsNotNone(selected(info, "hasNextPage"))
                    self.assertIsNotNone(selected(info, "endCursor"))
                    edges = selected(field, "edges")
                    self.assertIsNotNone(edges)
                    self.assertTrue(selects_id(selected(edges, "node")), field.name.value)
                    self.assertTrue(any(a.name.value == "first" for a in field.arguments))

    def test_nested_member_page_matches_the_follow_up(self):
        groups = parse(self.docs["GROUPS"])
        c = Collect()
        visit(groups, c)
        nested = [(f, a) for f, a, _ in c.arguments if f == "users"]
        self.assertEqual([("users", "first")], nested)

    def test_opt_in_nested_pages_match_their_follow_ups(self):
        for doc, follow_up, field in (("SERVICE_ACCOUNTS", "SERVICE_ACCOUNT_KEYS", "keys"),
                                      ("RESOURCES", "RESOURCE_ACCESS", "access")):
            with self.subTest(document=doc):
                c = Collect()
                visit(parse(self.docs[doc]), c)
                self.assertEqual([(field, "first")],
                                 [(f, a) for f, a, _ in c.arguments if f == field])
                c = Collect()
                visit(parse(self.docs[follow_up]), c)
                self.assertEqual([field], [f.name.value for f in c.paginated])

    def test_mutations_return_ok_and_error(self):
        for name, doc in sorted(self.docs.items()):
            op = parse(doc).definitions[0]
            if op.operation != "mutation":
                continue
            with self.subTest(document=name):
                for field in op.selection_set.selections:
                    self.assertIsNotNone(selected(field, "ok"))
                    self.assertIsNotNone(selected(field, "error"))

    def test_nothing_is_spliced_into_documents(self):
        # Only field names from Q.FIELDS go into the templates (checked by the
        # expansion itself, below the documents); no value is ever spliced.
        code = LONG_STRING_RE.sub("", read(QUERIES)).split("\nlocal function field_text")[0]
        code = re.sub(r"--[^\n]*", "", code)
        # an inline fragment entry ("... on NetworkResource { isActive }") is
        # a string, not a concatenation
        code = re.sub(r'"\.\.\. on [^"]*"', '""', code)
        self.assertNotIn("..", code)
        self.assertNotIn("format", code)
        for name, doc in self.docs.items():
            self.assertNotIn("%", doc, name)


if __name__ == "__main__":
    unittest.main()
