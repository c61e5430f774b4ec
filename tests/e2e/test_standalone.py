"""Standalone pipes give the same documents as the plugin modes.

`helm template ... | pxsec render --spec S` and `kustomize build ... | pxsec render --spec S`
are compared, as parsed documents modulo the orchestrators' bookkeeping annotations (Helm 4's
postrender-filename, kustomize/kyaml ids), with each plugin mode run on the same input.
"""
from __future__ import annotations

import pytest

from .support import (CASES, KUSTOMIZE_BASE, copy_kustomize_base, documents, helm_template_args, install_helm4_plugin,
                      install_kustomize_plugin, need, post_renderer_args, run)

pytestmark = pytest.mark.e2e  # runs real helm/kustomize/kpt/kubectl binaries


def pipe(e2e, producer: list[str], spec, secrets=False) -> str:
    env = e2e.env(secrets=secrets)
    produced = run(producer, env).stdout
    return run(["pxsec", "render", "--spec", str(spec)], env, input=produced).stdout


def assert_same_documents(plugin_out: str, standalone_out: str) -> None:
    plugin_docs, standalone_docs = documents(plugin_out), documents(standalone_out)
    assert [d["kind"] for d in plugin_docs] == [d["kind"] for d in standalone_docs]
    assert plugin_docs == standalone_docs
    assert any("PORTWORX_AUTH_SYSTEM_KEY" in str(d) for d in plugin_docs)  # not vacuously equal


def test_helm3_post_renderer_equals_helm3_template_pipe(e2e):
    helm3 = need("helm3")
    spec = CASES / "helm3" / "spec.yaml"
    plugin = run([helm3, *helm_template_args(), "--post-renderer", "pxsec", *post_renderer_args(spec)],
                 e2e.env()).stdout
    standalone = pipe(e2e, [helm3, *helm_template_args()], spec)
    assert_same_documents(plugin, standalone)
    assert plugin == standalone  # Helm 3 prints the post-rendered stream as is


def test_helm4_plugin_equals_helm4_template_pipe(e2e):
    helm4 = need("helm4")
    spec = CASES / "helm4" / "spec.yaml"
    install_helm4_plugin(e2e, helm4)
    plugin = run([helm4, *helm_template_args(kube_version=False), "--post-renderer", "pxsec",
                  *post_renderer_args(spec)], e2e.env(secrets=True)).stdout
    standalone = pipe(e2e, [helm4, *helm_template_args(kube_version=False)], spec, secrets=True)
    assert_same_documents(plugin, standalone)


def test_kustomize_krm_function_equals_kustomize_build_pipe(e2e):
    kustomize = need("kustomize")
    spec = CASES / "kustomize-krm" / "pxsec.yaml"
    plugin = run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec", str(CASES / "kustomize-krm")],
                 e2e.env(secrets=True)).stdout
    standalone = pipe(e2e, [kustomize, "build", str(KUSTOMIZE_BASE)], spec, secrets=True)
    assert_same_documents(plugin, standalone)


@pytest.mark.parametrize("binary", ["kustomize", "kubectl"])
def test_kustomize_legacy_plugin_equals_kustomize_build_pipe(e2e, binary):
    spec = CASES / "kustomize-legacy" / "pxsec.yaml"
    install_kustomize_plugin(e2e)
    if binary == "kubectl":
        build = [need("kubectl"), "kustomize"]
    else:
        build = [need("kustomize"), "build"]
    plugin = run([*build, "--enable-alpha-plugins", str(CASES / "kustomize-legacy")], e2e.env()).stdout
    standalone = pipe(e2e, [*build, str(KUSTOMIZE_BASE)], spec)
    assert_same_documents(plugin, standalone)


def test_kpt_fn_eval_equals_render_of_the_package_directory(e2e):
    kpt = need("kpt")
    spec = CASES / "kpt" / "spec.yaml"
    package = copy_kustomize_base(e2e.tmp / "pkg")
    standalone = run(["pxsec", "render", "--spec", str(spec), str(package)], e2e.env(secrets=True)).stdout
    plugin = run([kpt, "fn", "eval", str(package), "--exec", "pxsec", "--fn-config", str(spec), "-o", "unwrap"],
                 e2e.env(secrets=True)).stdout
    assert_same_documents(plugin, standalone)
