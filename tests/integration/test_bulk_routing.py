"""A routing directory with a bulk responsibilities file (responsibilities_file): applications
are routed by its rules, `ozg-hubctl route` names the file and line of the rule that matched, and
a reload that changes the file applies; a bad line keeps the old directory and names the line."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from hubtest import BINARY, CORPUS, MOECKERN, PASSPORT, Hub, example_antrag
from ozghub_client import application_message

FUEHRERSCHEIN = "99108047050001"

ROUTING = """areas:
  gv100ad: {gv100ad}
offices:
  - {{ id: kreis-fs, name: "Kreis, Fahrerlaubnis", channels: [{{ adapter: transfer }}] }}
  - {{ id: kreis, name: "Kreis", channels: [{{ adapter: transfer }}] }}
  - {{ id: land, name: "Land", channels: [{{ adapter: transfer }}] }}
responsibilities:
  - {{ service: "*", area: "15", office: land }}
responsibilities_file: rules.tsv
"""


class BulkRouting(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-it-")
        self.routing = os.path.join(self.tmp, "routing.yaml")
        self.rules = os.path.join(self.tmp, "rules.tsv")
        with open(self.routing, "w", encoding="utf-8") as f:
            f.write(ROUTING.format(gv100ad=os.path.join(CORPUS, "areas", "GV100AD_301123.txt")))
        self.write_rules(f"# service area office\n{FUEHRERSCHEIN}\t15086\tkreis-fs\n")
        self.hub = Hub(self.tmp, routing=self.routing).start()

    def tearDown(self):
        self.hub.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write_rules(self, text):
        with open(self.rules, "w", encoding="utf-8") as f:
            f.write(text)

    def route(self, service):
        r = self.hub.ctl("route", "--area", MOECKERN, "--service", service, "--json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return json.loads(r.stdout)

    def reload_and_wait(self, event):
        self.assertTrue(self.hub.sighup_and_wait(event), f"no {event} in the log")

    def test_routes_explains_and_reloads_bulk_rules(self):
        # A bulk rule routes and delivers; the explanation names its file and line.
        outcomes, _ = self.hub.submit(
            [application_message(example_antrag(), MOECKERN, FUEHRERSCHEIN, message_id="bulk-1")])
        self.assertEqual(outcomes[0].state, "accepted", outcomes[0])
        self.hub.wait_for_cases("kreis-fs", 1)
        r = self.route(FUEHRERSCHEIN)
        self.assertEqual(r["office"]["id"], "kreis-fs")
        self.assertEqual((r["rule"]["file"], r["rule"]["line"]), (self.rules, 2))
        self.assertIn("rules.tsv:2", r["reason"])
        out = self.hub.ctl("route", "--area", MOECKERN, "--service", FUEHRERSCHEIN)
        self.assertIn(f"rule      {self.rules}:2: service {FUEHRERSCHEIN}", out.stdout)
        # A rule of the YAML list still names only its line.
        r = self.route(PASSPORT)
        self.assertEqual((r["office"]["id"], r["rule"]["file"], r["rule"]["line"]), ("land", "", 8))

        # A changed bulk file applies on reload.
        self.write_rules(f"{FUEHRERSCHEIN}\t15086\tkreis-fs\n*\t15086\tkreis\n")
        self.reload_and_wait("config.reloaded")
        r = self.route(PASSPORT)
        self.assertEqual((r["office"]["id"], r["rule"]["file"], r["rule"]["line"]),
                         ("kreis", self.rules, 2))

        # A bad line is not applied: the old directory keeps serving, the error names the line.
        self.write_rules(f"{FUEHRERSCHEIN}\t15086\tkreis-fs\n*\t15086\tnobody\n")
        self.reload_and_wait("config.reload_failed")
        self.assertEqual(self.hub.events("config.reload_failed")[-1]["condition"],
                         "routing_directory")
        self.assertEqual(self.route(PASSPORT)["office"]["id"], "kreis")
        # The log says only the condition; check-config names the file and line.
        check = subprocess.run([BINARY, "--check-config", self.hub.config_path],
                               capture_output=True, text=True, timeout=60)
        self.assertNotEqual(check.returncode, 0)
        self.assertIn(f"{self.rules}:2: office 'nobody' is not declared", check.stdout + check.stderr)


if __name__ == "__main__":
    unittest.main()
