"""Connector mode (scale-out): hubs consume applications from a queue on a real RabbitMQ 3.10
(Debian's, with the AMQP 1.0 plugin, scripts/rabbitmq-private.sh) instead of listening.

- Two hubs with their own data directories are competing consumers on one durable queue and
  deliver into one shared transfer directory (`idempotency: application`). Under load one hub is
  killed with SIGKILL right after a synced commit, before it settled anything (the broker
  redelivers those messages to the other hub, which commits them as new cases), the other one
  with an outside kill -9 at an arbitrary moment; both restart on their volumes. Every message
  arrives exactly once: one case folder per message id, no temporary folder left.
- A hub with connectors only (listening on no port): a message it rejects is settled rejected
  at the broker (it is dead-lettered, not redelivered); a broker restart makes the connector
  reconnect and go on.
"""

import collections
import json
import os
import shutil
import tempfile
import threading
import time
import unittest

import hubtest
import rabbitmq

QUEUE = "applications"
# The hubs consume from the existing queue (/amq/queue/: never declared by a consumer); the
# publisher sends to /queue/NAME, which declares it durable.
SOURCE = f"/amq/queue/{QUEUE}"
TARGET = f"/queue/{QUEUE}"
OFFICE = "jerichower-land-kreisverwaltung"


def hub_config(broker, instance):
    return f"""connectors:
  - name: rabbit
    url: {broker.url}
    source: {SOURCE}
    reconnect_initial_ms: 100
    reconnect_max_ms: 1000
case_numbers: {{ instance: {instance} }}
"""


def make_hub(root, name, broker, instance, transfer, amqp=hubtest.DEV_MODE):
    """amqp="": no listener at all, the hub only consumes from the broker."""
    workdir = os.path.join(root, name)
    os.makedirs(workdir)
    # Both hubs deliver into one transfer directory.
    os.symlink(transfer, os.path.join(workdir, "transfer"))
    return hubtest.Hub(workdir, extra_config=hub_config(broker, instance),
                       extra_adapters="    idempotency: application", amqp=amqp)


def delivered(transfer):
    """message id -> case folders holding it, and the temporary folders left over."""
    by_id = collections.defaultdict(list)
    temps = []
    office = os.path.join(transfer, OFFICE)
    if not os.path.isdir(office):
        return by_id, temps
    for name in os.listdir(office):
        if name.startswith(".tmp-"):
            temps.append(name)
        if name.startswith("."):
            continue
        try:
            with open(os.path.join(office, name, "manifest.json"), encoding="utf-8") as f:
                by_id[json.load(f)["message_id"]].append(name)
        except FileNotFoundError:
            continue
    return by_id, temps


class ScaleOutTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = rabbitmq.Broker()
        try:
            cls.broker.start()
            # The operator declares the queue (durable); the hubs only consume from it.
            rabbitmq.publish(cls.broker.url, TARGET, [])
        except Exception:
            cls.broker.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()
        shutil.rmtree(cls.broker.dir, ignore_errors=True)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-scale-")
        self.transfer = os.path.join(self.tmp, "transfer")
        os.makedirs(self.transfer)
        self.hubs = []

    def tearDown(self):
        for hub in self.hubs:
            hub.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def wait_until(self, what, condition, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if condition():
                return
            time.sleep(0.1)
        self.fail(f"timed out waiting for {what}")

    def test_two_hubs_every_message_exactly_once_across_kill_9(self):
        total = 600
        ids = [f"scale-{i:05d}" for i in range(total)]
        a = make_hub(self.tmp, "a", self.broker, 1, self.transfer)
        b = make_hub(self.tmp, "b", self.broker, 2, self.transfer)
        self.hubs += [a, b]
        # Hub a kills itself (SIGKILL) right after its 5th synced commit, before settling any of
        # that batch: the broker redelivers those to b, which makes new cases of them.
        a.start(env={"OZGHUB_FAULT": "commit.after_sync:5"})
        b.start()

        errors = []

        def publish():
            try:
                for start in range(0, total, 100):
                    rabbitmq.publish(self.broker.url, TARGET,
                                     [rabbitmq.application(i) for i in ids[start:start + 100]])
            except Exception as e:  # reported by the main thread
                errors.append(e)

        publisher = threading.Thread(target=publish)
        publisher.start()
        try:
            self.wait_until("hub a's fault point", lambda: a.proc.poll() is not None, 60)
            a.kill()  # reaps it; it already died of SIGKILL
            self.assertTrue(a.events("fault.injected"), "".join(a.log[-30:]))
            a.start()
            recovered = int(a.events("hub.started")[-1]["recovered_deliveries"])
            self.assertGreater(recovered, 0, "hub a died with nothing committed and undelivered")
            # Now kill -9 hub b from outside while both are busy, and restart it.
            self.wait_until("a third of the messages",
                            lambda: len(delivered(self.transfer)[0]) >= total // 3, 90)
            b.kill()
            b.start()
        finally:
            publisher.join(120)
        self.assertEqual(errors, [])

        def drained():
            by_id, _ = delivered(self.transfer)
            if len(by_id) < total:
                return False
            return all(h.metric("ozghub_delivery_backlog", adapter="transfer") == 0
                       for h in (a, b))

        self.wait_until("every message delivered", drained, 120)
        # Redeliveries of messages already committed may still be settling.
        self.wait_until("the queue drained and settled",
                        lambda: self.broker.queue_depth(QUEUE) == (0, 0), 60)
        by_id, temps = delivered(self.transfer)
        self.assertEqual(sorted(by_id), ids)
        twice = {i: folders for i, folders in by_id.items() if len(folders) != 1}
        self.assertEqual(twice, {}, "message ids delivered more than once")
        self.assertEqual(temps, [])
        # Case numbers carry each hub's instance digit after the date: both hubs delivered.
        digits = collections.Counter(f[0][8] for f in by_id.values())
        self.assertEqual(set(digits), {"1", "2"}, digits)
        for h in (a, b):
            h.stop()
        self.hubs = []

    def test_rejection_is_settled_at_the_broker_and_the_connector_reconnects(self):
        # Messages the hub rejects go to a dead-letter queue: proof that they were settled
        # rejected (accepted would drop them, released or modified would redeliver them).
        out = self.broker.ctl("set_policy", "ozghub-dlx", f"^{QUEUE}$",
                              '{"dead-letter-exchange":"","dead-letter-routing-key":"rejected"}',
                              "--apply-to", "queues")
        self.assertEqual(out.returncode, 0, out.stderr)
        rabbitmq.publish(self.broker.url, "/queue/rejected", [])  # declares the queue
        # Connectors only: no amqp.tls, no dev_mode, so the hub listens on no AMQP port.
        hub = make_hub(self.tmp, "solo", self.broker, 3, self.transfer, amqp="")
        self.hubs.append(hub)
        hub.start()
        self.assertEqual(hub.events("amqp.listening"), [])
        hub.wait_for_event("connector.connected")
        bad = rabbitmq.application("bad-1")
        bad.properties = dict(bad.properties, area_id="12x")  # not an ARS
        rabbitmq.publish(self.broker.url, TARGET, [bad, rabbitmq.application("good-1")])
        self.wait_until("good-1", lambda: "good-1" in delivered(self.transfer)[0], 30)
        dead = rabbitmq.read_all(self.broker.url, "/amq/queue/rejected")
        self.assertEqual([m.id for m in dead], ["bad-1"])

        # The broker goes away and comes back on the same port: the hub reconnects by itself.
        self.assertEqual(hub.metric("ozghub_connector_connected", connector="rabbit"), 1)
        self.broker.ctl("stop_app")
        hub.wait_for_event("connector.disconnected")
        self.assertEqual(hub.metric("ozghub_connector_connected", connector="rabbit"), 0)
        self.broker.ctl("start_app")
        self.wait_until("a second connector.connected",
                        lambda: len(hub.events("connector.connected")) >= 2, 40)
        self.assertEqual(hub.metric("ozghub_connector_connected", connector="rabbit"), 1)
        self.assertGreaterEqual(
            hub.metric("ozghub_connector_disconnects_total", connector="rabbit"), 1)
        rabbitmq.publish(self.broker.url, TARGET, [rabbitmq.application("good-2")])
        self.wait_until("good-2", lambda: "good-2" in delivered(self.transfer)[0], 30)
        self.assertEqual(delivered(self.transfer)[0]["good-1"][0][8], "3")
        hub.stop()
        self.hubs = []


if __name__ == "__main__":
    unittest.main()
