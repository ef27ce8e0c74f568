"""deploy/helm/ozg-hub: rendered by tests/integration/helm_render.py (no helm binary here: this is
a lint of the subset of Helm's language the chart uses, not helm), every manifest parses as YAML
and has what the issue asks for (StatefulSet with a volume claim for the RocksDB directory,
probes on /livez and /readyz, restricted security context, optional ServiceMonitor, KEKs from a
Secret, the admin port closed by a NetworkPolicy), and the configuration in its ConfigMap passes
the real `ozg-hub --check-config`."""

import os
import re
import shutil
import tempfile
import unittest

import yaml

import deploytest
import helm_render
from hubtest import BINARY, SOURCE_DIR

CHART = os.path.join(SOURCE_DIR, "deploy", "helm", "ozg-hub")
CONTAINERFILE = os.path.join(SOURCE_DIR, "deploy", "container", "Containerfile")


def manifests(overrides=()):
    docs = []
    for name, text in helm_render.render_chart(CHART, overrides, release="hub-a").items():
        for doc in yaml.safe_load_all(text):
            if doc is not None:
                docs.append(doc)
    return docs


def one(docs, kind):
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind}"
    return found[0]


class HelmChart(unittest.TestCase):
    def setUp(self):
        self.docs = manifests()
        self.sts = one(self.docs, "StatefulSet")
        self.pod = self.sts["spec"]["template"]["spec"]
        self.hub = [c for c in self.pod["containers"] if c["name"] == "ozg-hub"][0]
        cm = one(self.docs, "ConfigMap")
        self.config_text = cm["data"]["ozg-hub.yaml"]
        self.config = yaml.safe_load(self.config_text)
        self.routing_text = cm["data"]["routing.yaml"]
        self.mounts = {m["name"]: m["mountPath"] for m in self.hub["volumeMounts"]}
        self.volumes = {v["name"]: v for v in self.pod["volumes"]}

    def test_chart_metadata(self):
        with open(os.path.join(CHART, "Chart.yaml"), encoding="utf-8") as f:
            chart = yaml.safe_load(f)
        self.assertEqual(chart["apiVersion"], "v2")
        self.assertEqual(chart["name"], "ozg-hub")
        self.assertRegex(chart["version"], r"^\d+\.\d+\.\d+$")

    def test_kinds(self):
        self.assertEqual(sorted(d["kind"] for d in self.docs),
                         ["ConfigMap", "NetworkPolicy", "Service", "StatefulSet"])
        for d in self.docs:
            self.assertTrue(d["metadata"]["name"].startswith("hub-a"), d["metadata"])

    def test_service_monitor_is_optional(self):
        sm = one(manifests(["serviceMonitor.enabled=true"]), "ServiceMonitor")
        self.assertEqual(sm["apiVersion"], "monitoring.coreos.com/v1")
        self.assertEqual(sm["spec"]["endpoints"][0]["path"], "/metrics")
        self.assertEqual(sm["spec"]["endpoints"][0]["port"], "admin")
        svc = one(self.docs, "Service")
        self.assertIn("admin", [p["name"] for p in svc["spec"]["ports"]])
        self.assertEqual(sm["spec"]["selector"]["matchLabels"], svc["metadata"]["labels"])

    def test_admin_port_only_from_the_allowed_namespaces(self):
        np = one(self.docs, "NetworkPolicy")
        self.assertEqual(np["spec"]["podSelector"]["matchLabels"],
                         self.sts["spec"]["selector"]["matchLabels"])
        rules = {r["ports"][0]["port"]: r for r in np["spec"]["ingress"]}
        ports = {p["name"]: p["containerPort"] for p in self.hub["ports"]}
        self.assertEqual(sorted(rules), sorted(ports.values()))
        self.assertTrue(rules[ports["admin"]]["from"], "the admin port is not open to all")
        self.assertNotIn("from", rules[ports["amqps"]])
        limited = one(manifests(["networkPolicy.amqpFrom=[{ipBlock: {cidr: 10.1.0.0/16}}]"]),
                      "NetworkPolicy")
        amqps = [r for r in limited["spec"]["ingress"] if r["ports"][0]["port"] == ports["amqps"]]
        self.assertEqual(amqps[0]["from"], [{"ipBlock": {"cidr": "10.1.0.0/16"}}])
        off = manifests(["networkPolicy.enabled=false"])
        self.assertNotIn("NetworkPolicy", [d["kind"] for d in off])

    def test_rocksdb_directory_on_a_volume_claim(self):
        claims = [c["metadata"]["name"] for c in self.sts["spec"]["volumeClaimTemplates"]]
        self.assertEqual(claims, ["data"])
        self.assertEqual(self.mounts["data"], self.config["data_dir"])
        self.assertEqual(self.sts["spec"]["replicas"], 1, "one store per hub")
        claim = self.sts["spec"]["volumeClaimTemplates"][0]["spec"]
        self.assertNotIn("storageClassName", claim)
        fast = one(manifests(["persistence.storageClassName=fast-ssd"]), "StatefulSet")
        self.assertEqual(
            fast["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"], "fast-ssd")

    def test_probes_on_the_admin_port(self):
        self.assertEqual(self.hub["livenessProbe"]["httpGet"]["path"], "/livez")
        self.assertEqual(self.hub["readinessProbe"]["httpGet"]["path"], "/readyz")
        self.assertEqual(self.hub["livenessProbe"]["httpGet"]["port"], "admin")
        self.assertEqual(self.hub["readinessProbe"]["httpGet"]["port"], "admin")
        ports = {p["name"]: p["containerPort"] for p in self.hub["ports"]}
        host, _, port = self.config["admin"]["listen"].rpartition(":")
        self.assertEqual(int(port), ports["admin"])
        self.assertEqual(host, "0.0.0.0", "the kubelet probes the pod's address")
        self.assertEqual(int(self.config["amqp"]["tls"]["listen"].rpartition(":")[2]),
                         ports["amqps"])

    def test_restricted_security_context(self):
        psc = self.pod["securityContext"]
        self.assertIs(psc["runAsNonRoot"], True)
        self.assertEqual(psc["seccompProfile"]["type"], "RuntimeDefault")
        self.assertNotEqual(psc["runAsUser"], 0)
        for c in self.pod["containers"] + self.pod.get("initContainers", []):
            sc = c["securityContext"]
            self.assertIs(sc["allowPrivilegeEscalation"], False, c["name"])
            self.assertIs(sc["readOnlyRootFilesystem"], True, c["name"])
            self.assertEqual(sc["capabilities"]["drop"], ["ALL"], c["name"])
            self.assertNotIn("add", sc["capabilities"], c["name"])
        self.assertIn("emptyDir", self.volumes["tmp"])
        self.assertEqual(self.mounts["tmp"], "/tmp")
        self.assertIs(self.pod["automountServiceAccountToken"], False)

    def test_same_user_as_the_image(self):
        with open(CONTAINERFILE, encoding="utf-8") as f:
            users = re.findall(r"^USER\s+(\d+)(?::(\d+))?\s*$", f.read(), re.M)
        self.assertTrue(users, "the Containerfile names a numeric USER")
        self.assertEqual(int(users[-1][0]), self.pod["securityContext"]["runAsUser"])

    def test_keks_come_from_a_secret(self):
        self.assertIn("secret", self.volumes["keks"])
        init = self.pod["initContainers"][0]
        init_mounts = {m["name"]: m["mountPath"] for m in init["volumeMounts"]}
        self.assertIn(init_mounts["keks"], " ".join(init["command"]))
        self.assertIn(init_mounts["keys"], " ".join(init["command"]))
        self.assertEqual(self.volumes["keys"]["emptyDir"]["medium"], "Memory")
        for kek in self.config["encryption"]["keks"].values():
            self.assertEqual(os.path.dirname(kek["path"]), self.mounts["keys"])
        tls = self.config["amqp"]["tls"]
        self.assertEqual(os.path.dirname(tls["key"]), self.mounts["amqps-tls"])
        self.assertIn("secret", self.volumes["amqps-tls"])
        self.assertEqual(self.config["routing"]["directory"],
                         os.path.join(self.mounts["config"], "routing.yaml"))

    def test_the_configmap_configuration_is_valid(self):
        tmp = tempfile.mkdtemp(prefix="ozghub-helm-")
        try:
            cert, key = deploytest.make_tls(os.path.join(tmp, "tls"))
            kek = deploytest.make_kek(os.path.join(tmp, "keys", "kek-1"))
            routing = os.path.join(tmp, "routing.yaml")
            with open(routing, "w", encoding="utf-8") as f:
                f.write(self.routing_text)
            config = os.path.join(tmp, "ozg-hub.yaml")
            with open(config, "w", encoding="utf-8") as f:
                f.write(deploytest.relocate(self.config_text, {
                    "/run/ozg-hub/tls/tls.crt": cert, "/run/ozg-hub/tls/tls.key": key,
                    "/run/ozg-hub/portal-ca/ca.pem": cert, "/run/ozg-hub/keys/kek-1": kek,
                    "/usr/share/ozg-hub/schemas": os.path.join(SOURCE_DIR, "schemas"),
                    "/etc/ozg-hub/routing.yaml": routing,
                    "/var/lib/ozg-hub": os.path.join(tmp, "data")}))
            r = deploytest.check_config(BINARY, config)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_the_lint_refuses_what_it_cannot_render(self):
        with self.assertRaises(helm_render.TemplateError):
            helm_render.render_text("{{ range .Values.x }}{{ end }}", {"Values": {}})
        with self.assertRaises(helm_render.TemplateError):
            helm_render.render_text("{{ if .Values.x }}", {"Values": {}})
        self.assertEqual(helm_render.render_text("a\n  {{- .Values.x | nindent 2 }}",
                                                 {"Values": {"x": "b\nc"}}), "a\n  b\n  c")


if __name__ == "__main__":
    unittest.main()
