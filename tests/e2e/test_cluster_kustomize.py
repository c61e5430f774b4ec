"""kustomize with pxsec, applied to the session's API server (cluster.py).

- The KRM function: `kustomize build --enable-alpha-plugins --enable-exec | kubectl apply
  --server-side -f -`, twice: the second apply changes nothing and `kubectl diff` exits 0.
- The legacy exec plugin: kubectl's built-in kustomize never runs exec plugins (`kubectl apply -k`
  has no --enable-alpha-plugins), so `kubectl apply -k` must refuse and apply nothing; the way to
  apply it is `kubectl kustomize --enable-alpha-plugins DIR | kubectl apply -f -`.
Each test builds an overlay of the case folder that moves everything into its own namespace.
"""
from __future__ import annotations

import os

import pytest
import yaml

from .support import CASES, install_kustomize_plugin, need, run

pytestmark = pytest.mark.e2e

KINDS = "daemonsets,deployments,configmaps,secrets"


def overlay(tmp_path, case: str, namespace: str):
    directory = tmp_path / f"overlay-{case}"
    directory.mkdir()
    (directory / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "namespace": namespace, "resources": [os.path.relpath(CASES / case, directory)]}))
    return directory


def secured(cluster, ns: str) -> dict:
    ds = cluster.get(f"/apis/apps/v1/namespaces/{ns}/daemonsets/portworx")
    env = {e["name"]: e for e in ds["spec"]["template"]["spec"]["containers"][0].get("env") or []}
    assert env["PORTWORX_AUTH_SYSTEM_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "px-system-secrets", env
    return ds


def versions(cluster, ns: str) -> dict[str, str]:
    out = cluster.kubectl("get", KINDS, "-n", ns, "-o", "yaml").stdout
    return {f"{o['kind']}/{o['metadata']['name']}": o["metadata"]["resourceVersion"]
            for o in yaml.safe_load(out)["items"]}


def test_krm_function_build_applied_twice_changes_nothing(e2e, cluster, tmp_path):
    ns = "kustomize-krm"
    cluster.create_namespace(ns)
    directory = overlay(tmp_path, "kustomize-krm", ns)
    build = run([need("kustomize"), "build", "--enable-alpha-plugins", "--enable-exec", directory],
                e2e.env(secrets=True)).stdout
    cluster.kubectl("apply", "--server-side", "-f", "-", input=build)
    secured(cluster, ns)
    first = versions(cluster, ns)
    assert sorted(first) == ["ConfigMap/rel-settings", "DaemonSet/portworx", "Deployment/stork",
                             "Secret/px-system-secrets"], first

    again = run([need("kustomize"), "build", "--enable-alpha-plugins", "--enable-exec", directory],
                e2e.env(secrets=True)).stdout
    assert again == build  # deterministic
    cluster.kubectl("apply", "--server-side", "-f", "-", input=again)
    assert versions(cluster, ns) == first  # nothing was written
    diff = cluster.kubectl("diff", "--server-side", "-f", "-", input=again, check=False)
    assert diff.returncode == 0, f"kubectl diff exited {diff.returncode}:\n{diff.stdout}\n{diff.stderr}"


def test_kubectl_apply_k_refuses_the_legacy_plugin_and_applies_nothing(e2e, cluster, tmp_path):
    ns = "kustomize-apply-k"
    cluster.create_namespace(ns)
    install_kustomize_plugin(e2e)
    proc = run([need("kubectl"), "apply", "-k", overlay(tmp_path, "kustomize-legacy", ns)],
               cluster.env(e2e.env()), check=False)  # the plugin is installed where kustomize looks
    assert proc.returncode != 0 and "external plugins disabled" in proc.stderr, (proc.returncode, proc.stderr)
    assert versions(cluster, ns) == {}  # the unsecured base was not applied either


def test_legacy_plugin_through_kubectl_kustomize_then_apply(e2e, cluster, tmp_path):
    ns = "kustomize-legacy"
    cluster.create_namespace(ns)
    install_kustomize_plugin(e2e)
    env = cluster.env(e2e.env())
    built = run([need("kubectl"), "kustomize", "--enable-alpha-plugins", overlay(tmp_path, "kustomize-legacy", ns)],
                env).stdout
    run([need("kubectl"), "apply", "-f", "-"], env, input=built)
    ds = secured(cluster, ns)
    assert "-jwt_issuer" in ds["spec"]["template"]["spec"]["containers"][0]["args"]
    diff = run([need("kubectl"), "diff", "-f", "-"], env, input=built, check=False)
    assert diff.returncode == 0, f"kubectl diff exited {diff.returncode}:\n{diff.stdout}\n{diff.stderr}"
