"""A private RabbitMQ node (scripts/rabbitmq-private.sh) for the connector tests, and a small
AMQP 1.0 client for it: publish persistent messages to a durable queue until the broker accepted
each, and read what is in a queue."""

import os
import subprocess
import tempfile

from proton import Message, Terminus
from proton.handlers import MessagingHandler
from proton.reactor import Container, LinkOption

import hubtest

SCRIPT = os.path.join(hubtest.SOURCE_DIR, "scripts", "rabbitmq-private.sh")


class Broker:
    """One node in a temporary directory; stop() always stops it (call it in a finally)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ozghub-rabbit-")
        self.port = None

    def start(self):
        out = subprocess.run([SCRIPT, "start", self.dir], capture_output=True, text=True,
                             timeout=150)
        if out.returncode != 0:
            raise RuntimeError("RabbitMQ did not start:\n" + out.stderr)
        self.port = int(out.stdout.strip().splitlines()[-1])
        return self

    @property
    def url(self):
        return f"amqp://127.0.0.1:{self.port}"

    def ctl(self, *args):
        return subprocess.run([SCRIPT, "ctl", self.dir, *args], capture_output=True, text=True,
                              timeout=60)

    def queue_depth(self, queue):
        """(ready, unacknowledged) messages of `queue`."""
        out = self.ctl("list_queues", "-q", "--no-table-headers", "name", "messages_ready",
                       "messages_unacknowledged")
        for line in out.stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == queue:
                return int(parts[1]), int(parts[2])
        return None

    def stop(self):
        subprocess.run([SCRIPT, "stop", self.dir], capture_output=True, timeout=120)


class _DurableTarget(LinkOption):
    """Target durability DELIVERIES: RabbitMQ declares the /queue/NAME durable."""

    def apply(self, link):
        link.target.durability = Terminus.DELIVERIES


class _Publisher(MessagingHandler):
    def __init__(self, url, address, messages, timeout):
        super().__init__()
        self.url, self.address, self.messages, self.timeout = url, address, messages, timeout
        self.next = 0
        self.states = {}
        self.by_delivery = {}
        self.error = None

    def on_start(self, event):
        self.timer = event.container.schedule(self.timeout, self)
        self.conn = event.container.connect(self.url, reconnect=False)
        event.container.create_sender(self.conn, self.address, options=_DurableTarget())

    def on_link_opened(self, event):
        if not self.messages:  # only declares the queue
            self.timer.cancel()
            self.conn.close()

    def on_timer_task(self, event):
        self.error = f"timed out with {len(self.states)} of {len(self.messages)} settled"
        self.conn.close()

    def on_sendable(self, event):
        while event.sender.credit > 0 and self.next < len(self.messages):
            m = self.messages[self.next]
            m.durable = True
            self.by_delivery[event.sender.send(m)] = self.next
            self.next += 1

    def _settled(self, event, state):
        self.states[self.by_delivery.pop(event.delivery)] = state
        if len(self.states) == len(self.messages):
            self.timer.cancel()
            self.conn.close()

    def on_accepted(self, event):
        self._settled(event, "accepted")

    def on_rejected(self, event):
        self._settled(event, "rejected")

    def on_released(self, event):
        self._settled(event, "released")

    def on_transport_error(self, event):
        self.error = f"transport error: {event.transport.condition}"
        self.timer.cancel()


def publish(url, address, messages, timeout=60):
    """Sends persistent messages to `address`; raises unless the broker accepted every one."""
    p = _Publisher(url, address, list(messages), timeout)
    Container(p).run()
    if p.error or any(s != "accepted" for s in p.states.values()):
        raise RuntimeError(p.error or f"not all accepted: {set(p.states.values())}")


class _Reader(MessagingHandler):
    def __init__(self, url, address, timeout):
        super().__init__()
        self.url, self.address, self.timeout = url, address, timeout
        self.messages = []

    def on_start(self, event):
        self.conn = event.container.connect(self.url, reconnect=False)
        event.container.create_receiver(self.conn, self.address)
        self.timer = event.container.schedule(self.timeout, self)

    def on_message(self, event):
        self.messages.append(event.message)

    def on_timer_task(self, event):
        self.conn.close()


def read_all(url, address, quiet_seconds=2.0):
    """Everything `address` delivers within `quiet_seconds` (accepted, so taken off the queue)."""
    r = _Reader(url, address, quiet_seconds)
    Container(r).run()
    return r.messages


def application(message_id, sender="portal-a"):
    """A valid application for the demo routing (Möckern's Kreis catch-all has no certificate, so
    the transfer directory holds a plaintext manifest)."""
    m = hubtest.ozghub_client.application_message(
        hubtest.example_antrag(), "150860015015", hubtest.PASSPORT, message_id=message_id,
        sender=sender)
    return m
