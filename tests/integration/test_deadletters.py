"""Dead letters end to end: a delivery that keeps failing is parked after its attempts, seen and
handled with the real ozg-hubctl through the admin endpoint (list, show, replay, purge), and
survives a restart. The failing channel is a transfer directory whose mount point is missing;
making the folder exists is the operator's fix."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.request

from hubtest import CORPUS, MOECKERN, PASSPORT, Hub, example_antrag
from ozghub_client import application_message


def routing_yaml(path, missing_root):
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"""areas:
  gv100ad: {CORPUS}/areas/GV100AD_301123.txt
offices:
  - id: amt-mit-ausfall
    name: "Amt, dessen Transferfreigabe fehlt"
    channels:
      - adapter: transfer
      - adapter: transfer
        params: {{ root: "{missing_root}" }}
responsibilities:
  - {{ service: "*", area: "{MOECKERN}", office: amt-mit-ausfall }}
""")


class DeadLetters(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-it-")
        self.share = os.path.join(self.tmp, "share-not-mounted")
        routing = os.path.join(self.tmp, "routing.yaml")
        routing_yaml(routing, self.share)
        self.hub = Hub(self.tmp, routing=routing,
                       retry="{ max_attempts: 3, initial_backoff_ms: 20, max_backoff_ms: 50 }")
        self.hub.start()

    def tearDown(self):
        self.hub.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def submit(self, n):
        msgs = [application_message(example_antrag().encode(), MOECKERN, PASSPORT,
                                    message_id=f"dl-{i}", sender="portal-test",
                                    attachments=[("Ausweis_Mustermann.pdf", "application/pdf",
                                                  b"%PDF-1.7 test")])
                for i in range(n)]
        outcomes, _ = self.hub.submit(msgs)
        self.assertEqual([o.state for o in outcomes], ["accepted"] * n)

    def wait_dead(self, n, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.hub.events("case.dead_lettered")) >= n:
                return
            time.sleep(0.05)
        self.fail(f"expected {n} dead letters, log:\n" + "".join(self.hub.log[-20:]))

    def listing(self):
        r = self.hub.ctl("deadletters", "list", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)["dead_letters"]

    def test_list_show_replay_and_purge(self):
        with urllib.request.urlopen(f"http://{self.hub.admin}/readyz", timeout=10) as r:
            self.assertEqual(r.status, 200)
        self.submit(2)
        self.hub.wait_for_cases("amt-mit-ausfall", 2)  # the working channel delivered both
        self.wait_dead(2)
        letters = self.listing()
        self.assertEqual(len(letters), 2)
        first = letters[0]
        self.assertEqual(first["channel"], 1)
        self.assertEqual(first["adapter"], "transfer")
        self.assertEqual(first["office"], "amt-mit-ausfall")
        self.assertEqual(first["attempts"], 3)
        self.assertIn("root folder", first["last_error"])
        self.assertEqual(self.hub.metric("ozghub_dead_letters"), 2)
        self.assertEqual(self.hub.metric("ozghub_deliveries_total", adapter="transfer",
                                         outcome="dead_letter"), 2)
        self.assertEqual(self.hub.metric("ozghub_deliveries_total", adapter="transfer",
                                         outcome="delivered"), 2)
        self.assertEqual(self.hub.metric("ozghub_deliveries_total", adapter="transfer",
                                         outcome="retry"), 4)
        with urllib.request.urlopen(f"http://{self.hub.admin}/metrics", timeout=10) as r:
            exposition = r.read()
        lint = subprocess.run(["promtool", "check", "metrics"], input=exposition,
                              capture_output=True)
        self.assertEqual(lint.returncode, 0, lint.stdout + lint.stderr)

        table = self.hub.ctl("deadletters", "list")
        self.assertEqual(table.returncode, 0, table.stderr)
        self.assertIn(first["case"], table.stdout)
        show = self.hub.ctl("deadletters", "show", first["case"])
        self.assertEqual(show.returncode, 0, show.stderr)
        self.assertIn(PASSPORT, show.stdout)
        self.assertIn("attachments", show.stdout)
        for out in (table.stdout, show.stdout, self.hub.ctl("deadletters", "show", first["case"],
                                                            "--json").stdout):
            self.assertNotIn("Mustermann", out)  # neither the XML nor the attachment's name
            self.assertNotIn("Erika", out)

        # The operator mounts the share and replays one case: same case number, delivered once.
        os.makedirs(self.share)
        r = self.hub.ctl("deadletters", "replay", first["case"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("replayed 1", r.stdout)
        folder = os.path.join(self.share, "amt-mit-ausfall", first["case"])
        deadline = time.time() + 15
        while not os.path.isdir(folder) and time.time() < deadline:
            time.sleep(0.05)
        self.assertTrue(os.path.isfile(os.path.join(folder, "manifest.json")))
        self.assertEqual([e["case"] for e in self.listing()], [letters[1]["case"]])

        # Purging asks for the case number; a wrong answer purges nothing.
        second = letters[1]["case"]
        no = self.hub.ctl("deadletters", "purge", second, input="no\n")
        self.assertEqual(no.returncode, 1)
        self.assertEqual(len(self.listing()), 1)
        yes = self.hub.ctl("deadletters", "purge", second, input=second + "\n")
        self.assertEqual(yes.returncode, 0, yes.stderr)
        self.assertEqual(self.listing(), [])
        self.assertEqual(self.hub.metric("ozghub_dead_letters"), 0)
        self.assertFalse(os.path.exists(os.path.join(self.share, "amt-mit-ausfall", second)))
        missing = self.hub.ctl("deadletters", "show", second)
        self.assertEqual(missing.returncode, 1)
        self.assertIn("no dead letter", missing.stderr)

    def test_dead_letters_survive_a_restart_and_replay_all_delivers_them(self):
        self.submit(3)
        self.wait_dead(3)
        self.hub.stop()
        self.hub.start()
        self.assertEqual(len(self.listing()), 3)
        self.assertEqual(self.hub.metric("ozghub_dead_letters"), 3)
        os.makedirs(self.share)
        r = self.hub.ctl("deadletters", "replay", "--all")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("replayed 3", r.stdout)
        office = os.path.join(self.share, "amt-mit-ausfall")

        def cases():  # finished folders only; ".tmp-*" are still being written
            return [d for d in os.listdir(office) if not d.startswith(".")] \
                if os.path.isdir(office) else []

        deadline = time.time() + 15
        while time.time() < deadline and len(cases()) < 3:
            time.sleep(0.05)
        self.assertEqual(len(cases()), 3)
        self.assertEqual(self.listing(), [])

    def test_usage_errors_and_an_unreachable_daemon(self):
        r = self.hub.ctl("deadletters", "show")
        self.assertEqual(r.returncode, 2)
        r = self.hub.ctl("deadletters", "show", "not-a-case")
        self.assertEqual(r.returncode, 1)
        self.assertIn("20 digits", r.stderr)
        admin = self.hub.admin
        self.hub.stop()
        r = self.hub.ctl("deadletters", "list")
        self.assertEqual(r.returncode, 3)
        self.assertIn("cannot reach the ozg-hub admin endpoint at " + admin, r.stderr)
        self.hub.start()  # for tearDown


if __name__ == "__main__":
    unittest.main()
