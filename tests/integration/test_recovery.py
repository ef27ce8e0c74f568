"""Nothing accepted is lost: kill -9 of the daemon between accept and delivery, retries with
backoff, and dead letters after the last attempt."""

import os
import shutil
import tempfile
import time
import unittest

from hubtest import MOECKERN, PASSPORT, Hub, example_antrag
from ozghub_client import application_message

BURG = "150860015015"
GEWERBE = "99050012104000"
OFFICE = "jerichower-land-kreisverwaltung"


class Recovery(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-it-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def block_transfer_dir(self, hub):
        # A file where the office folder should be: every delivery fails (and is retried).
        os.makedirs(hub.transfer, exist_ok=True)
        with open(os.path.join(hub.transfer, OFFICE), "w") as f:
            f.write("in the way")

    def unblock_transfer_dir(self, hub):
        os.remove(os.path.join(hub.transfer, OFFICE))

    def test_kill_9_after_accept_before_delivery_delivers_each_case_exactly_once(self):
        hub = Hub(self.tmp, retry="{ max_attempts: 1000, initial_backoff_ms: 100, "
                                  "max_backoff_ms: 200 }")
        self.block_transfer_dir(hub)
        hub.start()
        xml = example_antrag()
        msgs = [application_message(xml, BURG, GEWERBE, message_id=f"crash-{i}")
                for i in range(50)]
        outcomes, receipts = hub.submit(msgs, receipts=True)
        self.assertTrue(all(o.state == "accepted" for o in outcomes))
        accepted = {r["case_number"] for r in receipts}
        self.assertEqual(len(accepted), 50)
        hub.kill()  # SIGKILL: no shutdown, no flush

        self.unblock_transfer_dir(hub)
        hub.start()
        try:
            delivered = hub.wait_for_cases(OFFICE, 50, timeout=60)
            self.assertEqual(set(delivered), accepted)
            self.assertEqual(hub.events("hub.started")[0]["recovered_deliveries"], "50")
            # Redelivery of the same messages after the restart: accepted, no new cases.
            outcomes, receipts2 = hub.submit(msgs, receipts=True)
            self.assertTrue(all(o.state == "accepted" for o in outcomes))
            self.assertEqual({r["case_number"] for r in receipts2}, accepted)
            time.sleep(0.5)
            self.assertEqual(len(hub.case_dirs(OFFICE)), 50)
            leftovers = [d for d in os.listdir(os.path.join(hub.transfer, OFFICE))
                         if d.startswith(".")]
            self.assertEqual(leftovers, [])
        finally:
            hub.stop()

    def test_kill_9_under_load_loses_nothing_and_duplicates_nothing(self):
        hub = Hub(self.tmp)
        hub.start()
        xml = example_antrag()
        accepted = set()
        for round_ in range(3):
            msgs = [application_message(xml, BURG, GEWERBE, message_id=f"load-{round_}-{i}")
                    for i in range(200)]
            outcomes, receipts = hub.submit(msgs, receipts=True)
            self.assertTrue(all(o.state == "accepted" for o in outcomes))
            accepted |= {r["case_number"] for r in receipts}
            hub.kill()  # deliveries of this round are likely still running
            hub.start()
        try:
            delivered = hub.wait_for_cases(OFFICE, len(accepted), timeout=60)
            self.assertEqual(set(delivered), accepted)
            self.assertEqual(len(delivered), 600)
        finally:
            hub.stop()

    def test_failing_delivery_is_retried_then_dead_lettered(self):
        hub = Hub(self.tmp, retry="{ max_attempts: 3, initial_backoff_ms: 50, "
                                  "max_backoff_ms: 100 }")
        self.block_transfer_dir(hub)
        hub.start()
        try:
            outcomes, _ = hub.submit([application_message(example_antrag(), BURG, GEWERBE,
                                                          message_id="dead-1")])
            self.assertEqual(outcomes[0].state, "accepted")
            deadline = time.time() + 20
            while time.time() < deadline and not hub.events("case.dead_lettered"):
                time.sleep(0.05)
            [dead] = hub.events("case.dead_lettered")
            self.assertEqual(dead["attempts"], "3")
            self.assertIn("transfer_dir", dead["error"])
            retries = hub.events("case.delivery_retry")
            self.assertEqual(len(retries), 2)
            # Nothing more is attempted after the dead letter.
            time.sleep(0.5)
            self.assertEqual(len(hub.events("case.delivery_retry")), 2)
        finally:
            hub.stop()
        # A dead letter stays dead across a restart (it is not in the outbox any more).
        hub.start()
        try:
            self.assertEqual(hub.events("hub.started")[0]["recovered_deliveries"], "0")
        finally:
            hub.stop()


if __name__ == "__main__":
    unittest.main()
