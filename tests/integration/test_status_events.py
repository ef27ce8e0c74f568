"""Durable status events (issue 6, item 5) against the real daemon: a portal attaches
`status/<sender>` with python3-qpid-proton, receives accepted, delivered, failed, dead_lettered
and deleted events in order, verifies each JWS (ES256) with python3-jwt against the JWK Set that
`ozg-hub --status-jwks` prints, and gets what it did not accept again after a reconnect or a
restart of the hub, and nothing it accepted. Over amqps, a login may read only its own
address."""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import jwt
from proton import Delivery
from proton.handlers import MessagingHandler
from proton.reactor import Container

from hubtest import BINARY, MOECKERN, PASSPORT, Hub, example_antrag
from ozghub_client import Tls, application_message
import test_amqp_security
from test_amqp_security import amqp_section
from test_deadletters import routing_yaml

BURG = "150860015015"  # Landkreis Jerichower Land: one transfer channel, no certificate
GEWERBE = "99050012104000"
KREIS_OFFICE = "jerichower-land-kreisverwaltung"


def make_signing_key(path):
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", path], check=True, capture_output=True)
    os.chmod(path, 0o600)


def status_config(key, extra=""):
    return f"status_events: {{ signing_key: {key} }}\n{extra}"


class StatusReader(MessagingHandler):
    """Attaches status/<sender>, takes up to `want` events (credit `credit`), accepts the first
    `accept` of them (all when None) and leaves the rest unsettled, then closes. Stops early
    after `idle` seconds without a new event once it has `want` or after `timeout`."""

    def __init__(self, url, sender, want, accept=None, credit=10, timeout=30, idle=None,
                 **login):
        super().__init__(prefetch=0, auto_accept=False)
        self.url = url
        self.address = "status/" + sender
        self.want = want
        self.accept_n = accept
        self.credit = credit
        self.timeout = timeout
        self.idle = idle
        self.login = login
        self.events = []
        self.error = None
        self.last = time.time()

    def on_start(self, event):
        opts = {"reconnect": False}
        tls = self.login.get("tls")
        if tls is not None:
            opts["ssl_domain"] = tls.domain()
            opts["virtual_host"] = tls.hostname
        if "user" in self.login:
            opts["user"] = self.login["user"]
            opts["password"] = self.login["password"]
            opts["allowed_mechs"] = "PLAIN"
        self.conn = event.container.connect(self.url, **opts)
        self.receiver = event.container.create_receiver(self.conn, self.address)
        self.receiver.flow(self.credit)
        self.deadline = time.time() + self.timeout
        event.container.schedule(0.1, self)

    def on_timer_task(self, event):
        now = time.time()
        if (now > self.deadline or (self.idle is not None and now - self.last > self.idle)
                or (len(self.events) >= self.want and self.idle is None)):
            self.conn.close()
            return
        event.container.schedule(0.1, self)

    def on_message(self, event):
        m = event.message
        self.last = time.time()
        self.events.append({"jws": m.body, "id": m.id, "subject": m.subject,
                            "properties": dict(m.properties or {})})
        if self.accept_n is None or len(self.events) <= self.accept_n:
            event.delivery.update(Delivery.ACCEPTED)
            event.delivery.settle()
        self.receiver.flow(1)

    def on_link_error(self, event):
        cond = event.link.remote_condition
        self.error = cond.name if cond else "link error"
        event.connection.close()

    def on_transport_error(self, event):
        cond = event.transport.condition
        self.error = self.error or (cond.name if cond else "transport error")
        event.container.stop()  # the hub went away: do not wait for the timeout


def read_status(url, sender, want, **kw):
    reader = StatusReader(url, sender, want, **kw)
    Container(reader).run()
    return reader


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class StatusEventsTest(unittest.TestCase):
    routing = None
    retention = "retention: { payload: 0s, sweep_interval: 200ms }"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-it-")
        self.key = os.path.join(self.tmp, "status-key.pem")
        make_signing_key(self.key)
        self.hub = Hub(self.tmp, routing=self.make_routing(),
                       extra_config=status_config(self.key, self.retention),
                       retry="{ max_attempts: 3, initial_backoff_ms: 20, max_backoff_ms: 50 }")
        self.hub.start()
        jwks = subprocess.run([BINARY, "--config", self.hub.config_path, "--status-jwks"],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(jwks.returncode, 0, jwks.stderr)
        self.jwk = json.loads(jwks.stdout)["keys"][0]
        self.public_key = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(self.jwk))

    def make_routing(self):
        return None

    def tearDown(self):
        self.hub.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def submit(self, n, area=BURG, service=GEWERBE, prefix="m", sender="portal-test"):
        msgs = [application_message(example_antrag().encode(), area, service,
                                    message_id=f"{prefix}-{i}", sender=sender)
                for i in range(n)]
        outcomes, receipts = self.hub.submit(msgs, receipts=True)
        self.assertEqual([o.state for o in outcomes], ["accepted"] * n)
        return {r["correlation_id"]: r["case_number"] for r in receipts}

    def verified(self, events):
        """The bodies of `events`, each JWS verified with the published key."""
        bodies = []
        for e in events:
            header = jwt.get_unverified_header(e["jws"])
            self.assertEqual(header["alg"], "ES256")
            self.assertEqual(header["kid"], self.jwk["kid"])
            body = jwt.decode(e["jws"], self.public_key, algorithms=["ES256"])
            self.assertEqual(e["id"], body["event_id"])
            self.assertEqual(e["subject"], body["type"])
            self.assertEqual(e["properties"]["type"], body["type"])
            self.assertEqual(e["properties"]["case_number"], body["case_number"])
            self.assertEqual(e["properties"]["seq"], body["seq"])
            bodies.append(body)
        return bodies

    def wait_metric(self, value, name, **labels):
        """The feed refreshes the totals every second."""
        deadline = time.time() + 10
        while time.time() < deadline and self.hub.metric(name, **labels) != value:
            time.sleep(0.1)
        self.assertEqual(self.hub.metric(name, **labels), value, name)

    def wait_for_log(self, name, n, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline and len(self.hub.events(name)) < n:
            time.sleep(0.05)
        self.assertGreaterEqual(len(self.hub.events(name)), n, "".join(self.hub.log[-20:]))


class SignedEventsInOrder(StatusEventsTest):
    def test_accepted_delivered_and_deleted_arrive_signed_and_in_order(self):
        cases = self.submit(3)
        self.hub.wait_for_cases(KREIS_OFFICE, 3)
        reader = read_status(self.hub.url, "portal-test", 9)
        self.assertIsNone(reader.error)
        bodies = self.verified(reader.events)
        self.assertEqual([b["seq"] for b in bodies], list(range(1, 10)))
        by_case = {}
        for b in bodies:
            self.assertEqual(b["sender"], "portal-test")
            by_case.setdefault(b["case_number"], []).append(b["type"])
        self.assertEqual(set(by_case), set(cases.values()))
        for types in by_case.values():
            self.assertEqual(types, ["accepted", "delivered", "deleted"])
        accepted = [b for b in bodies if b["type"] == "accepted"]
        self.assertEqual(sorted(b["message_id"] for b in accepted), ["m-0", "m-1", "m-2"])
        self.assertTrue(all(b["office_id"] == KREIS_OFFICE for b in accepted))
        delivered = [b for b in bodies if b["type"] == "delivered"]
        self.assertTrue(all(b["adapter"] == "transfer" and b["channel"] == 0 for b in delivered))
        # The key id is the RFC 7638 thumbprint of the published key.
        canonical = json.dumps({k: self.jwk[k] for k in ("crv", "kty", "x", "y")},
                               separators=(",", ":"), sort_keys=True)
        self.assertEqual(self.jwk["kid"], b64url(hashlib.sha256(canonical.encode()).digest()))
        self.wait_metric(3, "ozghub_status_events_total", type="accepted")
        self.wait_metric(3, "ozghub_status_events_total", type="deleted")
        self.wait_metric(0, "ozghub_status_events_pending")
        self.wait_metric(9, "ozghub_status_events_sent_total")

    def test_new_events_reach_an_attached_link_at_once(self):
        import threading
        reader = StatusReader(self.hub.url, "portal-test", 2, timeout=30)
        t = threading.Thread(target=lambda: Container(reader).run())
        t.start()
        self.wait_for_log("status.link_attached", 1)
        started = time.time()
        self.submit(1)
        t.join(40)
        self.assertIsNone(reader.error)
        self.assertEqual([b["type"] for b in self.verified(reader.events)][:2],
                         ["accepted", "delivered"])
        self.assertLess(time.time() - started, 10)

    def test_the_hub_stops_cleanly_with_a_status_link_attached(self):
        import threading
        self.submit(1)
        reader = StatusReader(self.hub.url, "portal-test", 100, accept=1, timeout=30)
        t = threading.Thread(target=lambda: Container(reader).run())
        t.start()
        self.wait_for_log("status.link_attached", 1)
        deadline = time.time() + 10
        while time.time() < deadline and len(reader.events) < 2:
            time.sleep(0.05)
        time.sleep(1)  # the reader's disposition of seq 1 reaches the hub before the SIGTERM
        self.hub.stop()  # exit code 0 and no sanitizer report, or it fails here
        t.join(40)
        self.assertFalse(t.is_alive())
        self.hub.start()
        again = read_status(self.hub.url, "portal-test", 1)
        self.assertEqual([b["seq"] for b in self.verified(again.events)][0], 2)

    def test_what_was_not_accepted_comes_again_after_reconnect_and_restart(self):
        self.submit(2)
        self.hub.wait_for_cases(KREIS_OFFICE, 2)
        first = read_status(self.hub.url, "portal-test", 6, accept=2)
        self.assertEqual([b["seq"] for b in self.verified(first.events)], list(range(1, 7)))
        # A reconnect gets everything after the two accepted, again in order.
        second = read_status(self.hub.url, "portal-test", 4, accept=1)
        self.assertEqual([b["seq"] for b in self.verified(second.events)], [3, 4, 5, 6])
        self.hub.stop()
        self.hub.start()
        third = read_status(self.hub.url, "portal-test", 3)
        self.assertEqual([b["seq"] for b in self.verified(third.events)], [4, 5, 6])
        # Everything is accepted now: nothing comes again, and new events go on numbering.
        nothing = read_status(self.hub.url, "portal-test", 1, timeout=2)
        self.assertEqual(nothing.events, [])
        self.submit(1, prefix="later")
        later = read_status(self.hub.url, "portal-test", 1)
        self.assertEqual([b["seq"] for b in self.verified(later.events)][0], 7)

    def test_every_accepted_case_has_its_event_after_kill_9(self):
        cases = self.submit(20, prefix="k")
        self.hub.kill()
        self.hub.start()
        reader = read_status(self.hub.url, "portal-test", 100, timeout=30, idle=3)
        bodies = self.verified(reader.events)
        accepted = {b["case_number"] for b in bodies if b["type"] == "accepted"}
        self.assertEqual(accepted, set(cases.values()))
        seqs = [b["seq"] for b in bodies]
        self.assertEqual(seqs, sorted(set(seqs)))

    def test_a_sender_reads_only_its_own_events(self):
        self.submit(1, sender="portal-a")
        self.submit(1, sender="portal-b")
        a = read_status(self.hub.url, "portal-a", 3)
        self.assertEqual({b["sender"] for b in self.verified(a.events)}, {"portal-a"})


class NotConfigured(unittest.TestCase):
    def test_status_links_are_refused_without_a_signing_key(self):
        tmp = tempfile.mkdtemp(prefix="ozghub-it-")
        hub = Hub(tmp).start()
        try:
            reader = read_status(hub.url, "portal-test", 1, timeout=10)
            self.assertEqual(reader.error, "amqp:not-found")
        finally:
            hub.stop()
            shutil.rmtree(tmp, ignore_errors=True)


class FailedAndDeadLettered(StatusEventsTest):
    retention = ""

    def make_routing(self):
        path = os.path.join(self.tmp, "routing.yaml")
        routing_yaml(path, os.path.join(self.tmp, "share-not-mounted"))
        return path

    def test_each_failed_attempt_and_the_dead_letter_are_reported(self):
        [case] = self.submit(1, area=MOECKERN, service=PASSPORT).values()
        self.wait_for_log("case.dead_lettered", 1)
        reader = read_status(self.hub.url, "portal-test", 5)
        bodies = self.verified(reader.events)
        self.assertEqual(bodies[0]["type"], "accepted")
        self.assertTrue(all(b["case_number"] == case for b in bodies))
        by_channel = {}
        for b in bodies[1:]:
            by_channel.setdefault(b["channel"], []).append((b["type"], b["attempts"]))
        self.assertEqual(by_channel[0], [("delivered", 1)])
        self.assertEqual(by_channel[1], [("failed", 1), ("failed", 2), ("dead_lettered", 3)])


def setUpModule():
    test_amqp_security.setUpModule()  # the PKI of the amqps tests (test_amqp_security.PKI)


def tearDownModule():
    test_amqp_security.tearDownModule()


class OnlyOwnAddress(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-it-")
        key = os.path.join(self.tmp, "status-key.pem")
        make_signing_key(key)
        pki = test_amqp_security.PKI
        self.hub = Hub(self.tmp, amqp=amqp_section(pki), extra_config=status_config(key)).start()
        # PLAIN over mutual TLS: the certificate is portal-a's, the login form-b's.
        tls = Tls(f"{pki}/ca.pem", f"{pki}/portal-a.pem", f"{pki}/portal-a.key",
                  hostname="localhost")
        self.form_b = {"tls": tls, "user": "form-b", "password": "s3cret-b"}

    def tearDown(self):
        self.hub.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_a_login_may_attach_only_its_own_status_address(self):
        msg = application_message(example_antrag(), MOECKERN, PASSPORT, message_id="tls-1",
                                  sender="someone-else")
        outcomes, _ = self.hub.submit([msg], mechs="PLAIN", **{k: v for k, v in
                                                                 self.form_b.items()})
        self.assertEqual(outcomes[0].state, "accepted", outcomes[0])
        own = read_status(self.hub.tls_url, "form-b", 1, **self.form_b)
        self.assertIsNone(own.error)
        self.assertEqual([e["properties"]["type"] for e in own.events][:1], ["accepted"])
        other = read_status(self.hub.tls_url, "portal-a", 1, timeout=10, **self.form_b)
        self.assertEqual(other.error, "amqp:unauthorized-access")
        self.assertEqual(other.events, [])
        spoofed = read_status(self.hub.tls_url, "someone-else", 1, timeout=10, **self.form_b)
        self.assertEqual(spoofed.error, "amqp:unauthorized-access")


if __name__ == "__main__":
    unittest.main()
