"""One office, three channels: a transfer directory, a Fachverfahren over HTTP (the application
and its PDF as multipart/form-data) and an SMTP mailbox, all real peers on 127.0.0.1. The HTTP
endpoint answers 503 for a while and the mail server is down at first; every channel still gets
every case exactly once, with the case number as its idempotency key, and a restart of the hub
delivers nothing again."""

import collections
import email.parser
import email.policy
import http.server
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import unittest

from aiosmtpd.controller import Controller

from hubtest import CORPUS, Hub, example_antrag
from ozghub_client import application_message

BURG = "150860015015"
GEWERBE = "99050012104000"
OFFICE = "burg-gewerbeamt"
COUNT = 6
logging.getLogger("mail.log").setLevel(logging.CRITICAL)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Fachverfahren:
    """Answers 503 until `healthy_at`, then 200; records (Idempotency-Key, status) per POST and
    the parts of each accepted multipart body."""

    def __init__(self, unhealthy_for):
        self.healthy_at = time.monotonic() + unhealthy_for
        self.requests = []
        self.parts = {}  # Idempotency-Key -> [(name, filename, content type, bytes)]
        self.lock = threading.Lock()
        peer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = 200 if time.monotonic() >= peer.healthy_at else 503
                key = self.headers["Idempotency-Key"]
                if status == 200:
                    entity = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                        b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n"
                        + body)
                    parts = [(p.get_param("name", header="content-disposition"),
                              p.get_filename(), p.get_content_type(),
                              p.get_payload(decode=True)) for p in entity.iter_parts()]
                with peer.lock:
                    peer.requests.append((key, status))
                    if status == 200:
                        peer.parts[key] = parts
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/antraege"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self):
        with self.lock:
            return collections.Counter(k for k, s in self.requests if s == 200)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    def __init__(self):
        self.message_ids = collections.Counter()
        self.lock = threading.Lock()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        for line in envelope.content.decode("utf-8", "replace").splitlines():
            if line.lower().startswith("message-id:"):
                with self.lock:
                    self.message_ids[line.split(":", 1)[1].strip()] += 1
        return "250 OK"

    def start(self, port):
        self.controller = Controller(self, hostname="127.0.0.1", port=port)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()


class ThreeChannels(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-it-")
        self.fachverfahren = Fachverfahren(unhealthy_for=1.5)
        self.mailbox = Mailbox()
        self.smtp_port = free_port()  # nobody listens yet: the mail server is down
        routing = os.path.join(self.tmp, "routing.yaml")
        with open(routing, "w", encoding="utf-8") as f:
            f.write(f"""areas:
  gv100ad: {CORPUS}/areas/GV100AD_301123.txt
offices:
  - id: {OFFICE}
    name: "Stadt Burg, Gewerbeamt"
    channels:
      - adapter: transfer
      - adapter: fachverfahren
        params: {{ url: "{self.fachverfahren.url}", attachments: multipart }}
      - adapter: mail
        params: {{ to: "gewerbe@burg.example" }}
responsibilities:
  - {{ service: "*", area: "{BURG}", office: {OFFICE} }}
""")
        self.hub = Hub(self.tmp, routing=routing,
                       retry="{ max_attempts: 50, initial_backoff_ms: 50, max_backoff_ms: 200 }",
                       extra_adapters=f"""  fachverfahren:
    type: http
  mail:
    type: smtp
    server: 127.0.0.1
    port: {self.smtp_port}
    tls: none
    from: ozg-hub@burg.example
""")
        self.hub.start()

    def tearDown(self):
        self.hub.stop()
        self.mailbox.stop()
        self.fachverfahren.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def wait(self, what, done, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if done():
                return
            time.sleep(0.05)
        self.fail(f"timed out waiting for {what}")

    def test_every_channel_gets_every_case_exactly_once(self):
        with open(os.path.join(CORPUS, "attachments", "pdfa", "2b", "test_pdf_a2-b.pdf"),
                  "rb") as f:
            pdf = f.read()
        xml = example_antrag().encode()
        msgs = [application_message(xml, BURG, GEWERBE, message_id=f"three-{i}",
                                    sender="portal-test",
                                    attachments=[("Gewerbeanmeldung.pdf", "application/pdf", pdf)])
                for i in range(COUNT)]
        outcomes, receipts = self.hub.submit(msgs, receipts=True)
        self.assertEqual([o.state for o in outcomes], ["accepted"] * COUNT)
        cases = sorted(r["case_number"] for r in receipts)
        self.assertEqual(len(set(cases)), COUNT)

        # The directory is served at once, the others keep failing meanwhile.
        self.hub.wait_for_cases(OFFICE, COUNT)
        time.sleep(0.5)
        self.assertEqual(self.mailbox.message_ids, collections.Counter())
        self.assertTrue(self.hub.events("case.delivery_retry"))
        self.mailbox.start(self.smtp_port)

        self.wait("HTTP deliveries", lambda: len(self.fachverfahren.delivered()) == COUNT)
        self.wait("mails", lambda: len(self.mailbox.message_ids) == COUNT)
        self.wait("metrics", lambda: all(
            self.hub.metric("ozghub_deliveries_total", adapter=a, outcome="delivered") == COUNT
            for a in ("transfer", "fachverfahren", "mail")))

        self.assertEqual(self.hub.case_dirs(OFFICE), cases)
        self.assertEqual(sorted(self.fachverfahren.delivered()), cases)
        self.assertEqual(set(self.fachverfahren.delivered().values()), {1})
        with self.fachverfahren.lock:  # refused attempts carried the same key
            self.assertTrue({k for k, s in self.fachverfahren.requests if s == 503} <= set(cases))
        for case in cases:  # the XML and the PDF byte for byte
            self.assertEqual(self.fachverfahren.parts[case], [
                ("application", "application.xml", "application/xml", xml),
                ("attachment", "Gewerbeanmeldung.pdf", "application/pdf", pdf)])
        self.assertEqual(set(self.mailbox.message_ids.values()), {1})
        for ident in self.mailbox.message_ids:
            self.assertTrue(any(c in ident for c in cases), ident)
        self.assertEqual(self.hub.events("case.dead_lettered"), [])

        # Nothing is owed any more: a restart delivers nothing again.
        self.hub.stop()
        self.hub.start()
        time.sleep(1.0)
        self.assertEqual(sum(self.fachverfahren.delivered().values()), COUNT)
        self.assertEqual(sum(self.mailbox.message_ids.values()), COUNT)
        self.assertEqual(self.hub.events("case.delivered"), [])


if __name__ == "__main__":
    unittest.main()
