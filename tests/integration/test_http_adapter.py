"""The HTTP Fachverfahren adapter end to end: the real daemon delivers the AutiSta sample profile's
certificate order to a real HTTP(S) server started by the test (Python http.server), which
records every request and answers with scripted statuses."""

import http.server
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import xml.etree.ElementTree as ET

from hubtest import CORPUS, SOURCE_DIR, Hub
from ozghub_client import application_message

PROFILE = os.path.join(SOURCE_DIR, "adapters", "http", "profiles", "autista-sample")
STYLESHEET = os.path.join(PROFILE, "antrag-to-urkundenbestellung.xsl")
XSD = os.path.join(PROFILE, "urkundenbestellung-1.0.xsd")
SAMPLE = os.path.join(PROFILE, "sample-antrag-geburtsurkunde.xml")
NS = {"u": "urn:ozg-hub:sample:autista:urkundenbestellung:1.0"}
BURG = "150860015015"
SERVICE = "99012009001000"
OFFICE = "burg-standesamt"
FAST_RETRY = "{ max_attempts: 30, initial_backoff_ms: 50, max_backoff_ms: 200 }"


def sample_xml():
    with open(SAMPLE, encoding="utf-8") as f:
        return f.read()


class Peer:
    """An HTTP(S) server on 127.0.0.1 that records requests and answers from a script of
    (status, headers) pairs; 200 once the script is used up."""

    def __init__(self, script=(), ssl_context=None, port=0):
        self.script = list(script)
        self.requests = []
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        peer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with peer.lock:
                    status, headers = peer.script.pop(0) if peer.script else (200, {})
                    peer.requests.append({"time": time.monotonic(), "path": self.path,
                                          "headers": dict(self.headers), "body": body,
                                          "status": status})
                    peer.changed.notify_all()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        if ssl_context is not None:
            self.server.socket = ssl_context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count, timeout=20):
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
                self.changed.wait(left)
            return list(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def routing_yaml(path, channels):
    """channels: list of (adapter, params dict) for the one office, responsible for Burg."""
    lines = [f"areas:\n  gv100ad: {CORPUS}/areas/GV100AD_301123.txt\n", "offices:\n",
             f"  - id: {OFFICE}\n", '    name: "Stadt Burg, Standesamt"\n', "    channels:\n"]
    for adapter, params in channels:
        inner = ", ".join(f'{k}: "{v}"' for k, v in params.items())
        lines.append(f"      - adapter: {adapter}\n        params: {{ {inner} }}\n")
    lines.append(f'responsibilities:\n  - {{ service: "*", area: "{BURG}", office: {OFFICE} }}\n')
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(lines))
    return path


def profile_params(url):
    return {"url": url, "stylesheet": STYLESHEET, "validate_output": XSD}


class HttpAdapterTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-http-")
        self.peers = []
        self.hub = None

    def tearDown(self):
        if self.hub:
            self.hub.stop()
        for p in self.peers:
            p.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def peer(self, *args, **kwargs):
        p = Peer(*args, **kwargs)
        self.peers.append(p)
        return p

    def start_hub(self, channels, extra_adapters="  fv:\n    type: http\n", retry=FAST_RETRY):
        routing = routing_yaml(os.path.join(self.tmp, "routing.yaml"), channels)
        self.hub = Hub(self.tmp, routing=routing, retry=retry, extra_adapters=extra_adapters)
        self.hub.start()

    def submit_sample(self, message_id):
        msg = application_message(sample_xml(), BURG, SERVICE, message_id=message_id)
        outcomes, receipts = self.hub.submit([msg], receipts=True)
        self.assertEqual(outcomes[0].state, "accepted", outcomes[0])
        return receipts[0]["case_number"]

    def wait_event(self, name, count=1, timeout=20, **match):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.hub.events(name)
                     if all(e.get(k) == v for k, v in match.items())]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no {count} x {name} {match}:\n" + "".join(self.hub.log[-30:]))

    def assert_valid_order(self, body):
        path = os.path.join(self.tmp, "body.xml")
        with open(path, "wb") as f:
            f.write(body)
        r = subprocess.run(["xmllint", "--nonet", "--noout", "--schema", XSD, path],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_transformed_order_retried_after_503_is_delivered_once(self):
        peer = self.peer([(503, {})])
        self.start_hub([("fv", profile_params(f"http://127.0.0.1:{peer.port}/urkunden"))])
        case = self.submit_sample("it-http-503")
        first, second = peer.wait_for(2)
        self.wait_event("case.delivered", case=case, adapter="fv")
        self.assertEqual([first["status"], second["status"]], [503, 200])
        for req in (first, second):
            h = req["headers"]
            self.assertEqual(req["path"], "/urkunden")
            self.assertEqual(h["Idempotency-Key"], case)
            self.assertEqual(h["X-OZG-Case-Number"], case)
            self.assertEqual(h["X-OZG-Service"], SERVICE)
            self.assertEqual(h["X-OZG-Area"], BURG)
            self.assertEqual(h["Content-Type"], "application/xml")
        # The same body on every attempt, and it is the stylesheet's certificate order.
        self.assertEqual(first["body"], second["body"])
        self.assert_valid_order(second["body"])
        root = ET.fromstring(second["body"])
        self.assertEqual(root.tag, "{%s}Urkundenbestellung" % NS["u"])
        self.assertEqual(root.findtext("u:Nachrichtenkopf/u:Vorgangsnummer", namespaces=NS), case)
        self.assertEqual(root.findtext("u:Nachrichtenkopf/u:Empfaenger", namespaces=NS), OFFICE)
        self.assertEqual(root.findtext("u:Nachrichtenkopf/u:Gebiet", namespaces=NS), BURG)
        self.assertEqual(root.findtext("u:Bestellung/u:Urkundenart", namespaces=NS),
                         "Geburtsurkunde")
        self.assertEqual(root.findtext("u:Bestellung/u:BetroffenePerson/u:Geburtsdatum",
                                       namespaces=NS), "2015-05-03")
        # Delivered exactly once: no further request, one delivered event.
        time.sleep(0.5)
        self.assertEqual(len(peer.requests), 2)
        self.assertEqual(len(self.hub.events("case.delivered")), 1)
        retries = self.hub.events("case.delivery_retry")
        self.assertEqual([e["error"] for e in retries], ["HTTP 503"])
        # No personal data in the log.
        log = "".join(self.hub.log)
        for secret in ("Mustermann", "erika", "Heidestra"):
            self.assertNotIn(secret, log)

    def test_retry_after_of_429_is_honoured(self):
        peer = self.peer([(429, {"Retry-After": "1"})])
        # The host caps any wait at max_backoff_ms, so that cap must allow the 1 s asked for;
        # the backoff itself (first retry after ~50 ms) stays far below it.
        self.start_hub([("fv", profile_params(f"http://127.0.0.1:{peer.port}/"))],
                       retry="{ max_attempts: 5, initial_backoff_ms: 50, max_backoff_ms: 5000 }")
        case = self.submit_sample("it-http-429")
        first, second = peer.wait_for(2)
        self.wait_event("case.delivered", case=case)
        # The configured backoff is about 50 ms; Retry-After asks for 1 s.
        self.assertGreaterEqual(second["time"] - first["time"], 0.95)
        self.assertEqual(first["headers"]["Idempotency-Key"], second["headers"]["Idempotency-Key"])
        [retry] = self.hub.events("case.delivery_retry")
        self.assertEqual(retry["retry_in_ms"], "1000")
        self.assertEqual(retry["error"], "HTTP 429")

    def test_400_goes_to_the_dead_letters(self):
        peer = self.peer([(400, {})])
        self.start_hub([("fv", profile_params(f"http://127.0.0.1:{peer.port}/"))])
        case = self.submit_sample("it-http-400")
        [dead] = self.wait_event("case.dead_lettered", case=case)
        self.assertEqual(dead["error"], "HTTP 400")
        self.assertEqual(dead["attempts"], "1")
        time.sleep(0.5)
        self.assertEqual(len(peer.requests), 1)
        self.assertFalse(self.hub.events("case.delivered"))

    def test_output_violating_the_xsd_is_dead_lettered_without_data(self):
        peer = self.peer()
        self.start_hub([("fv", profile_params(f"http://127.0.0.1:{peer.port}/"))])
        xml = sample_xml().replace("Urkundenart: Geburtsurkunde", "Urkundenart: Fahrradschein")
        msg = application_message(xml, BURG, SERVICE, message_id="it-http-xsd")
        outcomes, receipts = self.hub.submit([msg], receipts=True)
        self.assertEqual(outcomes[0].state, "accepted", outcomes[0])
        [dead] = self.wait_event("case.dead_lettered", case=receipts[0]["case_number"])
        self.assertIn("schema_violation", dead["error"])
        self.assertIn("Urkundenart", dead["error"])
        self.assertNotIn("Fahrradschein", "".join(self.hub.log))
        self.assertEqual(peer.requests, [])

    def test_connection_refused_is_retried_until_the_peer_is_up(self):
        port = free_port()
        self.start_hub([("fv", profile_params(f"http://127.0.0.1:{port}/"))])
        case = self.submit_sample("it-http-refused")
        retries = self.wait_event("case.delivery_retry", count=2, case=case)
        self.assertEqual(retries[0]["error"], "connect failed: Connection refused")
        peer = self.peer(port=port)
        self.wait_event("case.delivered", case=case)
        [req] = peer.wait_for(1)
        self.assertEqual(req["headers"]["Idempotency-Key"], case)

    def test_https_with_client_certificate(self):
        certs = make_certs(os.path.join(self.tmp, "pki"))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certs["server.pem"], certs["server.key"])
        ctx.load_verify_locations(certs["ca.pem"])
        ctx.verify_mode = ssl.CERT_REQUIRED
        peer = self.peer(ssl_context=ctx)
        url = f"https://127.0.0.1:{peer.port}/urkunden"
        adapters = (f"  fv_tls:\n    type: http\n    ca_file: {certs['ca.pem']}\n"
                    f"    client_certificate: {certs['client.pem']}\n"
                    f"    client_key: {certs['client.key']}\n"
                    f"  fv_nocert:\n    type: http\n    ca_file: {certs['ca.pem']}\n")
        self.start_hub([("fv_tls", profile_params(url)), ("fv_nocert", profile_params(url))],
                       extra_adapters=adapters)
        case = self.submit_sample("it-http-mtls")
        self.wait_event("case.delivered", case=case, adapter="fv_tls")
        # Without a client certificate the server refuses the handshake: retried, never sent.
        retries = self.wait_event("case.delivery_retry", count=2, case=case, adapter="fv_nocert")
        # Depending on timing curl sees the server's alert ("TLS error: ... certificate
        # required") or only the closed connection.
        for r in retries:
            self.assertRegex(r["error"], r"^(TLS error|connection lost): ")
        [req] = peer.wait_for(1)
        self.assertEqual(req["headers"]["Idempotency-Key"], case)
        self.assert_valid_order(req["body"])
        self.assertFalse([e for e in self.hub.events("case.delivered")
                          if e.get("adapter") == "fv_nocert"])
        time.sleep(0.3)
        self.assertEqual(len(peer.requests), 1)

    def test_stylesheet_that_does_not_compile_keeps_the_directory_from_loading(self):
        bad = os.path.join(self.tmp, "bad.xsl")
        with open(bad, "w", encoding="utf-8") as f:
            f.write('<xsl:stylesheet version="1.0" '
                    'xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
                    '<xsl:template match="/"><xsl:value-of select="(("/></xsl:template>'
                    '</xsl:stylesheet>')
        routing = routing_yaml(os.path.join(self.tmp, "routing.yaml"),
                               [("fv", {"url": "http://127.0.0.1:1/", "stylesheet": bad})])
        hub = Hub(self.tmp, routing=routing, extra_adapters="  fv:\n    type: http\n")
        r = subprocess.run([hub_binary(), "--check-config", hub.config_path],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("bad.xsl' does not compile", r.stderr)
        self.assertIn("routing.yaml:", r.stderr)


def hub_binary():
    import hubtest
    return hubtest.BINARY


def make_certs(folder):
    """A throwaway CA, a server certificate for 127.0.0.1 and a client certificate."""
    os.makedirs(folder)
    p = {n: os.path.join(folder, n) for n in
         ("ca.pem", "ca.key", "server.pem", "server.key", "client.pem", "client.key")}

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", p["ca.key"], "-out", p["ca.pem"], "-days", "1",
        "-subj", "/CN=ozg-hub test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
                      ("client", "extendedKeyUsage=clientAuth\n")):
        csr = os.path.join(folder, name + ".csr")
        extfile = os.path.join(folder, name + ".ext")
        with open(extfile, "w", encoding="ascii") as f:
            f.write(ext)
        run("req", "-new", *ec, "-keyout", p[name + ".key"], "-out", csr,
            "-subj", f"/CN=ozg-hub test {name}")
        run("x509", "-req", "-in", csr, "-CA", p["ca.pem"], "-CAkey", p["ca.key"],
            "-CAcreateserial", "-out", p[name + ".pem"], "-days", "1", "-extfile", extfile)
    return p


if __name__ == "__main__":
    unittest.main()
