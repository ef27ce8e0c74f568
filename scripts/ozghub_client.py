"""A small AMQP 1.0 client for ozg-hub, built on python3-qpid-proton (Debian's package).

Used by the demo and by the integration tests. It sends applications to the hub's
`applications` address and reports, for each, the hub's disposition: accepted, or rejected with
the error condition and its description. Optionally it attaches a dynamic receiving link and asks
for receipts (reply_to), which it collects too.

Connections: `amqp://HOST:PORT` (the hub's plaintext port, dev_mode only) or `amqps://HOST:PORT`
with a `Tls` (the CA that signed the hub's certificate, and for SASL EXTERNAL a client
certificate and key); `mechs` restricts the SASL mechanisms the client may use (e.g. "PLAIN"),
`user`/`password` are for PLAIN.

Run it under /usr/bin/python3: that is the interpreter Debian's python3-qpid-proton is for.
"""

import uuid

from proton import Message, SSLDomain, symbol
from proton.handlers import MessagingHandler
from proton.reactor import Container


class Outcome:
    def __init__(self, index, state, condition=None, description=None):
        self.index = index
        self.state = state  # "accepted", "rejected", "released", "modified"
        self.condition = condition
        self.description = description

    def __repr__(self):
        if self.state == "rejected":
            return f"rejected {self.condition}: {self.description}"
        return self.state


def application_message(xml, area_id, service_id, message_id=None, attachments=None,
                        schema=None, sender=None):
    """Builds a message in the contract's format: a data section, or a map with attachments."""
    props = {"area_id": area_id, "service_id": service_id}
    if schema is not None:
        props["schema"] = schema
    if sender is not None:
        props["sender"] = sender
    if isinstance(xml, str):
        xml = xml.encode("utf-8")
    if attachments:
        body = {
            "xml": xml,
            "attachments": [
                {"name": name, "content_type": ctype, "data": data}
                for (name, ctype, data) in attachments
            ],
        }
        msg = Message(body=body, properties=props, id=message_id or str(uuid.uuid4()))
    else:
        msg = Message(body=xml, properties=props, id=message_id or str(uuid.uuid4()),
                      inferred=True)
    return msg


class Tls:
    """Client-side TLS: the CA file to verify the hub with, optionally a client certificate.

    `hostname` is the name the hub's certificate must carry (Proton checks DNS names, not IP
    addresses); by default the URL's host.
    """

    def __init__(self, ca, cert=None, key=None, hostname=None):
        self.ca = ca
        self.cert = cert
        self.key = key
        self.hostname = hostname

    def domain(self):
        d = SSLDomain(SSLDomain.MODE_CLIENT)
        d.set_trusted_ca_db(self.ca)
        d.set_peer_authentication(SSLDomain.VERIFY_PEER_NAME, self.ca)
        if self.cert:
            d.set_credentials(self.cert, self.key, None)
        return d


class _Submitter(MessagingHandler):
    def __init__(self, url, messages, receipts, timeout, tls=None, mechs=None, user=None,
                 password=None, address="applications", sasl_enabled=True):
        super().__init__(auto_accept=True)
        self.url = url
        # A refused login is an answer, not a reason to try again.
        self.connect_options = {"reconnect": False, "sasl_enabled": sasl_enabled}
        if tls is not None:
            self.connect_options["ssl_domain"] = tls.domain()
            if tls.hostname:
                self.connect_options["virtual_host"] = tls.hostname
        if mechs is not None:
            self.connect_options["allowed_mechs"] = mechs
        if user is not None:
            self.connect_options["user"] = user
            self.connect_options["password"] = password
        self.address = address
        self.messages = list(messages)
        self.want_receipts = receipts
        self.timeout = timeout
        self.outcomes = [None] * len(self.messages)
        self.receipts = []
        self.next = 0
        self.settled = 0
        self.by_delivery = {}
        self.sender = None
        self.receiver = None
        self.reply_to = None
        self.error = None

    def on_start(self, event):
        self.timer = event.container.schedule(self.timeout, self)
        self.conn = event.container.connect(self.url, **self.connect_options)
        if self.want_receipts:
            self.receiver = event.container.create_receiver(self.conn, None, dynamic=True)
        else:
            self.sender = event.container.create_sender(self.conn, self.address)

    def on_timer_task(self, event):
        self.error = "timed out after %ss with %d of %d settled" % (
            self.timeout, self.settled, len(self.messages))
        self.conn.close()

    def on_link_opened(self, event):
        if self.receiver is not None and event.receiver == self.receiver and self.sender is None:
            self.reply_to = event.receiver.remote_source.address
            self.sender = event.container.create_sender(self.conn, self.address)

    def on_sendable(self, event):
        while event.sender.credit > 0 and self.next < len(self.messages):
            msg = self.messages[self.next]
            if self.reply_to:
                msg.reply_to = self.reply_to
            dlv = event.sender.send(msg)
            self.by_delivery[dlv] = self.next
            self.next += 1

    def _settle(self, event, state):
        index = self.by_delivery.pop(event.delivery, None)
        if index is None:
            return
        cond = event.delivery.remote.condition
        self.outcomes[index] = Outcome(index, state, cond.name if cond else None,
                                       cond.description if cond else None)
        self.settled += 1
        self._maybe_done()

    def on_accepted(self, event):
        self._settle(event, "accepted")

    def on_rejected(self, event):
        self._settle(event, "rejected")

    def on_released(self, event):
        self._settle(event, "released")

    def on_modified(self, event):
        self._settle(event, "modified")

    def on_message(self, event):
        m = event.message
        self.receipts.append({
            "correlation_id": m.correlation_id,
            "case_number": m.properties.get("case_number"),
            "office_id": m.properties.get("office_id"),
            "status": m.properties.get("status"),
        })
        self._maybe_done()

    def _maybe_done(self):
        if self.settled < len(self.messages):
            return
        if self.want_receipts:
            accepted = sum(1 for o in self.outcomes if o and o.state == "accepted")
            if len(self.receipts) < accepted:
                return
        self.timer.cancel()
        self.conn.close()

    def on_transport_error(self, event):
        cond = event.transport.condition
        self.error = self.error or "transport error: %s %s" % (
            cond.name if cond else "", cond.description if cond else "unknown")
        self.timer.cancel()
        event.container.stop()  # else the reactor idles on for seconds after a refused login

    def on_connection_error(self, event):
        cond = event.connection.remote_condition
        self.error = "connection error: %s %s" % (cond.name, cond.description) if cond else \
            "connection error"
        self.timer.cancel()
        event.connection.close()

    def on_link_error(self, event):
        cond = event.link.remote_condition
        self.error = "link error: %s %s" % (cond.name, cond.description) if cond else "link error"
        self.timer.cancel()
        event.connection.close()


def submit(url, messages, receipts=False, timeout=60, tls=None, mechs=None, user=None,
           password=None, address="applications", sasl_enabled=True):
    """Sends `messages` over one connection and returns (outcomes, receipts).

    Raises RuntimeError when the connection fails (e.g. the login is refused) or not everything
    is settled in time.
    """
    handler = _Submitter(url, messages, receipts, timeout, tls=tls, mechs=mechs, user=user,
                         password=password, address=address, sasl_enabled=sasl_enabled)
    Container(handler).run()
    if handler.error and handler.settled < len(handler.messages):
        raise RuntimeError(handler.error)
    return handler.outcomes, handler.receipts
