"""/metrics and /readyz of a running hub: the output passes `promtool check metrics`, the
pipeline's counters and stage histograms move by what was sent, and the polled gauges (store,
oldest case, certificate expiry, process) are there with plausible values."""

import calendar
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.request

from hubtest import DEMO_CERTS, MOECKERN, PASSPORT, Hub, HubTestCase, example_antrag
from ozghub_client import application_message
from test_deadletters import routing_yaml

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(hub):
    with urllib.request.urlopen(f"http://{hub.admin}/metrics", timeout=10) as r:
        return r.read().decode()


def samples(text):
    """{(name, frozenset of (label, value)): value} of every sample."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def value(s, name, **labels):
    return s.get((name, frozenset(labels.items())))


def not_after(pem):
    out = subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-enddate"], check=True,
                         capture_output=True, text=True).stdout.strip()
    return calendar.timegm(time.strptime(out.split("=", 1)[1], "%b %d %H:%M:%S %Y GMT"))


def label_of(condition):
    """The metric label of an AMQP rejection condition, e.g. ozg:schema-violation."""
    return condition.split(":", 1)[1].replace("-", "_")


class Metrics(HubTestCase):
    def wait_until(self, predicate, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = samples(scrape(self.hub))
            if predicate(s):
                return s
            time.sleep(0.2)
        self.fail("the metrics did not get there:\n" + scrape(self.hub))

    def test_promtool_accepts_the_output_and_the_pipeline_counts_what_was_sent(self):
        from proton import Message
        good = example_antrag()
        no_kontakt = good.replace("<Kontakt>", "<!--").replace("</Kontakt>", "-->")
        valid = [application_message(good, MOECKERN, PASSPORT, message_id=f"it-metrics-{i}")
                 for i in range(3)]
        invalid = [
            # rejected by the validation (2)
            application_message(no_kontakt, MOECKERN, PASSPORT),
            application_message(no_kontakt, MOECKERN, PASSPORT),
            # validated, rejected by the routing
            application_message(good, "159999999999", PASSPORT),
            # rejected before the validation
            Message(body=good.encode(), properties={"service_id": PASSPORT}, id="x1",
                    inferred=True),
        ]
        outcomes, _ = self.hub.submit(valid + invalid)
        self.assertEqual([o.state for o in outcomes[:3]], ["accepted"] * 3, outcomes)
        self.assertEqual([o.state for o in outcomes[3:]], ["rejected"] * 4, outcomes)
        # A resend of an accepted one: accepted again, counted as a duplicate.
        [again], _ = self.hub.submit([application_message(good, MOECKERN, PASSPORT,
                                                          message_id="it-metrics-0")])
        self.assertEqual(again.state, "accepted", again)
        self.hub.wait_for_cases("moeckern-buergeramt", 3)

        # Settled means counted; the polled gauges follow within their 5 s period.
        text = scrape(self.hub)
        s = samples(text)
        self.assertEqual(value(s, "ozghub_applications_received_total"), 8)
        self.assertEqual(value(s, "ozghub_applications_accepted_total"), 4)
        self.assertEqual(value(s, "ozghub_applications_duplicate_total"), 1)
        rejected = {}
        for o in outcomes[3:]:
            rejected[label_of(o.condition)] = rejected.get(label_of(o.condition), 0) + 1
        self.assertEqual(rejected, {"schema_violation": 2, "unknown_area": 1,
                                    "missing_property": 1})
        for condition in ("schema_violation", "unknown_area", "missing_property",
                          "not_well_formed", "internal_error"):
            self.assertEqual(value(s, "ozghub_applications_rejected_total", condition=condition),
                             rejected.get(condition, 0), condition)
        # validation: all but the one without area_id; routing: those that passed validation;
        # encryption (data key and hashes): those routed to an office.
        for stage, count in (("validation", 7), ("routing", 5), ("encryption", 4)):
            self.assertEqual(value(s, "ozghub_stage_duration_seconds_count", stage=stage), count,
                             stage)
            self.assertGreater(value(s, "ozghub_stage_duration_seconds_sum", stage=stage), 0)
            self.assertEqual(
                value(s, "ozghub_stage_duration_seconds_bucket", stage=stage, le="+Inf"), count)
        batches = value(s, "ozghub_commit_batch_size_count")
        self.assertGreaterEqual(batches, 2)  # two submit() calls, the second after the first
        self.assertEqual(value(s, "ozghub_commit_batch_size_sum"), 4)
        self.assertEqual(value(s, "ozghub_commit_sync_duration_seconds_count"), batches)
        for stage in ("intake", "commit"):
            self.assertEqual(value(s, "ozghub_pipeline_backlog", stage=stage), 0, stage)

        self.assertIsNotNone(value(s, "ozghub_oldest_undelivered_case_age_seconds"))
        self.assertGreaterEqual(value(s, "ozghub_store_pending_compaction_bytes"), 0)
        self.assertGreater(value(s, "ozghub_process_resident_memory_bytes"), 1 << 20)
        started = value(s, "ozghub_process_start_time_seconds")
        self.assertLessEqual(started, time.time())
        self.assertGreater(started, time.time() - 300)
        self.assertEqual(len([k for k in s if k[0] == "ozghub_build_info"]), 1)
        left = not_after(os.path.join(DEMO_CERTS, "moeckern-buergeramt.pem")) - time.time()
        expiry = value(s, "ozghub_certificate_expiry_seconds")
        self.assertGreater(expiry, 0)
        self.assertLess(abs(expiry - left), 60)

        # Once every case is delivered the store is written to and nothing is owed.
        s = self.wait_until(lambda s: value(s, "ozghub_store_size_bytes") > 0
                            and value(s, "ozghub_oldest_undelivered_case_age_seconds") == 0)

        lint = subprocess.run(["promtool", "check", "metrics"], input=scrape(self.hub),
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(lint.returncode, 0, lint.stdout + lint.stderr)

    def test_ready_once_started_with_valid_certificates(self):
        status, body = self.hub.readyz()
        self.assertEqual((status, body.strip()), (200, "ready"))


class OldestUndeliveredCase(unittest.TestCase):
    """A delivery that keeps failing (the office's second transfer folder is missing) keeps its
    case owed: the oldest case's age grows from its commit until the delivery is done."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-it-")
        self.share = os.path.join(self.tmp, "share-not-mounted")
        routing = os.path.join(self.tmp, "routing.yaml")
        routing_yaml(routing, self.share)
        self.hub = Hub(self.tmp, routing=routing, retry="{ max_attempts: 100, "
                       "initial_backoff_ms: 200, max_backoff_ms: 500 }")
        self.hub.start()

    def tearDown(self):
        self.hub.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def age(self):
        return self.hub.metric("ozghub_oldest_undelivered_case_age_seconds")

    def test_age_of_the_oldest_owed_case(self):
        self.assertEqual(self.age(), 0)
        before = time.time()
        outcomes, _ = self.hub.submit([application_message(example_antrag(), MOECKERN, PASSPORT)])
        self.assertEqual(outcomes[0].state, "accepted", outcomes[0])
        deadline = time.time() + 20
        while time.time() < deadline and not self.age():
            time.sleep(0.2)
        age = self.age()
        self.assertGreater(age, 0)
        self.assertLessEqual(age, time.time() - before + 0.5)
        self.assertGreaterEqual(self.hub.metric("ozghub_delivery_backlog", adapter="transfer"), 1)
        # The share comes back: delivered, nothing owed.
        os.makedirs(self.share)
        deadline = time.time() + 20
        while time.time() < deadline and self.age() != 0:
            time.sleep(0.2)
        self.assertEqual(self.age(), 0)


class CertificateExpiring(unittest.TestCase):
    def test_not_ready_while_a_certificate_expires_within_the_configured_days(self):
        tmp = tempfile.mkdtemp(prefix="ozghub-it-")
        # The demo certificates run until 2036: within 20,000 days they expire.
        hub = Hub(tmp, extra_config="")
        with open(hub.config_path, encoding="utf-8") as f:
            config = f.read()
        config = config.replace('admin: { listen: "127.0.0.1:0" }',
                                'admin: { listen: "127.0.0.1:0", ready_certificate_days: 20000 }')
        with open(hub.config_path, "w", encoding="utf-8") as f:
            f.write(config)
        try:
            hub.start()
            status, body = hub.readyz()
            self.assertEqual(status, 503, body)
            self.assertIn("certificate_expiring", body)
            self.assertNotIn("adapters_not_started", body)
        finally:
            hub.stop()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
