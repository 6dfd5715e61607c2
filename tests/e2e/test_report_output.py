"""Where `report -o` writes: by the rules of a sync's output (a regular file
or nothing; a symbolic link written through; a FIFO or device refused), through
a unique temporary file (a link planted at <output>.tmp is never followed),
mode 0600 for a new file, and never over the sync file it is made from."""
import os
import shutil
import stat
import subprocess
import tempfile
import unittest

from harness import BINARY, ROOT

FIXTURE = os.path.join(ROOT, "tests", "fixtures", "c1z", "basic.c1z")


class ReportOutput(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bt-report-out-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.c1z = os.path.join(self.dir, "sync.c1z")
        shutil.copy(FIXTURE, self.c1z)

    def report(self, output):
        return subprocess.run([BINARY, "report", self.c1z, "-o", output], capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL)

    def path(self, name):
        return os.path.join(self.dir, name)

    def test_a_fifo_is_refused_and_left_alone(self):
        fifo = self.path("page.html")
        os.mkfifo(fifo)
        r = self.report(fifo)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("FIFO", r.stderr)
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))

    def test_a_link_planted_at_the_old_temporary_name_is_not_followed(self):
        victim = self.path("victim")
        with open(victim, "w") as f:
            f.write("precious")
        os.symlink(victim, self.path("page.html.tmp"))
        r = self.report(self.path("page.html"))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(victim) as f:
            self.assertEqual(f.read(), "precious")
        self.assertFalse(os.path.islink(self.path("page.html")))
        self.assertEqual(stat.S_IMODE(os.stat(self.path("page.html")).st_mode), 0o600)

    def test_a_symbolic_link_is_written_through(self):
        os.symlink("real.html", self.path("link.html"))
        r = self.report(self.path("link.html"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.islink(self.path("link.html")))
        with open(self.path("real.html")) as f:
            self.assertTrue(f.read().startswith("<!DOCTYPE html>"))

    def test_the_sync_file_itself_is_refused(self):
        with open(self.c1z, "rb") as f:
            before = f.read()
        os.symlink(self.c1z, self.path("alias.html"))
        for output in (self.c1z, self.path("alias.html")):
            r = self.report(output)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("same file", r.stderr)
        with open(self.c1z, "rb") as f:
            self.assertEqual(f.read(), before)


if __name__ == "__main__":
    unittest.main()
