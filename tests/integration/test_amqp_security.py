"""amqps, SASL and per-sender authorisation (issue 4, item 8) against the real daemon.

A PKI is made at test time with openssl: a CA, the hub's EC P-256 certificate, client
certificates from that CA (one per sender, one nobody knows) and from a stranger CA, and an
RSA-2048 server key the hub must refuse. `openssl s_client` proves the TLS policy (TLS 1.1 and
weak suites refused although the client offers them); python3-qpid-proton proves the logins.
"""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from hubtest import BINARY, MOECKERN, PASSPORT, Hub, example_antrag
from ozghub_client import Tls, application_message
from pki import EC_P256, make_ca
from pki import issue as issue_certificate

KREIS_OFFICE = "jerichower-land-kreisverwaltung"  # no certificate: plaintext manifest
BURG = "150860015015"
GEWERBE = "99050012104000"
PORTAL_SUBJECT = "CN=portal-a,O=Portal A,C=DE"


def make_pki(d):
    """CA, server and client certificates in `d` (EC P-256 unless said otherwise)."""
    for ca in ("ca", "stranger-ca"):
        make_ca(d, ca)

    def issue(name, subject, ca="ca", key=EC_P256, ext="extendedKeyUsage=clientAuth"):
        issue_certificate(d, name, subject, ca=ca, key=key, ext=ext)

    server_ext = "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth"
    issue("server", "/CN=localhost", ext=server_ext)
    issue("weak-server", "/CN=localhost", key=["-newkey", "rsa:2048", "-nodes"], ext=server_ext)
    issue("portal-a", "/C=DE/O=Portal A/CN=portal-a")
    issue("no-address", "/C=DE/O=Portal N/CN=no-address")
    issue("unknown", "/C=DE/O=Nobody/CN=unknown")
    issue("stranger", "/C=DE/O=Portal A/CN=portal-a", ca="stranger-ca")
    hashed = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input="s3cret-b\n",
                            capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(d, "passwords"), "w", encoding="utf-8") as f:
        f.write(f"# test users\nform-b:{hashed}\n")


def amqp_section(pki, dev_mode=False, server="server"):
    return f"""{'listen: "127.0.0.1:0"' if dev_mode else ''}
amqp:
  dev_mode: {'true' if dev_mode else 'false'}
  tls:
    listen: "127.0.0.1:0"
    certificate: {pki}/{server}.pem
    key: {pki}/{server}.key
    client_ca: {pki}/ca.pem
  sasl:
    mechanisms: [EXTERNAL, PLAIN]
    password_file: {pki}/passwords
senders:
  - name: portal-a
    certificate_subject: "{PORTAL_SUBJECT}"
    services: "*"
  - name: no-address
    certificate_subject: "CN=no-address,O=Portal N,C=DE"
    addresses: []
    services: "*"
  - name: form-b
    plain_user: form-b
    services: ["{PASSPORT}"]"""


PKI = None  # made once for the module


def setUpModule():
    global PKI
    PKI = tempfile.mkdtemp(prefix="ozghub-pki-")
    make_pki(PKI)


def tearDownModule():
    shutil.rmtree(PKI, ignore_errors=True)


def message(area=BURG, service=PASSPORT, **kw):
    return application_message(example_antrag(), area, service, **kw)


class SecurityTest(unittest.TestCase):
    dev_mode = False

    def setUp(self):
        self.pki = PKI
        self.tmp = tempfile.mkdtemp(prefix="ozghub-it-")
        self.hub = Hub(self.tmp, amqp=amqp_section(self.pki, dev_mode=self.dev_mode)).start()

    def tearDown(self):
        self.hub.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def tls(self, client="portal-a", ca="ca"):
        p = self.pki
        if client is None:
            return Tls(f"{p}/{ca}.pem", hostname="localhost")
        return Tls(f"{p}/{ca}.pem", f"{p}/{client}.pem", f"{p}/{client}.key",
                   hostname="localhost")

    def refused(self, messages, **login):
        with self.assertRaises(RuntimeError) as e:
            self.hub.submit(messages, timeout=30, **login)
        return str(e.exception)


class TlsPolicy(SecurityTest):
    def s_client(self, *args):
        p = self.pki
        r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.hub.tls_port}",
                            "-cert", f"{p}/portal-a.pem", "-key", f"{p}/portal-a.key",
                            "-CAfile", f"{p}/ca.pem", *args],
                           input="", capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr

    def assert_refused(self, *args):
        code, out = self.s_client(*args)
        self.assertNotEqual(code, 0, out)
        self.assertIn("Cipher is (NONE)", out)

    def assert_accepted(self, protocol, cipher, *args):
        code, out = self.s_client(*args)
        self.assertEqual(code, 0, out)
        self.assertIn(f"New, {protocol}, Cipher is {cipher}", out)

    def test_tls_1_1_is_refused_although_offered(self):
        # SECLEVEL=0 makes the client willing to speak TLS 1.1: the refusal is the hub's policy.
        self.assert_refused("-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")

    def test_weak_tls_1_2_suites_are_refused_although_offered(self):
        self.assert_refused("-tls1_2", "-cipher", "AES128-SHA:AES256-GCM-SHA384:@SECLEVEL=0")  # RSA kx
        self.assert_refused("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384"
                            ":@SECLEVEL=0")  # CBC
        self.assert_refused("-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305")  # not BSI

    def test_tls_1_2_ecdhe_aes_gcm_and_tls_1_3_are_accepted(self):
        self.assert_accepted("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256", "-tls1_2", "-cipher",
                             "ECDHE-ECDSA-AES128-GCM-SHA256")
        self.assert_accepted("TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384", "-tls1_2", "-cipher",
                             "ECDHE-ECDSA-AES256-GCM-SHA384")
        self.assert_accepted("TLSv1.3", "TLS_AES_256_GCM_SHA384", "-tls1_3")
        self.assert_accepted("TLSv1.3", "TLS_AES_128_GCM_SHA256", "-tls1_3", "-ciphersuites",
                             "TLS_AES_128_GCM_SHA256", "-groups", "P-256")

    def test_tls_1_3_suites_and_groups_outside_the_bsi_list_are_refused(self):
        self.assert_refused("-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256")
        self.assert_refused("-tls1_3", "-groups", "X25519")
        self.assert_refused("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-groups",
                            "X25519")

    def test_a_client_without_certificate_is_refused(self):
        self.assertIn("SSL", self.refused([message()], tls=self.tls(client=None)))

    def test_a_certificate_from_another_ca_is_refused(self):
        self.assertIn("SSL", self.refused([message()], tls=self.tls("stranger")))


class Logins(SecurityTest):
    def test_external_maps_the_certificate_to_its_sender(self):
        outcomes, receipts = self.hub.submit(
            [message(message_id="ext-1", sender="spoofed")], receipts=True,
            tls=self.tls(), mechs="EXTERNAL")
        self.assertEqual(outcomes[0].state, "accepted", outcomes[0])
        [case] = self.hub.wait_for_cases(KREIS_OFFICE, 1)
        self.assertEqual(receipts[0]["case_number"], case)
        with open(os.path.join(self.hub.transfer, KREIS_OFFICE, case, "manifest.json"),
                  encoding="utf-8") as f:
            self.assertEqual(json.load(f)["sender"], "portal-a")  # not the property's "spoofed"
        self.assertEqual([e["sender"] for e in self.hub.events("amqp.login")], ["portal-a"])

    def test_an_unknown_certificate_is_refused(self):
        error = self.refused([message()], tls=self.tls("unknown"), mechs="EXTERNAL")
        self.assertIn("amqp:unauthorized-access", error)

    def test_plain_over_tls(self):
        outcomes, _ = self.hub.submit([message()], tls=self.tls(), mechs="PLAIN", user="form-b",
                                      password="s3cret-b")
        self.assertEqual(outcomes[0].state, "accepted", outcomes[0])
        self.assertEqual([e["sender"] for e in self.hub.events("amqp.login")], ["form-b"])

    def test_plain_with_a_wrong_password_or_user_is_refused(self):
        for user, password in (("form-b", "wrong"), ("nobody", "s3cret-b")):
            error = self.refused([message()], tls=self.tls(), mechs="PLAIN", user=user,
                                 password=password)
            self.assertIn("amqp:unauthorized-access", error)

    def test_anonymous_is_refused_without_dev_mode(self):
        self.assertIn("amqp:unauthorized-access",
                      self.refused([message()], tls=self.tls(), mechs="ANONYMOUS"))
        # A client that skips SASL altogether is not let in either.
        self.assertIn("amqp:unauthorized-access",
                      self.refused([message()], tls=self.tls(), sasl_enabled=False))


class Authorisation(SecurityTest):
    def test_a_target_address_the_sender_may_not_use_is_refused(self):
        error = self.refused([message()], tls=self.tls(), mechs="EXTERNAL",
                             address="applications-elsewhere")
        self.assertIn("link error: amqp:unauthorized-access", error)
        error = self.refused([message()], tls=self.tls("no-address"), mechs="EXTERNAL")
        self.assertIn("link error: amqp:unauthorized-access", error)

    def test_a_service_the_sender_may_not_submit_is_rejected_and_never_stored(self):
        outcomes, receipts = self.hub.submit(
            [message(service=GEWERBE, message_id="b-1"), message(message_id="b-2")],
            receipts=True, tls=self.tls(), mechs="PLAIN", user="form-b", password="s3cret-b")
        self.assertEqual(outcomes[0].state, "rejected")
        self.assertEqual(outcomes[0].condition, "amqp:unauthorized-access")
        self.assertIn(GEWERBE, outcomes[0].description)
        self.assertEqual(outcomes[1].state, "accepted", outcomes[1])
        # The rejected one took no case number: the accepted one is the store's first.
        self.assertEqual(len(receipts), 1)
        self.assertTrue(receipts[0]["case_number"].endswith("000000000001"), receipts)
        self.assertEqual(self.hub.wait_for_cases(KREIS_OFFICE, 1), [receipts[0]["case_number"]])


class DevMode(SecurityTest):
    dev_mode = True

    def test_anonymous_is_allowed_and_warned_about(self):
        outcomes, _ = self.hub.submit([message(area=MOECKERN)])
        self.assertEqual(outcomes[0].state, "accepted", outcomes[0])
        self.assertEqual(len(self.hub.events("amqp.dev_mode")), 1)

    def test_plain_is_not_offered_without_tls(self):
        error = self.refused([message()], mechs="PLAIN", user="form-b", password="s3cret-b")
        self.assertIn("amqp:unauthorized-access", error)
        self.assertEqual(self.hub.events("amqp.login"), [])


class WeakServerKey(unittest.TestCase):
    def test_a_server_key_below_rsa_3072_is_refused(self):
        work = tempfile.mkdtemp(prefix="ozghub-it-")
        try:
            hub = Hub(work, amqp=amqp_section(PKI, server="weak-server"))
            for option in ("--check-config", "--config"):
                r = subprocess.run([BINARY, option, hub.config_path], capture_output=True,
                                   text=True, timeout=60)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("amqp.tls.key: the server key is RSA with 2048 bits; at least 3072",
                              r.stderr)
            self.assertFalse(os.path.exists(hub.data_dir), "refused before opening the store")
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
