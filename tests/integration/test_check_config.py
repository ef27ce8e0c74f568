"""`ozg-hub --check-config FILE`: exit 0 for a valid file; otherwise every error with its line."""

import os
import shutil
import subprocess
import tempfile
import unittest

from hubtest import BINARY, SOURCE_DIR, Hub


class CheckConfig(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-it-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def check(self, path):
        return subprocess.run([BINARY, "--check-config", path], capture_output=True, text=True,
                              timeout=60)

    def test_valid_configuration(self):
        hub = Hub(self.tmp)  # writes a complete configuration, does not start
        r = self.check(hub.config_path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("valid", r.stdout)
        self.assertFalse(os.path.exists(hub.data_dir), "checking must not create the store")

    def test_every_error_is_listed_with_its_line(self):
        path = os.path.join(self.tmp, "bad.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write('listen: "nowhere"\n'
                    "routing: { directory: " + os.path.join(SOURCE_DIR, "config",
                                                          "routing.demo.yaml") + " }\n"
                    "adapters: { transfer: { type: transfer_dir, root: /tmp, colour: red } }\n"
                    "retry: { max_attempts: 0 }\n")
        r = self.check(path)
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad.yaml:1: listen must be HOST:PORT", r.stderr)
        self.assertIn("bad.yaml:3: adapters.transfer: unknown key 'colour'", r.stderr)
        self.assertIn("bad.yaml:4: retry.max_attempts must be at least 1", r.stderr)

    def test_routing_that_names_an_unconfigured_adapter_is_an_error(self):
        hub = Hub(self.tmp)
        with open(hub.config_path, encoding="utf-8") as f:
            text = f.read()
        with open(hub.config_path, "w", encoding="utf-8") as f:
            f.write(text.replace("  transfer:\n", "  elsewhere:\n"))
        r = self.check(hub.config_path)
        self.assertEqual(r.returncode, 2)
        self.assertIn("channel names adapter 'transfer', which is not configured", r.stderr)


    def test_adapter_reference_is_current(self):
        r = subprocess.run([BINARY, "--adapter-types"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        for t in ("transfer_dir:", "http:", "smtp:"):
            self.assertIn(t, r.stdout)
        with open(os.path.join(SOURCE_DIR, "adapters", "REFERENCE.md"), encoding="utf-8") as f:
            doc = f.read()
        self.assertIn("```\n" + r.stdout + "```\n", doc,
                      "adapters/REFERENCE.md is out of date: regenerate it from "
                      "`ozg-hub --adapter-types` (see its first lines)")

if __name__ == "__main__":
    unittest.main()
