"""Progress a person and a monitor can read (issue 19, section 1): the start
line, a progress record per list (every 10 s and at its end) with done/total,
requests and an ETA, the summary as one JSON record with our pacing apart from
the server's throttling, and the pace lowered after a 429."""

import json
import os
import re
import shutil
import tempfile
import unittest

from harness import MockServer, run


def records(stderr):
    out = []
    for line in stderr.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


class ProgressCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bt-progress-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.out = os.path.join(self.dir, "sync.c1z")

    def sync(self, m, fmt, *extra):
        return run(["--api-url", m.url, "-f", self.out, "--log-format", fmt] + list(extra),
                   env={"BATON_API_KEY": m.api_key}, cwd=self.dir)


class StartAndEnd(ProgressCase):
    def test_console_start_line_first_then_one_line_per_list_and_the_split_waits(self):
        with MockServer(tenant="synthetic", seed=1, users=250, groups=12) as m:
            r = self.sync(m, "console")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [re.sub(r"^\S+ \S+ +", "", l) for l in r.stderr.splitlines()]
        self.assertRegex(lines[0], r"^sync starting: http://127\.0\.0\.1:\d+/api/graphql/ · "
                                   r"types user, group, role · pace 60 reads/min, 20 writes/min$")
        self.assertIn("users 250/250 (100%) · 3/3 requests · done", lines)
        self.assertIn("groups 12/12 (100%) · 1/1 requests · done", lines)
        self.assertRegex(r.stdout, r"\n  waiting         \d+\.\d s paced by us \(60 reads/min\), "
                                   r"\d+\.\d s throttled by the server \(429\)\n")
        self.assertNotIn("waiting on rate limits", r.stdout)

    def test_json_records_with_the_issue_field_names(self):
        with MockServer(tenant="synthetic", seed=1, users=250, groups=12) as m:
            r = self.sync(m, "json", "--reads-per-minute", "0")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "", "with JSON logs the summary is a record, not text")
        recs = records(r.stderr)
        self.assertEqual(len(recs), len(r.stderr.strip().splitlines()), "every line is JSON")
        start = recs[0]
        self.assertEqual(start["msg"], "sync starting")
        self.assertEqual(start["types"], "user, group, role")
        self.assertTrue(start["target"].endswith("/api/graphql/"))
        self.assertEqual(start["reads_per_minute"], 0)
        progress = {p["phase"]: p for p in recs if p["msg"] == "progress"}
        self.assertEqual(progress["users"], {"level": "info", "ts": progress["users"]["ts"],
                                             "msg": "progress", "phase": "users", "done": 250,
                                             "total": 250, "requests": 3, "eta_s": 0})
        self.assertEqual(progress["groups"]["total"], 12)
        (summary,) = [s for s in recs if s["msg"] == "sync complete"]
        self.assertEqual(summary["resources"], 250 + 12 + 7)
        self.assertEqual(summary["file"], self.out)
        for key in ("entitlements", "grants", "skipped", "requests", "retries", "rate_limited"):
            self.assertIsInstance(summary[key], int, key)
        self.assertEqual(summary["paced_s"], 0)
        self.assertEqual(summary["throttled_s"], 0)
        self.assertGreater(summary["requests"], 0)


class DuringAList(ProgressCase):
    def test_a_record_every_10_s_with_total_percentage_and_eta(self):
        # 16 pages (each after the first overlaps the one before by one node), each
        # answered after at least 0.8 s: the list takes 12 s or more,
        # so at least one record comes before its end.
        with MockServer(tenant="synthetic", seed=2, users=1500, groups=3,
                        latency_ms=800) as m:
            r = self.sync(m, "json", "--reads-per-minute", "0", "--include-service-accounts=false")
        self.assertEqual(r.returncode, 0, r.stderr)
        users = [p for p in records(r.stderr) if p["msg"] == "progress" and p["phase"] == "users"]
        self.assertGreaterEqual(len(users), 2, r.stderr)
        mid = users[0]
        self.assertEqual(mid["total"], 1500)
        self.assertLess(mid["requests"], 16)
        # 100 nodes on the first page, 99 new ones on each page after it
        self.assertEqual(mid["done"], 100 + (mid["requests"] - 1) * 99)
        self.assertGreater(mid["eta_s"], 0)
        self.assertEqual(users[-1]["done"], 1500)
        self.assertEqual(users[-1]["eta_s"], 0)


class AdaptivePace(ProgressCase):
    def test_a_429_lowers_the_pace_once_said_at_warn(self):
        # The server allows 10 reads in 2 s; we would send a burst of 60.
        with MockServer(tenant="synthetic", seed=3, users=2000, groups=5, reads_per_minute=10,
                        rate_window_seconds=2, retry_after_seconds=1) as m:
            r = self.sync(m, "console")
        self.assertEqual(r.returncode, 0, r.stderr)
        warns = [l for l in r.stderr.splitlines() if " warn " in l]
        lowered = [l for l in warns if "rate limited by the server (HTTP 429): pace lowered "
                                       "from 60 to 45 requests/min for the rest of the run" in l]
        self.assertEqual(len(lowered), 1, r.stderr)
        self.assertNotIn("HTTP 429; retrying", r.stderr, "no line per 429")
        m_wait = re.search(r"waiting +(\d+\.\d) s paced by us \((\d+) reads/min\), "
                           r"(\d+\.\d) s throttled", r.stdout)
        self.assertIsNotNone(m_wait, r.stdout)
        self.assertLessEqual(int(m_wait.group(2)), 45)
        self.assertGreater(float(m_wait.group(3)), 0)
        rl = re.search(r"(\d+) rate limited", r.stdout)
        self.assertGreater(int(rl.group(1)), 0)


if __name__ == "__main__":
    unittest.main()
