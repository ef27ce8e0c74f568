"""Smoke test of the side-by-side benchmark (benchmarks/compare_rabbitmq.sh): runs the whole
command with tiny counts and checks that it measured all three servers and printed a well-formed
table of medians and ratios, that its latency phase (8k only here, one second per run) ran the
three servers open loop at half RabbitMQ's rate and printed its table, and that it left none of
its servers running. Not a measurement: the figures of so few messages mean nothing.

Needs Debian's rabbitmq-server (scripts/setup.sh installs it) and the built hub and load
generator (OZGHUB_BUILD_DIR, relative to the source tree, and OZGHUB_BINARY).
"""
import os
import re
import subprocess
import sys
import unittest

SOURCE_DIR = os.environ.get("OZGHUB_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("OZGHUB_BUILD_DIR", "build")
SIZES = ("8k", "8k+pdf")
SERVERS = ("rabbitmq", "hub-accept", "hub-e2e")
LATENCY_SIZES = ("8k",)
HALF_SERVERS = tuple(s + "@half" for s in SERVERS)
LATENCY_SECONDS = 1
LATENCY_MIN_COUNT = 20
NUMBER = r"[0-9]+(?:\.[0-9]+)?"
TIMEOUT_SECONDS = 200  # ctest's TIMEOUT (tests/CMakeLists.txt) leaves a minute for the stop


def leftover_servers():
    """Our RabbitMQ nodes and hubs: their command lines name the benchmark's scratch folder."""
    marker = os.path.join(os.path.abspath(os.path.join(SOURCE_DIR, BUILD_DIR)), "compare-bench.")
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline and ("beam.smp" in cmdline or "ozg-hub --config" in cmdline):
            found.append(f"{pid}: {cmdline[:120]}")
    return found


class CompareRabbitmqSmoke(unittest.TestCase):
    def test_whole_command_with_tiny_counts(self):
        if not os.path.exists("/usr/lib/rabbitmq/bin/rabbitmq-server"):
            self.fail("RabbitMQ is not installed: this smoke test runs benchmarks/"
                      "compare_rabbitmq.sh against it. Install the Debian package "
                      "rabbitmq-server (scripts/setup.sh does).")
        env = dict(os.environ, RUNS="1", COUNT="200", COUNT_PDF="5", WINDOW="50",
                   SIZES=" ".join(SIZES), OZGHUB_BUILD_DIR=BUILD_DIR, SETTLE_SECONDS="1",
                   LATENCY_SIZES=" ".join(LATENCY_SIZES), LATENCY_SECONDS=str(LATENCY_SECONDS),
                   LATENCY_MIN_COUNT=str(LATENCY_MIN_COUNT))
        env.pop("HALF_RATE", None)
        env.pop("LATENCY", None)
        run = subprocess.Popen(
            [os.path.join(SOURCE_DIR, "benchmarks", "compare_rabbitmq.sh")], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            out, _ = run.communicate(timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            # SIGTERM, not SIGKILL: the script's exit trap stops the servers it started.
            run.terminate()
            out, _ = run.communicate(timeout=60)
            self.fail(f"not done within {TIMEOUT_SECONDS} s:\n{out}")
        self.assertEqual(run.returncode, 0, out)
        self.assertEqual(leftover_servers(), [], out)

        # One `run` line per size and server, every rate above zero.
        runs = [dict(kv.split("=", 1) for kv in line.split()[1:])
                for line in out.splitlines() if line.startswith("run ")]
        self.assertEqual(sorted((r["size"], r["server"]) for r in runs),
                         sorted([(s, v) for s in SIZES for v in SERVERS] +
                                [(s, v) for s in LATENCY_SIZES for v in HALF_SERVERS]), out)
        for r in runs:
            self.assertGreater(float(r["accepted_per_s"]), 0, r)
            if r["server"] == "hub-e2e":
                self.assertGreater(float(r["delivered_per_s"]), 0, r)

        # The latency phase: open loop at half RabbitMQ's accepted/s of the same size, with
        # LATENCY_SECONDS worth of applications (at least LATENCY_MIN_COUNT).
        for r in runs:
            if r["server"] not in HALF_SERVERS:
                self.assertNotIn("rate", r)
                continue
            base = next(float(b["accepted_per_s"]) for b in runs
                        if (b["size"], b["server"]) == (r["size"], "rabbitmq"))
            rate = int(r["rate"])
            self.assertEqual(rate, max(1, round(base / 2)), r)
            self.assertEqual(int(r["count"]), max(LATENCY_MIN_COUNT, rate * LATENCY_SECONDS), r)
            self.assertGreater(float(r["p50_ms"]), 0, r)
            self.assertGreaterEqual(float(r["p99_ms"]), float(r["p50_ms"]), r)
            self.assertGreaterEqual(float(r["behind_ms"]), 0, r)

        # The table of medians: a row per size and server, numbers where they belong.
        lines = out.splitlines()
        header = next(i for i, line in enumerate(lines) if line.startswith("size     server"))
        self.assertEqual(lines[header].split(),
                         ["size", "server", "accepted/s", "delivered/s", "p50_ms", "p99_ms",
                          "cpu_s/1000", "peak_rss_MiB"])
        rows = [line.split() for line in lines[header + 1:header + 1 + len(SIZES) * 3]]
        for size in SIZES:
            for server in SERVERS:
                row = next((r for r in rows if r[:2] == [size, server]), None)
                self.assertIsNotNone(row, f"no row for {size} {server}:\n{out}")
                accepted, delivered, p50, p99, cpu, rss = row[2:]
                self.assertGreater(float(accepted), 0, row)
                if server == "hub-e2e":
                    self.assertGreater(float(delivered), 0, row)
                else:
                    self.assertEqual(delivered, "-", row)
                self.assertGreater(float(p99), 0, row)
                self.assertGreaterEqual(float(p99), float(p50), row)
                self.assertGreaterEqual(float(cpu), 0, row)
                self.assertGreater(float(rss), 0, row)

        # The ratios ozg-hub/RabbitMQ, accept and end to end, per size.
        ratios = next(i for i, line in enumerate(lines) if line.startswith("ratios ozg-hub/RabbitMQ"))
        self.assertEqual(lines[ratios + 1].split(), ["size", "accept", "e2e"])
        for size, line in zip(SIZES, lines[ratios + 2:]):
            self.assertRegex(line, rf"^{re.escape(size)}\s+{NUMBER}\s+{NUMBER}$")
            self.assertTrue(all(float(v) > 0 for v in line.split()[1:]), line)

        # The latency table: a row per latency size and server, none for the other sizes.
        latency = next(i for i, line in enumerate(lines) if line.startswith("latency at half"))
        self.assertEqual(lines[latency + 1].split(),
                         ["size", "server", "rate/s", "accepted/s", "p50_ms", "p99_ms",
                          "behind_ms", "p99<20ms"])
        rows = [line.split() for line in lines[latency + 2:] if line.strip()]
        self.assertEqual(sorted(r[:2] for r in rows),
                         sorted([s, v] for s in LATENCY_SIZES for v in HALF_SERVERS), out)
        for row in rows:
            rate, accepted, p50, p99, behind, verdict = row[2:]
            self.assertGreater(float(rate), 0, row)
            self.assertGreater(float(accepted), 0, row)
            self.assertGreater(float(p50), 0, row)
            self.assertGreaterEqual(float(p99), float(p50), row)
            self.assertGreaterEqual(float(behind), 0, row)
            self.assertEqual(verdict, "yes" if float(p99) < 20 else "no", row)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1] + ["-v"])
