"""The operator documentation holds together: every relative Markdown link in docs/ and README.md
leads to a file that exists (and to a heading that exists, when it names one), and every alert's
runbook_url names a section of docs/operations/runbook.md."""

import glob
import os
import re
import unittest

import yaml

from hubtest import SOURCE_DIR

DOCS = os.path.join(SOURCE_DIR, "docs")
RUNBOOK = os.path.join(DOCS, "operations", "runbook.md")
RULES = os.path.join(SOURCE_DIR, "deploy", "prometheus", "ozg-hub-alerts.yaml")

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
CODE_SPAN = re.compile(r"`[^`\n]*`")
# [text](target) or [text](target "title"); images too. Reference-style links are not used.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.M)
EXPLICIT_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"")


def markdown_files():
    files = sorted(glob.glob(os.path.join(DOCS, "**", "*.md"), recursive=True))
    return files + [os.path.join(SOURCE_DIR, "README.md")]


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def without_code(text):
    return CODE_SPAN.sub("", FENCE.sub("", text))


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`([^`]*)`", r"\1", heading)  # code spans keep their text
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    """Every anchor a Markdown file offers: its headings' slugs (repeats get -1, -2, ...) and
    explicit <a name="..."> anchors."""
    text = FENCE.sub("", read(path))
    seen = {}
    out = set(EXPLICIT_ANCHOR.findall(text))
    for _, heading in HEADING.findall(text):
        s = slug(heading)
        n = seen.get(s, 0)
        out.add(s if n == 0 else f"{s}-{n}")
        seen[s] = n + 1
    return out


def relative_links(path):
    for target in LINK.findall(without_code(read(path))):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        yield target


class OperatorDocs(unittest.TestCase):
    maxDiff = None

    def test_the_index_and_the_operations_guides_exist(self):
        for name in ("README.md", "operations/runbook.md", "operations/monitoring.md",
                     "operations/configure.md", "operations/routing.md"):
            self.assertTrue(os.path.isfile(os.path.join(DOCS, name)), name)

    def test_slug_matches_githubs(self):
        self.assertEqual(slug("OzgHubDiskLow"), "ozghubdisklow")
        self.assertEqual(slug("The `areas` section"), "the-areas-section")
        self.assertEqual(slug("Step 2: set data_dir, then start"), "step-2-set-data_dir-then-start")

    def test_the_link_checker_finds_a_broken_link(self):
        text = "[a](missing.md) `[b](in-code.md)` [c](https://example.org/x)"
        self.assertEqual(LINK.findall(without_code(text)), ["missing.md", "https://example.org/x"])

    def test_every_relative_link_resolves(self):
        broken = []
        for path in markdown_files():
            base = os.path.dirname(path)
            for target in relative_links(path):
                file_part, _, anchor = target.partition("#")
                dest = os.path.normpath(os.path.join(base, file_part)) if file_part else path
                where = f"{os.path.relpath(path, SOURCE_DIR)}: {target}"
                if not os.path.exists(dest):
                    broken.append(where + " (no such file)")
                elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
                    broken.append(where + " (no such heading)")
        self.assertEqual(broken, [])

    def test_every_runbook_url_names_a_runbook_section(self):
        with open(RULES, encoding="utf-8") as f:
            rules = [r for g in yaml.safe_load(f)["groups"] for r in g["rules"]]
        sections = anchors(RUNBOOK)
        for rule in rules:
            with self.subTest(alert=rule["alert"]):
                url = rule["annotations"]["runbook_url"]
                path, _, anchor = url.partition("#")
                self.assertEqual(path, "docs/operations/runbook.md")
                self.assertEqual(anchor, rule["alert"].lower(), "one section per alert")
                self.assertIn(anchor, sections)


if __name__ == "__main__":
    unittest.main()
