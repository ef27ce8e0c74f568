"""Test harness: runs the real ozg-hub daemon on 127.0.0.1 with a port chosen by the kernel and a
fresh data directory, and talks to it with the real AMQP client in scripts/ozghub_client.py."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

SOURCE_DIR = os.environ.get("OZGHUB_SOURCE_DIR",
                            os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BINARY = os.environ.get("OZGHUB_BINARY", os.path.join(SOURCE_DIR, "build", "broker", "ozg-hub"))
CTL_BINARY = os.environ.get("OZGHUB_CTL", os.path.join(os.path.dirname(BINARY), "..", "ctl",
                                                       "ozg-hubctl"))
CORPUS = os.path.abspath(os.path.join(SOURCE_DIR, "..", "shared", "corpus"))
sys.path.insert(0, os.path.join(SOURCE_DIR, "scripts"))

import ozghub_client  # noqa: E402

ANTRAG_NS = "urn:ozg-hub:schema:antrag:1.0"
MOECKERN = "150860140140"
PASSPORT = "99085001000000"
DEMO_CERTS = os.path.join(SOURCE_DIR, "config", "demo-certs")
DEV_MODE = """listen: "127.0.0.1:0"
amqp: { dev_mode: true }"""
# The first line of a report from ASan, LSan, TSan or UBSan (scripts/test.sh's sanitizer passes).
SANITIZER_REPORT = re.compile(r"(ERROR|WARNING): \w+Sanitizer:|runtime error: ")


def example_antrag():
    with open(os.path.join(SOURCE_DIR, "schemas", "ozg-antrag", "example-antrag.xml"),
              encoding="utf-8") as f:
        return f.read()


class Hub:
    """One daemon process with its own data directory."""

    def __init__(self, workdir, routing=None, extra_config="", retry=None, extra_adapters="",
                 amqp=DEV_MODE, encryption=None, admin='{ listen: "127.0.0.1:0" }'):
        """extra_adapters: YAML lines (indented by 2) added under `adapters:` after `transfer`.

        amqp: the `amqp:` section and what goes with it (`listen`, `senders`); by default the
        plaintext port with ANONYMOUS (dev_mode). With `amqp.tls`, start() also waits for the
        amqps port (`tls_port`).
        encryption: the `encryption:` section (default: one KEK file, made here with mode 0600).
        admin: the value of the `admin:` key (token_file, tls: a protected admin endpoint)."""
        self.workdir = workdir
        self.data_dir = os.path.join(workdir, "data")
        self.transfer = os.path.join(workdir, "transfer")
        self.config_path = os.path.join(workdir, "ozg-hub.yaml")
        routing = routing or os.path.join(SOURCE_DIR, "config", "routing.demo.yaml")
        retry = retry or "{ max_attempts: 3, initial_backoff_ms: 50, max_backoff_ms: 200 }"
        if encryption is None:
            self.kek_path = os.path.join(workdir, "kek-1.key")
            if not os.path.exists(self.kek_path):
                fd = os.open(self.kek_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                os.write(fd, os.urandom(32))
                os.close(fd)
            encryption = f"encryption:\n  keks:\n    k1: {{ type: file, path: {self.kek_path} }}\n"
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(f"""{amqp}
admin: {admin}
data_dir: {self.data_dir}
schemas:
  - namespace: "{ANTRAG_NS}"
    xsd: {SOURCE_DIR}/schemas/ozg-antrag/ozg-antrag-1.0.xsd
routing:
  directory: {routing}
adapters:
  transfer:
    type: transfer_dir
    root: {self.transfer}
{extra_adapters}
retry: {retry}
{encryption}
{extra_config}
""")
        self.proc = None
        self.port = None
        self.tls_port = None
        self.want_plain = "dev_mode: true" in amqp
        self.want_tls = "tls:" in amqp
        self.log = []
        self.killed = False

    def start(self, timeout=30, env=None):
        """env: variables added to this process's environment for the daemon."""
        self.log = []
        self.killed = False
        self.port = None
        self.tls_port = None
        self.admin_port = None
        self.proc = subprocess.Popen([BINARY, "--config", self.config_path],
                                     stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     text=True, env={**os.environ, **env} if env else None)
        ready = threading.Event()

        def pump():
            for line in self.proc.stderr:
                self.log.append(line)
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("event") == "admin.listening":
                    self.admin_port = int(event["address"].rsplit(":", 1)[1])
                # A hub that only consumes from brokers (connectors) listens on no AMQP port.
                if (event.get("event") == "hub.started" and not self.want_plain
                        and not self.want_tls):
                    ready.set()
                if event.get("event") == "amqp.listening":
                    port = int(event["address"].rsplit(":", 1)[1])
                    if event.get("tls") == "true":
                        self.tls_port = port
                    else:
                        self.port = port
                    if ((self.port or not self.want_plain)
                            and (self.tls_port or not self.want_tls)):
                        ready.set()
            ready.set()

        self.pump = threading.Thread(target=pump, daemon=True)
        self.pump.start()
        if (not ready.wait(timeout) or (self.want_plain and self.port is None)
                or (self.want_tls and self.tls_port is None)):
            self.kill()
            raise RuntimeError("hub did not start:\n" + "".join(self.log))
        return self

    @property
    def url(self):
        return f"amqp://127.0.0.1:{self.port}"

    @property
    def tls_url(self):
        return f"amqps://127.0.0.1:{self.tls_port}"

    @property
    def admin(self):
        return f"127.0.0.1:{self.admin_port}"

    def ctl(self, *args, input=None, timeout=30):
        """Runs ozg-hubctl against this hub's admin endpoint."""
        return subprocess.run([CTL_BINARY, "--admin", self.admin, *args], capture_output=True,
                              text=True, input=input, timeout=timeout)

    def metric(self, name, **labels):
        """The value of one sample from /metrics, or None."""
        import urllib.request
        with urllib.request.urlopen(f"http://{self.admin}/metrics", timeout=10) as r:
            text = r.read().decode()
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            key, _, value = line.rpartition(" ")
            if key == (f"{name}{{{want}}}" if want else name):
                return float(value)
        return None

    def readyz(self):
        """(HTTP status, body) of /readyz."""
        import urllib.error
        import urllib.request
        try:
            with urllib.request.urlopen(f"http://{self.admin}/readyz", timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("hub did not stop within 30 s of SIGTERM")
        self._reap()
        # A clean shutdown exits 0, also when the hub had already exited by itself (not through
        # kill()). Under the sanitizer builds a leak or an error found at exit makes it non-zero,
        # and any report the daemon printed fails the test even if it was killed.
        reports = [i for i, line in enumerate(self.log) if SANITIZER_REPORT.search(line)]
        if reports:
            raise AssertionError("sanitizer report from the hub:\n"
                                 + "".join(self.log[reports[0]:reports[0] + 80]))
        if not self.killed and self.proc.returncode != 0:
            raise AssertionError(f"hub exited with {self.proc.returncode}:\n"
                                 + "".join(self.log[-60:]))

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self.killed = True
        self._reap()

    def _reap(self):
        self.pump.join(5)
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()

    def sighup_and_wait(self, event, timeout=10):
        """Sends SIGHUP (a reload) and waits for one more `event` in the log; False if none came."""
        before = len(self.events(event))
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + timeout
        while time.time() < deadline and len(self.events(event)) == before:
            time.sleep(0.05)
        return len(self.events(event)) > before

    def events(self, name):
        out = []
        for line in self.log:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("event") == name:
                out.append(e)
        return out

    def wait_for_event(self, name, timeout=30):
        """The events named `name` once there is one: the log is read by a thread of its own,
        so a line the hub wrote before answering may still be on its way."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.events(name):
                return self.events(name)
            time.sleep(0.05)
        raise AssertionError(f"no {name} event within {timeout} s")

    def submit(self, messages, receipts=False, timeout=60, **login):
        """login: tls=ozghub_client.Tls(...) (then over amqps), mechs, user, password, address."""
        url = self.tls_url if login.get("tls") else self.url
        return ozghub_client.submit(url, messages, receipts=receipts, timeout=timeout, **login)

    def case_dirs(self, office):
        root = os.path.join(self.transfer, office)
        if not os.path.isdir(root):
            return []
        return sorted(d for d in os.listdir(root) if not d.startswith("."))

    def wait_for_cases(self, office, count, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.case_dirs(office)) >= count:
                return self.case_dirs(office)
            time.sleep(0.05)
        raise AssertionError(f"{office}: expected {count} case folders, found "
                             f"{self.case_dirs(office)}")


class HubTestCase(unittest.TestCase):
    """Gives each test a fresh hub in a temporary directory."""

    routing = None
    extra_config = ""
    retry = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-it-")
        self.hub = Hub(self.tmp, routing=self.routing, extra_config=self.extra_config,
                       retry=self.retry)
        self.hub.start()

    def tearDown(self):
        self.hub.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
