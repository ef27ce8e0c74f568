"""ozg-hubctl status, route and backup against a running daemon: what an operator sees, why an
application goes where it goes, and a backup taken under load that restores to a new daemon which
delivers the rest."""

import json
import os
import shutil
import socket
import tempfile
import threading
import time
import unittest

from hubtest import CTL_BINARY, MOECKERN, PASSPORT, SOURCE_DIR, Hub, example_antrag
from ozghub_client import application_message
import subprocess

BURG = "150860015015"
NEBRA = "150845053360"  # Burgenlandkreis: no Kreis or municipality entry, only the Land's
MUENCHEN = "091620000000"
GEWERBE = "99050012104000"
FUEHRERSCHEIN = "99108047050001"
OFFICE = "jerichower-land-kreisverwaltung"
SLOW_RETRY = "{ max_attempts: 1000, initial_backoff_ms: 200, max_backoff_ms: 500 }"
DEMO_ROUTING = os.path.join(SOURCE_DIR, "config", "routing.demo.yaml")


def demo_line(text):
    """The line number of the routing demo's entry containing `text`."""
    with open(DEMO_ROUTING, encoding="utf-8") as f:
        [n] = [i for i, line in enumerate(f, 1) if text in line and not line.lstrip().startswith("#")]
    return n


def block_transfer_dir(hub):
    # A file where the office folder should be: every delivery to OFFICE fails and is retried.
    os.makedirs(hub.transfer, exist_ok=True)
    with open(os.path.join(hub.transfer, OFFICE), "w") as f:
        f.write("in the way")


def messages(prefix, n):
    xml = example_antrag()
    return [application_message(xml, BURG, GEWERBE, message_id=f"{prefix}-{i}") for i in range(n)]


class OpsCli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-it-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def ctl_json(self, hub, *args):
        r = hub.ctl(*args, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_status_shows_throughput_backlog_oldest_case_adapters_and_certificates(self):
        hub = Hub(self.tmp, retry=SLOW_RETRY)
        block_transfer_dir(hub)
        hub.start()
        try:
            outcomes, receipts = hub.submit(messages("status", 20), receipts=True)
            self.assertTrue(all(o.state == "accepted" for o in outcomes))
            cases = sorted(r["case_number"] for r in receipts)
            time.sleep(1.5)  # a failed attempt for each, and a throughput sample after them
            s = self.ctl_json(hub, "status")

            t = s["throughput"]
            self.assertGreater(t["window_seconds"], 0)
            self.assertEqual(t["received"], 20)
            self.assertEqual(t["accepted"], 20)
            self.assertGreater(t["accepted_per_second"], 0)

            b = s["backlog"]
            self.assertEqual(set(b["stages"]), {"intake", "commit", "delivery"})
            self.assertEqual(b["stages"]["intake"], 0)
            self.assertEqual(b["stages"]["commit"], 0)
            # Waiting deliveries: all 20 but those in an attempt right now.
            self.assertGreater(b["stages"]["delivery"], 0)
            self.assertLessEqual(b["stages"]["delivery"], 20)
            self.assertEqual(b["offices"], [{"office": OFFICE, "deliveries": 20, "cases": 20}])
            self.assertEqual(b["scan"]["complete"], True)
            self.assertEqual(b["scan"]["entries"], 20)
            self.assertEqual(b["dead_letters"], 0)

            oldest = s["oldest_undelivered"]
            self.assertEqual(oldest["case"], cases[0])
            self.assertEqual(oldest["office"], OFFICE)
            self.assertGreaterEqual(oldest["age_seconds"], 1.0)
            self.assertLess(oldest["age_seconds"], 60)

            [adapter] = s["adapters"]
            self.assertEqual(adapter["name"], "transfer")
            self.assertEqual(adapter["type"], "transfer_dir")
            self.assertEqual(adapter["state"], "failing")
            self.assertGreaterEqual(adapter["failed_attempts"], 20)
            self.assertEqual(adapter["delivered"], 0)

            certs = {c["office"]: c for c in s["certificates"]}
            self.assertEqual(set(certs), {"moeckern-buergeramt", "jerichower-land-fahrerlaubnis"})
            for c in certs.values():
                self.assertTrue(c["subject"])
                self.assertRegex(c["not_after"], r"^\d{4}-\d\d-\d\dT")
                self.assertIsInstance(c["days_left"], (int, float))

            # The table for people: the same facts, no personal data.
            r = hub.ctl("status")
            self.assertEqual(r.returncode, 0, r.stderr)
            for text in ("throughput", OFFICE, cases[0], "failing", "transfer_dir",
                         "moeckern-buergeramt"):
                self.assertIn(text, r.stdout)
            self.assertNotIn("Mustermann", r.stdout + json.dumps(s))
        finally:
            hub.stop()

    def test_route_names_the_office_the_rule_and_why(self):
        hub = Hub(self.tmp).start()
        try:
            # The municipality's own catch-all entry.
            r = self.ctl_json(hub, "route", "--area", MOECKERN, "--service", PASSPORT)
            self.assertTrue(r["routed"])
            self.assertEqual(r["office"]["id"], "moeckern-buergeramt")
            self.assertTrue(r["office"]["encrypted"])
            self.assertEqual(r["channels"], [{"channel": 0, "adapter": "transfer",
                                              "type": "transfer_dir"}])
            self.assertEqual(r["rule"]["area"], MOECKERN)
            self.assertEqual(r["rule"]["service"], "*")
            self.assertTrue(r["rule"]["exact_area"])
            self.assertEqual(r["rule"]["line"], demo_line(f'area: "{MOECKERN}"'))

            # A Kreis entry for the service beats the municipality's catch-all.
            r = self.ctl_json(hub, "route", "--area", MOECKERN, "--service", FUEHRERSCHEIN)
            self.assertEqual(r["office"]["id"], "jerichower-land-fahrerlaubnis")
            self.assertEqual(r["rule"]["service"], FUEHRERSCHEIN)
            self.assertEqual(r["rule"]["area_level"], "Kreis")
            self.assertFalse(r["rule"]["exact_area"])
            self.assertFalse(r["rule"]["wildcard_service"])
            self.assertEqual(r["rule"]["line"], demo_line(f'"{FUEHRERSCHEIN}", area: "15086"'))

            # Fallbacks by ARS prefix: the Kreis's catch-all, then the Land's.
            r = self.ctl_json(hub, "route", "--area", BURG, "--service", GEWERBE)
            self.assertEqual(r["office"]["id"], OFFICE)
            self.assertEqual((r["rule"]["area"], r["rule"]["area_level"]), ("15086", "Kreis"))
            self.assertTrue(r["rule"]["wildcard_service"])
            self.assertEqual(r["rule"]["line"], demo_line(f"office: {OFFICE} }}"))
            r = self.ctl_json(hub, "route", "--area", NEBRA, "--service", PASSPORT)
            self.assertEqual(r["office"]["id"], "sachsen-anhalt-landesverwaltungsamt")
            self.assertEqual((r["rule"]["area"], r["rule"]["area_level"]), ("15", "Land"))
            self.assertIn("enclosing Land 15", r["reason"])

            out = hub.ctl("route", "--area", BURG, "--service", GEWERBE)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn(f"office    {OFFICE}", out.stdout)
            self.assertIn("rule      line", out.stdout)
            self.assertIn("catch-all", out.stdout)

            # What the hub would reject: exit 1 and the rejection's condition.
            out = hub.ctl("route", "--area", MUENCHEN, "--service", PASSPORT)
            self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
            self.assertIn("ozg:no-responsible-office", out.stdout)
            self.assertEqual(hub.ctl("route", "--area", MOECKERN).returncode, 2)
        finally:
            hub.stop()

    def test_every_new_command_says_when_the_daemon_is_not_running(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # closed when the block ends: nothing listens there
        for args in (["status"], ["route", "--area", MOECKERN, "--service", PASSPORT],
                     ["backup", os.path.join(self.tmp, "b")]):
            r = subprocess.run([CTL_BINARY, "--admin", f"127.0.0.1:{port}", *args],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 3, args)
            self.assertIn("is the daemon running", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "b")))

    def test_backup_under_load_restores_to_a_daemon_that_delivers_the_rest(self):
        old_dir = os.path.join(self.tmp, "old")
        new_dir = os.path.join(self.tmp, "new")
        os.makedirs(old_dir)
        os.makedirs(new_dir)
        backup = os.path.join(self.tmp, "backup-1")
        old = Hub(old_dir, retry=SLOW_RETRY)
        block_transfer_dir(old)  # nothing is delivered before the backup: it must carry it all
        old.start()
        batches = []  # (time the batch was fully accepted, its case numbers)
        failures = []

        def client():
            try:
                for b in range(30):
                    outcomes, receipts = old.submit(messages(f"load-{b}", 10), receipts=True)
                    if not all(o.state == "accepted" for o in outcomes):
                        failures.append(f"batch {b}: {outcomes}")
                    batches.append((time.time(), {r["case_number"] for r in receipts}))
            except Exception as e:  # noqa: BLE001 - reported by the test thread
                failures.append(repr(e))

        sender = threading.Thread(target=client)
        sender.start()
        try:
            deadline = time.time() + 60
            while len(batches) < 5 and time.time() < deadline and not failures:
                time.sleep(0.01)
            backup_started = time.time()
            r = old.ctl("backup", backup, "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            info = json.loads(r.stdout)
            self.assertEqual(info["dir"], backup)
            self.assertGreater(info["sequence"], 0)
            self.assertGreater(info["bytes"], 0)
            self.assertTrue(os.path.isfile(os.path.join(backup, "CURRENT")))
            self.assertTrue(info["hard_links"])  # the test's backup is on the store's file system
            sending_during_backup = len(batches) < 30
            # The directory must not exist yet: a second backup into it is refused.
            again = old.ctl("backup", backup)
            self.assertEqual(again.returncode, 1)
            self.assertIn("exists already", again.stderr)
        finally:
            sender.join(120)
            old.stop()
        self.assertEqual(failures, [])
        self.assertTrue(sending_during_backup, "the client had finished before the backup")
        before = set().union(*(cases for at, cases in batches if at < backup_started))
        everything = set().union(*(cases for _, cases in batches))
        self.assertGreaterEqual(len(before), 50)
        self.assertEqual(len(everything), 300)
        self.assertEqual(old.case_dirs(OFFICE), [])

        # Restore: a new daemon on a copy of the checkpoint, with the same KEK (kept apart from
        # the backup) and a transfer directory it can write.
        os.makedirs(os.path.join(new_dir, "data"))
        shutil.copytree(backup, os.path.join(new_dir, "data", "store"))
        shutil.copy2(old.kek_path, os.path.join(new_dir, "kek-1.key"))
        new = Hub(new_dir, retry=SLOW_RETRY)
        new.start()
        try:
            recovered = int(new.events("hub.started")[0]["recovered_deliveries"])
            self.assertGreaterEqual(recovered, len(before))
            delivered = set(new.wait_for_cases(OFFICE, recovered, timeout=90))
            self.assertTrue(before <= delivered, sorted(before - delivered)[:5])
            self.assertTrue(delivered <= everything, sorted(delivered - everything)[:5])
            time.sleep(0.5)
            self.assertEqual(len(new.case_dirs(OFFICE)), recovered)
            # No application twice: each folder holds a different message.
            ids = []
            for case in new.case_dirs(OFFICE):
                with open(os.path.join(new.transfer, OFFICE, case, "manifest.json")) as f:
                    ids.append(json.load(f)["message_id"])
            self.assertEqual(len(ids), len(set(ids)))
            status = self.ctl_json(new, "status")
            self.assertIsNone(status["oldest_undelivered"])
            self.assertEqual(status["backlog"]["offices"], [])
            # The restored store's case numbers continue past any the old daemon issued, also
            # those after the backup (whose cases an office may hold already).
            [restored] = new.events("store.restored_from_backup")
            self.assertTrue(restored["backup_taken_at"])
            outcomes, receipts = new.submit(messages("after-restore", 1), receipts=True)
            self.assertEqual(outcomes[0].state, "accepted")
            self.assertGreater(receipts[0]["case_number"], max(everything))
            # A message the backup holds is a duplicate: accepted under its old case number.
            outcomes, receipts = new.submit(messages("load-0", 1), receipts=True)
            self.assertEqual(outcomes[0].state, "accepted")
            self.assertIn(receipts[0]["case_number"], before)
        finally:
            new.stop()


if __name__ == "__main__":
    unittest.main()
