"""Service mode as an operator and ConductorOne see it (issue 17, section 4): a stop
is not held up by a stalled token endpoint or FinishTask, a task id holding a NUL
byte is refused whole, a garbled UploadAsset answer is a failed upload, and the
Hello links the tenant."""

import signal
import time
import unittest

from service_harness import ServiceTest
import c1proto  # tests/c1mock, on the path once service_harness is imported

# Far more than a stop may take, far less than the stalls below (60 s): the
# bound only tells "gave up" from "waited for the stalled server".
STOP_BOUND = 15


class Stopping(ServiceTest):
    def stop_and_time(self, d):
        started = time.monotonic()
        d.proc.send_signal(signal.SIGTERM)
        rc = d.wait(STOP_BOUND)
        took = time.monotonic() - started
        print("\n  stopped %.2f s after SIGTERM" % took, end=" ")
        return rc

    def test_sigterm_while_the_token_endpoint_stalls(self):
        self.c1.configure(token_stall=1, token_stall_seconds=60)
        d = self.start_daemon()
        self.c1.wait_for(lambda st: [c for c in st["calls"] if c.get("fault") == "token_stall"],
                         what="the stalled token request")
        self.stop_and_time(d)

    def test_sigterm_while_a_finish_task_stalls(self):
        d = self.start_polling()
        self.c1.configure(finish_stall=1, finish_stall_seconds=60)
        (tid,) = self.c1.enqueue({"type": "case", "case": 121})  # finished at once (unsupported)
        self.c1.wait_finished(tid)  # recorded; its answer is held back
        self.stop_and_time(d)


class Tasks(ServiceTest):
    def test_a_task_id_with_a_nul_byte_is_refused_whole(self):
        self.start_polling()
        nul_id = "ab\0cd"
        (tid,) = self.c1.enqueue({"type": "sync_full", "id": nul_id})
        self.assertEqual(tid, nul_id)
        fin = self.c1.wait_finished(nul_id)
        self.assertEqual(fin["task_id"], nul_id, "refused under the id as sent, not a cut one")
        self.assert_failed(fin, 3, True, "task id holds a NUL byte")
        self.assertEqual(self.c1.calls("Heartbeat"), [])
        self.assertEqual(self.c1.uploads(), [])
        self.assertEqual(self.c1.finishes("ab"), [])
        self.assertEqual(self.twingate.stats()["requests"], 0)

    def test_a_garbled_upload_answer_is_a_failed_upload(self):
        self.start_polling()
        self.c1.configure(upload_garbled=1)
        (tid,) = self.c1.enqueue({"type": "sync_full"})
        fin = self.c1.wait_finished(tid, 120)
        self.assertEqual(fin["final_state"], "success", fin)
        self.assertEqual(len(self.c1.uploads(tid)), 2, "the garbled answer's upload is redone")
        self.assertIn("upload attempt 1 of 3 failed", self.daemon.stderr())

    def test_the_hello_links_the_tenant(self):
        self.start_polling("--domain", "acme")
        hello = self.c1.calls("Hello")[0]["request"]
        links = c1proto.external_links(hello["connector_metadata"]["annotations"])
        self.assertEqual(links, ["https://acme.twingate.com"])
        self.assertNoViolations()


if __name__ == "__main__":
    unittest.main()
