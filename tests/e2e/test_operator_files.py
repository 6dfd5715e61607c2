"""The operator's files and flags (issue 17, section 5): repeated list flags collect,
a re-run keeps the file's mode and group and a new file is 0600, the output is never
one of the inputs, and `show` neither hangs on a FIFO nor pads rows to a huge cell."""

import os
import shutil
import stat
import subprocess
import tempfile
import unittest

from harness import BINARY, C1Z, DemoMockCase, run, sync_against


class OperatorFiles(DemoMockCase):
    def setUp(self):
        self.mock.reset()
        self.mock.reset_stats()
        self.dir = tempfile.mkdtemp(prefix="bt-opfiles-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.out = os.path.join(self.dir, "sync.c1z")

    def types_in(self, path):
        with C1Z(path) as f:
            return sorted({r[0] for r in f.rows("SELECT resource_type_id FROM v1_resources")})

    def test_repeated_list_flags_collect_their_values(self):
        r = sync_against(self.mock, self.out, ["--sync-resource-types", "user",
                                               "--sync-resource-types", "group"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.types_in(self.out), ["group", "user"])

    def test_a_new_file_is_private_and_a_rerun_keeps_mode_and_group(self):
        r = sync_against(self.mock, self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(self.out).st_mode), 0o600)
        os.chmod(self.out, 0o640)
        other_gid = 4242 if os.geteuid() == 0 else next(
            (g for g in os.getgroups() if g != os.getegid()), None)
        if other_gid is not None:
            os.chown(self.out, -1, other_gid)
        r = sync_against(self.mock, self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        st = os.stat(self.out)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
        if other_gid is not None:
            self.assertEqual(st.st_gid, other_gid)

    def test_the_output_is_never_an_input(self):
        key = os.path.join(self.dir, "key")
        with open(key, "w") as f:
            f.write(self.mock.api_key + "\n")
        os.chmod(key, 0o600)
        link = os.path.join(self.dir, "key-link")
        os.link(key, link)
        for out in (key, link):
            with self.subTest(out=out):
                r = run(["--api-url", self.mock.url, "--api-key-file", key, "-f", out,
                         "--reads-per-minute", "0", "--log-format", "console"], cwd=self.dir)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn("is the same file as --api-key-file", r.stderr)
                with open(key) as f:
                    self.assertEqual(f.read(), self.mock.api_key + "\n")
        with open(os.path.join(self.dir, ".baton.yaml"), "w") as f:
            f.write("api-key: %s\n" % self.mock.api_key)
        os.chmod(os.path.join(self.dir, ".baton.yaml"), 0o600)
        r = run(["--api-url", self.mock.url, "-f", ".baton.yaml", "--reads-per-minute", "0"],
                cwd=self.dir)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("is the same file as the config file", r.stderr)
        ca = os.path.join(self.dir, "ca.pem")
        with open(ca, "w") as f:
            f.write("not a certificate\n")
        r = run(["--api-url", self.mock.url, "-f", ca, "--reads-per-minute", "0"],
                env={"BATON_API_KEY": self.mock.api_key, "SSL_CERT_FILE": ca}, cwd=self.dir)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("is the same file as SSL_CERT_FILE", r.stderr)
        self.assertEqual(self.mock.stats()["requests"], 0)

    def test_show_refuses_a_fifo(self):
        fifo = os.path.join(self.dir, "sync.c1z")
        os.mkfifo(fifo)
        try:  # the timeout only guards a hang
            r = run(["show", fifo], timeout=30)
        except subprocess.TimeoutExpired:
            self.fail("show hangs on a FIFO")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not a regular file", r.stderr)

    def test_show_caps_a_long_cell(self):
        name = "N" * 5000
        r = run(["--api-url", self.mock.url, "-p", "--create-account-email", "long@acme.example",
                 "--create-account-profile", '{"first_name": "%s"}' % name,
                 "--reads-per-minute", "0", "--writes-per-minute", "0"],
                env={"BATON_API_KEY": self.mock.api_key}, cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        s = sync_against(self.mock, self.out)
        self.assertEqual(s.returncode, 0, s.stderr)
        shown = run(["show", self.out, "--resource-type", "user"])
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertIn("N" * 79 + "…", shown.stdout)
        self.assertNotIn("N" * 81, shown.stdout)
        longest = max(len(l) for l in shown.stdout.splitlines())
        self.assertLess(longest, 400)
        js = run(["show", self.out, "--resources", "--resource-type", "user", "--json"])
        self.assertEqual(js.returncode, 0, js.stderr)
        self.assertIn(name, js.stdout, "--json shows the whole value")


if __name__ == "__main__":
    unittest.main()
