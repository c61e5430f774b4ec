"""`pxsec check` PXS050-PXS055: the other objects that carry a token once PX-Security is on (issue 22).
Each rule: a manifest with the problem (field and line pinned) and one without. The readers each
rule encodes are cited in renderer/audit/rules_tokens.py (external-snapshotter GetSecretReference,
openstorage parseSecret, stork getUserVolDriver/mergeAuthLabels/StartBackup, storkctl
generateClusterPair)."""
from __future__ import annotations

import pytest
import yaml

from check.manifests import check, of, portworx, storagecluster, text
from pxsec import audit, portworx as pw
from pxsec import spec as specmod

NAME, NAMESPACE = pw.AUTH_SECRET_ANNOTATIONS
TOKEN = {NAME: "px-user-token", NAMESPACE: "portworx"}


def vsc(name="px-snaps", params=None, driver=pw.CSI_PROVISIONER):
    out = {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass", "metadata": {"name": name},
           "driver": driver, "deletionPolicy": "Delete"}
    if params is not None:
        out["parameters"] = params
    return out


def snap_params(ns="portworx", drop=()):
    return {p: ("px-user-token" if p.endswith("-name") else ns)
            for p in pw.SNAPSHOTTER_SECRET_PARAMS + pw.SNAPSHOTTER_LIST_SECRET_PARAMS if p not in drop}


def intree_sc(params=None):
    out = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "px-intree"},
           "provisioner": pw.INTREE_PROVISIONER}
    if params is not None:
        out["parameters"] = params
    return out


def pvc(ann=None, cls="px-intree"):
    meta = {"name": "data", "namespace": "apps", **({"annotations": ann} if ann is not None else {})}
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
            "spec": {"storageClassName": cls, "accessModes": ["ReadWriteOnce"]}}


def stork_obj(kind="Migration", ann=None, spec=None):
    meta = {"name": "m", "namespace": "apps", **({"annotations": ann} if ann is not None else {})}
    return {"apiVersion": "stork.libopenstorage.org/v1alpha1", "kind": kind, "metadata": meta,
            "spec": spec or {"clusterPair": "remote"}}


def found(*objs, rule, spec=None):
    src = text(*objs)
    return src, of(audit.check([("in.yaml", src)], spec).findings, rule)


# PXS050 / PXS051 --------------------------------------------------------------------------------

def test_snapshot_class_without_a_token_is_a_warning_when_security_is_on():
    _, [f] = found(storagecluster(), vsc(), rule="PXS050")
    assert (f.severity, f.kind, f.name, f.field) == ("warning", "VolumeSnapshotClass", "px-snaps", "driver")
    assert pw.SNAPSHOTTER_SECRET_PARAMS[0] in f.message
    for objs in ((storagecluster(security=False), vsc()), (storagecluster(), vsc(params=snap_params())),
                 (storagecluster(), vsc(driver="ebs.csi.aws.com")), (portworx(issuer=None, env=[]), vsc())):
        assert of(check(*objs), "PXS050") == []


def test_half_a_snapshotter_pair_or_a_templated_list_namespace_is_an_error():
    _, [f] = found(storagecluster(), vsc(params=snap_params(drop=(pw.SNAPSHOTTER_SECRET_PARAMS[1],))), rule="PXS051")
    assert f.severity == "error" and f.field == f'parameters["{pw.SNAPSHOTTER_SECRET_PARAMS[0]}"]'
    src, [f] = found(storagecluster(), vsc(params=snap_params(ns=pw.VOLUMESNAPSHOT_NAMESPACE)), rule="PXS051")
    assert f.field == f'parameters["{pw.SNAPSHOTTER_LIST_SECRET_PARAMS[1]}"]' and f.line is not None
    assert of(check(storagecluster(), vsc(params=snap_params())), "PXS051") == []


# PXS052 / PXS053 --------------------------------------------------------------------------------

def test_intree_pvc_without_a_token_anywhere_is_a_warning():
    _, [f] = found(storagecluster(), intree_sc(), pvc(), rule="PXS052")
    assert (f.severity, f.name, f.namespace, f.field) == ("warning", "data", "apps", "metadata")
    fine = [(storagecluster(), intree_sc(), pvc(TOKEN)),  # annotated
            (storagecluster(), intree_sc({p: "x" for p in pw.INTREE_SECRET_PARAMS}), pvc()),  # its class has one
            (storagecluster(), intree_sc(), pvc(cls="px-csi")),  # not an in-tree Portworx PVC
            (storagecluster(security=False), intree_sc(), pvc())]
    for objs in fine:
        assert of(check(*objs), "PXS052") == []
    by_provisioner = pvc({"volume.beta.kubernetes.io/storage-provisioner": pw.INTREE_PROVISIONER}, cls="elsewhere")
    assert len(of(check(storagecluster(), by_provisioner), "PXS052")) == 1


@pytest.mark.parametrize("obj", [pvc({NAME: "px-user-token"}), stork_obj(ann={NAMESPACE: "portworx"}),
                                 stork_obj("MigrationSchedule", {NAME: "t", NAMESPACE: pw.PVC_NAMESPACE}),
                                 pvc({NAME: "t", NAMESPACE: pw.PVC_NAMESPACE})])
def test_annotations_that_name_no_secret_are_an_error(obj):
    src, [f] = found(storagecluster(), intree_sc(), obj, rule="PXS053")
    assert f.severity == "error" and f.field.startswith("metadata.annotations[") and f.line is not None


def test_backups_may_keep_the_per_namespace_template():
    obj = stork_obj("ApplicationBackup", {NAME: "t", NAMESPACE: pw.PVC_NAMESPACE}, {"backupLocation": "s3"})
    assert of(check(storagecluster(), obj), "PXS053") == []


# PXS054 / PXS055 --------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(pw.STORK_TOKEN_KINDS))
def test_stork_objects_without_a_token_are_a_warning(kind):
    _, [f] = found(storagecluster(), stork_obj(kind), rule="PXS054")
    assert f.severity == "warning" and f.kind == kind and NAME in f.message
    assert of(check(storagecluster(), stork_obj(kind, TOKEN)), "PXS054") == []
    assert of(check(storagecluster(security=False), stork_obj(kind)), "PXS054") == []


def test_restores_and_clusterpairs_are_not_asked_for_annotations():
    restore = stork_obj("ApplicationRestore", spec={"backupName": "b"})
    pair = stork_obj("ClusterPair", spec={"options": {"token": "x"}})
    assert of(check(storagecluster(), restore, pair), "PXS054") == []


def test_a_clusterpair_made_before_security_is_a_note_with_the_reset_guidance():
    pair = stork_obj("ClusterPair", spec={"options": {"ip": "10.0.0.1", "token": "cluster-token"}})
    src, [f] = found(storagecluster(), pair, rule="PXS055")
    assert (f.severity, f.field) == ("note", "spec.options.token") and "pxctl cluster token reset" in f.message
    assert "cluster-token" not in f.message
    storkctl = stork_obj("ClusterPair", {NAME: "px-admin-token", NAMESPACE: "portworx"}, {"options": {"token": "x"}})
    assert of(check(storagecluster(), storkctl), "PXS055") == []
    assert of(check(storagecluster(security=False), pair), "PXS055") == []


def test_objects_the_spec_leaves_out_are_not_reported_with_that_spec():
    spec = specmod.from_document(yaml.safe_load("""
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
spec:
  selfSigned: {issuer: px.example, sharedSecret: true}
  tokens: {stork: {exclude: [apps/m]}, volumeSnapshotClasses: {include: []}}
"""), "<spec>")
    objs = (storagecluster(), stork_obj(), vsc())
    assert {f.rule_id for f in check(*objs)} >= {"PXS050", "PXS054"}
    assert not {f.rule_id for f in check(*objs, spec=spec)} & {"PXS050", "PXS054"}
