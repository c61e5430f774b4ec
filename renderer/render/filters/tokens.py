"""spec.tokens: the other objects that carry a Portworx token, pointed at the one token Secret.

Run in render's second pass, beside the StorageClasses (which spec.tokens wires through
filters/storageclass.py), once the workloads and so the default namespace are known.

- **VolumeSnapshotClass** (driver `pxd.portworx.com`): `csi.storage.k8s.io/snapshotter-secret-*`
  (CreateSnapshot, DeleteSnapshot) and `snapshotter-list-secret-*` (ListSnapshots), which the CSI
  snapshotter resolves and passes to the driver (external-snapshotter pkg/utils/util.go
  `GetSecretReference`); Portworx reads key `auth-token` (openstorage csi/csi.go `setupContext`).
  Its parameters can be changed in place (the CRD has no immutability rule, unlike
  VolumeGroupSnapshotClass): no recreate warning.
- **PersistentVolumeClaim** of an in-tree Portworx StorageClass: `openstorage.io/auth-secret-*`
  annotations (openstorage api/server/middleware_auth.go `parseSecret` reads them first).
- **Stork** Migration, MigrationSchedule, ApplicationBackup, ApplicationBackupSchedule,
  VolumeSnapshotSchedule: the same annotations (stork drivers/volume/portworx/portworx.go
  `getUserVolDriver`, `mergeAuthLabels`; schedules copy theirs to what they create).
- **ClusterPair**: its `options.token` is the remote cluster's pairing token, not a JWT pxsec can
  make: `pxctl cluster token reset` replaces it. A pair without the auth annotations that
  `storkctl create clusterpair` adds for a secured cluster (pkg/storkctl/clusterpair.go
  generateClusterPair) was likely made before security: warned about, never changed.
"""
from __future__ import annotations

from ... import portworx as px
from ...errors import PxsecError
from . import common as c

CLUSTERPAIR_WARNING = ("ClusterPair {label}: its options.token likely predates PX-Security; run `pxctl cluster token "
                       "reset` on the paired cluster, then recreate this pair")
LIST_SKIPPED = ("VolumeSnapshotClass {name}: no snapshotter-list-secret: the snapshotter lists snapshots without a "
                "VolumeSnapshot, so ${{pvc.namespace}} has no per-namespace form there")


def _meta(obj: dict) -> dict:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _set(params: dict, want: dict, report: c.Report, what: str) -> list[str]:
    """Set `want` in `params`; the names of other token Secrets it replaced."""
    stale = sorted({f"{params[k]}" for k in want if k.endswith("-name") and k in params and params[k] != want[k]})
    for key, value in want.items():
        if params.get(key) != value:
            params[key] = value
            report.add(f"set {what} {key}")
    return stale


def snapshotclass(obj: dict, secret: str, namespace: str, loc) -> c.Report:
    """Point a Portworx VolumeSnapshotClass at the token Secret."""
    report = c.Report()
    name = _meta(obj).get("name")
    absent = obj.get("parameters") is None
    params = c.child(obj, "parameters", dict, loc, "parameters")
    names = px.SNAPSHOTTER_SECRET_PARAMS
    if namespace == px.PVC_NAMESPACE:  # the snapshot's namespace is its PVC's
        namespace = px.VOLUMESNAPSHOT_NAMESPACE
        if not any(k in params for k in px.SNAPSHOTTER_LIST_SECRET_PARAMS):
            report.warnings.append(LIST_SKIPPED.format(name=name))
    else:
        names += px.SNAPSHOTTER_LIST_SECRET_PARAMS
    want = {p: (secret if p.endswith("-name") else namespace) for p in names}
    stale = _set(params, want, report, "parameter")
    if stale:
        report.warnings.append(f"VolumeSnapshotClass {name}: replaced token Secret {', '.join(stale)} with {secret}")
    if absent and not report.changes:
        del obj["parameters"]
    return report


def annotate(obj: dict, secret: str, namespace: str, loc, templated: bool = False) -> c.Report:
    """Set the openstorage.io/auth-secret-* annotations of a PVC or Stork object. `${pvc.namespace}`
    stays only where the reader substitutes it (`templated`); elsewhere it is the object's namespace."""
    report = c.Report()
    meta = c.child(obj, "metadata", dict, loc, "metadata")
    if namespace == px.PVC_NAMESPACE and not templated:
        own = meta.get("namespace")
        if not isinstance(own, str) or not own:
            raise PxsecError(f"{obj.get('kind')} has no metadata.namespace to stand for ${{pvc.namespace}} (Stork and "
                             f"openstorage read this annotation literally); set one, set spec.tokens.tokenSecret."
                             f"namespace, or exclude it", c.at(loc, "metadata.namespace"))
        namespace = own
    ann = c.child(meta, "annotations", dict, loc, "metadata.annotations")
    want = {px.AUTH_SECRET_ANNOTATIONS[0]: secret, px.AUTH_SECRET_ANNOTATIONS[1]: namespace}
    stale = _set(ann, want, report, "annotation")
    if stale:
        ns = f"{meta.get('namespace')}/" if meta.get("namespace") else ""
        report.warnings.append(f"{obj.get('kind')} {ns}{meta.get('name')}: replaced token Secret "
                               f"{', '.join(stale)} with {secret}")
    return report


def clusterpair_warning(obj: dict) -> str | None:
    """A ClusterPair whose token was made for a cluster without security (see the module docstring)."""
    opts = px.get(obj, "spec", "options")
    ann = _meta(obj).get("annotations")
    if not isinstance(opts, dict) or not opts.get("token"):
        return None
    if isinstance(ann, dict) and px.AUTH_SECRET_ANNOTATIONS[0] in ann:
        return None
    meta = _meta(obj)
    label = f"{meta['namespace']}/{meta.get('name')}" if meta.get("namespace") else f"{meta.get('name')}"
    return CLUSTERPAIR_WARNING.format(label=label)


def apply(role: str, obj: dict, secret: str, namespace: str, loc) -> c.Report:
    """Wire one object of a TOKEN_ROLES role (a ClusterPair only gets its warning)."""
    if role == px.SNAPSHOTCLASS:
        return snapshotclass(obj, secret, namespace, loc)
    if obj.get("kind") == px.CLUSTERPAIR:
        report = c.Report()
        warning = clusterpair_warning(obj)
        if warning:
            report.warnings.append(warning)
        return report
    return annotate(obj, secret, namespace, loc, templated=px.STORK_TOKEN_KINDS.get(obj.get("kind"), False))
