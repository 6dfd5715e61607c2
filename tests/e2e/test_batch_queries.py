"""The documents lib.batch builds for page-batch (tests/tools/batch_documents.lua:
count requests, batched pages, single parts, batched follow-ups of the users
and groups lists) are valid against vendor/twingate/schema.graphql, take every
id, cursor and filter as a variable and page at most 100 (as $first).

Run: /usr/bin/python3 -m unittest -v test_batch_queries
"""
import json
import os
import subprocess
import unittest

from graphql import build_ast_schema, parse, validate
from graphql.language import ast

from test_queries import Collect, ROOT, SCHEMA, read
from graphql.language.visitor import visit


def batch_documents():
    args = ["lua5.4", os.path.join(ROOT, "tests", "tools", "batch_documents.lua"), ROOT]
    return json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)


class BatchQueriesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.schema = build_ast_schema(parse(read(SCHEMA)))
        cls.docs = batch_documents()

    def test_every_kind_is_listed(self):
        for name in ("USERS", "USERS_WITH_GROUPS", "GROUP_LIST", "GROUPS"):
            for kind in ("counts", "pages", "single"):
                self.assertIn(name + "." + kind, self.docs)
        self.assertIn("USER_GROUPS.follow", self.docs)
        self.assertIn("GROUP_MEMBERS.follow", self.docs)

    def test_documents_validate_against_the_schema(self):
        for name, doc in sorted(self.docs.items()):
            with self.subTest(document=name):
                self.assertEqual([], [str(e) for e in validate(self.schema, parse(doc))])

    def test_values_are_variables_and_pages_hold_at_most_100(self):
        for name, doc in sorted(self.docs.items()):
            with self.subTest(document=name):
                c = Collect()
                visit(parse(doc), c)
                self.assertTrue(c.arguments)
                for field, arg, value in c.arguments:
                    self.assertIsInstance(value, ast.Variable, "%s(%s:)" % (field, arg))
                    if arg == "first":
                        self.assertEqual("first", value.name.value)

    def test_pages_are_aliased_root_fields_with_a_filter(self):
        op = parse(self.docs["USERS_WITH_GROUPS.pages"]).definitions[0]
        fields = op.selection_set.selections
        self.assertEqual(["p1", "p2", "p3"], [f.alias.value for f in fields])
        for f in fields:
            self.assertEqual("users", f.name.value)
            self.assertEqual({"first", "after", "filter"}, {a.name.value for a in f.arguments})
        counts = parse(self.docs["GROUPS.counts"]).definitions[0].selection_set.selections
        self.assertEqual("total", counts[0].alias.value)
        self.assertEqual(["first"], [a.name.value for a in counts[0].arguments])
        self.assertEqual(29, len(counts))


if __name__ == "__main__":
    unittest.main()
