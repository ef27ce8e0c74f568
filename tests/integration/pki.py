"""Test PKIs made with the openssl command: CAs and the certificates they issue, in a folder,
as NAME.pem and NAME.key (EC P-256 unless said otherwise)."""

import os
import subprocess

EC_P256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(d, name):
    """A self-signed CA valid for two days."""
    openssl("req", "-x509", *EC_P256, "-keyout", name + ".key", "-out", name + ".pem", "-days",
            "2", "-subj", "/CN=" + name, cwd=d)


def issue(d, name, subject, ca="ca", key=EC_P256, ext="extendedKeyUsage=clientAuth"):
    """A certificate for `subject` from `ca`, with the extensions `ext` (openssl -extfile)."""
    openssl("req", *key, "-keyout", name + ".key", "-out", name + ".csr", "-subj", subject, cwd=d)
    with open(os.path.join(d, name + ".ext"), "w", encoding="utf-8") as f:
        f.write(ext + "\n")
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext",
            cwd=d)
