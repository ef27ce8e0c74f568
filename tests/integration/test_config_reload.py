"""Configuration reload under load: `ozg-hubctl reload` (POST /v1/reload) and SIGHUP run one
reloader. While a client sends applications without pause, (a) a valid file that changes the
routing applies (new applications route by the new rule, changed restart-only keys are reported,
not applied) and (b) an invalid file changes nothing (422 with the errors, the failure counter
moves, ozg-hubctl exits 1). At the end every accepted application was delivered exactly once."""

import json
import shutil
import signal
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from hubtest import Hub, example_antrag
from ozghub_client import application_message
from test_reload import GEWERBE, HALLE, private_demo_routing

LAND = "sachsen-anhalt-landesverwaltungsamt"
MUENCHEN = "muenchen-kvr-gewerbe"


class Sender(threading.Thread):
    """Sends Halle Gewerbe applications, a few per connection, until stopped; records every
    accepted one's case number and office, in the order they were accepted."""

    def __init__(self, hub):
        super().__init__(daemon=True)
        self.hub = hub
        self.stopping = threading.Event()
        self.accepted = []  # (case_number, office_id)
        self.other = []     # outcomes other than accepted
        self.error = None
        self.lock = threading.Lock()

    def run(self):
        n = 0
        try:
            while not self.stopping.is_set() and n < 5000:
                batch = [application_message(example_antrag(), HALLE, GEWERBE,
                                             message_id=f"load-{n + i}") for i in range(4)]
                n += len(batch)
                outcomes, receipts = self.hub.submit(batch, receipts=True)
                by_id = {r["correlation_id"]: r for r in receipts}
                with self.lock:
                    for message, outcome in zip(batch, outcomes):
                        if outcome.state != "accepted":
                            self.other.append(outcome)
                            continue
                        r = by_id[message.id]
                        self.accepted.append((r["case_number"], r["office_id"]))
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def count(self):
        with self.lock:
            return len(self.accepted)

    def wait_for_more(self, more, timeout=60):
        want = self.count() + more
        deadline = time.time() + timeout
        while self.count() < want and time.time() < deadline and self.error is None:
            time.sleep(0.05)
        if self.count() < want:
            raise AssertionError(f"only {self.count()} of {want} accepted; error: {self.error}")


class ConfigReloadUnderLoad(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-it-")
        self.routing, self.original = private_demo_routing(self.tmp)
        self.hub = Hub(self.tmp, routing=self.routing).start()
        with open(self.hub.config_path, encoding="utf-8") as f:
            self.config = f.read()
        self.sender = Sender(self.hub)

    def tearDown(self):
        self.sender.stopping.set()
        if self.sender.ident is not None:
            self.sender.join(60)
        self.hub.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write_config(self, text):
        with open(self.hub.config_path, "w", encoding="utf-8") as f:
            f.write(text)

    def post_reload(self):
        req = urllib.request.Request(f"http://{self.hub.admin}/v1/reload", method="POST")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_valid_and_invalid_reloads_under_load_lose_nothing(self):
        self.assertEqual(self.hub.metric("ozghub_config_last_reload_successful"), 1)
        self.assertEqual(self.hub.metric("ozghub_config_reloads_total", result="success"), 0)
        self.sender.start()
        self.sender.wait_for_more(20)

        # (a) A valid file: Halle's Gewerbe applications now go to Munich (a new responsibility),
        # retries are fewer, and `workers` changes, which only a restart applies.
        with open(self.routing, "a", encoding="utf-8") as f:
            f.write(f'\n  - {{ service: "{GEWERBE}", area: "15002", office: {MUENCHEN} }}\n')
        valid = self.config.replace("max_attempts: 3", "max_attempts: 4") + "workers: 2\n"
        self.write_config(valid)
        r = self.hub.ctl("reload")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("reloaded: routing directory", r.stdout)
        self.assertIn("changed: retry.max_attempts", r.stdout)
        self.assertIn("restart required (changed, not applied): workers", r.stdout)
        reloaded = self.hub.wait_for_event("config.reloaded")[-1]
        self.assertEqual(reloaded["changed"], "retry.max_attempts")
        self.assertEqual(self.hub.wait_for_event("config.restart_required")[-1]["keys"], "workers")
        self.assertEqual(self.hub.metric("ozghub_config_reloads_total", result="success"), 1)
        mark = self.sender.count()
        self.sender.wait_for_more(20)
        with self.sender.lock:
            after = self.sender.accepted[mark + 4:]  # a batch sent before the reload may finish
        self.assertTrue(after)
        self.assertEqual({office for _, office in after}, {MUENCHEN})

        # (b) An invalid file: nothing changes. The admin call answers 422 with every error,
        # ozg-hubctl exits 1 and lists them, SIGHUP logs the condition, the failure counter moves.
        with open(self.routing, "a", encoding="utf-8") as f:
            f.write(f'\n  - {{ service: "{GEWERBE}", area: "15002", office: nobody }}\n')
        self.write_config(valid.replace("max_attempts: 4", "max_attempts: 0") + "colour: blue\n")
        status, body = self.post_reload()
        self.assertEqual(status, 422, body)
        self.assertEqual(body["condition"], "invalid")
        self.assertEqual(len(body["errors"]), 2, body)
        self.assertTrue(any("unknown key 'colour'" in e for e in body["errors"]), body)
        r = self.hub.ctl("reload")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("nothing was applied", r.stderr)
        self.assertIn("retry.max_attempts must be at least 1", r.stderr)
        before = len(self.hub.events("config.reload_failed"))
        self.hub.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 30
        while len(self.hub.events("config.reload_failed")) == before and time.time() < deadline:
            time.sleep(0.05)
        failed = self.hub.events("config.reload_failed")[-1]
        self.assertEqual((failed["condition"], failed["errors"]), ("invalid", "2"))
        self.assertEqual(self.hub.metric("ozghub_config_reloads_total", result="failure"), 3)
        self.assertEqual(self.hub.metric("ozghub_config_reloads_total", result="success"), 1)
        self.assertEqual(self.hub.metric("ozghub_config_last_reload_successful"), 0)
        mark = self.sender.count()
        self.sender.wait_for_more(20)
        with self.sender.lock:
            self.assertEqual({office for _, office in self.sender.accepted[mark:]}, {MUENCHEN})

        # Every accepted application is delivered, exactly once, to the office it was routed to.
        self.sender.stopping.set()
        self.sender.join(60)
        self.assertIsNone(self.sender.error)
        self.assertEqual(self.sender.other, [])
        accepted = self.sender.accepted
        self.assertEqual(len({case for case, _ in accepted}), len(accepted))
        for office in (LAND, MUENCHEN):
            mine = sorted(case for case, o in accepted if o == office)
            self.assertTrue(mine, office)
            self.assertEqual(self.hub.wait_for_cases(office, len(mine)), mine)
        deadline = time.time() + 30
        while (self.hub.metric("ozghub_deliveries_total", adapter="transfer",
                               outcome="delivered") != len(accepted) and time.time() < deadline):
            time.sleep(0.1)
        self.assertEqual(self.hub.metric("ozghub_deliveries_total", adapter="transfer",
                                         outcome="delivered"), len(accepted))
        self.assertEqual(self.hub.metric("ozghub_dead_letters"), 0)

    def test_check_config_is_the_daemons(self):
        r = self.hub.ctl("check-config", self.hub.config_path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("valid", r.stdout)
        self.write_config(self.config + "colour: blue\n")
        r = self.hub.ctl("check-config", self.hub.config_path)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{self.hub.config_path}:", r.stderr)
        self.assertIn("unknown key 'colour' in the top level", r.stderr)


if __name__ == "__main__":
    unittest.main()
