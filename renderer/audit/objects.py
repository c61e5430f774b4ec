"""Objects as the rules see them, and where things are in their files.

A node path is a tuple of str (mapping key) and int (sequence index), kept as a tuple up to the
finding: `Obj.at` turns it into the finding's `field` text and its 1-based line and column
(`Document.line + node.start_mark.line`), read off the composed YAML node.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any

import yaml

from .. import process
from ..render.stream import Document
from .model import Finding, finding

Path = tuple  # of str (mapping key) and int (sequence index)


field_path = process.field_path


def node_line(doc: Document, path: Path) -> int | None:
    """1-based line of the node at `path` (or of its nearest existing ancestor)."""
    where = node_position(doc, path)
    return where[0] if where else None


def node_position(doc: Document, path: Path) -> tuple[int, int] | None:
    """(1-based line, 1-based column) of the node at `path` (or of its nearest existing ancestor)."""
    node = doc.node
    if node is None:
        return None
    mark = node.start_mark
    for p in path:
        if isinstance(p, int):
            if not isinstance(node, yaml.SequenceNode) or not 0 <= p < len(node.value):
                break
            node = node.value[p]
            mark = node.start_mark
        else:
            hit = None
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == p:
                        hit = (k, v)  # last one wins, as when constructing
            if hit is None:
                break
            mark = hit[0].start_mark  # the key's line: where an editor shows `field:`
            node = hit[1]
    return doc.line + mark.line, mark.column + 1


def get(d: Any, *path) -> Any:
    for p in path:
        if isinstance(p, int):
            d = d[p] if isinstance(d, list) and 0 <= p < len(d) else None
        else:
            d = d.get(p) if isinstance(d, dict) else None
    return d


def as_list(v: Any) -> list:
    return v if isinstance(v, list) else []


def as_dict(v: Any) -> dict:
    return v if isinstance(v, dict) else {}


class Obj:
    """One Kubernetes object: a document, or an item of a List document."""

    __slots__ = ("doc", "prefix", "data", "role")

    def __init__(self, doc: Document, prefix: Path, data: dict, role: str | None = None):
        self.doc = doc
        self.prefix = prefix  # () for a document, ("items", i) for a List item
        self.data = data
        self.role = role  # portworx.classify

    def __repr__(self) -> str:  # where it is, never its data
        return f"Obj({self.doc.source}#{self.doc.index}{''.join(f'.{p}' for p in self.prefix)}, {self.role})"

    @property
    def kind(self) -> str | None:
        k = self.data.get("kind")
        return k if isinstance(k, str) else None

    @property
    def api_version(self) -> str | None:
        v = self.data.get("apiVersion")
        return v if isinstance(v, str) else None

    @property
    def meta(self) -> dict:
        m = self.data.get("metadata")
        return m if isinstance(m, dict) else {}

    @property
    def name(self) -> str | None:
        n = self.meta.get("name")
        return n if isinstance(n, str) else None

    @property
    def namespace(self) -> str | None:
        n = self.meta.get("namespace")
        return n if isinstance(n, str) else None

    @property
    def label(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}"

    def annotations(self) -> dict:
        a = self.meta.get("annotations")
        return a if isinstance(a, dict) else {}

    def at(self, rule_id: str, path: Path, message: str) -> Finding:
        """A finding of `rule_id` at `path` inside this object."""
        full = self.prefix + tuple(path)
        line, column = node_position(self.doc, full) or (None, None)
        return finding(rule_id, message, file=self.doc.source, index=self.doc.index, kind=self.kind,
                       name=self.name, namespace=self.namespace, field=field_path(full) or None,
                       line=line, column=column)
