"""The other objects that carry a Portworx token once PX-Security is on (PXS050-PXS055).

- A Portworx VolumeSnapshotClass (driver pxd.portworx.com) passes the Secret its
  `csi.storage.k8s.io/snapshotter-secret-*` parameters name to CreateSnapshot/DeleteSnapshot, and
  `snapshotter-list-secret-*` to ListSnapshots (external-snapshotter pkg/utils/util.go
  GetSecretReference); Portworx reads its key auth-token (openstorage csi/csi.go setupContext).
- An in-tree Portworx PVC names its token with `openstorage.io/auth-secret-*` annotations
  (openstorage api/server/middleware_auth.go parseSecret), else its StorageClass's parameters.
- Stork Migration, MigrationSchedule, ApplicationBackup(Schedule) and VolumeSnapshotSchedule name it
  with the same annotations (stork drivers/volume/portworx/portworx.go getUserVolDriver,
  mergeAuthLabels); without them Stork's REST client calls Portworx with no token (getRestClient).
- A ClusterPair's options.token is the remote cluster's pairing token, which
  `pxctl cluster token reset` replaces after security is turned on.

Names live in renderer/portworx.py. "Security on": any secured Portworx workload in the input.
"""
from __future__ import annotations

from .. import portworx as pw
from .inventory import Inventory
from .model import Finding
from .objects import Obj, as_dict, get



def _key(o: Obj) -> tuple:
    return (o.doc.source, o.doc.index, o.prefix)


def left_out_tokens(inv: Inventory, tokens) -> set:
    """The objects a spec's `tokens` include/exclude leaves out (render's own selection)."""
    sel = {pw.SNAPSHOTCLASS: tokens.snapshot_classes, pw.PVC: tokens.pvcs, pw.STORK_OBJECT: tokens.stork}
    return {_key(o) for o in inv.token_objects if not sel[o.role].selects(o.name, o.namespace)}


def _secured(inv: Inventory):
    return next((p for p in inv.portworx if p.enabled), None)


def _objects(inv: Inventory, role: str) -> list[Obj]:
    return [o for o in inv.token_objects if o.role == role and _key(o) not in inv.left_out_tokens]


def _intree_pvcs(inv: Inventory) -> list[Obj]:
    intree = {o.name for o in inv.storageclasses if pw.storageclass_kind(o.data) == "intree"}
    return [o for o in _objects(inv, pw.PVC) if pw.pvc_intree(o.data, intree)]


def _class_has_token(inv: Inventory, pvc: Obj) -> bool:
    cls = get(pvc.data, "spec", "storageClassName") or pvc.annotations().get(pw.PVC_CLASS_ANNOTATION)
    return any(o.name == cls and all(k in as_dict(o.data.get("parameters")) for k in pw.INTREE_SECRET_PARAMS)
               for o in inv.storageclasses)


def _anchor(o: Obj) -> tuple:
    return ("metadata", "annotations") if o.annotations() else ("metadata",)


def snapshotclass_token_missing(inv: Inventory) -> list[Finding]:
    """PXS050: a Portworx VolumeSnapshotClass without the snapshotter Secret, security on."""
    px = _secured(inv)
    if px is None:
        return []
    out = []
    for o in _objects(inv, pw.SNAPSHOTCLASS):
        params = as_dict(o.data.get("parameters"))
        if not any(k in params for k in pw.SNAPSHOTTER_SECRET_PARAMS):
            out.append(o.at("PXS050", ("parameters",) if "parameters" in o.data else ("driver",),
                            f"VolumeSnapshotClass {o.name} has no {pw.SNAPSHOTTER_SECRET_PARAMS[0]}/-namespace: with "
                            f"{px.obj.label} secured, its snapshots are requested without a token and Portworx refuses "
                            f"those of private volumes"))
    return out


def snapshotclass_token_invalid(inv: Inventory) -> list[Finding]:
    """PXS051: half a snapshotter Secret pair, or a list Secret namespace the snapshotter cannot resolve."""
    out = []
    for o in _objects(inv, pw.SNAPSHOTCLASS):
        params = as_dict(o.data.get("parameters"))
        for pair in (pw.SNAPSHOTTER_SECRET_PARAMS, pw.SNAPSHOTTER_LIST_SECRET_PARAMS):
            present = [k for k in pair if k in params]
            if len(present) == 1:
                missing = next(k for k in pair if k not in params)
                out.append(o.at("PXS051", ("parameters", present[0]), f"VolumeSnapshotClass {o.name} sets "
                                f"{present[0]} without {missing}: the CSI snapshotter refuses the class "
                                f"(both must be specified)"))
        ns = params.get(pw.SNAPSHOTTER_LIST_SECRET_PARAMS[1])
        if isinstance(ns, str) and pw.VOLUMESNAPSHOT_NAMESPACE in ns:
            out.append(o.at("PXS051", ("parameters", pw.SNAPSHOTTER_LIST_SECRET_PARAMS[1]),
                            f"VolumeSnapshotClass {o.name}: the list Secret is resolved without a VolumeSnapshot, so "
                            f"{pw.VOLUMESNAPSHOT_NAMESPACE} cannot resolve there; use a literal namespace"))
    return out


def pvc_token_missing(inv: Inventory) -> list[Finding]:
    """PXS052: an in-tree Portworx PVC with no token annotations whose StorageClass names no token either."""
    px = _secured(inv)
    if px is None:
        return []
    return [o.at("PXS052", _anchor(o), f"{o.label} asks the in-tree Portworx "
                 f"provisioner with no {pw.AUTH_SECRET_ANNOTATIONS[0]}/-namespace annotations and no token in its StorageClass: with "
                 f"{px.obj.label} secured, its volume is made without a token (public, or refused)")
            for o in _intree_pvcs(inv) if pw.AUTH_SECRET_ANNOTATIONS[0] not in o.annotations() and pw.AUTH_SECRET_ANNOTATIONS[1] not in o.annotations()
            and not _class_has_token(inv, o)]


def token_annotations_invalid(inv: Inventory) -> list[Finding]:
    """PXS053: one of the two annotations, or ${pvc.namespace} where its reader takes it literally."""
    out = []
    for o in _intree_pvcs(inv) + _objects(inv, pw.STORK_OBJECT):
        if o.kind == pw.CLUSTERPAIR:
            continue  # Stork never reads a ClusterPair's annotations
        ann = o.annotations()
        present = [k for k in (pw.AUTH_SECRET_ANNOTATIONS[0], pw.AUTH_SECRET_ANNOTATIONS[1]) if k in ann]
        if len(present) == 1:
            missing = pw.AUTH_SECRET_ANNOTATIONS[1] if present[0] == pw.AUTH_SECRET_ANNOTATIONS[0] else pw.AUTH_SECRET_ANNOTATIONS[0]
            out.append(o.at("PXS053", ("metadata", "annotations", present[0]), f"{o.label} sets {present[0]} without "
                            f"{missing}: the token Secret cannot be found"))
        elif ann.get(pw.AUTH_SECRET_ANNOTATIONS[1]) == pw.PVC_NAMESPACE and not pw.STORK_TOKEN_KINDS.get(o.kind, False):
            out.append(o.at("PXS053", ("metadata", "annotations", pw.AUTH_SECRET_ANNOTATIONS[1]), f"{o.label}: {pw.PVC_NAMESPACE} is read "
                            f"literally here (only ApplicationBackup(Schedule) substitutes it): use a namespace"))
    return out


def stork_token_missing(inv: Inventory) -> list[Finding]:
    """PXS054: a Stork object that carries a token, without the annotations, security on."""
    px = _secured(inv)
    if px is None:
        return []
    return [o.at("PXS054", _anchor(o), f"{o.label} has no {pw.AUTH_SECRET_ANNOTATIONS[0]}/-namespace annotations: with {px.obj.label} "
                 f"secured, Stork calls Portworx for it without a token and private volumes are refused")
            for o in _objects(inv, pw.STORK_OBJECT)
            if o.kind != pw.CLUSTERPAIR and pw.AUTH_SECRET_ANNOTATIONS[0] not in o.annotations() and pw.AUTH_SECRET_ANNOTATIONS[1] not in o.annotations()]


def clusterpair_token_predates_reset(inv: Inventory) -> list[Finding]:
    """PXS055: a ClusterPair whose options.token was made for a cluster without security."""
    px = _secured(inv)
    if px is None:
        return []
    return [o.at("PXS055", ("spec", "options", "token"), f"ClusterPair {o.name}: without the auth annotations "
                 f"`storkctl create clusterpair` adds for a secured cluster, its token likely predates PX-Security on "
                 f"{px.obj.label}: run `pxctl cluster token reset` on the paired cluster, then recreate the pair")
            for o in _objects(inv, pw.STORK_OBJECT)
            if o.kind == pw.CLUSTERPAIR and get(o.data, "spec", "options", "token") and pw.AUTH_SECRET_ANNOTATIONS[0] not in o.annotations()]


RULE_FUNCTIONS = (snapshotclass_token_missing, snapshotclass_token_invalid, pvc_token_missing,
                  token_annotations_invalid, stork_token_missing, clusterpair_token_predates_reset)
