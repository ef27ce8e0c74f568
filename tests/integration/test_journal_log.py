"""Logs under systemd (issue 5, item 5): with log_format journal, or auto when stderr is the
journal's stream ($JOURNAL_STREAM), every line goes to journald's native socket as fields. Here a
datagram socket of the test stands in for journald ($OZGHUB_JOURNAL_SOCKET); the test decodes the
protocol itself (NAME=value lines, or NAME, a 64-bit little-endian length and the raw value)."""

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest

from hubtest import BINARY, Hub


def decode(datagram):
    """The fields of one datagram as a dict (journald's parser, for what the hub sends)."""
    fields = {}
    i = 0
    while i < len(datagram):
        nl = datagram.index(b"\n", i)
        line = datagram[i:nl]
        if b"=" in line:
            name, value = line.split(b"=", 1)
            i = nl + 1
        else:
            name = line
            (n,) = struct.unpack("<Q", datagram[nl + 1:nl + 9])
            value = datagram[nl + 9:nl + 9 + n]
            assert datagram[nl + 9 + n:nl + 10 + n] == b"\n", "no newline after a binary field"
            i = nl + 10 + n
        assert re.fullmatch(rb"[A-Z0-9_]{1,64}", name) and not name[:1].isdigit(), name
        fields[name.decode()] = value.decode()
    return fields


def expected_id(event):
    return hashlib.sha256(event.encode()).hexdigest()[:32]


class JournalLog(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-it-")
        self.socket_path = os.path.join(self.tmp, "journal.socket")
        self.journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.journal.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.journal.bind(self.socket_path)
        self.proc = None

    def tearDown(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self.journal.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_hub(self, log_format=None, journal_stream=None):
        """Starts the daemon, waits for amqp.listening in the journal, stops it with SIGTERM.
        Returns the decoded lines and what the daemon wrote on stderr."""
        hub = Hub(self.tmp, extra_config=f"log_format: {log_format}" if log_format else "")
        stderr_path = os.path.join(self.tmp, "stderr")
        env = {**os.environ, "OZGHUB_JOURNAL_SOCKET": self.socket_path}
        env.pop("JOURNAL_STREAM", None)
        with open(stderr_path, "wb") as stderr:
            if journal_stream is not None:
                st = os.fstat(stderr.fileno())
                env["JOURNAL_STREAM"] = journal_stream(st.st_dev, st.st_ino)
            self.proc = subprocess.Popen([BINARY, "--config", hub.config_path], env=env,
                                         stdout=subprocess.DEVNULL, stderr=stderr)
        lines = []
        self.journal.settimeout(0.2)
        deadline = time.time() + 30
        sent_term = False
        while time.time() < deadline:
            try:
                lines.append(decode(self.journal.recv(1 << 20)))
                listening = lines[-1].get("OZGHUB_EVENT") == "amqp.listening"
            except socket.timeout:
                if self.proc.poll() is not None:
                    break
                with open(stderr_path, encoding="utf-8", errors="replace") as f:
                    listening = '"event":"amqp.listening"' in f.read()
            if listening and not sent_term:
                self.proc.send_signal(signal.SIGTERM)
                sent_term = True
        self.assertTrue(sent_term, "the hub never reported amqp.listening")
        self.assertEqual(self.proc.wait(30), 0)
        with open(stderr_path, encoding="utf-8", errors="replace") as f:
            return lines, f.read()

    def events(self, lines):
        return {line["OZGHUB_EVENT"]: line for line in lines}

    def test_journal_lines_carry_message_priority_id_event_and_fields(self):
        lines, stderr = self.run_hub("journal")
        by_event = self.events(lines)
        for name in ("admin.listening", "amqp.dev_mode", "hub.started", "amqp.listening",
                     "hub.stopping", "hub.stopped"):
            self.assertIn(name, by_event)
        for line in lines:
            event = line["OZGHUB_EVENT"]
            self.assertEqual(line["MESSAGE_ID"], expected_id(event))
            self.assertTrue(line["MESSAGE"].startswith(event), line)
            self.assertIn(line["PRIORITY"], ("3", "4", "6", "7"))
            self.assertEqual(line["SYSLOG_IDENTIFIER"], "ozg-hub")
        started = by_event["hub.started"]
        self.assertEqual(started["PRIORITY"], "6")
        self.assertEqual(started["OZGHUB_DATA_DIR"], os.path.join(self.tmp, "data"))
        self.assertIn(f"data_dir={self.tmp}/data", started["MESSAGE"])
        self.assertRegex(started["OZGHUB_WORKERS"], r"^\d+$")
        self.assertEqual(by_event["amqp.dev_mode"]["PRIORITY"], "4")
        self.assertEqual(by_event["hub.stopping"]["OZGHUB_SIGNAL"], "SIGTERM")
        self.assertRegex(by_event["admin.listening"]["OZGHUB_ADDRESS"], r"^127\.0\.0\.1:\d+$")
        # Nothing went to stderr as JSON: every line reached the journal.
        self.assertNotIn('"event"', stderr)

        # Another run: the same events have the same ids (journalctl MESSAGE_ID=... keeps working).
        again = self.events(self.run_hub("journal")[0])
        for name in ("hub.started", "admin.listening", "hub.stopped"):
            self.assertEqual(again[name]["MESSAGE_ID"], by_event[name]["MESSAGE_ID"])

    def test_auto_uses_the_journal_when_stderr_is_the_journal_stream(self):
        lines, stderr = self.run_hub(journal_stream=lambda dev, ino: f"{dev}:{ino}")
        self.assertIn("hub.started", self.events(lines))
        self.assertNotIn('"event"', stderr)

    def test_auto_writes_json_lines_when_stderr_is_something_else(self):
        lines, stderr = self.run_hub(journal_stream=lambda dev, ino: f"{dev}:{ino + 1}")
        self.assertEqual(lines, [])
        events = [json.loads(line)["event"] for line in stderr.splitlines() if line.startswith("{")]
        self.assertIn("hub.started", events)
        lines, stderr = self.run_hub("json", journal_stream=lambda dev, ino: f"{dev}:{ino}")
        self.assertEqual(lines, [])
        self.assertIn('"event":"hub.started"', stderr)

    def test_without_journald_the_lines_go_to_stderr(self):
        self.journal.close()
        os.unlink(self.socket_path)
        self.journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # unbound: nothing arrives
        hub = Hub(self.tmp, extra_config="log_format: journal")
        hub.start(env={"OZGHUB_JOURNAL_SOCKET": self.socket_path})
        try:
            self.assertTrue(hub.events("hub.started"))
        finally:
            hub.stop()


if __name__ == "__main__":
    unittest.main()
