"""Encryption at rest and deletion after delivery (issue 4, items 9 and 10), with the real daemon:
no byte of an application (XML, attachment name or content) is ever found in the data directory;
after delivery plus retention the data key and the payload are deleted and compacted away, while
the audit trail keeps the hashes of what was sent; a KEK file readable by others is refused; a
KEK rotation by SIGHUP re-wraps the stored data keys, after which the old KEK can be removed and
the old cases are still delivered."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import uuid

from hubtest import BINARY, MOECKERN, PASSPORT, Hub, example_antrag
from ozghub_client import application_message
from test_deadletters import routing_yaml


def files_containing(root, needle):
    """Every file under `root` whose raw bytes contain `needle`."""
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            try:
                with open(path, "rb") as f:
                    if needle in f.read():
                        found.append(path)
            except FileNotFoundError:  # a file RocksDB deleted meanwhile
                pass
    return found


def wait_for(what, predicate, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def write_key(path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, os.urandom(32))
    os.close(fd)


class EncryptionAtRest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-it-")
        self.hub = None

    def tearDown(self):
        if self.hub:
            self.hub.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def audit(self, case):
        r = self.hub.ctl("case", case, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def start_with_a_dead_letter(self):
        """A hub whose office has a second channel on a share that is not mounted: one case,
        delivered on channel 0, a dead letter on channel 1. Returns the share's path."""
        share = os.path.join(self.tmp, "share-not-mounted")
        routing = os.path.join(self.tmp, "routing.yaml")
        routing_yaml(routing, share)
        self.hub = Hub(self.tmp, routing=routing,
                       retry="{ max_attempts: 1, initial_backoff_ms: 20, max_backoff_ms: 50 }",
                       extra_config="retention: { sweep_interval: 100ms }")
        self.hub.start()
        outcomes, _ = self.hub.submit([application_message(
            example_antrag().encode(), MOECKERN, PASSPORT, message_id="dl-1",
            sender="portal-test")])
        self.assertEqual(outcomes[0].state, "accepted")
        wait_for("a dead letter", lambda: self.hub.metric("ozghub_dead_letters") == 1)
        return share

    def test_nothing_readable_at_rest_and_deleted_after_retention(self):
        self.hub = Hub(self.tmp, extra_config="retention: { payload: 1s, sweep_interval: 100ms }")
        self.hub.start()
        marker = "Zq" + uuid.uuid4().hex[:16]
        xml = example_antrag().replace("Mustermann</Familienname>", marker + "</Familienname>")
        attachment = b"%PDF-1.7 " + marker.encode() + b" scan"
        messages = [application_message(xml.encode(), MOECKERN, PASSPORT,
                                        message_id=f"rest-{i}", sender="portal-test",
                                        attachments=[(f"Ausweis_{marker}.pdf", "application/pdf",
                                                      attachment)])
                    for i in range(3)]
        outcomes, _ = self.hub.submit(messages)
        self.assertEqual([o.state for o in outcomes], ["accepted"] * 3)
        cases = self.hub.wait_for_cases("moeckern-buergeramt", 3)
        # Delivered, so the marker exists outside the hub; inside its data directory never.
        self.assertEqual(files_containing(self.hub.data_dir, marker.encode()), [])
        self.assertNotIn(marker, "".join(self.hub.log))

        for case in cases:
            # "payload": "deleted" holds from the key's destruction on (crypto-shredding); the
            # ciphertext's removal follows in a second write, so wait for its event.
            trail = wait_for(f"case {case} deleted",
                             lambda c=case: (lambda a: a if a["payload"] == "deleted" and any(
                                 e["event"] == "payload_deleted" for e in a["events"]) else None)(
                                 self.audit(c)))
            events = {e["event"]: e for e in trail["events"]}
            for kind in ("committed", "delivered", "deletion_scheduled", "key_destroyed",
                         "payload_deleted"):
                self.assertIn(kind, events)
            committed = events["committed"]
            self.assertEqual(committed["xml"]["sha256"], hashlib.sha256(xml.encode()).hexdigest())
            self.assertEqual(committed["attachments"][0]["sha256"],
                             hashlib.sha256(attachment).hexdigest())
            self.assertEqual(committed["office"], "moeckern-buergeramt")
            self.assertEqual(committed["area_id"], MOECKERN)
            # The key goes before the payload (crypto-shredding).
            times = [e["event"] for e in trail["events"]]
            self.assertLess(times.index("key_destroyed"), times.index("payload_deleted"))
            self.assertNotIn(marker, json.dumps(trail))
        wait_for("the deletion metric",
                 lambda: self.hub.metric("ozghub_cases_deleted_total") == 3)
        self.assertEqual(files_containing(self.hub.data_dir, marker.encode()), [])

        # The idempotency record outlives the payload: a resend is recognised, not delivered.
        outcomes, _ = self.hub.submit(messages[:1])
        self.assertEqual(outcomes[0].state, "accepted")
        time.sleep(0.3)
        self.assertEqual(len(self.hub.case_dirs("moeckern-buergeramt")), 3)
        self.assertEqual(files_containing(self.hub.data_dir, marker.encode()), [])

    def test_key_file_readable_by_others_is_refused(self):
        self.hub = Hub(self.tmp)
        os.chmod(self.hub.kek_path, 0o644)
        r = subprocess.run([BINARY, "--check-config", self.hub.config_path], capture_output=True,
                           text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("accessible by group or others (mode 0644)", r.stderr)
        self.assertIn("chmod 600 " + self.hub.kek_path, r.stderr)
        self.hub = None

    def test_rotation_without_downtime(self):
        share = self.start_with_a_dead_letter()
        wait_for("the key metric", lambda: self.hub.metric("ozghub_store_data_keys", kek="k1") == 1)

        with open(self.hub.config_path, encoding="utf-8") as f:
            config = f.read()
        old_block = f"    k1: {{ type: file, path: {self.hub.kek_path} }}\n"
        self.assertIn(old_block, config)
        k2 = os.path.join(self.tmp, "kek-2.key")
        write_key(k2)
        new_block = f"    k2: {{ type: file, path: {k2} }}\n"

        def rewrite(text):
            with open(self.hub.config_path, "w", encoding="utf-8") as f:
                f.write(text)
            self.hub.proc.send_signal(signal.SIGHUP)

        rewrite(config.replace("  keks:\n" + old_block,
                               "  active_kek: k2\n  keks:\n" + old_block + new_block))
        wait_for("re-wrapped keys",
                 lambda: self.hub.metric("ozghub_store_data_keys", kek="k1") == 0
                 and self.hub.metric("ozghub_store_data_keys", kek="k2") == 1)
        self.assertEqual(self.hub.metric("ozghub_data_keys_rewrapped_total"), 1)
        # The old KEK leaves the configuration; the old case is still delivered.
        rewrite(config.replace(old_block, new_block))
        wait_for("the reload", lambda: any('"encryption.reloaded"' in line and '"k2"' in line
                                           for line in self.hub.log[-20:]))
        os.makedirs(share)
        r = self.hub.ctl("deadletters", "replay", "--all")
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_for("delivery to the share", lambda: os.listdir(share))
        self.assertEqual(self.hub.metric("ozghub_dead_letters"), 0)

    def test_unknown_kek_is_a_clear_error(self):
        self.start_with_a_dead_letter()
        self.hub.stop()
        # Restarted with a different KEK only: the case's key cannot be unwrapped, and says why.
        with open(self.hub.config_path, encoding="utf-8") as f:
            config = f.read()
        k9 = os.path.join(self.tmp, "kek-9.key")
        write_key(k9)
        with open(self.hub.config_path, "w", encoding="utf-8") as f:
            f.write(config.replace(f"k1: {{ type: file, path: {self.hub.kek_path} }}",
                                   f"k9: {{ type: file, path: {k9} }}"))
        self.hub.start()
        r = self.hub.ctl("deadletters", "show", wait_for("case", lambda: json.loads(
            self.hub.ctl("deadletters", "list", "--json").stdout)["dead_letters"])[0]["case"])
        self.assertIn("key-encryption key 'k1', which is not configured", r.stdout)


if __name__ == "__main__":
    unittest.main()
