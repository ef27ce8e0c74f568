"""A vendor's adapter plugin end to end: install ozg-hub's adapter SDK into a prefix, build the
out-of-tree example adapter (adapters/examples/xfall_container) against it and run its own tests,
then let the real daemon load it and deliver through it; and check that a plugin built for
another ABI version is refused by `ozg-hub --check-config`."""

import base64
import os
import shutil
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

from hubtest import (ANTRAG_NS, BINARY, CORPUS, DEMO_CERTS, MOECKERN, PASSPORT, SOURCE_DIR, Hub,
                     example_antrag)
from ozghub_client import application_message

XFALL = "{urn:ozg-hub:example:xfall-container:1}"
BURG = "150860015015"
GEWERBE = "99050012104000"
PLAIN_OFFICE = "jerichower-land-kreisverwaltung"
SEALED_OFFICE = "moeckern-buergeramt"


def run(cmd, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)
    if out.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout}\n"
                             f"{out.stderr}")
    return out


def generator():
    return ["-G", "Ninja"] if shutil.which("ninja") else []


class PluginAdapter(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ozghub-plugin-")
        cls.prefix = os.path.join(cls.tmp, "prefix")
        sdk_build = os.path.join(cls.tmp, "build-sdk")
        # Only the SDK's install rules: the daemon is not built a second time.
        run(["cmake", "-S", SOURCE_DIR, "-B", sdk_build, *generator(), "-DOZGHUB_SDK_ONLY=ON",
             "-DOZGHUB_BUILD_TESTS=OFF", "-DOZGHUB_BUILD_BENCHMARKS=OFF"])
        run(["cmake", "--install", sdk_build, "--prefix", cls.prefix])
        cls.example_build = os.path.join(cls.tmp, "build-xfall")
        run(["cmake", "-S", os.path.join(SOURCE_DIR, "adapters", "examples", "xfall_container"),
             "-B", cls.example_build, *generator(), "-DCMAKE_PREFIX_PATH=" + cls.prefix])
        run(["cmake", "--build", cls.example_build, "-j2"])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_installed_sdk_is_a_cmake_package(self):
        cmake_dir = os.path.join(self.prefix, "lib", "cmake", "OzgHubAdapterSdk")
        for f in ("OzgHubAdapterSdkConfig.cmake", "OzgHubAdapterSdkConfigVersion.cmake",
                  "OzgHubAdapterSdkTargets.cmake"):
            self.assertTrue(os.path.isfile(os.path.join(cmake_dir, f)), f)
        self.assertEqual(sorted(os.listdir(os.path.join(self.prefix, "include", "ozghub"))),
                         ["adapter_abi.h", "adapter_host_views.hpp", "adapter_sdk.hpp",
                          "adapter_testkit.hpp"])

    def test_example_passes_its_own_tests(self):
        out = run(["ctest", "--test-dir", self.example_build, "--output-on-failure"])
        self.assertIn("100% tests passed", out.stdout)

    def test_daemon_delivers_through_the_plugin(self):
        work = os.path.join(self.tmp, "hub")
        os.makedirs(work)
        root = os.path.join(work, "xfall")
        routing = os.path.join(work, "routing.yaml")
        with open(routing, "w", encoding="utf-8") as f:
            f.write(f"""areas:
  gv100ad: {CORPUS}/areas/GV100AD_301123.txt
offices:
  - id: {SEALED_OFFICE}
    name: "Stadt Möckern, Bürgeramt"
    certificate: {DEMO_CERTS}/{SEALED_OFFICE}.pem
    channels:
      - adapter: xfall
  - id: {PLAIN_OFFICE}
    name: "Landkreis Jerichower Land, Kreisverwaltung"
    channels:
      - adapter: xfall
        params: {{ root: {root} }}
responsibilities:
  - {{ service: "*", area: "{MOECKERN}", office: {SEALED_OFFICE} }}
  - {{ service: "*", area: "15086", office: {PLAIN_OFFICE} }}
""")
        hub = Hub(work, routing=routing,
                  extra_config=f"plugins: {{ directory: {self.example_build}, "
                               f"load: [libozghub_xfall_container.so] }}",
                  extra_adapters=f"  xfall:\n    type: xfall_container\n    root: {root}\n")
        hub.start()
        try:
            xml = example_antrag().encode()
            pdf = bytes(range(256)) * 700 + b"\x00\xff"
            png = b"\x89PNG\r\n\x1a\n" + os.urandom(5000)
            plain = application_message(xml, BURG, GEWERBE, message_id="plugin-plain-1",
                                        attachments=[("Nachweis.pdf", "application/pdf", pdf),
                                                     ("Foto.png", "image/png", png)])
            sealed = application_message(xml, MOECKERN, PASSPORT, message_id="plugin-sealed-1")
            outcomes, _ = hub.submit([plain, sealed])
            self.assertEqual([o.state for o in outcomes], ["accepted", "accepted"], outcomes)

            plain_file = self.wait_for_file(os.path.join(root, PLAIN_OFFICE), ".xml")
            doc = ET.parse(plain_file).getroot()
            self.assertEqual(doc.tag, XFALL + "container")
            case = os.path.basename(plain_file)[:-len(".xml")]
            self.assertRegex(case, r"^\d{20}$")
            self.assertEqual(doc.find(XFALL + "caseNumber").text, case)
            self.assertEqual(doc.find(XFALL + "messageId").text, "plugin-plain-1")
            self.assertEqual(doc.find(XFALL + "areaId").text, BURG)
            self.assertEqual(doc.find(XFALL + "serviceId").text, GEWERBE)
            self.assertEqual(doc.find(XFALL + "officeId").text, PLAIN_OFFICE)
            app = doc.find(XFALL + "application")
            self.assertEqual(app.get("schema"), ANTRAG_NS)
            self.assertEqual(base64.b64decode(app.text), xml)
            atts = doc.find(XFALL + "attachments").findall(XFALL + "attachment")
            got = {a.get("name"): (a.get("contentType"), int(a.get("size")),
                                   base64.b64decode(a.text)) for a in atts}
            self.assertEqual(got, {"Nachweis.pdf": ("application/pdf", len(pdf), pdf),
                                   "Foto.png": ("image/png", len(png), png)})

            sealed_file = self.wait_for_file(os.path.join(root, SEALED_OFFICE), ".xml.p7m")
            opened = subprocess.run(
                ["openssl", "cms", "-decrypt", "-inform", "DER", "-in", sealed_file,
                 "-recip", os.path.join(DEMO_CERTS, SEALED_OFFICE + ".pem"),
                 "-inkey", os.path.join(DEMO_CERTS, SEALED_OFFICE + ".key")],
                check=True, capture_output=True).stdout
            doc = ET.fromstring(opened)
            self.assertEqual(doc.find(XFALL + "messageId").text, "plugin-sealed-1")
            self.assertEqual(base64.b64decode(doc.find(XFALL + "application").text), xml)
            self.assertTrue(hub.events("plugin.loaded"))
        finally:
            hub.stop()

    def test_plugin_for_another_abi_version_is_refused(self):
        bad_dir = os.path.join(self.tmp, "bad")
        os.makedirs(bad_dir)
        # A plugin written in plain C99 against the installed header, declaring ABI 999.
        run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
             "-DOZGHUB_ADAPTER_ABI_VERSION_OVERRIDE=999",
             "-I", os.path.join(self.prefix, "include"),
             os.path.join(SOURCE_DIR, "tests", "plugins", "raw_plugin.c"),
             "-o", os.path.join(bad_dir, "libold_vendor.so")])
        work = os.path.join(self.tmp, "check")
        os.makedirs(work)
        hub = Hub(work, extra_config=f"plugins:\n  directory: {bad_dir}\n"
                                     f"  load: [libold_vendor.so]\n")
        out = subprocess.run([BINARY, "--check-config", hub.config_path], capture_output=True,
                             text=True, timeout=60)
        self.assertNotEqual(out.returncode, 0, out.stdout)
        self.assertRegex(out.stderr, r"ozg-hub\.yaml:\d+: libold_vendor\.so was built for adapter "
                                     r"ABI version 999, but this ozg-hub provides ABI version 1")

    def wait_for_file(self, folder, suffix, timeout=30):
        import time
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.isdir(folder):
                files = [f for f in os.listdir(folder)
                         if f.endswith(suffix) and not f.startswith(".")]
                if files:
                    return os.path.join(folder, files[0])
            time.sleep(0.05)
        raise AssertionError(f"no {suffix} file in {folder}: "
                             f"{os.listdir(folder) if os.path.isdir(folder) else 'no folder'}")


if __name__ == "__main__":
    unittest.main()
