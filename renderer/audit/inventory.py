"""The parsed stream as the rules see it: objects, and what each says about PX-Security.

Built once per check from `stream.Stream`: each document is classified by `portworx.classify`
on its skeleton (what Kubernetes decodes; no spec needed), and only Portworx, Stork, autopilot,
StorageCluster, StorageClass, List and other pod-template documents are constructed. Each object
keeps its document and node path, so any field path resolves to a line (objects.py). Nothing here
judges; the rules do.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any, Iterator

import yaml

from .. import portworx as px, process
from ..errors import PxsecError
from ..render.pipeline import worth_composing
from ..render.stream import Document, Stream
from .model import finding
from .objects import Obj, as_list
from .profiles import (Autopilot, EnvList, PxAuth, StorkAuth, autopilot_deployment, daemonset, env_lists,
                       stork_deployment, stork_from_storagecluster, storagecluster)

PAIRING_KINDS = {"ClusterPair", "Migration", "MigrationSchedule"}
_WANTED_ROLES = (px.PORTWORX, px.STORK, px.AUTOPILOT, px.STORAGECLUSTER, px.STORAGECLASS, px.LIST) + px.TOKEN_ROLES


class Inventory:
    """Everything the rules read of one input: its objects and their profiles."""

    def __init__(self, documents: list | None = None):
        self.objects: list[Obj] = []
        self.portworx: list[PxAuth] = []
        self.portworx_objects: list[Obj] = []  # every object classify calls Portworx
        self.stork: list[StorkAuth] = []
        self.autopilot: list[Autopilot] = []
        self.env_lists: list[EnvList] = []
        self.storageclasses: list[Obj] = []  # Portworx StorageClasses (portworx.storageclass_kind)
        self.pairings: list[Obj] = []  # ClusterPair / Migration objects
        self.errors: list = []  # findings for documents that could not be read
        # every document (rules_operator: Secrets, annotations)
        self.documents: list = [] if documents is None else documents
        self.left_out_storageclasses: set = set()  # names the --spec's storageClasses leaves alone
        self.token_objects: list[Obj] = []  # VolumeSnapshotClasses, PVCs, Stork objects (TOKEN_ROLES)
        self.left_out_tokens: set = set()  # ids (Obj.doc, Obj.prefix) the --spec's tokens leaves alone
        self.sources: Any = None  # process.Sources: the ConfigMaps and Secrets the Portworx objects read

    def workloads(self) -> int:
        """How many distinct Portworx, Stork and autopilot objects were looked at."""
        objs = [p.obj for p in self.portworx] + [s.obj for s in self.stork] + [a.obj for a in self.autopilot]
        return len({(o.doc.source, o.doc.index, o.prefix) for o in objs})

    def clusters(self) -> dict[tuple, list[PxAuth]]:
        out: dict[tuple, list[PxAuth]] = {}
        for p in self.portworx:
            out.setdefault(p.cluster, []).append(p)
        return out

    def data_sources(self, kind: str, name: str, namespace: str | None) -> list[tuple[Document, set[str]]]:
        """In-stream `v1` ConfigMaps or Secrets named `name` (in `namespace`, when both say one), each
        with the key names of its data (data/stringData or data/binaryData); never the values."""
        fields = ("data", "stringData") if kind == "Secret" else ("data", "binaryData")
        out = []
        for doc in self.documents:
            if doc.kind != kind or doc.name != name or doc.api_version != "v1" or doc.node is None \
                    or not (doc.namespace is None or namespace is None or doc.namespace == namespace):
                continue
            try:
                obj = doc.view()
            except PxsecError:
                continue  # reported as PXS000 by parse, or unreadable: nothing to compare
            keys = set()
            for f in fields:
                data = obj.get(f) if isinstance(obj, dict) else None
                keys |= {k for k in data if isinstance(k, str)} if isinstance(data, dict) else set()
            out.append((doc, keys))
        return out


def _role(doc: Document) -> str | None:
    return px.classify(doc.skeleton if doc.skeleton is not None else doc.view())


def _objects(docs: list[Document], errors: list) -> Iterator[Obj]:
    """Every object worth constructing: Portworx/Stork targets, pod workloads, pairing objects."""
    for doc in docs:
        if doc.node is None or not isinstance(doc.node, yaml.MappingNode):
            continue
        try:
            role = _role(doc)
            wanted = role in _WANTED_ROLES or doc.kind in px.POD_SPEC_PATHS or doc.kind in PAIRING_KINDS
            data = doc.construct() if wanted else None
        except PxsecError as e:
            errors.append(finding("PXS000", e.message, file=doc.source, index=doc.index, kind=doc.kind,
                                  name=doc.name, namespace=doc.namespace, line=doc.line))
            continue
        if not isinstance(data, dict):
            continue
        if role == px.LIST:
            for i, item in enumerate(as_list(data.get("items"))):
                if isinstance(item, dict):
                    yield Obj(doc, ("items", i), item, px.classify(item))
            continue
        yield Obj(doc, (), data, role)


def _sources(docs: list[Document], objects: list[Obj]) -> process.Sources:
    """The ConfigMaps and Secrets the Portworx objects read (envFrom, configMapKeyRef)."""
    wanted: set = set()
    for o in objects:
        if o.role in (px.PORTWORX, px.STORAGECLUSTER):
            wanted |= process.referenced(o.data)
    out = process.Sources()
    names = {n for _, n in wanted if isinstance(n, str)}
    stream = Stream(docs)
    for doc in docs if names else ():
        if doc.node is None and any(n in doc.text for n in names):  # passed over by the text test: read it now
            try:
                stream.ensure_composed(doc)
            except PxsecError:
                continue
        if doc.node is not None and (doc.name in names or doc.kind is None or px.is_list(doc.skeleton)):
            try:
                view = doc.view()
            except PxsecError:
                continue
            for obj in (view.get("items") if px.is_list(view) else [view]):
                out.add(obj)
    return out


def build(docs: list[Document]) -> Inventory:
    inv = Inventory(documents=list(docs))
    objects = list(_objects(docs, inv.errors))
    inv.sources = _sources(docs, objects)
    for o in objects:
        inv.objects.append(o)
        inv.env_lists.extend(env_lists(o))
        if o.kind in PAIRING_KINDS and (o.api_version or "").startswith(px.STORK_GROUP):
            inv.pairings.append(o)
        if o.role == px.PORTWORX:
            inv.portworx_objects.append(o)
            auth = daemonset(o, inv.sources)
            if auth:
                inv.portworx.append(auth)
        elif o.role == px.STORAGECLUSTER:
            auth = storagecluster(o)
            inv.portworx.append(auth)
            st = stork_from_storagecluster(auth)
            if st:
                inv.stork.append(st)
        elif o.role == px.STORK:
            st = stork_deployment(o)
            if st:
                inv.stork.append(st)
        elif o.role == px.AUTOPILOT:
            ap = autopilot_deployment(o)
            if ap:
                inv.autopilot.append(ap)
        elif o.role == px.STORAGECLASS:
            inv.storageclasses.append(o)
        elif o.role in px.TOKEN_ROLES:
            inv.token_objects.append(o)
    return inv


def left_out(inv: Inventory, selection) -> set:
    """Names of the Portworx StorageClasses a spec's `storageClasses` include/exclude leaves out
    (render's own selection, `spec.StorageClasses.selects`): the user has said they get their token
    some other way."""
    return {o.name for o in inv.storageclasses if not selection.selects(o.name)}


def parse_sources(sources: list[tuple[str, str]]) -> tuple[list[Document], list]:
    """Documents of every source that parses, and a PXS000 finding for each that does not."""
    docs: list[Document] = []
    errors = []
    for name, text in sources:
        try:
            # render's cheap text test (spec-free): documents check cannot care about are never composed
            docs.extend(Stream.from_sources([(name, text)], None, worth_composing(None), syntax=True).documents)
        except PxsecError as e:
            last = max(1, len(text.splitlines()))  # an error at the end of the stream: the last line
            line = min(e.line, last) if e.line else None
            column = e.column if e.column and line == e.line else None
            errors.append(finding("PXS000", e.message, file=name, index=e.location.index, line=line,
                                  column=column))
    return docs, errors


