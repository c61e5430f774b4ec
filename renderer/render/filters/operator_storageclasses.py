"""The operator's default StorageClasses, once guest access is disabled (issue 21.6).

libopenstorage/operator component/portworx_sc.go `Reconcile` (run by portworx.go `PreInstall`)
creates px-db, px-replicated, ... (and px-csi-* for PX >= 2.2) in the cluster, never in the
stream, with no token parameters: with guestAccess Disabled every PVC on them is refused. It
creates them through k8s.go `CreateStorageClass`, which leaves an existing class of that name alone.

So when the spec has `storageClasses`, pxsec emits secured equivalents, same names and parameters
plus the token parameters: on a new cluster they exist before the operator looks, and it keeps
them; where the operator already made them, they must be recreated (parameters are immutable). pxsec
does NOT set `portworx.io/disable-storage-class: "true"`: the component's `Delete` then runs on
every reconcile and deletes every unowned class of those names (`DeleteStorageClass`), the secured
ones included. Without `storageClasses` in the spec (or with no namespace for the token), it warns.
"""
from __future__ import annotations

from ... import portworx as px, px_version
from ...errors import Location, PxsecError
from ...kubeyaml.kyaml import dump
from ..stream import Document, Stream
from . import operator_warnings, storageclass

_DB = {"repl": "3", "io_profile": "db_remote"}
_SCHEDULE = "schedulePolicyName: default-daily-policy\nannotations:\n  portworx/snapshot-type: {}\n"


def default_classes(sc: dict) -> list[tuple[str, str, dict]]:
    """(name, provisioner, parameters) of each class `Reconcile` makes for this StorageCluster (the
    snapshot ones when Stork runs; px-csi-* unless the PX version is known to be < 2.2)."""
    base = [("px-db", dict(_DB)), ("px-db-encrypted", {**_DB, "secure": "true"}),
            ("px-replicated", {"repl": "2"}), ("px-replicated-encrypted", {"repl": "2", "secure": "true"})]
    spec = sc.get("spec") if isinstance(sc.get("spec"), dict) else {}
    stork = spec.get("stork")
    if stork is None or (isinstance(stork, dict) and stork.get("enabled") is True):  # SetDefaultsOnStorageCluster
        for kind in ("local", "cloud"):
            params = {**_DB, px.STORK_DAILY_SCHEDULE_PARAM: _SCHEDULE.format(kind)}
            base += [(f"px-db-{kind}-snapshot", params),
                     (f"px-db-{kind}-snapshot-encrypted", {**params, "secure": "true"})]
    out = [(name, px.INTREE_PROVISIONER, params) for name, params in base]
    version, _ = px_version.portworx_version(sc)
    if version is None or px_version.at_least(version, (2, 2, 0)):
        out += [("px-csi-" + name[3:], px.CSI_PROVISIONER, dict(params)) for name, params in base]
    return out


GENERATED = "pxsec.io/generated"  # as on the Secrets pxsec generates (generated_secret.GENERATED)


def _object(name: str, provisioner: str, params: dict, helm_file) -> dict:
    meta: dict = {"name": name, "annotations": {GENERATED: "true"}}
    if isinstance(helm_file, str):  # Helm 4 files a document by it (../shared/docs/plugin-protocols.md)
        from ..pipeline import HELM4_FILENAME
        meta["annotations"][HELM4_FILENAME] = helm_file
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta,
            "provisioner": provisioner, "parameters": dict(params), "allowVolumeExpansion": True}


def _emit(stream: Stream, obj: dict, where: Location) -> None:
    import yaml

    text = dump(obj)
    if yaml.safe_load(text) != obj:
        raise PxsecError(f"the StorageClass {obj['metadata']['name']} did not serialize faithfully; refusing to "
                         f"emit it", where)
    doc = Document("<generated>", len(stream.documents), text, 1, generated=True,
                   kind="StorageClass", name=obj["metadata"]["name"], namespace=None)
    doc.obj, doc.api_version = obj, obj["apiVersion"]  # the object itself: RenderResult.generated_documents
    stream.documents.append(doc)


def _namespace(spec, doc: Document) -> str | None:
    return spec.storage_classes.token_namespace or doc.namespace


def apply(stream: Stream, taken: set, spec) -> tuple[list[str], list[str]]:
    """(labels of the StorageClasses emitted, warnings) for each secured StorageCluster in the stream
    whose default classes carry no token; `taken`: StorageClass names already in the stream."""
    labels, warnings = [], []
    for doc in list(stream.documents):
        if doc.role != px.STORAGECLUSTER or doc.generated:
            continue
        sc = doc.construct()
        if not isinstance(sc, dict) or not operator_warnings.storageclass_warning(sc):
            continue
        missing = [c for c in default_classes(sc) if c[0] not in taken]
        if not missing:
            continue
        sc_spec = spec.storage_classes
        namespace = _namespace(spec, doc) if sc_spec is not None else None
        emitted = []
        for name, provisioner, params in missing:
            if namespace is None or not sc_spec.selects(name) or (
                    namespace == px.PVC_NAMESPACE and provisioner == px.INTREE_PROVISIONER):
                continue
            obj = _object(name, provisioner, params, operator_warnings.dig(sc, "metadata", "annotations",
                                                                             "postrenderer.helm.sh/postrender-filename"))
            where = Location("<generated>", len(stream.documents), "StorageClass", name)
            storageclass.apply(obj, sc_spec, namespace, where)
            _emit(stream, obj, where)
            taken.add(name)
            emitted.append(name)
            labels.append(f"StorageClass {name}")
        if emitted:
            warnings.append(f"emitted secured {', '.join(emitted[:2])}, ... ({len(emitted)} operator StorageClasses); "
                            f"where the operator already made them, delete them first (kubectl delete storageclass)")
        if len(emitted) < len(missing):
            warnings.append(operator_warnings.storageclass_warning(sc))
    return labels, warnings
