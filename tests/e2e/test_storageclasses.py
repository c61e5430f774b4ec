"""spec.storageClasses (issue 17) and spec.tokens (issue 22) through every mode: the section is part
of the spec, so a chart (Helm 3 post-renderer, Helm 4 plugin), a kustomization (KRM function, legacy
exec plugin), a kpt package and a standalone pipe get the token on their Portworx StorageClass (and,
with spec.tokens, VolumeSnapshotClass, in-tree PVC and Stork objects) with nothing else to configure."""
from __future__ import annotations

import shutil

import pytest

from pxsec import portworx as px
from pxsec.render import stream

from .support import (CASES, CHART, KUSTOMIZE_BASE, copy_kustomize_base, helm_template_args, install_helm4_plugin,
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


# --- spec.tokens (issue 22): every object that carries a token, in every mode ---------------------
# What each kind reads is cited in renderer/render/filters/tokens.py (external-snapshotter
# GetSecretReference, openstorage parseSecret, stork getUserVolDriver / mergeAuthLabels).

TOKEN_OBJECTS = """\
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: px-intree
provisioner: kubernetes.io/portworx-volume
---
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshotClass
metadata:
  name: px-snaps
driver: pxd.portworx.com
deletionPolicy: Delete
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: px-data
spec:
  storageClassName: px-intree
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: stork.libopenstorage.org/v1alpha1
kind: MigrationSchedule
metadata:
  name: nightly
spec:
  schedulePolicyName: daily
  template:
    spec: {clusterPair: remote, namespaces: [apps]}
---
apiVersion: stork.libopenstorage.org/v1alpha1
kind: ApplicationBackup
metadata:
  name: weekly
spec: {backupLocation: s3, namespaces: [apps]}
---
apiVersion: stork.libopenstorage.org/v1alpha1
kind: VolumeSnapshotSchedule
metadata:
  name: hourly
spec:
  schedulePolicyName: hourly
  template:
    spec: {persistentVolumeClaimName: px-data}
"""
TOKENS_SECTION = "  tokens:\n    tokenSecret: {name: px-user-token}\n"
ANNOTATED = {("PersistentVolumeClaim", "px-data"), ("MigrationSchedule", "nightly"), ("ApplicationBackup", "weekly"),
             ("VolumeSnapshotSchedule", "hourly")}


def assert_every_kind_carries_the_token(text: str) -> None:
    """The token Secret (namespace: the DaemonSet's) on every kind, as Kubernetes reads the output."""
    objs = {(d.kind, d.name): d.view() for d in stream.parse(text, "out") if d.node is not None}
    assert objs[("StorageClass", "px-intree")]["parameters"] == {p: ("px-user-token" if p.endswith("-name")
                                                                     else NAMESPACE) for p in px.INTREE_SECRET_PARAMS}
    assert objs[("VolumeSnapshotClass", "px-snaps")]["parameters"] == {
        p: ("px-user-token" if p.endswith("-name") else NAMESPACE)
        for p in px.SNAPSHOTTER_SECRET_PARAMS + px.SNAPSHOTTER_LIST_SECRET_PARAMS}
    for key in ANNOTATED:
        ann = objs[key]["metadata"]["annotations"]
        assert {k: ann[k] for k in px.AUTH_SECRET_ANNOTATIONS} == dict(zip(px.AUTH_SECRET_ANNOTATIONS,
                                                                            ("px-user-token", NAMESPACE))), key


def tokens_chart(tmp_path):
    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)
    (chart / "templates" / "tokens.yaml").write_text(TOKEN_OBJECTS)
    return chart


@pytest.mark.parametrize("major", ["helm3", "helm4"])
def test_tokens_helm(e2e, tmp_path, major):
    helm = need(major)
    if major == "helm4":
        install_helm4_plugin(e2e, helm)
    spec = tmp_path / "pxsec.yaml"
    spec.write_text((CASES / major / "spec.yaml").read_text() + TOKENS_SECTION)
    out = run([helm, *helm_template_args(tokens_chart(tmp_path), kube_version=major == "helm3"), "--post-renderer",
               "pxsec", *post_renderer_args(spec)], e2e.env(secrets=major == "helm4")).stdout
    assert_every_kind_carries_the_token(out)


def tokens_kustomization(tmp_path, case):
    base = tmp_path / "base"
    shutil.copytree(KUSTOMIZE_BASE, base)
    (base / "tokens.yaml").write_text(TOKEN_OBJECTS)
    kust = (base / "kustomization.yaml").read_text()
    (base / "kustomization.yaml").write_text(kust.rstrip("\n") + "\n  - tokens.yaml\n")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "pxsec.yaml").write_text((CASES / case / "pxsec.yaml").read_text() + TOKENS_SECTION)
    (overlay / "kustomization.yaml").write_text("resources: [../base]\ntransformers: [pxsec.yaml]\n")
    return overlay


@pytest.mark.parametrize("case", ["kustomize-krm", "kustomize-legacy"])
def test_tokens_kustomize(e2e, tmp_path, case):
    flags = ["--enable-alpha-plugins"] + (["--enable-exec"] if case == "kustomize-krm" else [])
    if case == "kustomize-legacy":
        install_kustomize_plugin(e2e)
    out = run([need("kustomize"), "build", *flags, str(tokens_kustomization(tmp_path, case))],
              e2e.env(secrets=case == "kustomize-krm")).stdout
    assert_every_kind_carries_the_token(out)


def test_tokens_kpt(e2e, tmp_path):
    package = copy_kustomize_base(tmp_path / "pkg")
    (package / "tokens.yaml").write_text(TOKEN_OBJECTS)
    spec = tmp_path / "spec.yaml"
    spec.write_text((CASES / "kpt" / "spec.yaml").read_text() + TOKENS_SECTION)
    run([need("kpt"), "fn", "eval", str(package), "--exec", "pxsec", "--fn-config", str(spec)], e2e.env(secrets=True))
    assert_every_kind_carries_the_token((package / "tokens.yaml").read_text())


def test_tokens_standalone(e2e, tmp_path):
    spec = tmp_path / "pxsec.yaml"
    spec.write_text((CASES / "helm3" / "spec.yaml").read_text() + TOKENS_SECTION)
    produced = run([need("helm3"), *helm_template_args(tokens_chart(tmp_path))], e2e.env()).stdout
    out = run(["pxsec", "render", "--spec", str(spec)], e2e.env(), input=produced).stdout
    assert_every_kind_carries_the_token(out)
