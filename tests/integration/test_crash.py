"""Crash test (issue 4): kill -9 at random moments and at every fault point of the data path,
restart, repeat; nothing the hub accepted is lost or delivered twice, no temporary folder is
left behind. tests/integration/crashharness.py does the work; benchmarks/run_crash.sh runs it
for as many cycles as you like."""

import json
import os
import random
import shutil
import subprocess
import tempfile
import unittest

import crashharness
from hubtest import BINARY

CYCLES = 24  # every fault point once (11), the rest random kills and random points


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ozghub-crash-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_kill_9_at_random_moments_and_every_fault_point_loses_and_duplicates_nothing(self):
        seed = int(os.environ.get("OZGHUB_CRASH_SEED", random.randrange(1 << 32)))
        print(f"seed {seed} (OZGHUB_CRASH_SEED={seed} repeats this run)")
        run, report, summary = crashharness.run(CYCLES, seed, workdir=self.tmp, log=print)
        print("per destination folder:", report)
        print("summary:", summary)
        self.assertEqual(summary["cycles"], CYCLES)
        self.assertEqual(summary["rejected"], 0)
        self.assertEqual(summary["accepted"], summary["messages"])
        for point in crashharness.FAULT_POINTS:
            self.assertGreater(run.fired[point], 0, f"fault point {point} never fired")
        self.assertGreaterEqual(len(report), 3)  # three destination folders received cases
        for office, counts in report.items():
            with self.subTest(office=office):
                self.assertGreater(counts["accepted"], 0)
                self.assertEqual(counts["lost"], 0)
                self.assertEqual(counts["duplicated"], 0)
                self.assertEqual(counts["unexpected"], 0)
                self.assertEqual(counts["receipt_mismatch"], 0)
                self.assertEqual(counts["orphaned_temp"], 0)
                self.assertEqual(counts["delivered"], counts["accepted"])

        # The checker itself: damage the delivered folders and it must count each kind once.
        office = crashharness.DESTINATIONS[0][2]
        root = os.path.join(run.hub.transfer, office)
        with_receipt = [d for d in sorted(os.listdir(root))
                         if self.manifest(os.path.join(root, d))["message_id"]
                         in run.portal.receipt_case]
        first, second, third, fourth = with_receipt[:4]
        shutil.rmtree(os.path.join(root, first))  # lost
        twin = "9" * 20
        shutil.copytree(os.path.join(root, second), os.path.join(root, twin))  # duplicated
        self.rewrite_manifest(os.path.join(root, twin), case_number=twin)
        stranger = "8" * 20
        shutil.copytree(os.path.join(root, third), os.path.join(root, stranger))  # unexpected
        self.rewrite_manifest(os.path.join(root, stranger), case_number=stranger,
                              message_id="never-sent")
        other = "6" * 20  # delivered under another case number than the receipt said
        os.rename(os.path.join(root, fourth), os.path.join(root, other))
        self.rewrite_manifest(os.path.join(root, other), case_number=other)
        os.mkdir(os.path.join(root, ".tmp-" + "7" * 20))  # orphaned temporary folder
        report, _ = run.check()
        self.assertEqual({k: report[office][k] for k in ("lost", "duplicated", "unexpected",
                                                          "receipt_mismatch", "orphaned_temp")},
                         {"lost": 1, "duplicated": 1, "unexpected": 1, "receipt_mismatch": 1,
                          "orphaned_temp": 1})

    def test_unknown_fault_point_stops_the_daemon_before_it_does_anything(self):
        hub = crashharness.Hub(self.tmp)
        p = subprocess.run([BINARY, "--config", hub.config_path], capture_output=True, text=True,
                           timeout=30, env={**os.environ, "OZGHUB_FAULT": "commit.aftre_sync"})
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown fault point 'commit.aftre_sync'", p.stderr)
        self.assertFalse(os.path.exists(hub.data_dir))

    @staticmethod
    def manifest(folder):
        with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
            return json.load(f)

    def rewrite_manifest(self, folder, **fields):
        manifest = self.manifest(folder)
        manifest.update(fields)
        path = os.path.join(folder, "manifest.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(manifest, f)


if __name__ == "__main__":
    unittest.main()
