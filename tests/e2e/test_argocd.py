"""Argo CD: argocd/plugin.yaml's generate command, run the way the CMP sidecar runs it.

The sidecar runs `generate.command + generate.args` in the application's source directory
with the build environment (ARGOCD_APP_NAME, ARGOCD_APP_NAMESPACE, KUBE_VERSION,
KUBE_API_VERSIONS, ...) and the Application's plugin env prefixed ARGOCD_ENV_. The output must
be what a direct `helm template | pxsec render` / `kustomize build | pxsec render` gives.
"""
from __future__ import annotations

import shutil

import pytest
import yaml

from .support import (CASES, CHART, KUSTOMIZE_BASE, NAMESPACE, REPO, RELEASE, assert_failed, assert_golden,
                      by_kind, container_env_names, need, run)

pytestmark = pytest.mark.e2e  # runs real helm/kustomize/kpt/kubectl binaries

PLUGIN = REPO / "argocd" / "plugin.yaml"


def generate_argv() -> list[str]:
    plugin = yaml.safe_load(PLUGIN.read_text())
    generate = plugin["spec"]["generate"]
    return list(generate["command"]) + list(generate.get("args") or [])


def sidecar_env(e2e, helm: str = "helm4", **plugin_env: str) -> dict[str, str]:
    """The sidecar's PATH has `helm` and `kustomize` (and pxsec); Argo CD adds the build env."""
    e2e.link("helm", need(helm))
    e2e.link("kustomize", need("kustomize"))
    env = e2e.env(
        ARGOCD_APP_NAME=RELEASE,
        ARGOCD_APP_NAMESPACE=NAMESPACE,
        ARGOCD_APP_PROJECT_NAME="default",
        ARGOCD_APP_REVISION="0123456789abcdef0123456789abcdef01234567",
        ARGOCD_APP_SOURCE_PATH="apps/portworx",
        ARGOCD_APP_SOURCE_REPO_URL="https://git.example.com/platform.git",
        KUBE_VERSION="1.29.0",
        KUBE_API_VERSIONS="v1,apps/v1,batch/v1",
    )
    env.update({f"ARGOCD_ENV_{k}": v for k, v in plugin_env.items()})
    return env


def chart_source(e2e, case: str = "argocd-helm"):
    app = e2e.tmp / "repo" / "apps" / "portworx"
    shutil.copytree(CHART, app)
    shutil.copy(CASES / case / "pxsec-spec.yaml", app / "pxsec-spec.yaml")
    return app


def kustomize_source(e2e):
    app = e2e.tmp / "repo" / "apps" / "portworx"
    shutil.copytree(KUSTOMIZE_BASE, app)
    shutil.copy(CASES / "argocd-kustomize" / "pxsec-spec.yaml", app / "pxsec-spec.yaml")
    return app


def test_plugin_yaml_is_a_config_management_plugin():
    plugin = yaml.safe_load(PLUGIN.read_text())
    assert plugin["apiVersion"] == "argoproj.io/v1alpha1" and plugin["kind"] == "ConfigManagementPlugin"
    assert plugin["metadata"] == {"name": "pxsec"}
    assert set(plugin["spec"]) <= {"version", "init", "generate", "discover", "parameters", "preserveFileMode",
                                   "provideGitCreds"}
    assert set(plugin["spec"]["generate"]) == {"command", "args"}
    assert "set -euo pipefail" in generate_argv()[-1]


@pytest.mark.parametrize("helm", ["helm4", "helm3"])
def test_argocd_helm_source_matches_a_direct_render(e2e, helm):
    app = chart_source(e2e)
    env = sidecar_env(e2e, helm, PXSEC_SPEC="pxsec-spec.yaml")
    out = run(generate_argv(), env, cwd=app).stdout
    assert_golden("argocd-helm", out, f"want-{helm}.yaml")  # Helm 4 prints a blank line after documents
    direct = run(["sh", "-c", "set -e; helm template rel . --namespace kube-system --include-crds "
                  "--kube-version 1.29.0 --api-versions v1,apps/v1,batch/v1 > rendered.txt; "
                  "pxsec render --spec pxsec-spec.yaml rendered.txt"], env, cwd=app).stdout
    assert out == direct
    (ds,) = by_kind(out, "DaemonSet")
    assert "-oidc_issuer" in ds["spec"]["template"]["spec"]["containers"][0]["args"]


def test_argocd_helm_values_and_args_from_plugin_env(e2e):
    app = chart_source(e2e)
    (app / "values-prod.yaml").write_text("clusterName: prod-cluster\n")
    env = sidecar_env(e2e, PXSEC_SPEC="pxsec-spec.yaml", HELM_VALUES="values-prod.yaml",
                      HELM_ARGS="--set stork.replicas=5")
    out = run(generate_argv(), env, cwd=app).stdout
    (ds,) = by_kind(out, "DaemonSet")
    assert "prod-cluster" in ds["spec"]["template"]["spec"]["containers"][0]["args"]
    assert by_kind(out, "Deployment")[0]["spec"]["replicas"] == 5


def test_argocd_kustomize_source_matches_a_direct_render(e2e):
    app = kustomize_source(e2e)
    env = sidecar_env(e2e, PXSEC_SPEC="pxsec-spec.yaml")
    out = run(generate_argv(), env, cwd=app).stdout
    assert_golden("argocd-kustomize", out)
    direct = run(["sh", "-c", "set -e; kustomize build . > rendered.txt; "
                  "pxsec render --spec pxsec-spec.yaml rendered.txt"], env, cwd=app).stdout
    assert out == direct
    (stork,) = by_kind(out, "Deployment")
    assert "PX_SHARED_SECRET" in container_env_names(stork)
    (ds,) = by_kind(out, "DaemonSet")
    assert "-oidc_client_id" in ds["spec"]["template"]["spec"]["containers"][0]["args"]


def test_argocd_requires_the_spec_variable(e2e):
    app = chart_source(e2e)
    proc = run(generate_argv(), sidecar_env(e2e), cwd=app, check=False)
    assert_failed(proc, "PXSEC_SPEC")
    assert proc.stdout == ""


def test_argocd_neither_chart_nor_kustomization(e2e):
    app = e2e.tmp / "empty"
    app.mkdir()
    proc = run(generate_argv(), sidecar_env(e2e, PXSEC_SPEC="x.yaml"), cwd=app, check=False)
    assert_failed(proc, "no kustomization.yaml or Chart.yaml")
