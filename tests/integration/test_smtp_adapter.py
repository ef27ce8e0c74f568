"""The SMTP adapter end to end: the real daemon delivers to a real SMTP server (aiosmtpd) on
127.0.0.1 that demands STARTTLS and AUTH, with a certificate from a throwaway CA the adapter is
told to trust. Covers notification and S/MIME mails, 4xx and 5xx replies, a server that is down
and one that offers no STARTTLS."""

import email
import email.policy
import logging
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from hubtest import BINARY, CORPUS, DEMO_CERTS, MOECKERN, PASSPORT, Hub, example_antrag
from ozghub_client import application_message

BURG = "150860015015"       # Landkreis Jerichower Land, no certificate: notification
GEWERBE = "99050012104000"
KREIS_MAILBOX = "kreis@jerichower-land.example"
MOECKERN_MAILBOX = "poststelle@moeckern.example"
USER, PASSWORD = "ozg-hub", "Pa55-w0rd-not-in-config"
# aiosmtpd logs every refused TLS handshake with a traceback.
logging.getLogger("mail.log").setLevel(logging.CRITICAL)

# Names and contact data of the citizen in example-antrag.xml.
PERSONAL = [b"Mustermann", b"Erika", b"Gabler", b"Heidestra", b"erika.mustermann", b"Mia",
            b"170 0000000", b"Einverstaendniserklaerung"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pdf():
    with open(os.path.join(CORPUS, "attachments", "pdfa", "2b", "test_pdf_a2-b.pdf"), "rb") as f:
        return f.read()


def run(*args, cwd):
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)


def make_pki(folder):
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it."""
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
        "-out", "ca.pem", "-days", "2", "-subj", "/CN=ozg-hub test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
        "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=folder)
    with open(os.path.join(folder, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=folder)
    # A second CA the adapter does not trust, with a server certificate of its own.
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rogue.key",
        "-out", "rogue.pem", "-days", "2", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1", cwd=folder)


class Handler:
    """Records every mail; `script` lists replies to give instead of success, consumed in order:
    ("RCPT"|"DATA", "451 ...")."""

    def __init__(self):
        self.mails = []      # accepted: dict(envelope, data, tls, auth)
        self.refused = []    # data of mails refused at DATA
        self.script = []
        self.cond = threading.Condition()

    def _scripted(self, stage):
        with self.cond:
            if self.script and self.script[0][0] == stage:
                return self.script.pop(0)[1]
        return None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self._scripted("RCPT")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self._scripted("DATA")
        with self.cond:
            if reply:
                self.refused.append(envelope.original_content)
                self.cond.notify_all()
                return reply
            self.mails.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                               "data": envelope.original_content,
                               "tls": session.ssl is not None,
                               "auth": session.authenticated})
            self.cond.notify_all()
        return "250 Message accepted"

    def wait_for(self, count, timeout=20):
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.mails) >= count, timeout):
                raise AssertionError(f"expected {count} mails, got {len(self.mails)}")
            return list(self.mails)


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok)


class SmtpServer:
    def __init__(self, pki, port, starttls=True, cert="server", implicit=False):
        self.handler = Handler()
        kwargs = {"authenticator": authenticator, "auth_required": True}
        if implicit:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(os.path.join(pki, cert + ".pem"), os.path.join(pki, cert + ".key"))
            # aiosmtpd 1.4 counts only STARTTLS as TLS for auth_require_tls and would not offer
            # AUTH at all; the connection is TLS from its first byte here.
            kwargs.update(ssl_context=ctx, auth_require_tls=False)
        elif starttls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(os.path.join(pki, cert + ".pem"), os.path.join(pki, cert + ".key"))
            kwargs.update(tls_context=ctx, require_starttls=True, auth_require_tls=True)
        else:
            kwargs.update(auth_require_tls=False)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=port,
                                     ready_timeout=10, **kwargs)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()


def parse(data):
    return email.message_from_bytes(data, policy=email.policy.default)


def openssl_decrypt(der, office, folder):
    path = os.path.join(folder, "smime.p7m")
    with open(path, "wb") as f:
        f.write(der)
    out = subprocess.run(
        ["openssl", "cms", "-decrypt", "-inform", "DER", "-in", path,
         "-recip", os.path.join(DEMO_CERTS, office + ".pem"),
         "-inkey", os.path.join(DEMO_CERTS, office + ".key")],
        check=True, capture_output=True)
    return out.stdout


class SmtpAdapterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Set here: the unittest runner resets the filters before running the tests.
        warnings.filterwarnings("ignore", module="aiosmtpd")
        cls.pki = tempfile.mkdtemp(prefix="ozghub-smtp-pki-")
        make_pki(cls.pki)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.pki, ignore_errors=True)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-smtp-")
        self.hub = None
        self.servers = []
        self.port = free_port()
        with open(os.path.join(self.tmp, "smtp-password"), "w") as f:
            f.write(PASSWORD + "\n")

    def tearDown(self):
        if self.hub:
            self.hub.stop()
        for s in self.servers:
            s.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def server(self, **kwargs):
        s = SmtpServer(self.pki, self.port, **kwargs).start()
        self.servers.append(s)
        return s

    def start_hub(self, retry=None, ca_file=None, tls="required"):
        routing = os.path.join(self.tmp, "routing.yaml")
        with open(routing, "w", encoding="utf-8") as f:
            f.write(f"""areas:
  gv100ad: {CORPUS}/areas/GV100AD_301123.txt
offices:
  - id: moeckern-buergeramt
    name: "Stadt Möckern, Bürgeramt"
    certificate: {DEMO_CERTS}/moeckern-buergeramt.pem
    channels:
      - adapter: mail
        params: {{ to: "{MOECKERN_MAILBOX}", mode: smime }}
  - id: jerichower-land-kreisverwaltung
    name: "Landkreis Jerichower Land, Kreisverwaltung"
    channels:
      - adapter: mail
        params: {{ to: "{KREIS_MAILBOX}", subject_prefix: "[OZG]",
                  pickup_hint: "Transferverzeichnis \\\\\\\\fs01\\\\ozg" }}
responsibilities:
  - {{ service: "*", area: "150860140140", office: moeckern-buergeramt }}
  - {{ service: "*", area: "15086", office: jerichower-land-kreisverwaltung }}
""")
        adapters = self.adapter_config(ca_file, tls)
        self.hub = Hub(self.tmp, routing=routing, extra_adapters=adapters, retry=retry).start()
        return self.hub

    def adapter_config(self, ca_file=None, tls="required"):
        return f"""  mail:
    type: smtp
    server: 127.0.0.1
    port: {self.port}
    tls: {tls}
    ca_file: {ca_file or os.path.join(self.pki, "ca.pem")}
    username: {USER}
    password_file: {os.path.join(self.tmp, "smtp-password")}
    from: ozg-hub@hub.example
    timeout_ms: 10000
"""

    def wait_event(self, name, count=1, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            events = self.hub.events(name)
            if len(events) >= count:
                return events
            time.sleep(0.05)
        raise AssertionError(f"no {name} event; log:\n" + "".join(self.hub.log[-30:]))

    def submit(self, area, service, message_id, attachments=None):
        msg = application_message(example_antrag().encode(), area, service,
                                  message_id=message_id, attachments=attachments)
        outcomes, receipts = self.hub.submit([msg], receipts=True)
        self.assertEqual(outcomes[0].state, "accepted", outcomes[0])
        return receipts[0]["case_number"]

    def test_notification_over_starttls_and_auth_has_no_personal_data(self):
        server = self.server()
        self.start_hub()
        case = self.submit(BURG, GEWERBE, "smtp-note-1",
                           attachments=[("Einverstaendniserklaerung.pdf", "application/pdf",
                                         pdf())])
        [mail] = server.handler.wait_for(1)
        self.assertTrue(mail["tls"], "mail was not sent over STARTTLS")
        self.assertTrue(mail["auth"], "client did not authenticate")
        self.assertEqual(mail["from"], "ozg-hub@hub.example")
        self.assertEqual(mail["to"], [KREIS_MAILBOX])
        data = mail["data"]
        for secret in PERSONAL + [b"smtp-note-1", PASSWORD.encode()]:
            self.assertFalse(secret in data, secret)
        msg = parse(data)
        self.assertEqual(msg["To"], KREIS_MAILBOX)
        self.assertEqual(msg["X-OZG-Case-Number"], case)
        self.assertIn(case, msg["Subject"])
        self.assertTrue(msg["Subject"].startswith("[OZG] Neuer Antrag"), msg["Subject"])
        self.assertIn(GEWERBE, msg["Subject"])
        self.assertRegex(msg["Message-ID"], rf"^<{case}\.[0-9a-f]{{12}}\.ozg-hub@hub\.example>$")
        self.assertEqual(msg.get_content_type(), "text/plain")
        body = msg.get_content()
        for fragment in (case, GEWERBE, BURG, "(UTC)", "Kreisverwaltung",
                         r"\\fs01\ozg"):
            self.assertIn(fragment, body)
        self.assertRegex(body, r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
        for secret in PERSONAL:
            self.assertNotIn(secret.decode(), body)
        self.assertEqual(len(self.wait_event("case.delivered")), 1)
        self.assertNotIn(PASSWORD, "".join(self.hub.log))

    def test_smime_mail_decrypts_to_the_submitted_files(self):
        server = self.server()
        self.start_hub()
        xml = example_antrag().encode()
        attachment = pdf()
        name = "Einverständniserklärung Sorgeberechtigte.pdf"
        case = self.submit(MOECKERN, PASSPORT, "smtp-smime-1",
                           attachments=[(name, "application/pdf", attachment)])
        [mail] = server.handler.wait_for(1)
        self.assertEqual(mail["to"], [MOECKERN_MAILBOX])
        head, _, body = mail["data"].partition(b"\r\n\r\n")
        for secret in PERSONAL + [b"Einverst", b"smtp-smime-1"]:
            self.assertFalse(secret in head, secret)
            # The body is base64 of ciphertext: a short string may occur in it by chance.
            if len(secret) >= 8:
                self.assertFalse(secret in body, secret)
        msg = parse(mail["data"])
        self.assertEqual(msg.get_content_type(), "application/pkcs7-mime")
        self.assertEqual(msg.get_param("smime-type"), "authEnveloped-data")
        self.assertEqual(msg.get_filename(), "smime.p7m")
        self.assertEqual(msg["X-OZG-Case-Number"], case)
        inner = parse(openssl_decrypt(msg.get_payload(decode=True), "moeckern-buergeramt",
                                      self.tmp))
        self.assertEqual(inner.get_content_type(), "multipart/mixed")
        parts = list(inner.iter_parts())
        self.assertEqual([p.get_content_type() for p in parts],
                         ["text/plain", "application/xml", "application/pdf"])
        self.assertIn(case, parts[0].get_content())
        self.assertEqual(parts[1].get_filename(), "application.xml")
        self.assertEqual(parts[1].get_payload(decode=True), xml)
        self.assertEqual(parts[2].get_filename(), name)
        self.assertEqual(parts[2].get_payload(decode=True), attachment)

    def test_4xx_is_retried_and_the_mail_arrives_once_with_the_same_message_id(self):
        server = self.server()
        server.handler.script = [("DATA", "451 4.3.0 try again later")]
        self.start_hub()
        case = self.submit(BURG, GEWERBE, "smtp-4xx-1")
        [mail] = server.handler.wait_for(1)
        [delivered] = self.wait_event("case.delivered")
        self.assertEqual(delivered["attempts"], "2")
        [retry] = self.hub.events("case.delivery_retry")
        self.assertEqual(retry["error"], "SMTP 451 after DATA")
        self.assertEqual(len(server.handler.refused), 1)
        self.assertEqual(parse(server.handler.refused[0])["Message-ID"],
                         parse(mail["data"])["Message-ID"])
        self.assertEqual(parse(mail["data"])["X-OZG-Case-Number"], case)
        time.sleep(0.5)  # a second, wrong delivery would show up by now
        self.assertEqual(len(server.handler.mails), 1)
        self.assertFalse(self.hub.events("case.dead_lettered"))

    def test_5xx_goes_to_the_dead_letters_at_once(self):
        server = self.server()
        server.handler.script = [("RCPT", "550 5.1.1 mailbox unknown")]
        self.start_hub()
        case = self.submit(BURG, GEWERBE, "smtp-5xx-1")
        [dead] = self.wait_event("case.dead_lettered")
        self.assertEqual(dead["case"], case)
        self.assertEqual(dead["attempts"], "1")
        self.assertEqual(dead["error"], "SMTP 550 at RCPT")
        self.assertNotIn(KREIS_MAILBOX, "".join(self.hub.log))
        self.assertEqual(server.handler.mails, [])

    def test_server_down_is_retried_until_it_comes_up(self):
        self.start_hub(retry="{ max_attempts: 100, initial_backoff_ms: 100, "
                             "max_backoff_ms: 200 }")
        case = self.submit(BURG, GEWERBE, "smtp-down-1")
        retries = self.wait_event("case.delivery_retry", count=2)
        self.assertTrue(retries[0]["error"].startswith("SMTP connect failed"), retries[0])
        server = self.server()
        [mail] = server.handler.wait_for(1)
        self.assertEqual(parse(mail["data"])["X-OZG-Case-Number"], case)
        self.wait_event("case.delivered")
        self.assertFalse(self.hub.events("case.dead_lettered"))

    def test_server_without_starttls_is_refused(self):
        server = self.server(starttls=False)
        self.start_hub(retry="{ max_attempts: 2, initial_backoff_ms: 50, max_backoff_ms: 100 }")
        self.submit(BURG, GEWERBE, "smtp-plain-1")
        [dead] = self.wait_event("case.dead_lettered")
        self.assertIn("STARTTLS", dead["error"])
        self.assertEqual(dead["attempts"], "2")
        self.assertEqual(server.handler.mails, [])

    def test_implicit_tls(self):
        server = self.server(implicit=True)
        self.start_hub(tls="implicit")
        case = self.submit(BURG, GEWERBE, "smtp-smtps-1")
        [mail] = server.handler.wait_for(1)
        self.assertTrue(mail["auth"], "client did not authenticate")
        self.assertEqual(parse(mail["data"])["X-OZG-Case-Number"], case)

    def test_untrusted_certificate_is_refused(self):
        server = self.server(cert="rogue")
        self.start_hub(retry="{ max_attempts: 2, initial_backoff_ms: 50, max_backoff_ms: 100 }")
        self.submit(BURG, GEWERBE, "smtp-rogue-1")
        [dead] = self.wait_event("case.dead_lettered")
        self.assertTrue(dead["error"].startswith("SMTP TLS failed at STARTTLS"), dead)
        self.assertEqual(server.handler.mails, [])

    def test_smime_channel_for_an_office_without_certificate_is_refused(self):
        routing = os.path.join(self.tmp, "bad-routing.yaml")
        with open(routing, "w", encoding="utf-8") as f:
            f.write(f"""areas:
  gv100ad: {CORPUS}/areas/GV100AD_301123.txt
offices:
  - id: jerichower-land-kreisverwaltung
    name: "Landkreis Jerichower Land, Kreisverwaltung"
    channels:
      - adapter: mail
        params: {{ to: "{KREIS_MAILBOX}", mode: smime }}
responsibilities:
  - {{ service: "*", area: "15086", office: jerichower-land-kreisverwaltung }}
""")
        hub = Hub(self.tmp, routing=routing, extra_adapters=self.adapter_config())
        r = subprocess.run([BINARY, "--check-config", hub.config_path], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("jerichower-land-kreisverwaltung", r.stderr)
        self.assertIn("mode smime needs the office's certificate", r.stderr)


if __name__ == "__main__":
    unittest.main()
