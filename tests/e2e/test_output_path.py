"""The output path never destroys anything (issue 9 section 1), and the small
refusals of section 7. A device, FIFO, socket or directory given as -f is
refused before any request and left as it was; a symlink is written through
to its target and survives; an unwritable directory fails before any request;
two runs writing one file both succeed; stale temporary files of a crashed run
are removed, those of a live run are not; an interrupted run says so."""

import fcntl
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import unittest

from harness import BINARY, C1Z, MockServer, run, sync_against

EARLIER = b"an earlier sync file"
REFUSED = "the output must be a regular file or not exist yet"


class OutputCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bt-output-")
        self.out = os.path.join(self.dir, "sync.c1z")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def error_lines(self, r):
        return [line for line in r.stderr.splitlines() if line.startswith("error:")]

    def refused(self, path, needle, fmt=None):
        """Sync to path: refused with one error line and no request at the mock."""
        extra = ["--output-format", fmt] if fmt else []
        with MockServer() as m:
            r = sync_against(m, path, extra)
            self.assertEqual(m.stats()["requests"], 0, "refused before any request")
        self.assertNotEqual(r.returncode, 0, r.stderr)
        lines = self.error_lines(r)
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn(needle, lines[0])
        return lines[0]

    def synced(self, path, extra=()):
        with MockServer() as m:
            r = sync_against(m, path, extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.error_lines(r), [])
        return r

    def assert_valid_c1z(self, path):
        with C1Z(path) as f:
            self.assertGreater(f.count("v1_resources"), 0)

    def temp_files(self, directory):
        return [n for n in os.listdir(directory) if ".tmp" in n]


class SpecialFiles(OutputCase):
    def test_fifo_is_refused_and_left_alone(self):
        os.mkfifo(self.out)
        for fmt in (None, "jsonl"):
            with self.subTest(fmt=fmt):
                self.refused(self.out, "is a FIFO", fmt)
                self.assertTrue(stat.S_ISFIFO(os.lstat(self.out).st_mode))
                self.assertEqual(os.listdir(self.dir), ["sync.c1z"])

    def test_unix_socket_is_refused_and_left_alone(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.bind(self.out)
            line = self.refused(self.out, "is a socket")
            self.assertIn(REFUSED, line)
            self.assertTrue(stat.S_ISSOCK(os.lstat(self.out).st_mode))
        finally:
            s.close()

    def test_directory_is_refused(self):
        os.mkdir(self.out)
        self.refused(self.out, "is a directory")
        self.assertTrue(os.path.isdir(self.out))
        self.assertEqual(os.listdir(self.out), [])

    def test_symlink_to_a_character_device_is_refused(self):
        os.symlink("/dev/null", self.out)
        self.refused(self.out, "is a character device")
        self.assertEqual(os.readlink(self.out), "/dev/null")
        self.assertTrue(stat.S_ISCHR(os.stat("/dev/null").st_mode))

    def test_dev_null_itself_is_refused(self):
        # Only once the same device is refused through a link: an unfixed
        # binary run as root would replace the system's /dev/null.
        link = os.path.join(self.dir, "link")
        os.symlink("/dev/null", link)
        self.refused(link, "is a character device")
        before = os.stat("/dev/null")
        self.refused("/dev/null", "is a character device")
        after = os.stat("/dev/null")
        self.assertTrue(stat.S_ISCHR(after.st_mode))
        self.assertEqual((before.st_ino, before.st_rdev), (after.st_ino, after.st_rdev))
        self.assertEqual([n for n in os.listdir("/dev") if ".tmp-" in n], [])

    @unittest.skipUnless(os.geteuid() == 0, "mknod needs root")
    def test_character_device_node_is_refused(self):
        os.mknod(self.out, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        self.refused(self.out, "is a character device")
        self.assertTrue(stat.S_ISCHR(os.lstat(self.out).st_mode))
        self.assertEqual(os.listdir(self.dir), ["sync.c1z"])


class Symlinks(OutputCase):
    def test_symlink_to_a_file_writes_through_and_survives(self):
        other = os.path.join(self.dir, "real")
        os.mkdir(other)
        target = os.path.join(other, "target.c1z")
        with open(target, "wb") as f:
            f.write(EARLIER)
        os.symlink("real/target.c1z", self.out)  # relative to the link's directory
        self.synced(self.out)
        self.assertTrue(os.path.islink(self.out), "the link itself is never replaced")
        self.assertEqual(os.readlink(self.out), "real/target.c1z")
        self.assert_valid_c1z(target)
        self.assertEqual(sorted(os.listdir(self.dir)), ["real", "sync.c1z"])
        self.assertEqual(os.listdir(other), ["target.c1z"])

    def test_dangling_symlink_creates_its_target(self):
        target = os.path.join(self.dir, "elsewhere.c1z")
        os.symlink(target, self.out)
        self.synced(self.out)
        self.assertEqual(os.readlink(self.out), target)
        self.assert_valid_c1z(target)

    def test_chain_of_symlinks_reaches_the_final_target(self):
        target = os.path.join(self.dir, "final.jsonl")
        os.symlink("final.jsonl", os.path.join(self.dir, "middle"))
        os.symlink("middle", self.out)
        self.synced(self.out, ["--output-format", "jsonl"])
        self.assertTrue(os.path.islink(self.out))
        self.assertTrue(os.path.islink(os.path.join(self.dir, "middle")))
        with open(target) as f:
            kinds = {json.loads(line)["kind"] for line in f}
        self.assertIn("grant", kinds)

    def test_symlink_to_a_fifo_is_refused(self):
        fifo = os.path.join(self.dir, "fifo")
        os.mkfifo(fifo)
        os.symlink(fifo, self.out)
        self.refused(self.out, "is a FIFO")
        self.assertTrue(os.path.islink(self.out))
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))

    def test_symlink_loop_is_refused(self):
        os.symlink("sync.c1z", self.out)
        self.refused(self.out, "symbolic links")
        self.assertEqual(os.readlink(self.out), "sync.c1z")


class UnwritableDirectory(OutputCase):
    def test_fails_before_any_request(self):
        if os.geteuid() == 0:
            path = "/proc/bt-no-such-dir-entry.c1z"  # root can write any mode-0555 directory
        else:
            locked = os.path.join(self.dir, "locked")
            os.mkdir(locked, 0o555)
            path = os.path.join(locked, "sync.c1z")
        for fmt in (None, "jsonl"):
            with self.subTest(fmt=fmt):
                self.refused(path, "cannot create a temporary file", fmt)

    def test_temp_file_name_taken_by_a_directory_does_not_matter(self):
        # The old fixed "<out>.tmp" name failed only at commit, after every request.
        os.mkdir(self.out + ".tmp")
        self.synced(self.out)
        self.assert_valid_c1z(self.out)


    @unittest.skipUnless(os.geteuid() == 0, "needs a file of another user")
    def test_other_users_file_in_a_sticky_directory_fails_before_any_request(self):
        # As in /tmp: the directory is writable, but only the file's owner may
        # replace it; the rename would fail only at the commit.
        os.chmod(self.dir, 0o1777)
        with open(self.out, "wb") as f:
            f.write(EARLIER)

        def as_nobody():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)

        with MockServer() as m:
            env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
            env["BATON_API_KEY"] = m.api_key
            r = subprocess.run([BINARY, "--api-url", m.url, "-f", self.out, "--reads-per-minute",
                                "0"], env=env, stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, preexec_fn=as_nobody, timeout=120)
            self.assertEqual(m.stats()["requests"], 0, r.stderr)
        self.assertNotEqual(r.returncode, 0)
        lines = self.error_lines(r)
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("sticky directory", lines[0])
        self.assertEqual(os.listdir(self.dir), ["sync.c1z"])
        with open(self.out, "rb") as f:
            self.assertEqual(f.read(), EARLIER)


class Concurrent(OutputCase):
    def start(self, m, path, fmt):
        env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
        env["BATON_API_KEY"] = m.api_key
        return subprocess.Popen([BINARY, "--api-url", m.url, "-f", path, "--reads-per-minute", "0",
                                 "--output-format", fmt, "--log-format", "console"], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def test_two_runs_writing_one_file_both_succeed(self):
        for fmt in ("jsonl", "c1z"):
            with self.subTest(fmt=fmt):
                path = os.path.join(self.dir, "both." + fmt)
                with MockServer(tenant="synthetic", seed=5, users=300, groups=20,
                                latency_ms=5) as m:
                    procs = [self.start(m, path, fmt) for _ in range(2)]
                    outs = [p.communicate(timeout=300) for p in procs]
                for p, (_, err) in zip(procs, outs):
                    self.assertEqual(p.returncode, 0, err)
                if fmt == "c1z":
                    self.assert_valid_c1z(path)
                else:
                    with open(path) as f:
                        users = [json.loads(line) for line in f]
                    users = [u for u in users if u["kind"] == "resource"
                             and u["id"]["resourceType"] == "user"]
                    self.assertEqual(len(users), 300)
                self.assertEqual(self.temp_files(self.dir), [])


class StaleTemporaryFiles(OutputCase):
    def make(self, name, data=b"left by a crashed run"):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_stale_ones_are_removed_live_and_foreign_ones_are_not(self):
        stale = ["sync.c1z.tmp-db-Ab3xYz", "sync.c1z.tmp-db-Ab3xYz-journal",
                 "sync.c1z.tmp-db-Q9q9q9-journal", "sync.c1z.tmp-out-Zz0011"]
        kept = ["other.c1z.tmp-db-Ab3xYz", "sync.c1z.tmp-db-notours-at-all",
                "sync.c1z.tmp-db-short", "sync.c1z.tmp"]
        for name in stale + kept:
            self.make(name)
        live = self.make("sync.c1z.tmp-db-LiVe42")
        live_journal = self.make("sync.c1z.tmp-db-LiVe42-journal")
        live_out = self.make("sync.c1z.tmp-out-LiVe42")
        held = [open(p, "rb") for p in (live, live_out)]
        try:
            for f in held:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.synced(self.out)
        finally:
            for f in held:
                f.close()
        left = sorted(os.listdir(self.dir))
        self.assertEqual(left, sorted(kept + ["sync.c1z", os.path.basename(live),
                                              os.path.basename(live_journal),
                                              os.path.basename(live_out)]))
        self.assert_valid_c1z(self.out)


class Interrupted(OutputCase):
    def test_an_ignored_signal_stays_ignored(self):
        # nohup: SIGHUP is ignored before the run starts, and the run must keep it so.
        with MockServer(tenant="synthetic", seed=3, users=600, groups=20, latency_ms=100) as m:
            env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
            env["BATON_API_KEY"] = m.api_key
            p = subprocess.Popen([BINARY, "--api-url", m.url, "-f", self.out, "--reads-per-minute", "0"],
                                 env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True,
                                 preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
            deadline = time.monotonic() + 20
            while not self.temp_files(self.dir):
                self.assertLess(time.monotonic(), deadline, "the sync never started")
                time.sleep(0.02)
            p.send_signal(signal.SIGHUP)
            _, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        self.assert_valid_c1z(self.out)

    def test_signal_prints_one_error_line_and_keeps_the_earlier_file(self):
        with open(self.out, "wb") as f:
            f.write(EARLIER)
        with MockServer(tenant="synthetic", seed=3, users=1500, groups=40, latency_ms=200) as m:
            env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
            env["BATON_API_KEY"] = m.api_key
            for sig, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")):
                with self.subTest(sig=name):
                    p = subprocess.Popen([BINARY, "--api-url", m.url, "-f", self.out,
                                          "--reads-per-minute", "0", "--log-format", "json"],
                                         env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)
                    deadline = time.monotonic() + 20
                    while not self.temp_files(self.dir):
                        self.assertLess(time.monotonic(), deadline, "the sync never started")
                        time.sleep(0.02)
                    time.sleep(0.3)
                    p.send_signal(sig)
                    _, err = p.communicate(timeout=30)
                    self.assertNotEqual(p.returncode, 0)
                    self.assertEqual(self.error_lines(subprocess.CompletedProcess([], 0, "", err)),
                                     ["error: interrupted by %s; %s unchanged" % (name, self.out)])
                    self.assertEqual(os.listdir(self.dir), ["sync.c1z"])
                    with open(self.out, "rb") as f:
                        self.assertEqual(f.read(), EARLIER)


class SmallRefusals(OutputCase):
    def bad(self, args, needle, env=None):
        with MockServer() as m:
            e = {"BATON_API_KEY": m.api_key}
            e.update(env or {})
            r = run(["--api-url", m.url] + args, env=e, cwd=self.dir)
            self.assertEqual(m.stats()["requests"], 0, "refused before any request")
        self.assertNotEqual(r.returncode, 0)
        lines = self.error_lines(r)
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn(needle, lines[0])
        self.assertEqual(r.stdout, "")
        self.assertEqual(os.listdir(self.dir), [])

    def test_http_max_attempts_zero_is_refused(self):
        self.bad(["-f", self.out, "--http-max-attempts", "0"],
                 "--http-max-attempts must be from 1 to")
        self.bad(["-f", self.out], "--http-max-attempts must be from 1 to",
                 env={"BATON_HTTP_MAX_ATTEMPTS": "0"})

    def test_config_path_that_is_a_directory_is_refused(self):
        conf = tempfile.mkdtemp(prefix="bt-conf-dir-")
        try:
            self.bad(["-f", self.out], "is a directory", env={"BATON_CONFIG_PATH": conf})
        finally:
            os.rmdir(conf)


if __name__ == "__main__":
    unittest.main()
