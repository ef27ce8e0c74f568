"""A damaged store (issue 4, item 4): the hub refuses to start, says which store and what to do,
exits non-zero and leaves every file as it found it. A torn WAL tail, which is what a kill -9
leaves, is normal crash recovery and starts fine, with everything accepted still there."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from hubtest import BINARY, Hub, example_antrag
from ozghub_client import application_message

BURG = "150860015015"
GEWERBE = "99050012104000"
OFFICE = "jerichower-land-kreisverwaltung"


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0xFF]))


def largest(store, suffix):
    files = [f for f in os.listdir(store) if f.endswith(suffix) or f.startswith(suffix)]
    return os.path.join(store, max(files, key=lambda f: os.path.getsize(os.path.join(store, f))))


def snapshot(store):
    out = {}
    for name in sorted(os.listdir(store)):
        with open(os.path.join(store, name), "rb") as f:
            out[name] = f.read()
    return out


class StoreDamage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        """One store with SST files (flushed when a restart replays the WAL) and a WAL holding
        commits and delivery bookkeeping (the last run ended with kill -9)."""
        cls.template = tempfile.mkdtemp(prefix="ozghub-it-")
        hub = Hub(cls.template)
        xml = example_antrag()
        cls.messages = [application_message(xml, BURG, GEWERBE, message_id=f"damage-{i}")
                        for i in range(10)]
        cls.cases = {}
        hub.start()
        for m in cls.messages[:5]:  # one commit each
            _, receipts = hub.submit([m], receipts=True)
            cls.cases[m.id] = receipts[0]["case_number"]
        hub.wait_for_cases(OFFICE, 5)
        hub.stop()
        hub.start()  # replays the WAL into SST files
        for m in cls.messages[5:]:
            _, receipts = hub.submit([m], receipts=True)
            cls.cases[m.id] = receipts[0]["case_number"]
        hub.wait_for_cases(OFFICE, 10)
        hub.kill()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.template, ignore_errors=True)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-it-")
        shutil.rmtree(self.tmp)
        shutil.copytree(self.template, self.tmp)
        self.hub = Hub(self.tmp)  # same layout, config rewritten for the copy
        self.store = os.path.join(self.hub.data_dir, "store")

    def tearDown(self):
        if self.hub.proc:
            self.hub.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def assert_refused(self, what):
        before = snapshot(self.store)
        p = subprocess.run([BINARY, "--config", self.hub.config_path], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        events = [json.loads(line) for line in p.stderr.splitlines() if line.startswith("{")]
        damaged = [e for e in events if e.get("event") == "store.damaged"]
        self.assertEqual(len(damaged), 1, p.stderr)
        self.assertEqual(damaged[0]["store"], self.store)
        self.assertIn(what, damaged[0]["error"])
        [failed] = [e for e in events if e.get("event") == "startup.failed"]
        message = failed["error"]
        self.assertIn(f"the store in {self.store} is damaged", message)
        self.assertIn("Do not delete the store", message)
        self.assertIn("restore the store from the last backup", message)
        self.assertNotIn("hub.started", p.stderr)
        self.assertEqual(snapshot(self.store), before, "the refused store was changed")

    def test_flipped_byte_in_an_sst_file_is_refused(self):
        flip_byte(largest(self.store, ".sst"), 10)  # inside the first data block
        self.assert_refused("block checksum mismatch")

    def test_garbled_record_in_the_middle_of_the_wal_is_refused(self):
        wal = largest(self.store, ".log")
        flip_byte(wal, os.path.getsize(wal) // 2)
        self.assert_refused("Corruption")

    def test_manifest_truncated_inside_its_base_record_is_refused(self):
        # Not detectable: a MANIFEST cut after its base record, at or in a later record, which
        # looks like a crash while an edit was written (see the comment in store.cpp).
        os.truncate(largest(self.store, "MANIFEST-"), 60)
        self.assert_refused("MANIFEST")

    def test_garbled_manifest_is_refused(self):
        # Inside its base record: damage to a later record can look like a crash during an
        # edit (see test_manifest_truncated_inside_its_base_record_is_refused).
        flip_byte(largest(self.store, "MANIFEST-"), 20)
        self.assert_refused("MANIFEST")

    def test_missing_current_file_is_refused_not_taken_for_a_new_store(self):
        os.remove(os.path.join(self.store, "CURRENT"))
        self.assert_refused("CURRENT file is missing")

    def test_torn_wal_tail_as_a_crash_leaves_it_starts_with_everything_accepted(self):
        wal = largest(self.store, ".log")
        os.truncate(wal, os.path.getsize(wal) - 3)  # the last record is incomplete
        self.hub.start()
        try:
            # Every accepted application is still known: resent, each gets its case number
            # back and nothing is delivered twice.
            outcomes, receipts = self.hub.submit(self.messages, receipts=True)
            self.assertTrue(all(o.state == "accepted" for o in outcomes))
            self.assertEqual({r["correlation_id"]: r["case_number"] for r in receipts},
                             self.cases)
            time.sleep(0.5)
            self.assertEqual(self.hub.case_dirs(OFFICE), sorted(self.cases.values()))
        finally:
            self.hub.stop()


if __name__ == "__main__":
    unittest.main()
