"""render proves its own output: the process model of what it wrote, judged before writing.

After the filters ran and the stream was joined, every Portworx, Stork, autopilot and
StorageCluster object of the output is read back as Kubernetes reads it (the emitted text of a
changed document is parsed again; an unchanged one is its input), its containers are built as the
kubelet would run them (process.py, with the ConfigMaps and Secrets of the output that they read),
and proof.judge decides with the spec. An error refuses the whole render (nothing is written): a
bug anywhere in the filters, the patcher or the serializer fails closed instead of shipping.
Costs O(targets): documents that are not targets are never read again.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any

from .. import portworx as px, process, proof
from ..errors import Location, PxsecError

JUDGED = (px.PORTWORX, px.STORK, px.AUTOPILOT, px.STORAGECLUSTER)
LOCAL_CONFIG = "config.kubernetes.io/local-config"


def _output_view(doc: Any) -> Any:
    """Kubernetes' reading of what render wrote for this document."""
    if not (doc.changed or doc.generated):
        return doc.view() if doc.node is not None else None
    from .stream import body, parse

    if doc.text:
        text = doc.emit()  # what join() will write for it
    else:  # an item of a KRM ResourceList (no text): its object, written and read back as YAML
        from .stream import dump

        text = dump(doc.obj)
    text = text.lstrip("\ufeff")
    continued = getattr(doc, "separated", False)
    read = getattr(doc, "_written_read", None)
    if read is not None:  # the patcher already read this text back: cut it as Kubernetes does, compose nothing
        docs = [d for d in parse(text, doc.source, worth_composing=_nothing, continued=continued)
                if d.index >= 0 and not d.empty]
        if len(docs) == 1 and body(docs[0].text, docs[0].separated) == read[0]:
            return read[1]  # the object read from exactly the YAML Kubernetes gets for this document
    docs = [d for d in parse(text, doc.source, continued=continued) if d.index >= 0 and not d.empty]
    if len(docs) != 1:
        raise PxsecError(f"render's output of this document reads back as {len(docs)} documents; refused "
                         f"(a pxsec bug: please report it)", doc.location())
    return docs[0].view()


def _nothing(chunk: str) -> bool:
    return False


def _objects(obj: Any):
    """(object, field prefix) of a document: itself, or the items of a List."""
    if px.is_list(obj):
        for i, item in enumerate(obj["items"]):
            yield item, ("items", i)
    else:
        yield obj, ()


def _local(obj: Any) -> bool:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    ann = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    return ann.get(LOCAL_CONFIG) == "true"


def prove(stream: Any, spec: Any, local_config: bool = False) -> list[str]:
    """Judge render's output; raise on the first error, return the warnings."""
    targets = []
    for doc in stream.documents:
        if doc.role is None or doc.generated:
            continue
        view = _output_view(doc)
        for obj, prefix in _objects(view):
            if isinstance(obj, dict) and px.classify(obj) in JUDGED and not (local_config and _local(obj)):
                targets.append((doc, obj, prefix))
    if not targets:
        return []
    wanted: set = set()
    for _, obj, _ in targets:
        wanted |= process.referenced(obj)
    sources = process.Sources()
    if wanted:
        names = {name for _, name in wanted if isinstance(name, str)}
        for doc in stream.documents:
            if doc.generated or any(n in doc.text for n in names):
                if doc.generated or stream.ensure_composed(doc):
                    view = _output_view(doc) if (doc.changed or doc.generated) else doc.view()
                    for obj, _ in _objects(view):
                        sources.add(obj)
    warnings = []
    for doc, obj, prefix in targets:
        for problem in proof.judge(obj, list(process.processes(obj, sources)), spec, opaque=False):
            meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
            if problem.severity == proof.ERROR:
                name, ns = meta.get("name"), meta.get("namespace")
                raise PxsecError(f"{problem.message}; refused (pxsec judges the process the kubelet would start "
                                 f"before writing)",
                                 Location(doc.source, doc.index, obj.get("kind"),
                                          name if isinstance(name, str) else None,
                                          ns if isinstance(ns, str) else None,
                                          process.field_path(prefix + tuple(problem.path)) or None))
            warnings.append(f"{obj.get('kind')} {meta.get('name')}: {problem.message}")
    return warnings
