"""The admin endpoint's protection (issue 5, item 1) against the real daemon: a bearer token
(admin.token_file) and HTTPS with client certificates (admin.tls). /livez stays open; everything
else needs what is configured (401 without the token, 403 without a client certificate).
ozg-hubctl passes both with --token-file, --cacert, --cert and --key, or from --config.

A PKI is made at test time with openssl: a CA, the endpoint's EC P-256 certificate (localhost,
127.0.0.1), a client certificate from that CA and one from a stranger CA."""

import http.client
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import unittest

from hubtest import BINARY, Hub
from pki import issue, make_ca

TOKEN = "7f3c1e9a5b2d4c6e8f0a1b3c5d7e9f10"


def make_pki(d):
    for ca in ("ca", "stranger-ca"):
        make_ca(d, ca)
    issue(d, "server", "/CN=localhost",
          ext="subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth")
    issue(d, "operator", "/CN=operator")
    issue(d, "stranger", "/CN=operator", ca="stranger-ca")


def setUpModule():
    global PKI
    PKI = tempfile.mkdtemp(prefix="ozghub-pki-")
    make_pki(PKI)


def tearDownModule():
    shutil.rmtree(PKI, ignore_errors=True)


def private_file(path, content, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.write(fd, content.encode())
    os.close(fd)
    os.chmod(path, mode)
    return path


class AdminAuthTest(unittest.TestCase):
    admin = None  # the `admin:` value, with {tmp} and {pki}

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-it-")
        self.pki = PKI
        self.token_file = private_file(os.path.join(self.tmp, "admin.token"), TOKEN + "\n")
        self.hub = Hub(self.tmp, admin=self.admin.format(tmp=self.tmp, pki=self.pki)).start()

    def tearDown(self):
        self.hub.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def ctl(self, *args):
        return self.hub.ctl(*args, "deadletters", "list", "--json")


class TokenAuth(AdminAuthTest):
    admin = '{{ listen: "127.0.0.1:0", token_file: {tmp}/admin.token }}'

    def get(self, target, token=None):
        c = http.client.HTTPConnection("127.0.0.1", self.hub.admin_port, timeout=10)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        c.request("GET", target, headers=headers)
        r = c.getresponse()
        body = r.read().decode()
        c.close()
        return r.status, r.getheader("WWW-Authenticate"), body

    def test_livez_is_open_and_everything_else_needs_the_token(self):
        self.assertEqual(self.get("/livez")[0], 200)
        for target in ("/readyz", "/metrics", "/v1/deadletters", "/nowhere"):
            status, challenge, body = self.get(target)
            self.assertEqual(status, 401, target)
            self.assertEqual(challenge, 'Bearer realm="ozg-hub"')
            self.assertIn("bearer token is required", body)
            status, challenge, _ = self.get(target, token=TOKEN[:-1] + "1")
            self.assertEqual(status, 401, target)
            self.assertIn('error="invalid_token"', challenge)
        self.assertEqual(self.get("/metrics", token=TOKEN)[0], 200)
        self.assertEqual(self.get("/v1/deadletters", token=TOKEN)[0], 200)
        self.assertEqual(self.get("/nowhere", token=TOKEN)[0], 404)
        denied = self.hub.wait_for_event("admin.denied")
        self.assertEqual(denied[0]["status"], "401")
        self.assertNotIn(TOKEN, "".join(self.hub.log))

    def test_hubctl_passes_the_token_from_a_flag_or_the_configuration(self):
        without = self.ctl()
        self.assertEqual(without.returncode, 1, without.stderr)
        self.assertIn("bearer token is required", without.stderr)
        self.assertIn("--token-file", without.stderr)
        with_flag = self.ctl("--token-file", self.token_file)
        self.assertEqual(with_flag.returncode, 0, with_flag.stderr)
        self.assertEqual(json.loads(with_flag.stdout), {"dead_letters": []})
        # --config names admin.token_file; the port is the one the daemon picked.
        from_config = self.ctl("--config", self.hub.config_path, "--admin", self.hub.admin)
        self.assertEqual(from_config.returncode, 0, from_config.stderr)

    def test_hubctl_refuses_a_token_file_others_can_read(self):
        readable = private_file(os.path.join(self.tmp, "readable.token"), TOKEN, 0o644)
        r = self.ctl("--token-file", readable)
        self.assertEqual(r.returncode, 2)
        self.assertIn("chmod 600", r.stderr)


class TokenFileChecks(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-it-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def refused(self, path):
        hub = Hub(self.tmp, admin=f'{{ listen: "127.0.0.1:0", token_file: {path} }}')
        with self.assertRaises(RuntimeError) as e:
            hub.start()
        return str(e.exception)

    def test_the_daemon_refuses_a_readable_linked_or_weak_token_file(self):
        readable = private_file(os.path.join(self.tmp, "readable"), TOKEN, 0o640)
        self.assertIn("chmod 600", self.refused(readable))
        target = private_file(os.path.join(self.tmp, "target"), TOKEN)
        link = os.path.join(self.tmp, "link")
        os.symlink(target, link)
        self.assertIn("symbolic link", self.refused(link))
        weak = private_file(os.path.join(self.tmp, "weak"), "secret\n")
        self.assertIn("at least 16 characters", self.refused(weak))

    def test_check_config_checks_the_token_file_too(self):
        readable = private_file(os.path.join(self.tmp, "readable"), TOKEN, 0o640)
        hub = Hub(self.tmp, admin=f'{{ listen: "127.0.0.1:0", token_file: {readable} }}')
        r = subprocess.run([BINARY, "--check-config", hub.config_path], capture_output=True,
                           text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("chmod 600", r.stderr)
        os.chmod(readable, 0o600)
        r = subprocess.run([BINARY, "--check-config", hub.config_path], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)


class MutualTls(AdminAuthTest):
    admin = """
  listen: "127.0.0.1:0"
  tls:
    certificate: {pki}/server.pem
    key: {pki}/server.key
    client_ca: {pki}/ca.pem"""

    def get(self, target, client=None):
        context = ssl.create_default_context(cafile=f"{self.pki}/ca.pem")
        if client:
            context.load_cert_chain(f"{self.pki}/{client}.pem", f"{self.pki}/{client}.key")
        c = http.client.HTTPSConnection("localhost", self.hub.admin_port, context=context,
                                        timeout=10)
        try:
            c.request("GET", target)
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()

    def test_livez_is_open_and_everything_else_needs_a_client_certificate(self):
        self.assertEqual(self.hub.events("admin.listening")[0]["client_certificate"], "true")
        self.assertEqual(self.get("/livez")[0], 200)
        for target in ("/readyz", "/metrics", "/v1/deadletters"):
            status, body = self.get(target)
            self.assertEqual(status, 403, target)
            self.assertIn("client certificate", body)
            self.assertEqual(self.get(target, client="operator")[0], 200, target)

    def test_a_certificate_from_another_ca_fails_the_handshake(self):
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            self.get("/livez", client="stranger")

    def test_plain_http_is_not_served(self):
        c = http.client.HTTPConnection("127.0.0.1", self.hub.admin_port, timeout=10)
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            c.request("GET", "/livez")
            c.getresponse()
        c.close()

    def test_hubctl_with_ca_and_client_certificate(self):
        p = self.pki
        ok = self.ctl("--cacert", f"{p}/ca.pem", "--cert", f"{p}/operator.pem", "--key",
                      f"{p}/operator.key")
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertEqual(json.loads(ok.stdout), {"dead_letters": []})
        no_cert = self.ctl("--cacert", f"{p}/ca.pem")
        self.assertEqual(no_cert.returncode, 1, no_cert.stderr)
        self.assertIn("client certificate", no_cert.stderr)
        self.assertIn("--cert", no_cert.stderr)
        # The server is not one the stranger CA vouches for.
        wrong_ca = self.ctl("--cacert", f"{p}/stranger-ca.pem", "--cert", f"{p}/operator.pem",
                            "--key", f"{p}/operator.key")
        self.assertEqual(wrong_ca.returncode, 1, wrong_ca.stderr)
        self.assertIn("TLS", wrong_ca.stderr)
        # --config: HTTPS, with the daemon's own certificate trusted as it is.
        from_config = self.ctl("--config", self.hub.config_path, "--admin", self.hub.admin,
                               "--cert", f"{p}/operator.pem", "--key", f"{p}/operator.key")
        self.assertEqual(from_config.returncode, 0, from_config.stderr)

    def s_client(self, *args):
        p = self.pki
        r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.hub.admin_port}",
                            "-cert", f"{p}/operator.pem", "-key", f"{p}/operator.key",
                            "-CAfile", f"{p}/ca.pem", *args],
                           input="", capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr

    def test_the_amqps_tls_policy_holds(self):
        code, out = self.s_client("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")
        self.assertEqual(code, 0, out)
        self.assertIn("New, TLSv1.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256", out)
        code, out = self.s_client("-tls1_3")
        self.assertEqual(code, 0, out)
        self.assertIn("New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384", out)
        for refused in (["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"],
                        ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0"],
                        ["-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"],
                        ["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"],
                        ["-tls1_3", "-groups", "X25519"]):
            code, out = self.s_client(*refused)
            self.assertNotEqual(code, 0, out)
            self.assertIn("Cipher is (NONE)", out)


class TokenAndTls(AdminAuthTest):
    """Both at once, without client certificates: HTTPS carries the token."""
    admin = """
  listen: "127.0.0.1:0"
  token_file: {tmp}/admin.token
  tls:
    certificate: {pki}/server.pem
    key: {pki}/server.key"""

    def test_hubctl_over_https_with_the_token(self):
        p = self.pki
        self.assertEqual(self.ctl("--cacert", f"{p}/ca.pem").returncode, 1)
        ok = self.ctl("--cacert", f"{p}/ca.pem", "--token-file", self.token_file)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        ok = self.ctl("--config", self.hub.config_path, "--admin", self.hub.admin)
        self.assertEqual(ok.returncode, 0, ok.stderr)


if __name__ == "__main__":
    unittest.main()
