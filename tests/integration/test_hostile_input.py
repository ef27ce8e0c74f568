"""Hostile input through the real daemon over AMQP: every document of the validation corpus
(XXE to a file and to http, billion laughs, quadratic blowup, DOCTYPEs of every kind,
not-well-formed, schema violations, unknown namespaces) plus generated ones (invalid UTF-8,
nesting beyond the limit, oversized XML and attachments, too many attachments) is rejected with
its own condition; nothing opens the canary file or connects to the trap socket (an
xsi:schemaLocation pointing at them is no error and is never followed); and the hub keeps
serving and delivering afterwards."""

import errno
import os
import socket
import threading
import time

from hubtest import ANTRAG_NS, MOECKERN, PASSPORT, HubTestCase, SOURCE_DIR, example_antrag
from ozghub_client import application_message

CORPUS_DIR = os.path.join(SOURCE_DIR, "tests", "unit", "validation", "corpus")


class Traps:
    """A FIFO as the canary file (whoever opens it for reading blocks until a writer comes, so
    an open is seen however brief) and a listening socket that records every connection."""

    def __init__(self, folder):
        self.canary = os.path.join(folder, "canary-secret")
        os.mkfifo(self.canary)
        self.opened = threading.Event()
        self.connected = threading.Event()
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.threads = [threading.Thread(target=self._watch_fifo, daemon=True),
                        threading.Thread(target=self._accept, daemon=True)]
        for t in self.threads:
            t.start()

    def _watch_fifo(self):
        while not self.stop.is_set():
            try:
                fd = os.open(self.canary, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno != errno.ENXIO:  # ENXIO: nobody has it open for reading
                    raise
                time.sleep(0.005)
                continue
            self.opened.set()  # a reader exists: something opened the canary
            os.close(fd)
            time.sleep(0.005)

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            self.connected.set()
            conn.close()

    def instantiate(self, text):
        return (text.replace("@HTTP_PORT@", str(self.port))
                .replace("@CANARY_URL@", "file://" + self.canary)
                .replace("@CANARY_PATH@", self.canary))

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(2)
        self.sock.close()


def condition_of(label):
    return "ozg:" + label.replace("_", "-")


class HostileInput(HubTestCase):
    extra_config = ("limits: { max_message_bytes: 3000000, max_xml_bytes: 1000000, "
                    "max_attachments: 5, max_xml_depth: 64 }")

    def setUp(self):
        super().setUp()
        self.traps = Traps(self.tmp)

    def tearDown(self):
        self.traps.close()
        super().tearDown()

    def submit_one_by_one(self, cases):
        """Each case alone, so that a stalled parse would show as a timeout on that case."""
        outcomes = []
        for msg, _ in cases:
            [outcome], _ = self.hub.submit([msg], timeout=60)
            outcomes.append(outcome)
        return outcomes

    def test_validation_corpus_through_the_daemon(self):
        cases = []
        for name in sorted(os.listdir(CORPUS_DIR)):
            if not name.endswith(".xml"):
                continue
            with open(os.path.join(CORPUS_DIR, name), encoding="utf-8") as f:
                xml = self.traps.instantiate(f.read())
            label = name.split("__", 1)[0]
            cases.append((application_message(xml.encode("utf-8"), MOECKERN, PASSPORT,
                                              message_id="hostile-" + name), label))
        self.assertGreaterEqual(len(cases), 50)
        outcomes = self.submit_one_by_one(cases)
        valid = 0
        for (msg, label), outcome in zip(cases, outcomes):
            with self.subTest(message=msg.id):
                if label == "valid":
                    self.assertEqual(outcome.state, "accepted", outcome)
                    valid += 1
                else:
                    self.assertEqual(outcome.state, "rejected", outcome)
                    self.assertEqual(outcome.condition, condition_of(label), outcome)
        self.hub.wait_for_cases("moeckern-buergeramt", valid)
        self.assertFalse(self.traps.opened.is_set(), "a document made the hub open the canary")
        self.assertFalse(self.traps.connected.is_set(), "a document made the hub connect")
        self.assert_still_serving()

    def test_generated_hostile_messages(self):
        good = example_antrag()
        deep = ("<Antrag xmlns='" + ANTRAG_NS + "'>" + "<Anliegen>" * 200 + "x" +
                "</Anliegen>" * 200 + "</Antrag>")
        pdf = b"%PDF-1.7\n" + b"0" * 100
        cases = [
            (application_message(good.encode("utf-8").replace(b"Erika", b"Er\xffka"), MOECKERN,
                                 PASSPORT), "ozg:not-well-formed"),
            (application_message(good.encode("utf-8").replace(b"Erika", b"Er\xc0\xafka"),
                                 MOECKERN, PASSPORT), "ozg:not-well-formed"),
            (application_message(deep, MOECKERN, PASSPORT), "ozg:forbidden-construct"),
            (application_message(good.replace("</Anliegen>", "x" * 1100000 + "</Anliegen>"),
                                 MOECKERN, PASSPORT), "ozg:too-large"),
            (application_message(good, MOECKERN, PASSPORT,
                                 attachments=[("gross.pdf", "application/pdf",
                                               b"0" * 3100000)]), "ozg:too-large"),
            (application_message(good, MOECKERN, PASSPORT,
                                 attachments=[(f"n{i}.pdf", "application/pdf", pdf)
                                              for i in range(6)]), "ozg:too-large"),
            (application_message(good.replace(ANTRAG_NS, "urn:example:wrong"), MOECKERN,
                                 PASSPORT), "ozg:unknown-schema"),
            (application_message(good, MOECKERN, PASSPORT, schema="urn:example:wrong"),
             "ozg:unknown-schema"),
        ]
        outcomes = self.submit_one_by_one(cases)
        for (msg, condition), outcome in zip(cases, outcomes):
            with self.subTest(condition=condition, message=msg.id):
                self.assertEqual(outcome.state, "rejected", outcome)
                self.assertEqual(outcome.condition, condition, outcome)
        self.assert_still_serving()

    def test_schema_location_hints_are_no_error_and_never_followed(self):
        hinted = example_antrag().replace(
            "<Antrag ", "<Antrag xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' "
            f"xsi:schemaLocation='{ANTRAG_NS} http://127.0.0.1:{self.traps.port}/antrag.xsd' ", 1)
        self.assertNotEqual(hinted, example_antrag())
        local = hinted.replace(f"http://127.0.0.1:{self.traps.port}/antrag.xsd",
                               "file://" + self.traps.canary)
        outcomes, _ = self.hub.submit([application_message(hinted, MOECKERN, PASSPORT),
                                       application_message(local, MOECKERN, PASSPORT)])
        self.assertEqual([o.state for o in outcomes], ["accepted", "accepted"], outcomes)
        self.hub.wait_for_cases("moeckern-buergeramt", 2)
        self.assertFalse(self.traps.opened.is_set())
        self.assertFalse(self.traps.connected.is_set())

    def assert_still_serving(self):
        self.assertIsNone(self.hub.proc.poll(), "the hub exited")
        before = len(self.hub.case_dirs("moeckern-buergeramt"))
        outcomes, _ = self.hub.submit([application_message(example_antrag(), MOECKERN, PASSPORT,
                                                           message_id="after-the-storm")])
        self.assertEqual(outcomes[0].state, "accepted", outcomes[0])
        self.hub.wait_for_cases("moeckern-buergeramt", before + 1)


if __name__ == "__main__":
    import unittest
    unittest.main()
