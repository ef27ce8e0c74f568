"""The routing directory reloads on SIGHUP without a restart; a directory that fails to load is
not applied and the old one keeps serving."""

import os
import shutil
import tempfile
import unittest

from hubtest import DEMO_CERTS, MOECKERN, PASSPORT, SOURCE_DIR, Hub, example_antrag
from ozghub_client import application_message

HALLE = "150020000000"
GEWERBE = "99050012104000"


def private_demo_routing(tmp):
    """A private copy of the demo routing directory in `tmp`, with paths that still resolve from
    there: (its path, its text)."""
    with open(os.path.join(SOURCE_DIR, "config", "routing.demo.yaml"), encoding="utf-8") as f:
        text = f.read()
    text = text.replace("../../shared/corpus", os.path.join(SOURCE_DIR, "..", "shared", "corpus"))
    text = text.replace("demo-certs/", DEMO_CERTS + "/")
    path = os.path.join(tmp, "routing.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path, text


class Reload(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-it-")
        self.routing, self.original = private_demo_routing(self.tmp)
        self.hub = Hub(self.tmp, routing=self.routing).start()

    def tearDown(self):
        self.hub.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, text):
        with open(self.routing, "w", encoding="utf-8") as f:
            f.write(text)

    def reload_and_wait(self, event):
        self.assertTrue(self.hub.sighup_and_wait(event), f"no {event} in the log")

    def submit_halle(self, message_id):
        outcomes, receipts = self.hub.submit(
            [application_message(example_antrag(), HALLE, GEWERBE, message_id=message_id)],
            receipts=True)
        return outcomes[0], receipts

    def test_new_responsibility_applies_after_sighup(self):
        outcome, receipts = self.submit_halle("reload-1")
        self.assertEqual(receipts[0]["office_id"], "sachsen-anhalt-landesverwaltungsamt")

        self.write(self.original + """
  - { service: "99050012104000", area: "15002", office: muenchen-kvr-gewerbe }
""")
        self.reload_and_wait("config.reloaded")
        outcome, receipts = self.submit_halle("reload-2")
        self.assertEqual(outcome.state, "accepted")
        self.assertEqual(receipts[0]["office_id"], "muenchen-kvr-gewerbe")

    def test_broken_directory_is_not_applied(self):
        self.write(self.original + "\n  - { service: nonsense, area: 15, office: nobody }\n")
        self.reload_and_wait("config.reload_failed")
        [failed] = self.hub.events("config.reload_failed")
        self.assertEqual(failed["condition"], "routing_directory")
        self.assertNotIn("nonsense", failed.get("error", ""))  # the condition only
        outcome, receipts = self.submit_halle("reload-3")
        self.assertEqual(outcome.state, "accepted")
        self.assertEqual(receipts[0]["office_id"], "sachsen-anhalt-landesverwaltungsamt")
        # And Moeckern still routes as before.
        outcomes, _ = self.hub.submit([application_message(example_antrag(), MOECKERN, PASSPORT)])
        self.assertEqual(outcomes[0].state, "accepted")


    def test_an_accepted_application_sent_again_is_accepted_even_if_routing_changed(self):
        outcome, receipts = self.submit_halle("resend-1")
        self.assertEqual(outcome.state, "accepted")
        case = receipts[0]["case_number"]
        # The Land-level office goes away: Halle now has nobody responsible.
        self.write(self.original.replace(
            '  - { service: "*", area: "15", office: sachsen-anhalt-landesverwaltungsamt }', ""))
        self.reload_and_wait("config.reloaded")
        outcome, _ = self.submit_halle("resend-2")
        self.assertEqual(outcome.condition, "ozg:no-responsible-office")
        # The redelivery of the first one (its disposition was lost, say) is still accepted,
        # with its original case number and office.
        outcome, receipts = self.submit_halle("resend-1")
        self.assertEqual(outcome.state, "accepted", outcome)
        self.assertEqual(receipts[0]["case_number"], case)
        self.assertEqual(receipts[0]["office_id"], "sachsen-anhalt-landesverwaltungsamt")


if __name__ == "__main__":
    unittest.main()
