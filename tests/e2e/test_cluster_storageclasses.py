"""spec.storageClasses against the session's API server (cluster.py), issue 17 point 6.

- Accepted: the StorageClasses pxsec renders (the golden cases tests/cases/storageclasses*, CSI,
  in-tree and `${pvc.namespace}`, and a chart with a Portworx StorageClass template) pass
  `kubectl apply --dry-run=server` and a real apply, and are stored with their parameters verbatim.
- Refused in place: a StorageClass created without token parameters cannot take pxsec's version,
  by client-side or server-side apply, nor by `helm upgrade`: "updates to parameters are forbidden".
- Recreated: README "Volumes" — `kubectl delete storageclass NAME`, then re-apply (kubectl apply,
  `kustomize build --enable-alpha-plugins --enable-exec | kubectl apply`, `helm upgrade` with Helm 3
  and 4 after the upgrade that failed on it), or `kubectl replace --force`. `kubectl apply -k` is no
  way: kubectl's built-in kustomize refuses the pxsec overlay ("external plugins disabled").

A bound volume outlives the recreate. No controllers run here (no PV controller binds anything),
so each recreate test creates a PVC and a PV pre-bound to each other (PVC `spec.volumeName`, PV
`spec.claimRef` with the PVC's uid) and sets both to phase Bound through the `status`
subresource, as the PV controller would report them (the way cluster.py's HookJobController
completes Jobs). After the recreate both must still exist with the same uid, spec and status.
"""
from __future__ import annotations

import contextlib
import shutil
import urllib.error

import pytest
import yaml

from pxsec.render import stream

from .support import (CASES, CHART, RELEASE, assert_failed, install_helm4_plugin, need,
                      post_renderer_args, run)

pytestmark = pytest.mark.e2e

GOLDEN = CASES.parents[1] / "cases"  # tests/cases: the render golden cases
REFUSED = "updates to parameters are forbidden"
PVC_NAMESPACE = "${pvc.namespace}"
CSI, INTREE = "pxd.portworx.com", "kubernetes.io/portworx-volume"
PLAIN = """\
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: {name}
provisioner: {provisioner}
parameters:
  repl: "3"
"""
SPEC = """\
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
metadata: {name: px-security}
spec:
  selfSigned: {issuer: openstorage.io, sharedSecret: true}
  storageClasses:
    tokenSecret: {name: px-user-token, namespace: kube-system}
"""
CHART_STORAGECLASS = PLAIN.format(name="px-db-{{ .Release.Namespace }}", provisioner=CSI)
CHART_SPEC_SECTION = "  storageClasses:\n    tokenSecret: {name: px-user-token}\n"  # namespace: the DaemonSet's


# --- helpers ------------------------------------------------------------------------------------

def render(e2e, spec, text: str) -> str:
    return run(["pxsec", "render", "--spec", str(spec), "-"], e2e.env(), input=text).stdout


def write_spec(tmp_path, text: str = SPEC):
    path = tmp_path / "pxsec.yaml"
    path.write_text(text)
    return path


def storageclasses(text: str) -> list[tuple[str, dict]]:
    """(original text, Kubernetes' reading) of each StorageClass in a stream."""
    return [(d.text if d.text.startswith("---") else "---\n" + d.text, d.view())
            for d in stream.parse(text, "out") if d.node is not None and d.kind == "StorageClass"]


def stored(cluster, name: str) -> dict | None:
    try:
        return cluster.get(f"/apis/storage.k8s.io/v1/storageclasses/{name}")
    except urllib.error.HTTPError as err:
        if err.code == 404:
            return None
        raise


def assert_stored_verbatim(cluster, views: list[dict]) -> None:
    for view in views:
        got = stored(cluster, view["metadata"]["name"])
        assert got is not None, view["metadata"]["name"]
        assert got["provisioner"] == view["provisioner"]
        assert got.get("parameters") == view.get("parameters"), view["metadata"]["name"]


@contextlib.contextmanager
def fresh(cluster, *names: str):
    """StorageClasses (cluster-scoped) that this test owns: absent before, deleted after."""
    delete = ["delete", "storageclass", *names, "--ignore-not-found", "--wait=true"]
    cluster.kubectl(*delete)
    try:
        yield
    finally:
        cluster.kubectl(*delete)


def bound_volume(cluster, ns: str, storageclass: str) -> tuple[dict, dict]:
    """A PVC and a PV bound to each other, both phase Bound (see the module docstring)."""
    pv_name = f"pv-{ns}"
    cluster.create_namespace(ns)
    pvc = yaml.safe_load(cluster.kubectl("create", "-o", "yaml", "-f", "-", input=yaml.safe_dump({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": ns},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": storageclass, "volumeName": pv_name,
                 "resources": {"requests": {"storage": "1Gi"}}}})).stdout)
    cluster.kubectl("create", "-f", "-", input=yaml.safe_dump({
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": pv_name},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                 "persistentVolumeReclaimPolicy": "Delete", "storageClassName": storageclass,
                 "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": ns,
                              "name": "data", "uid": pvc["metadata"]["uid"]},
                 "csi": {"driver": CSI, "volumeHandle": f"{ns}-1"}}}))
    cluster.merge_patch(f"/api/v1/persistentvolumes/{pv_name}/status", {"status": {"phase": "Bound"}})
    cluster.merge_patch(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/data/status", {"status": {
        "phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}}})
    pv, pvc = volume(cluster, ns)
    assert pv["status"]["phase"] == pvc["status"]["phase"] == "Bound"
    return pv, pvc


def volume(cluster, ns: str) -> tuple[dict, dict]:
    return (cluster.get(f"/api/v1/persistentvolumes/pv-{ns}"),
            cluster.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/data"))


def assert_intact(cluster, ns: str, before: tuple[dict, dict]) -> None:
    after = volume(cluster, ns)
    for old, new in zip(before, after):
        kind = new["kind"]
        assert new["metadata"]["uid"] == old["metadata"]["uid"], kind
        assert new["metadata"].get("deletionTimestamp") is None, kind
        assert new["spec"] == old["spec"], kind
        assert new["status"] == old["status"], kind


# --- accepted and stored verbatim ---------------------------------------------------------------

@pytest.mark.parametrize("case", ["storageclasses", "storageclasses-pvc-namespace"])
def test_rendered_storageclasses_are_accepted_and_stored_verbatim(e2e, cluster, case):
    out = render(e2e, GOLDEN / case / "spec.yaml", (GOLDEN / case / "input.yaml").read_text())
    docs = storageclasses(out)
    manifest = "".join(text for text, _ in docs)
    views = [view for _, view in docs]
    names = [v["metadata"]["name"] for v in views]
    secured = [v for v in views if any(k.startswith(("csi.storage.k8s.io/", "openstorage.io/auth-secret"))
                                       for k in v.get("parameters") or {})]
    assert secured, out
    with fresh(cluster, *names):
        cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=manifest)
        assert [n for n in names if stored(cluster, n) is not None] == []  # a dry run stores nothing
        cluster.kubectl("apply", "-f", "-", input=manifest)
        assert_stored_verbatim(cluster, views)
        if case == "storageclasses-pvc-namespace":
            params = stored(cluster, "px-tenant")["parameters"]
            assert params["csi.storage.k8s.io/provisioner-secret-namespace"] == PVC_NAMESPACE
            assert sum(v == PVC_NAMESPACE for v in params.values()) == 3
        else:
            assert {stored(cluster, n)["provisioner"] for n in [v["metadata"]["name"] for v in secured]} \
                == {CSI, INTREE}


# --- refused in place ---------------------------------------------------------------------------

@pytest.mark.parametrize("provisioner", [CSI, INTREE], ids=["csi", "intree"])
@pytest.mark.parametrize("mode", ["client-side", "server-side"])
def test_in_place_update_is_refused(e2e, cluster, tmp_path, mode, provisioner):
    name = f"px-inplace-{mode}-{'csi' if provisioner == CSI else 'intree'}"
    plain = PLAIN.format(name=name, provisioner=provisioner)
    secured = render(e2e, write_spec(tmp_path), plain)
    ((_, view),) = storageclasses(secured)
    assert len(view["parameters"]) > 1, secured
    flags = ["--server-side"] if mode == "server-side" else []
    with fresh(cluster, name):
        cluster.kubectl("apply", *flags, "-f", "-", input=plain)
        before = stored(cluster, name)
        proc = cluster.kubectl("apply", *flags, "-f", "-", input=secured, check=False)
        assert_failed(proc, REFUSED, name)
        after = stored(cluster, name)
        assert after["parameters"] == {"repl": "3"}
        assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


# --- recreated, with a bound volume left alone ----------------------------------------------------

def kustomization(tmp_path, resource: str):
    """An overlay with the StorageClass and pxsec as its KRM function (README's kustomize setup)."""
    directory = tmp_path / "kustomize"
    directory.mkdir()
    (directory / "storageclass.yaml").write_text(resource)
    spec = (CASES / "kustomize-krm" / "pxsec.yaml").read_text()
    (directory / "pxsec.yaml").write_text(
        spec + "  storageClasses:\n    tokenSecret: {name: px-user-token, namespace: kube-system}\n")
    (directory / "kustomization.yaml").write_text("resources: [storageclass.yaml]\ntransformers: [pxsec.yaml]\n")
    return directory


@pytest.mark.parametrize("way", ["apply", "replace-force", "kustomize"])
def test_recreate_keeps_bound_volume(e2e, cluster, tmp_path, way):
    name, ns = f"px-recreate-{way}", f"sc-recreate-{way}"
    plain = PLAIN.format(name=name, provisioner=CSI)
    if way == "kustomize":
        overlay = kustomization(tmp_path, plain)
        secured = run([need("kustomize"), "build", "--enable-alpha-plugins", "--enable-exec", str(overlay)],
                      e2e.env(secrets=True)).stdout
    else:
        secured = render(e2e, write_spec(tmp_path), plain)
    ((_, view),) = storageclasses(secured)
    assert view["parameters"]["csi.storage.k8s.io/provisioner-secret-name"] == "px-user-token", secured
    with fresh(cluster, name):
        cluster.kubectl("apply", "-f", "-", input=plain)
        old_uid = stored(cluster, name)["metadata"]["uid"]
        before = bound_volume(cluster, ns, name)
        if way == "replace-force":  # deletes and creates in one command
            cluster.kubectl("replace", "--force", "-f", "-", input=secured)
        else:
            if way == "kustomize":  # kubectl's own kustomize runs no pxsec: README says not to use it
                refused = cluster.kubectl("apply", "-k", str(overlay), check=False)
                assert_failed(refused, "external plugins disabled")
                assert stored(cluster, name)["metadata"]["uid"] == old_uid
            cluster.kubectl("delete", "storageclass", name, "--wait=true")
            cluster.kubectl("apply", "-f", "-", input=secured)
        assert stored(cluster, name)["metadata"]["uid"] != old_uid  # recreated, not updated
        assert_stored_verbatim(cluster, [view])
        assert_intact(cluster, ns, before)


def helm(e2e, cluster, major, *args, check=True):
    exe = need(major)
    if major == "helm4":
        install_helm4_plugin(e2e, exe)
    return run([exe, *args], cluster.env(e2e.env(secrets=True)), check=check)


@pytest.mark.parametrize("major", ["helm3", "helm4"])
def test_helm_upgrade_is_refused_then_recreates_after_delete(e2e, cluster, tmp_path, major):
    ns = f"{major}-sc"
    name = f"px-db-{ns}"
    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)  # the shared fixture stays as it is
    (chart / "templates" / "storageclass.yaml").write_text(CHART_STORAGECLASS)
    spec = tmp_path / "pxsec.yaml"
    spec.write_text((CASES / "helm4" / "spec.yaml").read_text() + CHART_SPEC_SECTION)
    with_pxsec = ["--post-renderer", "pxsec", *post_renderer_args(spec)]
    cluster.create_namespace(ns)

    template = helm(e2e, cluster, major, "template", RELEASE, str(chart), "--namespace", ns, *with_pxsec).stdout
    ((text, view),) = storageclasses(template)
    assert view["parameters"]["csi.storage.k8s.io/provisioner-secret-namespace"] == ns, text
    with fresh(cluster, name):
        cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=text)
        assert stored(cluster, name) is None

        helm(e2e, cluster, major, "install", RELEASE, str(chart), "--namespace", ns)  # without pxsec
        old_uid = stored(cluster, name)["metadata"]["uid"]
        before = bound_volume(cluster, ns, name)

        failed = helm(e2e, cluster, major, "upgrade", RELEASE, str(chart), "--namespace", ns, *with_pxsec,
                      check=False)
        assert_failed(failed, REFUSED)
        assert stored(cluster, name)["parameters"] == {"repl": "3"}

        cluster.kubectl("delete", "storageclass", name, "--wait=true")
        helm(e2e, cluster, major, "upgrade", RELEASE, str(chart), "--namespace", ns, *with_pxsec)
        assert stored(cluster, name)["metadata"]["uid"] != old_uid
        assert_stored_verbatim(cluster, [view])
        assert_intact(cluster, ns, before)
        helm(e2e, cluster, major, "uninstall", RELEASE, "--namespace", ns)
