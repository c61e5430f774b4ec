"""Live audit: `kubectl get daemonsets,deployments,storageclusters -o yaml | pxsec check -` on
what the API server stored (a `List`, with `status`, `managedFields` and defaults) reports what
`pxsec check` reports on the manifests that were applied, with the same exit code.
"""
from __future__ import annotations

import json
import re

import pytest
import yaml

from .support import KUSTOMIZE_BASE, REPO, run

pytestmark = pytest.mark.e2e

STORAGECLUSTER = REPO / "tests" / "cases" / "storagecluster" / "input.yaml"
SPEC = """\
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
metadata: {name: px-security}
spec:
  secret: {name: pxsec-auth-keys, create: false}  # never an operator-owned Secret (issue 21: PXS040)
  stork: {enabled: true, issuer: stork.openstorage.io}
  selfSigned: {issuer: openstorage.io, sharedSecret: true}
  usernameClaim: email
  guestAccess: Disabled
"""
LABEL = "pxsec.io/e2e-audit"


def manifests(case: str) -> str:
    """A DaemonSet install (the kustomize base: Portworx, Stork, a ConfigMap) in namespace `case`
    and an operator install's StorageCluster in `case`-operator, all labelled."""
    base = [d for p in sorted(KUSTOMIZE_BASE.glob("*.yaml")) if p.name != "kustomization.yaml"
            for d in yaml.safe_load_all(p.read_text()) if d]
    operator = [d for d in yaml.safe_load_all(STORAGECLUSTER.read_text()) if d and d["kind"] == "StorageCluster"]
    for namespace, docs in ((case, base), (f"{case}-operator", operator)):
        for d in docs:
            d["metadata"]["namespace"] = namespace
            d["metadata"].setdefault("labels", {})[LABEL] = case
    return yaml.safe_dump_all(base + operator, sort_keys=False)


def findings(proc) -> tuple[int, dict, list[tuple]]:
    """Exit code, summary and findings, without their place in the input (file, document, line;
    in a List the field path starts at the item: `items[2].spec...` is `spec...`)."""
    report = json.loads(proc.stdout)
    where = ("rule_id", "severity", "message", "kind", "namespace", "name")
    return proc.returncode, report["summary"], sorted(
        (*(f[k] for k in where), re.sub(r"^items\[\d+\]\.", "", f["field"] or "")) for f in report["findings"])


def audit(e2e, cluster, case: str, text: str):
    for namespace in (case, f"{case}-operator"):
        cluster.create_namespace(namespace)
    path = e2e.tmp / f"{case}.yaml"
    path.write_text(text)
    cluster.kubectl("apply", "--server-side", "-f", str(path))
    on_files = findings(run(["pxsec", "check", "--format", "json", str(path)], e2e.env(), check=False))
    get = ["get", "daemonsets,deployments,storageclusters", "-A", "-l", f"{LABEL}={case}", "-o", "yaml"]
    for extra in ([], ["--show-managed-fields"]):  # README's command, and with every server field
        live = cluster.kubectl(*get, *extra).stdout
        assert yaml.safe_load(live)["kind"] == "List"
        assert "uid:" in live and "status:" in live and ("managedFields" in live) == bool(extra)
        on_live = findings(run(["pxsec", "check", "--format", "json", "-"], e2e.env(), input=live, check=False))
        assert on_live == on_files, extra
    return on_live


def test_live_audit_of_an_unsecured_install_matches_the_manifests(e2e, cluster, storagecluster_crd):
    code, summary, found = audit(e2e, cluster, "audit-unsecured", manifests("audit-unsecured"))
    assert code == 1 and summary["workloads"] == 3, summary  # DaemonSet, Stork, StorageCluster
    rules = {(f[0], f[3]) for f in found}
    assert {("PXS001", "DaemonSet"), ("PXS001", "StorageCluster"), ("PXS004", "Deployment")} <= rules, found


def test_live_audit_of_a_secured_install_matches_the_manifests(e2e, cluster, storagecluster_crd):
    spec = e2e.tmp / "spec.yaml"
    spec.write_text(SPEC)
    secured = run(["pxsec", "render", "--spec", str(spec), "-"], e2e.env(), input=manifests("audit-secured")).stdout
    code, summary, found = audit(e2e, cluster, "audit-secured", secured)
    assert code == 0 and summary["error"] == 0 and summary["workloads"] == 3, (summary, found)
