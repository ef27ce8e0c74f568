"""deploy/systemd/ozg-hub.service: `systemd-analyze verify` accepts it, `systemd-analyze security
--offline=true` rates its exposure below 3.0, and what it assumes of the daemon and the package
holds (exit code of a configuration error, the credentials the default configuration reads)."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

from hubtest import BINARY, SOURCE_DIR

UNIT = os.path.join(SOURCE_DIR, "deploy", "systemd", "ozg-hub.service")
PACKAGE_CONFIG = os.path.join(SOURCE_DIR, "config", "package", "ozg-hub.yaml")
MAX_EXPOSURE = 3.0


def unit_settings(text):
    """[Service] and [Unit] settings as (key, value) pairs, in order (keys may repeat)."""
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        pairs.append((key.strip(), value.strip()))
    return pairs


class SystemdUnit(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-unit-")
        with open(UNIT, encoding="utf-8") as f:
            self.text = f.read()
        self.settings = unit_settings(self.text)
        # The unit names the installed binary; verify checks that it exists and is executable,
        # so a copy names the one built here.
        self.copy = os.path.join(self.tmp, "ozg-hub.service")
        with open(self.copy, "w", encoding="utf-8") as f:
            f.write(self.text.replace("/usr/bin/ozg-hub", os.path.abspath(BINARY)))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def values(self, key):
        return [v for k, v in self.settings if k == key]

    def test_verify(self):
        r = subprocess.run(["systemd-analyze", "verify", self.copy], capture_output=True,
                           text=True, timeout=60)
        # verify prints warnings about other units of this machine too; only ours count.
        ours = [l for l in (r.stdout + r.stderr).splitlines() if "ozg-hub.service" in l]
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(ours, [], "\n".join(ours))

    def test_exposure_below_3(self):
        r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager",
                            self.copy], capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for ozg-hub\.service: (\d+\.\d+)", r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        exposure = float(m.group(1))
        print(f"systemd-analyze security --offline=true: exposure {exposure}")
        self.assertLess(exposure, MAX_EXPOSURE, r.stdout)

    def test_hardening_the_issue_names(self):
        for key, value in [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                           ("CapabilityBoundingSet", ""), ("PrivateTmp", "yes"),
                           ("ProtectHome", "yes"), ("MemoryDenyWriteExecute", "yes"),
                           ("SystemCallFilter", "@system-service"),
                           ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
                           ("StateDirectory", "ozg-hub"), ("User", "ozg-hub")]:
            self.assertIn(value, self.values(key), key)
        self.assertEqual(self.values("Type"), ["exec"], "the daemon does not sd_notify or fork")
        self.assertIn("0", self.values("LimitCORE"), "a core dump would hold applications")

    def test_a_configuration_error_is_not_restarted(self):
        bad = os.path.join(self.tmp, "bad.yaml")
        with open(bad, "w", encoding="utf-8") as f:
            f.write("colour: red\n")
        r = subprocess.run([BINARY, "--config", bad], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        prevented = " ".join(self.values("RestartPreventExitStatus")).split()
        self.assertIn(str(r.returncode), prevented,
                      f"a configuration error exits with {r.returncode}: restarting cannot help")
        self.assertNotIn("74", prevented, "a failed sync (74) recovers by a restart")
        self.assertEqual(self.values("Restart"), ["on-failure"])

    def test_credentials_match_the_default_configuration(self):
        loaded = {v.split(":", 1)[0] for v in self.values("LoadCredential")}
        with open(PACKAGE_CONFIG, encoding="utf-8") as f:
            used = set(re.findall(r"/run/credentials/ozg-hub\.service/([A-Za-z0-9_.-]+)",
                                  f.read()))
        self.assertTrue(used, "the default configuration reads its secrets from credentials")
        self.assertEqual(used - loaded, set(), "credentials the configuration reads but the "
                         "unit does not load")
        for v in self.values("LoadCredential"):
            self.assertTrue(v.split(":", 1)[1].startswith("/etc/ozg-hub/credentials/"), v)
        self.assertIn("/usr/bin/ozg-hub --config /etc/ozg-hub/ozg-hub.yaml",
                      self.values("ExecStart"))


if __name__ == "__main__":
    unittest.main()
