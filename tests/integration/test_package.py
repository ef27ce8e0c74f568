"""The Debian package (cmake/Packaging.cmake): cpack builds it from this build tree into a scratch
directory; its control data (dependencies from dpkg-shlibdeps, conffiles, maintainer scripts) and
its files are checked; it is extracted with `dpkg -x` into a scratch root, where the extracted
`ozg-hub --check-config` accepts the extracted default configuration (its absolute paths moved
into the scratch root, its secrets made here) and the extracted SDK is a CMake package."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

import deploytest
from hubtest import BINARY, SOURCE_DIR

CREDENTIALS = "/run/credentials/ozg-hub.service"


def build_dir():
    d = os.path.dirname(os.path.abspath(BINARY))
    while d != "/" and not os.path.isfile(os.path.join(d, "CMakeCache.txt")):
        d = os.path.dirname(d)
    return d


def run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=kw.pop("timeout", 120), **kw)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r.stdout


class DebianPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ozghub-deb-")
        out = os.path.join(cls.tmp, "out")
        build = build_dir()
        run(["cpack", "-G", "DEB", "-B", out, "--config",
             os.path.join(build, "CPackConfig.cmake")], cwd=build, timeout=300)
        debs = [f for f in os.listdir(out) if f.endswith(".deb")]
        assert len(debs) == 1, debs
        cls.deb = os.path.join(out, debs[0])
        cls.listing = run(["dpkg-deb", "-c", cls.deb])
        cls.control = run(["dpkg-deb", "-f", cls.deb])
        cls.root = os.path.join(cls.tmp, "root")
        run(["dpkg", "-x", cls.deb, cls.root])
        cls.control_dir = os.path.join(cls.tmp, "control")
        run(["dpkg-deb", "-e", cls.deb, cls.control_dir])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def entries(self):
        """{path: (mode string, owner)} from dpkg-deb -c."""
        result = {}
        for line in self.listing.splitlines():
            parts = line.split(None, 5)
            path = parts[5].split(" -> ")[0]
            result[path[1:].rstrip("/") or "/"] = (parts[0], parts[1])
        return result

    def test_control(self):
        fields = dict(re.findall(r"^(\S+): (.*)$", self.control, re.M))
        self.assertEqual(fields["Package"], "ozg-hub")
        self.assertRegex(os.path.basename(self.deb), r"^ozg-hub_\d+\.\d+\.\d+_\w+\.deb$")
        depends = fields["Depends"]
        for lib in ("libc6", "libqpid-proton-cpp12", "libxml2", "libssl3",
                    "libyaml-cpp", "libcurl4", "adduser"):
            self.assertIn(lib, depends, "Depends (dpkg-shlibdeps) lacks " + lib)
        self.assertNotIn("-dev", depends)
        # Every dependency is a Debian package this machine has installed: real bookworm names
        # (apt in the container's runtime stage resolves them the same way).
        names = [re.sub(r"\s*\(.*\)", "", d).strip() for d in depends.split(",")]
        r = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Status}\n", *names],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        installed = {line.split()[0].split(":")[0] for line in r.stdout.splitlines()
                     if line.endswith("install ok installed")}
        self.assertEqual(set(names) - installed, set(), r.stdout)

    def test_maintainer_scripts_and_conffiles(self):
        with open(os.path.join(self.control_dir, "conffiles"), encoding="utf-8") as f:
            self.assertEqual(sorted(f.read().split()),
                             ["/etc/ozg-hub/ozg-hub.yaml", "/etc/ozg-hub/routing.yaml"])
        for script in ("postinst", "prerm", "postrm"):
            path = os.path.join(self.control_dir, script)
            self.assertTrue(os.access(path, os.X_OK), script)
            run(["sh", "-n", path])
        with open(os.path.join(self.control_dir, "postinst"), encoding="utf-8") as f:
            postinst = f.read()
        self.assertIn("adduser --system", postinst)
        self.assertNotIn("systemctl start", postinst, "not started before it is configured")

    def test_files(self):
        entries = self.entries()
        for path in ["/usr/bin/ozg-hub", "/usr/bin/ozg-hubctl",
                     "/lib/systemd/system/ozg-hub.service",
                     "/etc/ozg-hub/ozg-hub.yaml", "/etc/ozg-hub/routing.yaml",
                     "/etc/ozg-hub/credentials", "/etc/ozg-hub/tls",
                     "/usr/share/ozg-hub/schemas/ozg-antrag/ozg-antrag-1.0.xsd",
                     "/usr/share/doc/ozg-hub/operations/install.md",
                     "/usr/share/doc/ozg-hub/operations/upgrade.md",
                     "/usr/share/doc/ozg-hub/operations/runbook.md",
                     "/usr/share/doc/ozg-hub/README.md",
                     "/usr/share/ozg-hub/grafana/ozg-hub-dashboard.json",
                     "/usr/share/ozg-hub/prometheus/ozg-hub-alerts.yaml",
                     "/usr/share/doc/ozg-hub/examples/ozg-hub.example.yaml",
                     "/usr/include/ozghub/adapter_abi.h", "/usr/include/ozghub/adapter_sdk.hpp",
                     "/usr/lib/cmake/OzgHubAdapterSdk/OzgHubAdapterSdkConfig.cmake"]:
            self.assertIn(path, entries)
        for path, (mode, owner) in entries.items():
            self.assertEqual(owner, "root/root", path)
            self.assertFalse(path.startswith(("/usr/local", "/var/lib/ozg-hub")), path)
        self.assertEqual(entries["/etc/ozg-hub/credentials"][0], "drwx------")
        self.assertEqual(entries["/usr/bin/ozg-hub"][0], "-rwxr-xr-x")
        with open(os.path.join(SOURCE_DIR, "deploy", "systemd", "ozg-hub.service"), "rb") as a, \
                open(os.path.join(self.root, "lib/systemd/system/ozg-hub.service"), "rb") as b:
            self.assertEqual(a.read(), b.read())
        # Stripped: the package carries no debug information.
        r = run(["file", os.path.join(self.root, "usr/bin/ozg-hub")])
        self.assertIn("stripped", r)
        self.assertNotIn("not stripped", r)

    def write_config(self, credentials):
        """The extracted default configuration with its paths in the scratch root."""
        etc = os.path.join(self.root, "etc", "ozg-hub")
        with open(os.path.join(etc, "ozg-hub.yaml"), encoding="utf-8") as f:
            text = f.read()
        path = os.path.join(self.tmp, "relocated.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(deploytest.relocate(text, {
                "/etc/ozg-hub": etc, CREDENTIALS: credentials,
                "/usr/share/ozg-hub": os.path.join(self.root, "usr", "share", "ozg-hub"),
                "/var/lib/ozg-hub": os.path.join(self.tmp, "data")}))
        return path

    def test_extracted_binary_accepts_the_default_configuration(self):
        credentials = os.path.join(self.tmp, "credentials")
        binary = os.path.join(self.root, "usr", "bin", "ozg-hub")
        config = self.write_config(credentials)
        # As installed, before the first-start steps: refused, naming what is missing.
        r = deploytest.check_config(binary, config)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("tls/amqps.pem", r.stderr)

        cert, key = deploytest.make_tls(os.path.join(self.tmp, "pki"))
        tls = os.path.join(self.root, "etc", "ozg-hub", "tls")
        shutil.copy(cert, os.path.join(tls, "amqps.pem"))
        shutil.copy(cert, os.path.join(tls, "portal-ca.pem"))
        os.makedirs(credentials, exist_ok=True)
        shutil.copy(key, os.path.join(credentials, "amqps-key"))
        # The KEK is read from the credentials systemd hands over.
        r = deploytest.check_config(binary, config)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(os.path.join(credentials, "kek"), r.stderr)
        deploytest.make_kek(os.path.join(credentials, "kek"))
        r = deploytest.check_config(binary, config)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "data", "store")))
        run([os.path.join(self.root, "usr", "bin", "ozg-hubctl"), "--help"])
        self.run_extracted_hub(binary, config)

    def run_extracted_hub(self, binary, config):
        """Starts the extracted daemon on that configuration (ports moved to free ones on
        loopback): it opens its store, listens on amqps and answers /livez and /readyz."""
        with open(config, encoding="utf-8") as f:
            text = f.read()
        self.assertIn('"0.0.0.0:5671"', text)
        self.assertIn('"127.0.0.1:9650"', text)
        text = text.replace('"0.0.0.0:5671"', '"127.0.0.1:0"').replace('"127.0.0.1:9650"',
                                                                        '"127.0.0.1:0"')
        with open(config, "w", encoding="utf-8") as f:
            f.write(text)
        proc = subprocess.Popen([binary, "--config", config], stderr=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, text=True)
        log, events = [], {}
        started = threading.Event()

        def pump():  # reads the whole log, so the daemon never blocks on a full pipe
            for line in proc.stderr:
                log.append(line)
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("event") == "admin.listening":
                    events["admin"] = event["address"]
                if event.get("event") == "amqp.listening" and event.get("tls") == "true":
                    events["amqps"] = event["address"]
                if "admin" in events and "amqps" in events:
                    started.set()
            started.set()

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            started.wait(60)
            admin, amqps = events.get("admin"), events.get("amqps")
            self.assertTrue(admin and amqps, "".join(log))
            for path in ("/livez", "/readyz"):
                status = None
                for _ in range(50):
                    try:
                        with urllib.request.urlopen(f"http://{admin}{path}", timeout=5) as r:
                            status = r.status
                            break
                    except OSError as e:
                        status = getattr(e, "code", None)
                    proc.poll()
                    self.assertIsNone(proc.returncode, "".join(log))
                    time.sleep(0.1)
                self.assertEqual(status, 200, path)
            self.assertTrue(os.path.isdir(os.path.join(self.tmp, "data", "store")))
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(60), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            reader.join(10)
            proc.stderr.close()

    def test_extracted_sdk_is_a_cmake_package(self):
        project = os.path.join(self.tmp, "vendor")
        os.makedirs(project)
        with open(os.path.join(project, "CMakeLists.txt"), "w", encoding="utf-8") as f:
            f.write("cmake_minimum_required(VERSION 3.25)\nproject(vendor LANGUAGES NONE)\n"
                    "find_package(OzgHubAdapterSdk 1 REQUIRED)\n"
                    "get_target_property(inc OzgHub::AdapterSdk INTERFACE_INCLUDE_DIRECTORIES)\n"
                    'message(STATUS "sdk-include=${inc}")\n')
        out = run(["cmake", "-S", project, "-B", os.path.join(project, "build"),
                   "-DCMAKE_PREFIX_PATH=" + os.path.join(self.root, "usr")])
        inc = re.search(r"sdk-include=(\S+)", out).group(1)
        self.assertTrue(os.path.isfile(os.path.join(inc, "ozghub", "adapter_sdk.hpp")), inc)
        self.assertTrue(os.path.realpath(inc).startswith(os.path.realpath(self.root)), inc)


if __name__ == "__main__":
    unittest.main()
