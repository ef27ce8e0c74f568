"""The data path end to end: AMQP in, validation, routing, commit, delivery to the transfer
directory, with the real daemon and a real AMQP client."""

import hashlib
import json
import os
import subprocess
import tempfile
import unittest

from hubtest import (ANTRAG_NS, CORPUS, DEMO_CERTS, MOECKERN, PASSPORT, HubTestCase,
                     example_antrag)
from ozghub_client import application_message

KREIS_OFFICE = "jerichower-land-kreisverwaltung"  # no certificate: plaintext delivery
BURG = "150860015015"  # Burg, Stadt, in Landkreis Jerichower Land
GEWERBE = "99050012104000"


def pdf():
    with open(os.path.join(CORPUS, "attachments", "pdfa", "2b", "test_pdf_a2-b.pdf"), "rb") as f:
        return f.read()


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def decrypt(path, office):
    out = subprocess.run(
        ["openssl", "cms", "-decrypt", "-inform", "DER", "-in", path,
         "-recip", os.path.join(DEMO_CERTS, office + ".pem"),
         "-inkey", os.path.join(DEMO_CERTS, office + ".key")],
        check=True, capture_output=True)
    return out.stdout


class AcceptedAndDelivered(HubTestCase):
    def test_plaintext_delivery_has_a_correct_manifest(self):
        xml = example_antrag().encode()
        attachment = pdf()
        msg = application_message(xml, BURG, GEWERBE, message_id="it-plain-1",
                                  attachments=[("Gewerbeanmeldung.pdf", "application/pdf",
                                                attachment)], sender="portal-test")
        outcomes, _ = self.hub.submit([msg])
        self.assertEqual(outcomes[0].state, "accepted", outcomes[0])

        [case] = self.hub.wait_for_cases(KREIS_OFFICE, 1)
        self.assertRegex(case, r"^\d{8}\d{12}$")
        folder = os.path.join(self.hub.transfer, KREIS_OFFICE, case)
        with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
        self.assertEqual(manifest["case_number"], case)
        self.assertEqual(manifest["message_id"], "it-plain-1")
        self.assertEqual(manifest["sender"], "portal-test")
        self.assertEqual(manifest["area_id"], BURG)
        self.assertEqual(manifest["service_id"], GEWERBE)
        self.assertEqual(manifest["office_id"], KREIS_OFFICE)
        self.assertRegex(manifest["received_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        files = {f["name"]: f for f in manifest["files"]}
        self.assertEqual(set(files), {"application.xml", "Gewerbeanmeldung.pdf"})
        for name, expected in (("application.xml", xml), ("Gewerbeanmeldung.pdf", attachment)):
            with open(os.path.join(folder, name), "rb") as f:
                on_disk = f.read()
            self.assertEqual(on_disk, expected)
            self.assertEqual(files[name]["size"], len(expected))
            self.assertEqual(files[name]["sha256"], sha256(expected))
        self.assertEqual(sorted(os.listdir(folder)),
                         ["Gewerbeanmeldung.pdf", "application.xml", "manifest.json"])

    def test_encrypted_delivery_opens_with_openssl_cms(self):
        xml = example_antrag().encode()
        attachment = pdf()
        msg = application_message(xml, MOECKERN, PASSPORT, message_id="it-enc-1",
                                  attachments=[("Lichtbild.pdf", "application/pdf", attachment)])
        outcomes, _ = self.hub.submit([msg])
        self.assertEqual(outcomes[0].state, "accepted", outcomes[0])
        office = "moeckern-buergeramt"
        [case] = self.hub.wait_for_cases(office, 1)
        folder = os.path.join(self.hub.transfer, office, case)
        self.assertEqual(sorted(os.listdir(folder)),
                         ["Lichtbild.pdf.p7m", "application.xml.p7m", "manifest.json"])
        self.assertEqual(decrypt(os.path.join(folder, "application.xml.p7m"), office), xml)
        self.assertEqual(decrypt(os.path.join(folder, "Lichtbild.pdf.p7m"), office), attachment)
        # The hub must not have left the plaintext anywhere in the folder.
        for name in os.listdir(folder):
            with open(os.path.join(folder, name), "rb") as f:
                self.assertNotIn(b"Mustermann", f.read())

    def test_most_specific_rule_wins(self):
        # The Landkreis handles driving licences for all its municipalities, Moeckern included.
        xml = example_antrag()
        msgs = [application_message(xml, MOECKERN, "99108047050001", message_id="it-route-1"),
                application_message(xml, MOECKERN, PASSPORT, message_id="it-route-2")]
        outcomes, _ = self.hub.submit(msgs)
        self.assertEqual([o.state for o in outcomes], ["accepted", "accepted"])
        self.hub.wait_for_cases("jerichower-land-fahrerlaubnis", 1)
        self.hub.wait_for_cases("moeckern-buergeramt", 1)

    def test_duplicate_message_id_gives_one_case_and_one_folder(self):
        xml = example_antrag()
        first = application_message(xml, BURG, GEWERBE, message_id="it-dup-1", sender="p")
        outcomes, receipts = self.hub.submit([first], receipts=True)
        self.assertEqual(outcomes[0].state, "accepted")
        again = application_message(xml, BURG, GEWERBE, message_id="it-dup-1", sender="p")
        outcomes2, receipts2 = self.hub.submit([again], receipts=True)
        self.assertEqual(outcomes2[0].state, "accepted")
        self.assertEqual(receipts[0]["case_number"], receipts2[0]["case_number"])
        self.hub.wait_for_cases(KREIS_OFFICE, 1)
        # Give a wrongly created second delivery time to appear before concluding there is none.
        import time
        time.sleep(0.5)
        self.assertEqual(len(self.hub.case_dirs(KREIS_OFFICE)), 1)

    def test_receipt_names_the_case_and_office(self):
        msg = application_message(example_antrag(), MOECKERN, PASSPORT, message_id="it-receipt-1")
        outcomes, receipts = self.hub.submit([msg], receipts=True)
        self.assertEqual(outcomes[0].state, "accepted")
        self.assertEqual(len(receipts), 1)
        r = receipts[0]
        self.assertEqual(r["correlation_id"], "it-receipt-1")
        self.assertEqual(r["office_id"], "moeckern-buergeramt")
        self.assertEqual(r["status"], "accepted")
        self.assertRegex(r["case_number"], r"^\d{20}$")
        [case] = self.hub.wait_for_cases("moeckern-buergeramt", 1)
        self.assertEqual(case, r["case_number"])

    def test_many_applications_in_one_window(self):
        xml = example_antrag()
        msgs = [application_message(xml, BURG, GEWERBE, message_id=f"it-many-{i}")
                for i in range(300)]
        outcomes, _ = self.hub.submit(msgs, timeout=120)
        self.assertTrue(all(o.state == "accepted" for o in outcomes))
        cases = self.hub.wait_for_cases(KREIS_OFFICE, 300, timeout=120)
        self.assertEqual(len(set(cases)), 300)


class Rejections(HubTestCase):
    extra_config = "limits: { max_xml_bytes: 200000, credit_window: 64, max_inflight: 256 }"

    def assertRejected(self, outcome, condition, *fragments):
        self.assertEqual(outcome.state, "rejected", outcome)
        self.assertEqual(outcome.condition, condition, outcome)
        for fragment in fragments:
            self.assertIn(fragment, outcome.description)

    def test_each_condition(self):
        good = example_antrag()
        no_kontakt = good.replace("<Kontakt>", "<!--").replace("</Kontakt>", "-->")
        self.assertNotEqual(no_kontakt, good)
        cases = [
            (application_message(good, "1508601", PASSPORT), "ozg:invalid-property", "1508601"),
            (application_message(good, MOECKERN, "123"), "ozg:invalid-property", "LeiKa"),
            (application_message(good, "159999999999", PASSPORT), "ozg:unknown-area",
             "159999999999"),
            (application_message(good, "091620000000", PASSPORT),
             "ozg:no-responsible-office", "091620000000"),
            (application_message("<Antrag xmlns='" + ANTRAG_NS + "'><unclosed></Antrag>",
                                 MOECKERN, PASSPORT), "ozg:not-well-formed", "line 1"),
            (application_message(no_kontakt, MOECKERN, PASSPORT), "ozg:schema-violation", "line "),
            (application_message("<x:Other xmlns:x='urn:example:other'/>", MOECKERN, PASSPORT),
             "ozg:unknown-schema", "urn:example:other"),
            (application_message('<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                                 "<a>&x;</a>", MOECKERN, PASSPORT),
             "ozg:forbidden-construct", "DOCTYPE"),
            (application_message(good.replace("</Anliegen>", "x" * 250000 + "</Anliegen>"),
                                 MOECKERN, PASSPORT), "ozg:too-large", "200000"),
        ]
        outcomes, _ = self.hub.submit([m for (m, _c, _f) in cases])
        for (msg, condition, fragment), outcome in zip(cases, outcomes):
            with self.subTest(condition=condition):
                self.assertRejected(outcome, condition, fragment)

    def test_missing_properties(self):
        from proton import Message
        good = example_antrag().encode()
        no_area = Message(body=good, properties={"service_id": PASSPORT}, id="x1", inferred=True)
        no_id = Message(body=good, properties={"area_id": MOECKERN, "service_id": PASSPORT},
                        inferred=True)
        outcomes, _ = self.hub.submit([no_area, no_id])
        self.assertRejected(outcomes[0], "ozg:missing-property", "area_id")
        self.assertRejected(outcomes[1], "ozg:missing-property", "message_id")

    def test_rejections_leave_no_trace_in_the_log(self):
        secret = "Zzyzx-Geheimname"
        bad = example_antrag().replace("erika.mustermann@example.org", secret)
        outcomes, _ = self.hub.submit([application_message(bad, MOECKERN, PASSPORT)])
        self.assertEqual(outcomes[0].state, "rejected")
        self.assertIn(secret, outcomes[0].description)  # the sender is told what is wrong
        self.hub.wait_for_event("application.rejected")
        self.assertNotIn(secret, "".join(self.hub.log))  # the log is not

    def test_nothing_is_delivered_for_rejected_applications(self):
        outcomes, _ = self.hub.submit([application_message(example_antrag(), "159999999999",
                                                           PASSPORT)])
        self.assertEqual(outcomes[0].state, "rejected")
        self.assertFalse(os.path.exists(self.hub.transfer) and
                         any(not d.startswith(".") for d in os.listdir(self.hub.transfer)))


if __name__ == "__main__":
    unittest.main()
