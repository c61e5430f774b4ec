"""spec.storageClasses through every mode (issue 17): the section is part of the spec, so a chart
(Helm 3 post-renderer, Helm 4 plugin) and a kustomization (KRM function, legacy exec plugin) get
token parameters on their Portworx StorageClass with nothing else to configure."""
from __future__ import annotations

import shutil

import pytest

from pxsec import portworx as px, stream

from .support import (CASES, CHART, KUSTOMIZE_BASE, helm_template_args, install_helm4_plugin,
                      install_kustomize_plugin, need, post_renderer_args, run)

pytestmark = pytest.mark.e2e

STORAGECLASS = """\
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: px-csi-db
provisioner: pxd.portworx.com
parameters:
  repl: "3"
"""
SECTION = "  storageClasses:\n    tokenSecret: {name: px-user-token}\n"
NAMESPACE = "kube-system"


def storageclasses(text: str) -> list[dict]:
    """StorageClasses as Kubernetes reads the output (kyaml: go-yaml's reading)."""
    return [d.view() for d in stream.parse(text, "out") if d.node is not None and d.kind == "StorageClass"]


def assert_token_parameters(text: str) -> None:
    (sc,) = storageclasses(text)
    params = sc["parameters"]
    assert params["repl"] == "3"
    for key in px.CSI_SECRET_PARAMS:
        assert params[key] == ("px-user-token" if key.endswith("-name") else NAMESPACE), key


def spec_with_section(src, dest):
    dest.write_text(src.read_text() + SECTION)
    return dest


def chart_with_storageclass(tmp_path):
    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)
    (chart / "templates" / "storageclass.yaml").write_text(STORAGECLASS)
    return chart


def test_helm3_post_renderer(e2e, tmp_path):
    chart = chart_with_storageclass(tmp_path)
    spec = spec_with_section(CASES / "helm3" / "spec.yaml", tmp_path / "pxsec.yaml")
    out = run([need("helm3"), *helm_template_args(chart), "--post-renderer", "pxsec", *post_renderer_args(spec)],
              e2e.env()).stdout
    assert_token_parameters(out)


def test_helm4_plugin(e2e, tmp_path):
    helm4 = need("helm4")
    install_helm4_plugin(e2e, helm4)
    chart = chart_with_storageclass(tmp_path)
    spec = spec_with_section(CASES / "helm4" / "spec.yaml", tmp_path / "pxsec.yaml")
    out = run([helm4, *helm_template_args(chart, kube_version=False), "--post-renderer", "pxsec",
               *post_renderer_args(spec)], e2e.env(secrets=True)).stdout
    assert_token_parameters(out)


def kustomization(tmp_path, case):
    base = tmp_path / "base"
    shutil.copytree(KUSTOMIZE_BASE, base)
    (base / "storageclass.yaml").write_text(STORAGECLASS)
    kust = (base / "kustomization.yaml").read_text()
    (base / "kustomization.yaml").write_text(kust.rstrip("\n") + "\n  - storageclass.yaml\n")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    spec_with_section(CASES / case / "pxsec.yaml", overlay / "pxsec.yaml")
    (overlay / "kustomization.yaml").write_text("resources: [../base]\ntransformers: [pxsec.yaml]\n")
    return overlay


def test_kustomize_krm_function(e2e, tmp_path):
    overlay = kustomization(tmp_path, "kustomize-krm")
    out = run([need("kustomize"), "build", "--enable-alpha-plugins", "--enable-exec", str(overlay)],
              e2e.env(secrets=True)).stdout
    assert_token_parameters(out)


def test_kustomize_legacy_plugin(e2e, tmp_path):
    install_kustomize_plugin(e2e)
    overlay = kustomization(tmp_path, "kustomize-legacy")
    out = run([need("kustomize"), "build", "--enable-alpha-plugins", str(overlay)], e2e.env()).stdout
    assert_token_parameters(out)
