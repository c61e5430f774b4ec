"""Real `helm install/upgrade/rollback/uninstall` with pxsec as the post-renderer (Helm 3 and
Helm 4), against the session's API server (cluster.py). Assertions read what Kubernetes stored.

Each test uses its own namespace. The chart (fixtures/chart-portworx-ds) has a pre-install,
pre-upgrade hook Job; the cluster's stand-in job controller completes it, so Helm proceeds.
"""
from __future__ import annotations

import urllib.error

import pytest
import yaml

from .support import (CASES, CHART, RELEASE, assert_failed, install_helm4_plugin, need,
                      post_renderer_args, run)

pytestmark = pytest.mark.e2e

SPEC = CASES / "helm4" / "spec.yaml"  # secret.create: true, Stork enabled, self-signed issuer openstorage.io
SECRET = "px-system-secrets"
HOOK_JOB = f"{RELEASE}-preflight"
MAJORS = ["helm3", "helm4"]


def helm(e2e, cluster, major, *args, check=True):
    exe = need(major)
    if major == "helm4":
        install_helm4_plugin(e2e, exe)
    return run([exe, *args], cluster.env(e2e.env(secrets=True)), check=check)


def release(command: str, namespace: str, spec=SPEC, *extra: str) -> list[str]:
    args = [command, RELEASE, str(CHART), "--namespace", namespace, *extra]
    return args + (["--post-renderer", "pxsec", *post_renderer_args(spec)] if spec else [])


def changed_spec(tmp_path, issuer: str):
    spec = yaml.safe_load(SPEC.read_text())
    spec["spec"]["selfSigned"]["issuer"] = issuer
    path = tmp_path / "changed-spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def workloads(cluster, ns: str) -> dict[str, dict]:
    return {"portworx": cluster.get(f"/apis/apps/v1/namespaces/{ns}/daemonsets/portworx"),
            "stork": cluster.get(f"/apis/apps/v1/namespaces/{ns}/deployments/stork")}


def env_of(workload: dict) -> dict[str, dict]:
    (container, *_) = workload["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e for e in container.get("env") or []}


def jwt_issuer(daemonset: dict) -> str | None:
    args = daemonset["spec"]["template"]["spec"]["containers"][0].get("args") or []
    return args[args.index("-jwt_issuer") + 1] if "-jwt_issuer" in args else None


def assert_secured(cluster, ns: str, issuer: str = "openstorage.io") -> dict[str, dict]:
    """What the Portworx and Stork containers read, as the API server stored it."""
    got = workloads(cluster, ns)
    px, stork = env_of(got["portworx"]), env_of(got["stork"])
    for name in ("PORTWORX_AUTH_SYSTEM_KEY", "PORTWORX_AUTH_JWT_SHAREDSECRET"):
        assert px[name]["valueFrom"]["secretKeyRef"]["name"] == SECRET, px.get(name)
    assert stork["PX_SHARED_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == SECRET, stork.get("PX_SHARED_SECRET")
    assert jwt_issuer(got["portworx"]) == issuer
    secret = cluster.get(f"/api/v1/namespaces/{ns}/secrets/{SECRET}")
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    refs = {e["valueFrom"]["secretKeyRef"]["key"] for e in [*px.values(), *stork.values()]
            if "secretKeyRef" in (e.get("valueFrom") or {})}
    assert refs and refs <= set(secret["data"]), (refs, sorted(secret["data"]))
    return got


def namespace_objects(e2e, cluster, ns: str) -> list[str]:
    """kind/name of every object left in the namespace (Events aside)."""
    kubectl = need("kubectl")
    env = cluster.env(e2e.env())
    kinds = run([kubectl, "api-resources", "--verbs=list", "--namespaced", "-o", "name"], env).stdout.split()
    kinds = [k for k in kinds if k.split(".")[0] != "events"]
    out = run([kubectl, "get", ",".join(kinds), "-n", ns, "-o", "yaml"], env).stdout
    return sorted(f"{o['kind']}/{o['metadata']['name']}" for o in yaml.safe_load(out)["items"])


def hook_runs(cluster, ns: str) -> int:
    return cluster.jobs.completed.count((ns, HOOK_JOB))


@pytest.mark.parametrize("major", MAJORS)
def test_install_upgrade_rollback_uninstall(e2e, cluster, major, tmp_path):
    ns = f"{major}-lifecycle"
    cluster.create_namespace(ns)

    helm(e2e, cluster, major, *release("install", ns))
    installed = assert_secured(cluster, ns)
    assert hook_runs(cluster, ns) == 1  # the pre-install hook ran, and Helm waited for it

    helm(e2e, cluster, major, *release("upgrade", ns))  # same inputs: the workloads do not change
    same = assert_secured(cluster, ns)
    assert hook_runs(cluster, ns) == 2
    for name in ("portworx", "stork"):
        assert same[name]["metadata"]["generation"] == installed[name]["metadata"]["generation"], name
        assert same[name]["spec"] == installed[name]["spec"], name

    helm(e2e, cluster, major, *release("upgrade", ns, changed_spec(tmp_path, "px.example.com")))
    changed = assert_secured(cluster, ns, issuer="px.example.com")
    assert changed["portworx"]["metadata"]["generation"] == installed["portworx"]["metadata"]["generation"] + 1

    helm(e2e, cluster, major, "rollback", RELEASE, "2", "--namespace", ns)
    rolled = assert_secured(cluster, ns)
    assert rolled["portworx"]["spec"]["template"] == installed["portworx"]["spec"]["template"]

    helm(e2e, cluster, major, "uninstall", RELEASE, "--namespace", ns)
    assert namespace_objects(e2e, cluster, ns) == [f"Secret/{SECRET}"]  # kept: helm.sh/resource-policy


@pytest.mark.parametrize("major", MAJORS)
def test_release_installed_without_pxsec_is_secured_by_an_upgrade_with_it(e2e, cluster, major):
    ns = f"{major}-migrate"
    cluster.create_namespace(ns)
    helm(e2e, cluster, major, *release("install", ns, None))
    plain = workloads(cluster, ns)
    assert "PORTWORX_AUTH_SYSTEM_KEY" not in env_of(plain["portworx"])
    assert jwt_issuer(plain["portworx"]) is None

    helm(e2e, cluster, major, *release("upgrade", ns))
    assert_secured(cluster, ns)


@pytest.mark.parametrize("major", MAJORS)
def test_install_fails_and_creates_nothing_when_the_render_fails(e2e, cluster, major, tmp_path):
    ns = f"{major}-failed"
    cluster.create_namespace(ns)
    broken = tmp_path / "broken-spec.yaml"
    broken.write_text("apiVersion: pxsec.io/v1alpha1\nkind: PortworxSecurity\nspec: {usernameClaim: upn}\n")
    proc = helm(e2e, cluster, major, *release("install", ns, broken), check=False)
    reason = "spec: at least one of selfSigned and oidc is required"
    if major == "helm3":  # Helm 3 shows the post-renderer's stderr
        assert_failed(proc, reason)
    else:  # Helm 4 hides it: the reason is in PXSEC_LOG_FILE
        assert_failed(proc)
        assert reason in e2e.log()
    with pytest.raises(urllib.error.HTTPError) as missing:
        cluster.get(f"/apis/apps/v1/namespaces/{ns}/daemonsets/portworx")
    assert missing.value.code == 404
    assert namespace_objects(e2e, cluster, ns) == []
