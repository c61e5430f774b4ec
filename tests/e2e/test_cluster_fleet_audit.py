"""Live fleet audit on the session's API server: the README's `audit_input` (its "Audit a running
cluster" block, run as written) reads workloads and StorageClasses of the kinds the server serves,
and `pxsec check --cluster prod=... --cluster stage=...` reports, per cluster, what `pxsec check`
reports on the manifests applied for that cluster, with the cluster named in every finding.

One API server stands for two clusters: each "cluster" is the objects with its label. A `kubectl`
wrapper first on PATH adds `-l <label>` to `kubectl get`, so the README's function runs
unchanged and sees only that cluster's objects.
"""
from __future__ import annotations

import json
import re

import pytest
import yaml

from .support import REPO, need, run, write_script
from .test_cluster_audit import LABEL, SPEC, manifests

pytestmark = pytest.mark.e2e

STORAGECLASS = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "provisioner": "pxd.portworx.com",
                "parameters": {"repl": "2"}}


def readme_functions() -> str:
    """The README's live-audit shell block up to its first `pxsec` command: PXSEC_KINDS and audit_input."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("### Audit a running cluster"):]
    block = re.search(r"```sh\n(.*?)```", section, re.S)[1]
    lines = block.splitlines()
    defs = lines[:next(i for i, ln in enumerate(lines) if re.search(r"(^|\|\s*)pxsec ", ln))]
    assert any(ln.startswith("PXSEC_KINDS=") for ln in defs) and any("audit_input()" in ln for ln in defs)
    return "\n".join(defs) + "\n"


def cluster_manifests(case: str, secured: bool, e2e) -> str:
    """A DaemonSet install, a StorageCluster and a Portworx StorageClass without a token, labelled
    `case`; secured by `pxsec render` (guestAccess Disabled) or not."""
    sc = {**STORAGECLASS, "metadata": {"name": f"{case}-px", "labels": {LABEL: case}}}
    text = manifests(case) + "---\n" + yaml.safe_dump(sc, sort_keys=False)
    if not secured:
        return text
    spec = e2e.tmp / "spec.yaml"
    spec.write_text(SPEC)
    return run(["pxsec", "render", "--spec", str(spec), "-"], e2e.env(), input=text).stdout


def normalised(findings: list[dict]) -> list[tuple]:
    """Findings without their place in the input (file, document, line; a List item's `items[N].`)."""
    keys = ("rule_id", "severity", "message", "kind", "namespace", "name")
    return sorted((*(f[k] for k in keys), re.sub(r"^items\[\d+\]\.", "", f["field"] or "")) for f in findings)


def test_fleet_audit_reads_storageclasses_and_names_each_cluster(e2e, cluster, storagecluster_crd):
    kubectl = need("kubectl")
    applied = {}
    for name, secured in (("fleet-prod", True), ("fleet-stage", False)):
        for namespace in (name, f"{name}-operator"):
            cluster.create_namespace(namespace)
        path = e2e.tmp / f"applied-{name}.yaml"
        path.write_text(cluster_manifests(name, secured, e2e))
        cluster.kubectl("apply", "--server-side", "-f", str(path))
        applied[name] = path
    wrapper = e2e.tmp / "wrap" / "kubectl"
    wrapper.parent.mkdir()
    write_script(wrapper, f'#!/bin/sh\nif [ "$1" = get ]; then exec {kubectl} "$@" -l "$E2E_SELECTOR"; fi\n'
                          f'exec {kubectl} "$@"\n')
    env = cluster.env(e2e.env())
    env["PATH"] = f"{wrapper.parent}:{env['PATH']}"
    for name in applied:
        out = run(["bash", "-euo", "pipefail", "-c", readme_functions() + f"audit_input > {name}.yaml"],
                  {**env, "E2E_SELECTOR": f"{LABEL}={name}"}, cwd=e2e.tmp)
        live = yaml.safe_load((e2e.tmp / f"{name}.yaml").read_text())
        assert live["kind"] == "List", out.stderr
        kinds = {item["kind"] for item in live["items"]}
        assert {"DaemonSet", "Deployment", "StorageCluster", "StorageClass"} <= kinds, kinds
    proc = run(["pxsec", "check", "--format", "json", "--require-workload",
                "--cluster", "prod=fleet-prod.yaml", "--cluster", "stage=fleet-stage.yaml"], env, cwd=e2e.tmp,
               check=False)
    assert proc.returncode == 1, proc.stderr  # stage is not secured
    doc = json.loads(proc.stdout)
    assert [c["name"] for c in doc["clusters"]] == ["prod", "stage"]
    for cluster_name, case in (("prod", "fleet-prod"), ("stage", "fleet-stage")):
        on_files = run(["pxsec", "check", "--format", "json", str(applied[case])], env, check=False)
        expected = json.loads(on_files.stdout)
        live = [f for f in doc["findings"] if f["cluster"] == cluster_name]
        assert normalised(live) == normalised(expected["findings"]), cluster_name
        [summary] = [c["summary"] for c in doc["clusters"] if c["name"] == cluster_name]
        assert summary["error"] == expected["summary"]["error"] and summary["workloads"] == 3
    prod = {(f["rule_id"], f["kind"], f["name"]) for f in doc["findings"] if f["cluster"] == "prod"}
    # guestAccess Disabled (render's default) and a StorageClass without a token: PVCs would stay Pending
    assert ("PXS026", "StorageClass", "fleet-prod-px") in prod, prod
    assert not {r for r, _, _ in prod if r in ("PXS001", "PXS004")}
    stage = {(f["rule_id"], f["kind"]) for f in doc["findings"] if f["cluster"] == "stage"}
    assert {("PXS001", "DaemonSet"), ("PXS001", "StorageCluster"), ("PXS004", "Deployment")} <= stage
