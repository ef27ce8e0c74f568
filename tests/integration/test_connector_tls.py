"""A connector's outgoing connection over amqps: the hub's TLS policy on the client side, the
broker's certificate checked against the CA and the URL's host, and the SASL client (EXTERNAL
with the client certificate, PLAIN with a password file). The "broker" is a second hub's amqps
listener, which offers exactly those mechanisms and logs who logged in; the connector's
receiving link there is an (empty) receipts link, so it is only the login that is tested here.
Consuming from a real broker is test_scale_out.py."""

import os
import shutil
import subprocess
import tempfile
import time
import unittest

from hubtest import PASSPORT, Hub
from pki import issue, make_ca


def make_pki(d):
    make_ca(d, "ca")
    make_ca(d, "stranger-ca")
    server_ext = "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth"
    issue(d, "server", "/CN=localhost", ext=server_ext)
    issue(d, "hub-client", "/C=DE/O=Hub/CN=hub-a")
    hashed = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input="s3cret-a\n",
                            capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(d, "passwords"), "w", encoding="utf-8") as f:
        f.write(f"hub-a:{hashed}\n")
    for name, secret in (("password", "s3cret-a\n"), ("wrong-password", "nope\n")):
        fd = os.open(os.path.join(d, name), os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, secret.encode())
        os.close(fd)


class ConnectorTlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = tempfile.mkdtemp(prefix="ozghub-pki-")
        make_pki(cls.pki)
        cls.tmp = tempfile.mkdtemp(prefix="ozghub-conn-tls-")
        os.makedirs(os.path.join(cls.tmp, "broker"))
        cls.broker = Hub(os.path.join(cls.tmp, "broker"), amqp=f"""amqp:
  tls:
    listen: "127.0.0.1:0"
    certificate: {cls.pki}/server.pem
    key: {cls.pki}/server.key
    client_ca: {cls.pki}/ca.pem
  sasl:
    mechanisms: [EXTERNAL, PLAIN]
    password_file: {cls.pki}/passwords
senders:
  - name: hub-a-cert
    certificate_subject: "CN=hub-a,O=Hub,C=DE"
    services: ["{PASSPORT}"]
  - name: hub-a-plain
    plain_user: hub-a
    services: ["{PASSPORT}"]""")
        cls.broker.start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        shutil.rmtree(cls.pki, ignore_errors=True)

    def connector_hub(self, name, entry):
        workdir = os.path.join(self.tmp, name)
        os.makedirs(workdir)
        hub = Hub(workdir, extra_config=f"""connectors:
  - name: upstream
    url: amqps://localhost:{self.broker.tls_port}
    source: receipts-of-{name}
    reconnect_initial_ms: 100
    reconnect_max_ms: 200
{entry}""")
        hub.start()
        self.addCleanup(hub.stop)
        return hub

    def logins(self, user):
        return [e for e in self.broker.events("amqp.login") if e.get("sender") == user]

    def wait_for(self, condition, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if condition():
                return True
            time.sleep(0.1)
        return False

    def test_external_with_the_client_certificate(self):
        hub = self.connector_hub("external", f"""    ca: {self.pki}/ca.pem
    certificate: {self.pki}/hub-client.pem
    key: {self.pki}/hub-client.key""")
        hub.wait_for_event("connector.connected")
        self.assertTrue(self.wait_for(lambda: self.logins("hub-a-cert")))

    def test_plain_with_the_password_file(self):
        hub = self.connector_hub("plain", f"""    ca: {self.pki}/ca.pem
    certificate: {self.pki}/hub-client.pem
    key: {self.pki}/hub-client.key
    user: hub-a
    password_file: {self.pki}/password""")
        hub.wait_for_event("connector.connected")
        self.assertTrue(self.wait_for(lambda: self.logins("hub-a-plain")))

    def test_a_wrong_password_or_an_unknown_ca_never_connects(self):
        wrong = self.connector_hub("wrong", f"""    ca: {self.pki}/ca.pem
    certificate: {self.pki}/hub-client.pem
    key: {self.pki}/hub-client.key
    user: hub-a
    password_file: {self.pki}/wrong-password""")
        stranger = self.connector_hub("stranger", f"""    ca: {self.pki}/stranger-ca.pem
    certificate: {self.pki}/hub-client.pem
    key: {self.pki}/hub-client.key""")
        # Both keep trying (with backoff) and never get in.
        self.assertTrue(self.wait_for(
            lambda: len(wrong.events("connector.disconnected")) >= 2
            and len(stranger.events("connector.disconnected")) >= 2))
        self.assertEqual(wrong.events("connector.connected"), [])
        self.assertEqual(stranger.events("connector.connected"), [])


if __name__ == "__main__":
    unittest.main()
