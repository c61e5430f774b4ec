"""spec.tokens against the session's API server (cluster.py), issue 22.

CRDs installed first: the VolumeSnapshotClass CRD verbatim from external-snapshotter
(fixtures/crds, its client/config/crd file) and minimal Stork CRDs written here (every field kept).

- Accepted as written: the token-carrying objects of the golden case tests/cases/tokens (and the
  per-namespace case) pass `kubectl apply --dry-run=server` and a real apply, and are stored with
  their parameters and annotations verbatim.
- In place: unlike a StorageClass (test_cluster_storageclasses.py), a VolumeSnapshotClass created
  without token parameters takes pxsec's version in place, by client- and server-side apply: the
  CRD has no immutability rule on `parameters` (external-snapshotter client/apis/volumesnapshot/v1
  types.go; only VolumeGroupSnapshotClass marks them "immutable once set"). That is why render
  warns to recreate StorageClasses and not VolumeSnapshotClasses. A PVC and a Stork object take the
  annotations in place too.
"""
from __future__ import annotations

import contextlib

import pytest

from pxsec import portworx as px
from pxsec.render import stream

from .support import REPO, run

pytestmark = pytest.mark.e2e

GOLDEN = REPO / "tests" / "cases"
CRDS = REPO / "tests" / "e2e" / "fixtures" / "crds"
KINDS = {"VolumeSnapshotClass", "PersistentVolumeClaim", "StorageClass"} | set(px.STORK_TOKEN_KINDS) \
    | {"ClusterPair", "ApplicationRestore"}
PATHS = {"VolumeSnapshotClass": "/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses/{name}",
         "StorageClass": "/apis/storage.k8s.io/v1/storageclasses/{name}",
         "PersistentVolumeClaim": "/api/v1/namespaces/{ns}/persistentvolumeclaims/{name}"}
PLAIN_VSC = """\
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshotClass
metadata:
  name: {name}
driver: pxd.portworx.com
deletionPolicy: Delete
parameters:
  repl: "2"
"""
SPEC = """\
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
metadata: {name: px-security}
spec:
  selfSigned: {issuer: openstorage.io, sharedSecret: true}
  tokens:
    tokenSecret: {name: px-user-token, namespace: kube-system}
"""


@pytest.fixture(scope="module")
def crds(cluster):
    for f in sorted(CRDS.glob("*.yaml")):
        cluster.kubectl("apply", "--server-side", "-f", str(f))
    stork = [f"crd/{k.lower()}s.stork.libopenstorage.org" for k in sorted(KINDS) if k not in PATHS]
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=120s",
                    "crd/volumesnapshotclasses.snapshot.storage.k8s.io", *stork)
    return cluster


def path_of(kind: str, name: str, ns: str | None) -> str:
    if kind in PATHS:
        return PATHS[kind].format(name=name, ns=ns)
    return f"/apis/stork.libopenstorage.org/v1alpha1/namespaces/{ns}/{kind.lower()}s/{name}"  # the CRDs' plurals


def token_objects(text: str) -> list[tuple[str, dict]]:
    """(text, Kubernetes' reading) of each object this issue is about, List items as they are."""
    out = []
    for d in stream.parse(text, "out"):
        if d.node is None or (d.kind not in KINDS and d.kind != "List"):
            continue
        out.append((d.text if d.text.startswith("---") else "---\n" + d.text, d.view()))
    return out


def flat(views: list[dict]) -> list[dict]:
    return [i for v in views for i in (v["items"] if v.get("kind") == "List" else [v])]


@contextlib.contextmanager
def applied(cluster, manifest: str):
    try:
        yield
    finally:
        # no wait: a PVC keeps its kubernetes.io/pvc-protection finalizer, which no controller removes here
        cluster.kubectl("delete", "--ignore-not-found", "--wait=false", "-f", "-", input=manifest)


@pytest.mark.parametrize("case", ["tokens", "tokens-pvc-namespace"])
def test_rendered_objects_are_accepted_and_stored_verbatim(crds, case):
    cluster = crds
    docs = token_objects((GOLDEN / case / "want.yaml").read_text())
    manifest = "".join(t for t, _ in docs)
    objs = flat([v for _, v in docs])
    for ns in {o["metadata"].get("namespace") for o in objs} - {None}:
        cluster.create_namespace(ns)
    with applied(cluster, manifest):
        cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=manifest)
        cluster.kubectl("apply", "-f", "-", input=manifest)
        wired = 0
        for o in objs:
            meta = o["metadata"]
            got = cluster.get(path_of(o["kind"], meta["name"], meta.get("namespace")))
            assert got.get("parameters") == o.get("parameters"), meta["name"]
            want_ann = {k: v for k, v in (meta.get("annotations") or {}).items()}
            got_ann = {k: v for k, v in (got["metadata"].get("annotations") or {}).items() if k in want_ann}
            assert got_ann == want_ann, meta["name"]
            wired += px.AUTH_SECRET_ANNOTATIONS[0] in want_ann or px.SNAPSHOTTER_SECRET_PARAMS[0] in (
                o.get("parameters") or {})
        assert wired == (5 if case == "tokens" else 4)  # not vacuous: the wired objects are there


@pytest.mark.parametrize("mode", ["client-side", "server-side"])
def test_a_snapshot_class_takes_the_token_in_place(e2e, crds, tmp_path, mode):
    cluster = crds
    name = f"px-snaps-{mode}"
    plain = PLAIN_VSC.format(name=name)
    spec = tmp_path / "pxsec.yaml"
    spec.write_text(SPEC)
    daemonset = (GOLDEN / "tokens" / "input.yaml").read_text().split("---\n")[0]
    rendered = run(["pxsec", "render", "--spec", str(spec), "-"], e2e.env(), input=daemonset + "---\n" + plain)
    ((secured, view),) = [(t, v) for t, v in token_objects(rendered.stdout) if v["kind"] == "VolumeSnapshotClass"]
    assert view["parameters"][px.SNAPSHOTTER_SECRET_PARAMS[0]] == "px-user-token"
    assert f"VolumeSnapshotClass {name}" not in rendered.stderr  # no recreate warning, unlike StorageClasses
    flags = ["--server-side", "--force-conflicts"] if mode == "server-side" else []
    with applied(cluster, plain):
        cluster.kubectl("apply", *flags, "-f", "-", input=plain)
        before = cluster.get(path_of("VolumeSnapshotClass", name, None))
        cluster.kubectl("apply", *flags, "-f", "-", input=secured)
        after = cluster.get(path_of("VolumeSnapshotClass", name, None))
        assert after["metadata"]["uid"] == before["metadata"]["uid"]  # updated, not recreated
        assert after["parameters"] == view["parameters"] and after["parameters"]["repl"] == "2"


def test_a_pvc_and_a_stork_object_take_the_annotations_in_place(e2e, crds, tmp_path):
    cluster = crds
    ns = "tokens-in-place"
    cluster.create_namespace(ns)
    plain = (f"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: data, namespace: {ns}, annotations: "
             f"{{volume.beta.kubernetes.io/storage-provisioner: {px.INTREE_PROVISIONER}}}}}\nspec:\n  accessModes: "
             f"[ReadWriteOnce]\n  resources: {{requests: {{storage: 1Gi}}}}\n---\n"
             f"apiVersion: stork.libopenstorage.org/v1alpha1\nkind: Migration\n"
             f"metadata: {{name: once, namespace: {ns}}}\nspec: {{clusterPair: remote, namespaces: [{ns}]}}\n")
    spec = tmp_path / "pxsec.yaml"
    spec.write_text(SPEC)
    daemonset = (GOLDEN / "tokens" / "input.yaml").read_text().split("---\n")[0]
    rendered = run(["pxsec", "render", "--spec", str(spec), "-"], e2e.env(), input=daemonset + "---\n" + plain).stdout
    secured = "".join(t for t, _ in token_objects(rendered))
    with applied(cluster, plain):
        cluster.kubectl("apply", "-f", "-", input=plain)
        cluster.kubectl("apply", "-f", "-", input=secured)
        for kind, name in (("PersistentVolumeClaim", "data"), ("Migration", "once")):
            ann = cluster.get(path_of(kind, name, ns))["metadata"]["annotations"]
            assert (ann[px.AUTH_SECRET_ANNOTATIONS[0]], ann[px.AUTH_SECRET_ANNOTATIONS[1]]) == ("px-user-token",
                                                                                                "kube-system"), kind
