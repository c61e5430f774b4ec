"""spec.tokens (issue 22): one token Secret, wired into every object that carries a Portworx token.

What each kind reads, and so what render writes (the sources the filters cite):
- VolumeSnapshotClass: external-snapshotter pkg/utils/util.go `SnapshotterSecretParams`,
  `SnapshotterListSecretParams`, `GetSecretReference` (the list Secret is resolved with no
  VolumeSnapshot: only a literal namespace works there); openstorage csi/csi.go `setupContext`.
- PVC: openstorage api/server/middleware_auth.go `parseSecret` (annotations read literally).
- Stork: drivers/volume/portworx/portworx.go `getUserVolDriver` (Migration: "templatized ns not
  supported"), `StartBackup` -> `getUserToken(authLabels, pvc.Namespace)` (ApplicationBackup
  substitutes ${pvc.namespace}); `StartRestore` reads the backup's volume info, not the restore.
- ClusterPair: pkg/storkctl/clusterpair.go `generateClusterPair` adds the auth annotations only for
  a secured cluster; `CreatePair` sends options.token, which `pxctl cluster token reset` replaces.
"""
from __future__ import annotations

import pytest
import yaml

from conftest import ROOT, run_pxsec
from pxsec.render import pipeline, stream
from pxsec import portworx as px
from pxsec import spec as specmod
from pxsec.errors import PxsecError

CASES = ROOT / "tests" / "cases"
NAME, NAMESPACE = px.AUTH_SECRET_ANNOTATIONS
SPEC = """\
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
metadata: {name: px-security}
spec:
  selfSigned: {issuer: openstorage.io, sharedSecret: true}
"""
DAEMONSET = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: portworx, namespace: kube-system}
spec:
  template:
    spec:
      containers:
      - {name: portworx, image: "portworx/oci-monitor:3.1.0", args: [-c, px-cluster]}
"""


def spec(section: str = "  tokens: {}\n"):
    return specmod.from_document(yaml.safe_load(SPEC + section), "<spec>")


def render(text: str, section: str = "  tokens: {}\n", environ=None):
    return pipeline.render([("in.yaml", DAEMONSET + "---\n" + text)], spec(section), environ=environ)


def objects(text: str) -> dict:
    """(kind, name) -> the object as Kubernetes reads it, List items included."""
    out = {}
    for d in stream.parse(text, "out"):
        obj = d.view() if d.node is not None else None
        for o in (obj.get("items") or []) if isinstance(obj, dict) and "items" in obj else [obj]:
            if isinstance(o, dict):
                out[(o["kind"], o["metadata"]["name"])] = o
    return out


def annotations(o: dict) -> dict:
    return o["metadata"].get("annotations") or {}


# --- the golden case, object by object, and check --strict on it ------------------------------------

def test_every_kind_in_the_stream_carries_the_token():
    out = objects((CASES / "tokens" / "want.yaml").read_text())
    vsc = out[("VolumeSnapshotClass", "px-csi-snapclass")]["parameters"]
    assert vsc == {p: ("px-user-token" if p.endswith("-name") else "kube-system")
                   for p in px.SNAPSHOTTER_SECRET_PARAMS + px.SNAPSHOTTER_LIST_SECRET_PARAMS}
    for key in (("PersistentVolumeClaim", "data"), ("MigrationSchedule", "nightly"), ("ApplicationBackup", "weekly"),
                ("VolumeSnapshotSchedule", "hourly")):
        assert annotations(out[key]) == {NAME: "px-user-token", NAMESPACE: "kube-system"}, key
    for key in (("PersistentVolumeClaim", "logs"), ("Migration", "keep-as-is"), ("ApplicationRestore", "restore"),
                ("ClusterPair", "remote")):
        assert NAME not in annotations(out[key]), key  # CSI PVC, excluded, read from the backup, read by nothing
    assert "parameters" not in out[("VolumeSnapshotClass", "ebs")]
    assert out[("ClusterPair", "remote")]["spec"]["options"]["token"] == "made-before-security"


def test_per_namespace_tokens_take_the_form_each_reader_resolves():
    out = objects((CASES / "tokens-pvc-namespace" / "want.yaml").read_text())
    assert out[("VolumeSnapshotClass", "px-tenant-snaps")]["parameters"] == {
        px.SNAPSHOTTER_SECRET_PARAMS[0]: "tenant-token", px.SNAPSHOTTER_SECRET_PARAMS[1]: "${volumesnapshot.namespace}"}
    assert annotations(out[("PersistentVolumeClaim", "data")])[NAMESPACE] == "tenant-a"
    assert annotations(out[("Migration", "once")])[NAMESPACE] == "tenant-a"
    assert annotations(out[("ApplicationBackupSchedule", "nightly")])[NAMESPACE] == px.PVC_NAMESPACE
    err = (CASES / "tokens-pvc-namespace" / "want-stderr.txt").read_text()
    assert "px-tenant-snaps: no snapshotter-list-secret" in err


def _check(tmp_path, name: str, text: str, *args: str):
    path = tmp_path / name
    path.write_text(text)
    return run_pxsec(["check", "--strict", *args, str(path)])


def test_check_strict_passes_on_the_rendered_stream_and_fails_on_the_input(tmp_path):
    """The input secured without spec.tokens (what pxsec did before issue 22) fails --strict on
    each token-less kind; the same input rendered with spec.tokens passes it."""
    d = CASES / "tokens"
    source = (d / "input.yaml").read_text()
    before = pipeline.render([("input.yaml", source)], spec("")).text  # workloads secured, nothing else
    failed = _check(tmp_path, "before.yaml", before, "--format", "json")
    assert failed.returncode == 1
    import json
    found = {f["rule_id"] for f in json.loads(failed.stdout)["findings"]}
    assert {"PXS050", "PXS052", "PXS054", "PXS055"} <= found, found
    assert _check(tmp_path, "input.yaml", source).returncode == 1  # and the raw input too (security off)
    passed = _check(tmp_path, "want.yaml", (d / "want.yaml").read_text(), "--spec", str(d / "spec.yaml"))
    assert passed.returncode == 0, passed.stdout.decode() + passed.stderr.decode()
    assert b"PXS055" in passed.stdout  # the pair's token still predates the reset: a note render cannot fix


# --- the spec ---------------------------------------------------------------------------------------

def test_tokens_and_storageclasses_are_exclusive():
    with pytest.raises(PxsecError) as e:
        spec("  tokens: {}\n  storageClasses: {}\n")
    assert e.value.location.field == "spec.tokens" and "exclusive" in e.value.message


def test_tokens_wires_storageclasses_with_its_own_selection():
    s = spec("  tokens:\n    tokenSecret: {name: t, namespace: ns}\n    storageClasses: {exclude: [a]}\n"
             "    persistentVolumeClaims: {include: [apps/data, logs]}\n")
    assert s.storage_classes == specmod.StorageClasses("t", "ns", None, ("a",), "tokens")
    assert s.tokens.pvcs.selects("data", "apps") and s.tokens.pvcs.selects("logs", "other")
    assert not s.tokens.pvcs.selects("data", "other")
    assert s.tokens.stork.selects("x", "y") and spec("").tokens is None


# --- render -----------------------------------------------------------------------------------------

VSC = """\
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshotClass
metadata: {name: snaps}
driver: pxd.portworx.com
deletionPolicy: Delete
parameters:
  csi.storage.k8s.io/snapshotter-secret-name: old-token
  csi.storage.k8s.io/snapshotter-secret-namespace: kube-system
"""
PVC = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  storageClassName: px-intree
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: px-intree}
provisioner: kubernetes.io/portworx-volume
"""


def test_a_snapshot_class_naming_another_secret_is_repointed_with_a_warning_and_no_recreate():
    r = render(VSC)
    params = objects(r.text)[("VolumeSnapshotClass", "snaps")]["parameters"]
    assert params[px.SNAPSHOTTER_SECRET_PARAMS[0]] == "px-user-token"
    assert any("replaced token Secret old-token" in w for w in r.warnings)
    assert not any("snaps" in w and "delete" in w for w in r.warnings)  # updatable in place (e2e: the API server)


def test_without_spec_tokens_nothing_but_storageclasses_changes():
    text = VSC + "---\n" + PVC
    out = render(text, "  storageClasses: {}\n").text
    assert (VSC + "---\n" + PVC.split("---\n")[0]) in out


def test_per_namespace_token_on_a_pvc_without_namespace_is_an_error_naming_the_field():
    per_pvc = "  tokens:\n    tokenSecret: {namespace: \"${pvc.namespace}\"}\n    storageClasses: {include: []}\n"
    with pytest.raises(PxsecError) as e:
        render(PVC, per_pvc)
    assert e.value.location.field == "metadata.namespace" and e.value.location.kind == "PersistentVolumeClaim"
    listed = "apiVersion: v1\nkind: List\nitems:\n- " + PVC.split("---\n")[0].replace("\n", "\n  ").rstrip() + "\n"
    with pytest.raises(PxsecError) as e:
        render(listed + "---\n" + PVC.split("---\n")[1], per_pvc)
    assert e.value.location.field == "items[0].metadata.namespace"


def test_one_token_secret_warning_for_both_passes():
    r = render(VSC + "---\n" + PVC)
    assert sum("need token Secret px-user-token" in w for w in r.warnings) == 1


def test_generated_key_secrets_follow_the_workloads_not_the_token_objects():
    env = {px.SYSTEM_KEY: "s" * 40, px.STORK_KEY: "t" * 40, px.SHARED_KEY: "u" * 40}
    pvc = PVC.replace("metadata: {name: data}", "metadata: {name: data, namespace: apps}")
    creating = SPEC.replace("spec:\n", "spec:\n  secret: {create: true}\n") + "  tokens: {}\n"
    r = pipeline.render([("in.yaml", DAEMONSET + "---\n" + pvc)],
                        specmod.from_document(yaml.safe_load(creating), "<spec>"), environ=env)
    assert r.generated == ["Secret kube-system/pxsec-auth-keys"]
    assert annotations(objects(r.text)[("PersistentVolumeClaim", "data")])[NAME] == "px-user-token"


def test_rendering_twice_changes_nothing():
    first = render(VSC + "---\n" + PVC).text
    again = pipeline.render([("out.yaml", first)], spec()).text
    assert again == first


# --- the README section ----------------------------------------------------------------------------

def _readme_section() -> str:
    import re
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"^## Volumes, snapshots and migrations after security is on\n(.*?)(?=^## )", readme, re.S | re.M)
    assert m, "README has no 'Volumes, snapshots and migrations after security is on' section"
    return m.group(1)


def test_readme_section_names_each_wired_kind_and_its_sample_spec_is_valid():
    section = _readme_section()
    for kind in list(px.STORK_TOKEN_KINDS) + ["VolumeSnapshotClass", "ApplicationRestore", "ClusterPair"]:
        assert f"`{kind}`" in section or kind in section, kind
    sample = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    s = specmod.from_document(yaml.safe_load(SPEC + sample), "<readme>")
    assert s.tokens.pvcs.include == ("apps/data",) and s.storage_classes.exclude == ("px-scratch",)
    for line in (ln for ln in section.splitlines() if "pxsec token generate" in ln):
        assert "--spec pxsec.yaml --role system.user --secret px-user-token -n " in line, line
