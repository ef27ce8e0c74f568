#!/usr/bin/python3
"""Writes the seed inputs of one fuzz target into a folder, made at run time from real data:
../shared/corpus (xdomea messages, attachments), the project's schema example, configuration
and routing files, and the hostile documents of tests/unit/validation/corpus that
tests/integration/test_hostile_input.py sends (plus its generated attacks). Nothing here is
committed as a seed; scripts/fuzz.sh calls it before every run.

    /usr/bin/python3 fuzz/seeds.py TARGET FOLDER
"""

import glob
import hashlib
import os
import sys
import uuid

SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CORPUS = os.path.abspath(os.path.join(SOURCE_DIR, "..", "shared", "corpus"))
ANTRAG_NS = "urn:ozg-hub:schema:antrag:1.0"
XDOMEA_NS = "urn:xoev-de:xdomea:schema:3.0.0"
MOECKERN = "150860140140"
PASSPORT = "99085001000000"


def read(path):
    with open(path, "rb") as f:
        return f.read()


def xml_documents():
    """Real documents and the hostile corpus, with its placeholders pointing nowhere."""
    docs = [read(os.path.join(SOURCE_DIR, "schemas", "ozg-antrag", "example-antrag.xml"))]
    docs += [read(p) for p in sorted(glob.glob(os.path.join(CORPUS, "messages", "**", "*.xml"),
                                               recursive=True))]
    for p in sorted(glob.glob(os.path.join(SOURCE_DIR, "tests", "unit", "validation", "corpus",
                                           "*.xml"))):
        docs.append(read(p).replace(b"@HTTP_PORT@", b"9")
                    .replace(b"@CANARY_URL@", b"file:///nonexistent/ozghub-canary")
                    .replace(b"@CANARY_PATH@", b"/nonexistent/ozghub-canary"))
    good = docs[0]
    docs += [
        good.replace(b"Erika", b"Er\xffka"),
        good.replace(b"Erika", b"Er\xc0\xafka"),
        ("<Antrag xmlns='" + ANTRAG_NS + "'>" + "<Anliegen>" * 200 + "x" +
         "</Anliegen>" * 200 + "</Antrag>").encode(),
        good.replace(ANTRAG_NS.encode(), b"urn:example:wrong"),
        good.replace(b"<Antrag ", b"<Antrag xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'"
                     b" xsi:schemaLocation='" + ANTRAG_NS.encode() +
                     b" http://127.0.0.1:9/antrag.xsd' ", 1),
    ]
    return docs


def message_seeds():
    from proton import Message, ulong

    good = xml_documents()[0]
    docx = read(os.path.join(CORPUS, "attachments", "text", "docx", "test.docx"))
    pdf_head = read(sorted(glob.glob(os.path.join(CORPUS, "attachments", "pdfa", "*", "*.pdf")))[0])
    pdf_head = pdf_head[:2048]
    props = {"area_id": MOECKERN, "service_id": PASSPORT}
    messages = []
    for xml in xml_documents():
        messages.append(Message(body=xml, properties=dict(props), id="m-1", inferred=True))
    attachments = [{"name": "antrag.docx", "content_type": "application/vnd.openxmlformats-"
                    "officedocument.wordprocessingml.document", "data": docx},
                   {"name": "nachweis.pdf", "content_type": "application/pdf", "data": pdf_head}]
    messages += [
        Message(body={"xml": good, "attachments": attachments}, properties=dict(props), id="m-2"),
        Message(body={"xml": good, "attachments": []}, properties=dict(props), id=uuid.uuid4()),
        Message(body={"xml": good}, properties=dict(props, schema=ANTRAG_NS, sender="portal-a"),
                id=ulong(7)),
        Message(body=good, properties=dict(props, schema=XDOMEA_NS), id=b"binary-id",
                inferred=True),
        Message(body=good.decode(), properties=dict(props), id="m-3"),  # amqp-value string
        Message(body=[good], properties=dict(props), id="m-4", inferred=True),  # sequence
        Message(body=good, properties={"area_id": 150860140140, "service_id": PASSPORT},
                id="m-5", inferred=True),
        Message(body=good, properties={"area_id": MOECKERN}, inferred=True),
        Message(body={"xml": good, "attachments": [{"name": 1, "data": "text"}]},
                properties=dict(props), id="m-6"),
        Message(body={"xml": good, "attachments": [attachments[1]] * 6},
                properties=dict(props), id="m-7"),
        Message(body=None, properties=dict(props), id="m-8"),
    ]
    out = [m.encode() for m in messages]
    out.append(out[0] + out[0][-64:])  # a second data section
    return out


def config_seeds():
    paths = sorted(glob.glob(os.path.join(SOURCE_DIR, "config", "*.yaml")))
    seeds = [read(p) for p in paths if not os.path.basename(p).startswith("routing")]
    # The shape tests/integration/hubtest.py writes.
    seeds.append(f"""listen: "127.0.0.1:0"
admin: {{ listen: "127.0.0.1:0" }}
data_dir: data
schemas:
  - namespace: "{ANTRAG_NS}"
    xsd: ../schemas/ozg-antrag/ozg-antrag-1.0.xsd
routing:
  directory: routing.demo.yaml
adapters:
  transfer:
    type: transfer_dir
    root: transfer
retry: {{ max_attempts: 3, initial_backoff_ms: 50, max_backoff_ms: 200 }}
limits: {{ max_message_bytes: 3000000, max_xml_bytes: 1000000, max_attachments: 5 }}
""".encode())
    return seeds


def routing_seeds():
    return [read(os.path.join(SOURCE_DIR, "config", "routing.demo.yaml")),
            read(os.path.join(SOURCE_DIR, "tests", "unit", "routing", "data", "precedence.yaml"))]


def xml_seeds():
    docs = xml_documents()
    # The target reads a first byte 1, 2 or 3 as the `schema` property (antrag, xdomea, unknown).
    return docs + [b"\x01" + docs[0], b"\x02" + docs[1], b"\x03" + docs[0]]


SEEDS = {"message_decoder": message_seeds, "xml_validator": xml_seeds, "config": config_seeds,
         "routing_directory": routing_seeds}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in SEEDS:
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(SEEDS)}}} FOLDER")
    os.makedirs(sys.argv[2], exist_ok=True)
    for data in SEEDS[sys.argv[1]]():
        name = hashlib.sha1(data).hexdigest()
        with open(os.path.join(sys.argv[2], name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
