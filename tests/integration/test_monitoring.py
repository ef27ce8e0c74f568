"""The monitoring material in deploy/: the Prometheus alert rules pass `promtool check rules` and
their unit tests, the Grafana dashboard is valid JSON of the expected shape, and every metric
the dashboard and the rules query is in the metric contract and is served by a live daemon."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

import yaml

from hubtest import MOECKERN, PASSPORT, SOURCE_DIR, Hub, example_antrag
from ozghub_client import application_message

PROMTOOL = shutil.which("promtool")
RULES = os.path.join(SOURCE_DIR, "deploy", "prometheus", "ozg-hub-alerts.yaml")
RULE_TESTS = os.path.join(SOURCE_DIR, "deploy", "prometheus", "ozg-hub-alerts.test.yaml")
DASHBOARD = os.path.join(SOURCE_DIR, "deploy", "grafana", "ozg-hub-dashboard.json")
SEVERITIES = {"critical", "warning", "info"}

# The metric contract shared by the daemon's metrics and the dashboard and alerts (base names;
# a histogram also serves NAME_bucket, NAME_sum and NAME_count).
COUNTERS = {
    "ozghub_deliveries_total", "ozghub_delivery_deadline_exceeded_total",
    "ozghub_cases_deleted_total", "ozghub_audit_trails_expired_total",
    "ozghub_data_keys_rewrapped_total", "ozghub_retention_sweep_failures_total",
    "ozghub_applications_received_total", "ozghub_applications_accepted_total",
    "ozghub_applications_rejected_total", "ozghub_applications_duplicate_total",
    "ozghub_config_reloads_total", "ozghub_connector_disconnects_total",
}
GAUGES = {
    "ozghub_deliveries_in_flight", "ozghub_delivery_backlog", "ozghub_delivery_backlog_in_memory",
    "ozghub_dead_letters", "ozghub_disk_free_bytes", "ozghub_disk_min_free_bytes",
    "ozghub_disk_low", "ozghub_store_data_keys", "ozghub_pipeline_backlog",
    "ozghub_oldest_undelivered_case_age_seconds", "ozghub_store_size_bytes",
    "ozghub_store_pending_compaction_bytes", "ozghub_certificate_expiry_seconds",
    "ozghub_process_resident_memory_bytes", "ozghub_process_start_time_seconds",
    "ozghub_build_info", "ozghub_config_last_reload_success_timestamp_seconds",
    "ozghub_config_last_reload_successful", "ozghub_connector_connected",
}
HISTOGRAMS = {
    "ozghub_delivery_duration_seconds", "ozghub_commit_batch_size",
    "ozghub_commit_sync_duration_seconds", "ozghub_stage_duration_seconds",
}
CONTRACT = COUNTERS | GAUGES | HISTOGRAMS
# Series Prometheus makes itself, not the daemon.
PROMETHEUS_SERIES = {"up"}

METRIC_NAME = re.compile(r"\bozghub_[a-z0-9_]+")


def contract_name(name):
    """The contract's name for a series name (NAME_bucket of a histogram -> NAME)."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[:-len(suffix)] in HISTOGRAMS:
            return name[:-len(suffix)]
    return name


def load_rules():
    with open(RULES, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    return [rule for group in doc["groups"] for rule in group["rules"]]


def load_dashboard():
    with open(DASHBOARD, encoding="utf-8") as f:
        return json.load(f)


def dashboard_panels(dashboard):
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def dashboard_expressions(dashboard):
    """Every PromQL expression of the dashboard: the panels' queries and the variables'."""
    out = []
    for panel in dashboard_panels(dashboard):
        out += [t["expr"] for t in panel.get("targets", [])]
    for var in dashboard["templating"]["list"]:
        if var["type"] == "query":
            query = var["query"]
            out.append(query["query"] if isinstance(query, dict) else query)
    return out


def used_metric_names():
    """name -> where it is used, over the rules' and the dashboard's expressions."""
    used = {}
    for rule in load_rules():
        for name in METRIC_NAME.findall(rule["expr"]):
            used.setdefault(name, set()).add("alert " + rule["alert"])
    for expr in dashboard_expressions(load_dashboard()):
        for name in METRIC_NAME.findall(expr):
            used.setdefault(name, set()).add("dashboard")
    return used


def promtool(*args, stdin=None):
    # scripts/setup.sh installs it; a missing promtool fails the tests rather than skipping them.
    assert PROMTOOL, "promtool not found: install Debian's prometheus package (scripts/setup.sh)"
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, input=stdin,
                          timeout=120)


class AlertRules(unittest.TestCase):
    def test_rules_pass_promtool_check(self):
        r = promtool("check", "rules", RULES)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS", r.stdout)

    def test_rule_unit_tests_pass(self):
        r = promtool("test", "rules", RULE_TESTS)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS", r.stdout)

    def test_a_broken_threshold_fails_the_unit_tests(self):
        # The unit tests can fail: with the SLA at 4 minutes instead of 4 hours they must.
        with open(RULES, encoding="utf-8") as f:
            rules = f.read()
        self.assertIn("> 14400", rules)
        tmp = tempfile.mkdtemp(prefix="ozghub-rules-")
        try:
            shutil.copy(RULE_TESTS, tmp)
            with open(os.path.join(tmp, os.path.basename(RULES)), "w", encoding="utf-8") as f:
                f.write(rules.replace("> 14400", "> 240"))
            r = promtool("test", "rules", os.path.join(tmp, os.path.basename(RULE_TESTS)))
            self.assertNotEqual(r.returncode, 0, r.stdout)
            self.assertIn("OzgHubOldestCaseOverSla", r.stdout + r.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_every_alert_has_a_severity_a_runbook_and_texts(self):
        rules = load_rules()
        self.assertTrue(rules)
        for rule in rules:
            with self.subTest(alert=rule.get("alert")):
                self.assertIn("alert", rule)
                self.assertIn(rule["labels"]["severity"], SEVERITIES)
                self.assertRegex(rule["annotations"]["runbook_url"],
                                 r"^docs/operations/runbook\.md#[a-z0-9-]+$")
                self.assertTrue(rule["annotations"]["summary"])
                self.assertTrue(rule["annotations"]["description"])

    def test_every_alert_is_tested_firing_and_quiet(self):
        with open(RULE_TESTS, encoding="utf-8") as f:
            tests = yaml.safe_load(f)["tests"]
        firing, quiet = set(), set()
        for case in tests:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
        alerts = {rule["alert"] for rule in load_rules()}
        self.assertEqual(alerts - firing, set(), "alerts without a test where they fire")
        self.assertEqual(alerts - quiet, set(), "alerts without a test where they stay quiet")
        self.assertEqual((firing | quiet) - alerts, set(), "tests of alerts that do not exist")

    def test_the_required_alerts_exist(self):
        exprs = {rule["alert"]: rule["expr"] for rule in load_rules()}
        self.assertIn("ozghub_oldest_undelivered_case_age_seconds > 14400",
                      exprs["OzgHubOldestCaseOverSla"])
        self.assertIn("ozghub_disk_low == 1", exprs["OzgHubDiskLow"])
        self.assertIn("ozghub_config_last_reload_successful == 0",
                      exprs["OzgHubConfigReloadFailed"])
        self.assertIn("30 * 86400", exprs["OzgHubCertificateExpiringSoon"])
        self.assertIn("7 * 86400", exprs["OzgHubCertificateExpiryCritical"])
        self.assertIn('outcome="dead_letter"', exprs["OzgHubDeadLettersGrowing"])
        self.assertIn("ozghub_deliveries_total", exprs["OzgHubAdapterErrorRateHigh"])
        self.assertIn("up{", exprs["OzgHubDown"])


class Dashboard(unittest.TestCase):
    def test_dashboard_is_importable_json(self):
        d = load_dashboard()
        self.assertGreaterEqual(d["schemaVersion"], 36)
        self.assertEqual(d["uid"], "ozg-hub")
        variables = {v["name"]: v for v in d["templating"]["list"]}
        self.assertEqual(variables["DS_PROMETHEUS"]["type"], "datasource")
        self.assertEqual(variables["DS_PROMETHEUS"]["query"], "prometheus")
        self.assertEqual(variables["instance"]["type"], "query")
        ids = [p["id"] for p in dashboard_panels(d)]
        self.assertEqual(len(ids), len(set(ids)), "panel ids must be unique")
        for panel in dashboard_panels(d):
            if panel["type"] == "row":
                continue
            with self.subTest(panel=panel["title"]):
                self.assertEqual(panel["datasource"]["uid"], "${DS_PROMETHEUS}")
                self.assertTrue(panel["targets"])
                for target in panel["targets"]:
                    self.assertEqual(target["datasource"]["uid"], "${DS_PROMETHEUS}")
                    self.assertIn('instance=~"$instance"', target["expr"])

    def test_dashboard_covers_what_operators_watch(self):
        exprs = "\n".join(dashboard_expressions(load_dashboard()))
        for needle in (
                "rate(ozghub_applications_received_total",
                "rate(ozghub_applications_accepted_total",
                "sum by (condition) (rate(ozghub_applications_rejected_total",
                "histogram_quantile(0.99, sum by (le, stage) (rate(ozghub_stage_duration_seconds",
                "histogram_quantile(0.5, sum by (le, adapter) "
                "(rate(ozghub_delivery_duration_seconds",
                "sum by (stage) (ozghub_pipeline_backlog",
                "sum by (adapter) (ozghub_delivery_backlog",
                "ozghub_oldest_undelivered_case_age_seconds",
                "ozghub_dead_letters",
                'outcome=~"retry|dead_letter"',
                "ozghub_delivery_deadline_exceeded_total",
                "ozghub_disk_free_bytes", "ozghub_disk_min_free_bytes",
                "ozghub_store_size_bytes", "ozghub_store_pending_compaction_bytes",
                "ozghub_certificate_expiry_seconds{instance=~\"$instance\"}) / 86400",
                "ozghub_config_reloads_total",
                "ozghub_process_resident_memory_bytes",
                "min by (instance, connector) (ozghub_connector_connected"):
            self.assertIn(needle, exprs)


class MetricNames(unittest.TestCase):
    def test_every_queried_metric_is_in_the_contract(self):
        used = used_metric_names()
        self.assertGreater(len(used), 20)
        unknown = {n: sorted(w) for n, w in used.items() if contract_name(n) not in CONTRACT}
        self.assertEqual(unknown, {}, "metrics outside the contract")

    def test_counters_end_in_total_and_histograms_are_queried_by_bucket(self):
        for name in used_metric_names():
            base = contract_name(name)
            if base in HISTOGRAMS:
                self.assertNotEqual(name, base, f"{name}: query _bucket, _sum or _count")
            if base in COUNTERS:
                self.assertTrue(name.endswith("_total"), name)


def scrape(hub):
    with urllib.request.urlopen(f"http://{hub.admin}/metrics", timeout=10) as r:
        return r.read().decode()


def series_names(text):
    """The names of the samples in a Prometheus text exposition (not only HELP/TYPE lines)."""
    names = set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
    return names


class LiveDaemon(unittest.TestCase):
    """One daemon that has accepted, rejected, delivered and reloaded once, so labelled series
    and histograms exist."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ozghub-it-")
        # A connector whose broker is down (a port that is bound but not listening refuses), so
        # the connector series exist, as they do on every hub with a `connectors` entry.
        cls.refusing = socket.socket()
        cls.refusing.bind(("127.0.0.1", 0))
        cls.hub = Hub(cls.tmp, extra_config=f"""connectors:
  - name: portal-queue
    url: amqp://127.0.0.1:{cls.refusing.getsockname()[1]}
    source: applications
    reconnect_initial_ms: 100
    reconnect_max_ms: 200
""").start()
        try:
            xml = example_antrag().encode()
            outcomes, _ = cls.hub.submit([
                application_message(xml, MOECKERN, PASSPORT, message_id="mon-ok-1"),
                application_message(xml, "159999999999", PASSPORT, message_id="mon-bad-1"),
            ])
            assert [o.state for o in outcomes] == ["accepted", "rejected"], outcomes
            cls.hub.wait_for_cases("moeckern-buergeramt", 1)
            cls.hub.proc.send_signal(signal.SIGHUP)
            cls.wait_for_reload(timeout=30)
            cls.text = cls.wait_for_series(set(used_metric_names()), timeout=10)
        except BaseException:
            cls.hub.kill()
            cls.refusing.close()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def wait_for_reload(cls, timeout):
        """Until the daemon logs that a reload ended (`*.reloaded` or `*.reload_failed`)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in list(cls.hub.log):
                if re.search(r'"event":"[a-z_.]*\.(reloaded|reload_failed)"', line):
                    return
            time.sleep(0.05)
        raise AssertionError("no reload event within %d s" % timeout)

    @classmethod
    def wait_for_series(cls, names, timeout):
        """The /metrics text once it has all `names` (gauges refreshed by a background thread
        may appear a moment later), or the last one after `timeout` seconds."""
        deadline = time.time() + timeout
        while True:
            text = scrape(cls.hub)
            if names <= series_names(text) or time.time() > deadline:
                return text
            time.sleep(0.2)

    @classmethod
    def tearDownClass(cls):
        cls.hub.stop()
        cls.refusing.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_every_queried_metric_is_served(self):
        served = series_names(self.text)
        missing = sorted(n for n in used_metric_names() if n not in served)
        self.assertEqual(missing, [], "queried by the dashboard or the alerts but not in the "
                         "daemon's /metrics")

    def test_every_contract_metric_is_served(self):
        served = {contract_name(n) for n in series_names(self.text)}
        self.assertEqual(sorted(CONTRACT - served), [], "contract metrics the daemon lacks")

    def test_labels_the_dashboard_groups_by_are_served(self):
        for name, label in (("ozghub_deliveries_total", "adapter"),
                            ("ozghub_deliveries_total", "outcome"),
                            ("ozghub_delivery_duration_seconds_bucket", "adapter"),
                            ("ozghub_stage_duration_seconds_bucket", "stage"),
                            ("ozghub_pipeline_backlog", "stage"),
                            ("ozghub_applications_rejected_total", "condition"),
                            ("ozghub_config_reloads_total", "result"),
                            ("ozghub_connector_connected", "connector")):
            with self.subTest(metric=name, label=label):
                pattern = rf'(?m)^{name}{{[^}}]*\b{label}="[^"]+"'
                self.assertTrue(re.search(pattern, self.text), f"no {name} series with {label}")

    def test_threads_carry_names_for_top_and_perf(self):
        task_dir = f"/proc/{self.hub.proc.pid}/task"
        names = set()
        for tid in os.listdir(task_dir):
            with open(os.path.join(task_dir, tid, "comm"), encoding="utf-8") as f:
                names.add(f.read().strip())
        # The main thread (the AMQP event loop) keeps the process's name for ps, pidof, systemd.
        for expected in ("ozg-hub", "committer", "intake-0", "admin", "signals", "retention",
                         "disk-monitor", "gauges", "dlv-transfer"):
            self.assertIn(expected, names)

    def test_metrics_pass_promtool_check_metrics(self):
        r = promtool("check", "metrics", stdin=self.text)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
