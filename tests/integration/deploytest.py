"""Helpers of the deployment tests (package, Helm chart, container): the secrets a production
configuration names, made here (an EC P-256 amqps certificate and key, a CA file, a KEK), and a
configuration whose absolute paths are moved into a scratch directory, so that the real
`ozg-hub --check-config` judges the configuration a deployment ships."""

import os
import subprocess


def make_tls(directory, cn="localhost"):
    """A self-signed EC P-256 server certificate and its key: (certificate, key) paths. The
    certificate also serves as the portals' CA file."""
    os.makedirs(directory, exist_ok=True)
    cert = os.path.join(directory, "amqps.pem")
    key = os.path.join(directory, "amqps.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", f"/CN={cn}",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    os.chmod(key, 0o600)
    return cert, key


def make_kek(path):
    """32 random bytes, mode 0400, owned by this process's user (as the daemon requires)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(path, 0o400)
    return path


def relocate(text, mapping):
    """`text` with each absolute path prefix of `mapping` replaced (longest prefix first)."""
    for old in sorted(mapping, key=len, reverse=True):
        text = text.replace(old, mapping[old])
    return text


def check_config(binary, config_path, env=None):
    """Runs `binary --check-config config_path`; the CompletedProcess."""
    return subprocess.run([binary, "--check-config", config_path], capture_output=True,
                          text=True, timeout=60, env=env)
