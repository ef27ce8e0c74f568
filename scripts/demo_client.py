#!/usr/bin/python3
"""The demo's portal: sends a handful of real applications to ozg-hub, valid and invalid, and
prints what the hub answered for each (case number and office, or the rejection)."""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ozghub_client import application_message, submit  # noqa: E402

SOURCE = os.path.dirname(HERE)
CORPUS = os.path.join(SOURCE, "..", "shared", "corpus")

MOECKERN = "150860140140"  # Möckern, Stadt (Landkreis Jerichower Land, Sachsen-Anhalt)
BURG = "150860015015"      # Burg, Stadt (same Landkreis)
HALLE = "150020000000"     # Halle (Saale), kreisfreie Stadt in Sachsen-Anhalt
MUENCHEN = "091620000000"  # Landeshauptstadt München


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="amqp://127.0.0.1:5672")
    args = parser.parse_args()

    with open(os.path.join(SOURCE, "schemas", "ozg-antrag", "example-antrag.xml"),
              encoding="utf-8") as f:
        antrag = f.read()
    with open(os.path.join(CORPUS, "attachments", "pdfa", "2b", "test_pdf_a2-b.pdf"), "rb") as f:
        photo = f.read()
    with open(os.path.join(CORPUS, "attachments", "text", "docx", "test.docx"), "rb") as f:
        docx = f.read()
    no_contact = antrag.replace("<Kontakt>", "<!--").replace("</Kontakt>", "-->")

    demo = [
        ("Passport renewal for a child, Möckern (with photo)",
         application_message(antrag, MOECKERN, "99085001000000", message_id="demo-passport-1",
                             sender="demo-portal",
                             attachments=[("Lichtbild.pdf", "application/pdf", photo)])),
        ("EU driving licence, Möckern: the Landkreis handles it",
         application_message(antrag, MOECKERN, "99108047050001", message_id="demo-licence-1",
                             sender="demo-portal")),
        ("Registration of residence, Burg: Kreis catch-all",
         application_message(antrag, BURG, "99115005000000", message_id="demo-residence-1",
                             sender="demo-portal",
                             attachments=[("Wohnungsgeberbestaetigung.docx",
                                           "application/vnd.openxmlformats-officedocument."
                                           "wordprocessingml.document", docx)])),
        ("Trade registration, Halle (Saale): Land-level office",
         application_message(antrag, HALLE, "99050012104000", message_id="demo-trade-1",
                             sender="demo-portal")),
        ("Trade registration, München",
         application_message(antrag, MUENCHEN, "99050012104000", message_id="demo-trade-2",
                             sender="demo-portal")),
        ("The passport application again (a redelivery): same case, no second delivery",
         application_message(antrag, MOECKERN, "99085001000000", message_id="demo-passport-1",
                             sender="demo-portal",
                             attachments=[("Lichtbild.pdf", "application/pdf", photo)])),
        ("No contact channel given",
         application_message(no_contact, MOECKERN, "99085001000000", sender="demo-portal")),
        ("An ARS that does not exist",
         application_message(antrag, "159999999999", "99085001000000", sender="demo-portal")),
        ("An ARS with 7 digits",
         application_message(antrag, "1508601", "99085001000000", sender="demo-portal")),
        ("Passport in München: nobody there is configured for it",
         application_message(antrag, MUENCHEN, "99085001000000", sender="demo-portal")),
        ("An XML external entity attack",
         application_message('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM '
                             '"file:///etc/passwd">]><a>&x;</a>', MOECKERN, "99085001000000",
                             sender="demo-portal")),
    ]
    outcomes, receipts = submit(args.url, [m for _, m in demo], receipts=True)
    by_id = {r["correlation_id"]: r for r in receipts}
    width = max(len(title) for title, _ in demo)
    for (title, msg), outcome in zip(demo, outcomes):
        if outcome.state == "accepted":
            r = by_id.get(msg.id, {})
            verdict = f"accepted  case {r.get('case_number')} -> {r.get('office_id')}"
        else:
            verdict = f"{outcome.state}  {outcome.condition}: {outcome.description}"
        print(f"  {title:<{width}}  {verdict}")
    accepted = {by_id[m.id]["case_number"] for (_, m), o in zip(demo, outcomes)
                if o.state == "accepted" and m.id in by_id}
    print(f"\n{len(accepted)} distinct cases accepted")
    with open(os.environ.get("OZGHUB_DEMO_CASES", os.devnull), "w") as f:
        f.write("\n".join(sorted(accepted)) + "\n")


if __name__ == "__main__":
    main()
