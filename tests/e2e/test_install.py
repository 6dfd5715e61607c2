"""An installed binary (issue 19, section 4): `cmake --install --prefix P` writes
nothing outside P, and the installed binary uses P's scripts, never the source
tree's; the systemd unit's credentials ($CREDENTIALS_DIRECTORY) and its refusal
to start without a client id (--service-only)."""

import os
import shutil
import subprocess
import tempfile
import unittest

from harness import BINARY, ROOT, MockServer, run

BUILD = os.path.dirname(BINARY)


class CmakeInstall(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.prefix = tempfile.mkdtemp(prefix="bt-prefix-")
        r = subprocess.run(["cmake", "--install", BUILD, "--prefix", cls.prefix],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        with open(os.path.join(BUILD, "install_manifest.txt")) as f:
            cls.manifest = f.read().split()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.prefix, ignore_errors=True)

    def test_nothing_is_written_outside_the_prefix(self):
        self.assertTrue(self.manifest)
        outside = [p for p in self.manifest if not p.startswith(self.prefix + "/")]
        self.assertEqual(outside, [])
        conf = os.path.join(self.prefix, "etc", "baton-twingate")
        self.assertEqual(oct(os.stat(os.path.join(conf, "baton.yaml")).st_mode & 0o777), "0o600")
        self.assertEqual(oct(os.stat(os.path.join(conf, "env")).st_mode & 0o777), "0o600")
        with open(os.path.join(self.prefix, "lib", "systemd", "system",
                               "baton-twingate.service")) as f:
            unit = f.read()
        self.assertIn("LoadCredential=baton-twingate:", unit)
        self.assertIn("--service-only", unit)

    def installed_copy(self):
        """A copy of the installed tree, to change without touching the others."""
        d = tempfile.mkdtemp(prefix="bt-inst-")
        self.addCleanup(shutil.rmtree, d, True)
        dst = os.path.join(d, "p")
        shutil.copytree(self.prefix, dst, symlinks=True)
        return dst

    def test_the_installed_binary_uses_the_installed_scripts(self):
        p = self.installed_copy()
        r = subprocess.run([os.path.join(p, "bin", "baton-twingate"), "--log-level", "debug",
                            "--log-format", "console", "capabilities"],
                           capture_output=True, text=True, cwd="/")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(os.path.join(p, "share", "baton-twingate", "scripts"), r.stderr)
        self.assertNotIn(os.path.join(ROOT, "scripts"), r.stderr)

    def test_without_its_scripts_it_fails_rather_than_use_the_source_tree(self):
        p = self.installed_copy()
        shutil.rmtree(os.path.join(p, "share", "baton-twingate", "scripts"))
        r = subprocess.run([os.path.join(p, "bin", "baton-twingate"), "--log-level", "debug",
                            "capabilities"], capture_output=True, text=True, cwd="/")
        self.assertNotEqual(r.returncode, 0, "ran with scripts from somewhere: " + r.stderr)
        self.assertNotIn(os.path.join(ROOT, "scripts"), r.stderr + r.stdout)


class UnitCredentials(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bt-creds-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.creds = os.path.join(self.dir, "creds")
        os.mkdir(self.creds, 0o700)

    def credential(self, name, value):
        path = os.path.join(self.creds, name)
        with open(path, "w") as f:
            f.write(value + "\n")
        os.chmod(path, 0o400)

    def test_the_api_key_from_the_credentials_directory(self):
        with MockServer() as m:
            for name in ("api-key", "baton-twingate_api-key"):
                with self.subTest(name=name):
                    for old in os.listdir(self.creds):
                        os.unlink(os.path.join(self.creds, old))
                    self.credential(name, m.api_key)
                    out = os.path.join(self.dir, "s.c1z")
                    r = run(["--api-url", m.url, "-f", out, "--reads-per-minute", "0"],
                            env={"CREDENTIALS_DIRECTORY": self.creds}, cwd=self.dir)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertTrue(os.path.exists(out))
                    self.assertNotIn(m.api_key, r.stderr + r.stdout)
            # The variable beats the credential.
            r = run(["--api-url", m.url, "-f", os.path.join(self.dir, "t.c1z"),
                     "--reads-per-minute", "0"],
                    env={"CREDENTIALS_DIRECTORY": self.creds, "BATON_API_KEY": "wrong-key"},
                    cwd=self.dir)
            self.assertNotEqual(r.returncode, 0)

    def test_a_readable_credential_is_refused(self):
        self.credential("api-key", "k")
        os.chmod(os.path.join(self.creds, "api-key"), 0o644)
        r = run(["--domain", "acme", "-f", os.path.join(self.dir, "s.c1z")],
                env={"CREDENTIALS_DIRECTORY": self.creds}, cwd=self.dir)
        self.assertEqual(r.returncode, 1)
        self.assertIn("group or others may read", r.stderr)

    def test_service_only_without_a_client_id_refuses_with_one_line(self):
        r = run(["--service-only", "--domain", "acme"], env={"BATON_API_KEY": "k"}, cwd=self.dir)
        self.assertEqual(r.returncode, 78)
        self.assertEqual(r.stderr.strip().splitlines(),
                         ["error: no ConductorOne client id: put it in the client-id credential "
                          "(the unit's credentials directory) or BATON_CLIENT_ID; not starting"])
        self.assertEqual(os.listdir(self.dir), ["creds"], "no sync ran")

    def test_the_client_id_from_the_credentials_directory_starts_service_mode(self):
        # A malformed id read from the credential is refused as service mode refuses it:
        # proof that it was read and that service mode, not a one-shot sync, started.
        self.credential("client-id", "not-an-id")
        self.credential("client-secret", "secret-token:x")
        r = run(["--service-only", "--domain", "acme"],
                env={"BATON_API_KEY": "k", "CREDENTIALS_DIRECTORY": self.creds}, cwd=self.dir)
        self.assertEqual(r.returncode, 1)
        self.assertIn("client", r.stderr)
        self.assertNotIn("not-an-id", r.stderr)
        self.assertNotIn("secret-token:x", r.stderr)
        self.assertEqual(os.listdir(self.dir), ["creds"])


if __name__ == "__main__":
    unittest.main()
