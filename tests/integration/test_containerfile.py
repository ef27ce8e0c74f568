"""deploy/container/Containerfile, checked statically: there is no container engine on the build
machines, so the image is not built here. The file is parsed and checked for what the issue
asks (multi-stage, a Debian 12 build stage, a runtime stage without build tools, a non-root
numeric USER, volumes for everything the default configuration writes so the root file system
can be read-only, a health check), and its HEALTHCHECK command is run against a real hub."""

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import unittest

import yaml

from hubtest import SOURCE_DIR, Hub

CONTAINERFILE = os.path.join(SOURCE_DIR, "deploy", "container", "Containerfile")
PACKAGE_CONFIG = os.path.join(SOURCE_DIR, "config", "package", "ozg-hub.yaml")
SETUP = os.path.join(SOURCE_DIR, "scripts", "setup.sh")
BUILD_TOOLS = re.compile(r"\b(build-essential|cmake|ninja-build|g\+\+|gcc|clang|[\w.+-]+-dev)\b")


def instructions(path):
    """[(INSTRUCTION, arguments)] with continuation lines joined and comments dropped."""
    out, pending = [], ""
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if pending and line.lstrip().startswith("#"):
                continue
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            line = pending + line
            pending = ""
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages(instrs):
    """[{"from": image, "name": alias, "instrs": [...]}] in order."""
    result = []
    for word, rest in instrs:
        if word == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            result.append({"from": parts[0], "name": name, "instrs": []})
        elif result:
            result[-1]["instrs"].append((word, rest))
    return result


class Containerfile(unittest.TestCase):
    def setUp(self):
        self.stages = stages(instructions(CONTAINERFILE))
        self.build, self.runtime = self.stages[0], self.stages[-1]
        with open(PACKAGE_CONFIG, encoding="utf-8") as f:
            self.config = yaml.safe_load(f)

    def final(self, word):
        return [rest for w, rest in self.runtime["instrs"] if w == word]

    def test_multi_stage_on_debian_12(self):
        self.assertGreaterEqual(len(self.stages), 2)
        self.assertEqual(self.build["from"], "debian:bookworm")
        self.assertTrue(self.runtime["from"].startswith("debian:bookworm"), self.runtime["from"])
        copies = self.final("COPY")
        self.assertTrue(any(c.startswith(f"--from={self.build['name']} ") for c in copies),
                        "the runtime stage takes the build stage's result")
        build_runs = " ".join(r for w, r in self.build["instrs"] if w == "RUN")
        self.assertIn("cmake --build", build_runs)
        self.assertIn("cpack -G DEB", build_runs)

    def test_runtime_stage_has_no_build_tools(self):
        for run in self.final("RUN"):
            for cmd in re.split(r"&&|;", run):
                if "apt-get install" in cmd or "apt install" in cmd:
                    tools = [t for t in BUILD_TOOLS.findall(cmd)]
                    self.assertEqual(tools, [], cmd)

    def test_build_packages_are_the_projects(self):
        with open(SETUP, encoding="utf-8") as f:
            setup = f.read()
        build_runs = " ".join(r for w, r in self.build["instrs"] if w == "RUN")
        for pkg in re.findall(r"\b([\w.+-]+-dev)\b", build_runs):
            self.assertRegex(setup, r"(^|\s)" + re.escape(pkg) + r"(\s|$)",
                             f"{pkg} is not in scripts/setup.sh's list")

    def test_build_stage_has_every_library_the_build_needs(self):
        # setup.sh's -dev packages that the daemon's build (tests and benchmarks off) does not
        # use; any other -dev package there is needed by the image's build stage too.
        not_for_the_image = {"libgtest-dev", "libgmock-dev", "libbenchmark-dev",
                             "libclang-rt-14-dev", "libxerces-c-dev"}
        with open(SETUP, encoding="utf-8") as f:
            listed = re.search(r"PACKAGES=\((.*?)\n\)", f.read(), re.S).group(1)
        listed = " ".join(line.split("#")[0] for line in listed.splitlines())
        build_runs = " ".join(r for w, r in self.build["instrs"] if w == "RUN").split()
        for pkg in re.findall(r"\b([\w.+-]+-dev)\b", listed):
            if pkg not in not_for_the_image:
                self.assertIn(pkg, build_runs, f"scripts/setup.sh installs {pkg}: add it to "
                              "the Containerfile's build stage (or to this test's list of "
                              "packages the image does not need)")

    def test_non_root_numeric_user(self):
        users = self.final("USER")
        self.assertTrue(users)
        uid, _, gid = users[-1].partition(":")
        self.assertTrue(uid.isdigit() and int(uid) != 0, users[-1])
        self.assertTrue(not gid or (gid.isdigit() and int(gid) != 0), users[-1])
        # Nothing after USER switches back to root.
        after = self.runtime["instrs"][[w for w, _ in self.runtime["instrs"]].index("USER"):]
        self.assertNotIn("RUN", [w for w, _ in after])

    def test_read_only_root_file_system(self):
        volumes = []
        for v in self.final("VOLUME"):
            volumes += json.loads(v) if v.startswith("[") else v.split()
        self.assertIn("/tmp", volumes)
        writable = [self.config["data_dir"]] + [
            a["root"] for a in self.config["adapters"].values() if "root" in a]
        for path in writable:
            self.assertTrue(any(path == v or path.startswith(v.rstrip("/") + "/")
                                for v in volumes), f"{path} is written but is no volume")

    def test_entrypoint_runs_the_packaged_configuration(self):
        entry = json.loads(self.final("ENTRYPOINT")[-1])
        cmd = json.loads(self.final("CMD")[-1])
        self.assertEqual(entry, ["/usr/bin/ozg-hub"])
        self.assertEqual(cmd, ["--config", "/etc/ozg-hub/ozg-hub.yaml"])
        self.assertIn("9650", " ".join(self.final("EXPOSE")).split())
        self.assertTrue(self.config["admin"]["listen"].endswith(":9650"))

    def test_context_leaves_out_build_trees(self):
        with open(os.path.join(SOURCE_DIR, ".dockerignore"), encoding="utf-8") as f:
            ignored = f.read().split()
        self.assertIn("build*/", ignored)
        self.assertIn(".git/", ignored)

    def healthcheck_command(self, port):
        hc = self.final("HEALTHCHECK")
        self.assertEqual(len(hc), 1)
        m = re.search(r"\bCMD\s+(\[.*\])\s*$", hc[0])
        self.assertIsNotNone(m, hc[0])
        argv = json.loads(m.group(1))
        self.assertIn("/livez", " ".join(argv))
        return [a.replace("9650", str(port)) for a in argv]

    def test_healthcheck_against_a_real_hub(self):
        tmp = tempfile.mkdtemp(prefix="ozghub-hc-")
        hub = Hub(tmp)
        try:
            hub.start()
            argv = self.healthcheck_command(hub.admin_port)
            r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, f"{shlex.join(argv)}: {r.stderr}")
            hub.stop()
            r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0, "healthy without a hub")
        finally:
            if hub.proc and hub.proc.poll() is None:
                hub.kill()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
