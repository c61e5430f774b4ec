"""Ignoring rules, as kube-linter and checkov users expect: for the whole run (`--ignore`, the
config file) or for one object (its `pxsec.io/ignore` annotation).

    metadata:
      annotations:
        pxsec.io/ignore: "PXS021,PXS016"   # ids or names, separated by commas or spaces
        ignore-check.pxsec.io/PXS016: "guest access until every client has a token"  # kube-linter style,
                                                                    # one rule per key, the value is the reason

An annotation covers the findings about its object: a document, or an item of a `List` (an
annotation on the List itself covers all its items). Annotations are read off the composed
node tree, so no document is constructed for them. Ignored findings are counted, never lost
silently: the report says how many.
"""
from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any, Iterable

import yaml

from ..render.stream import Document
from ..kubeyaml.yamlsafe import mapping_get, scalar
from .model import Finding, rule_id, suggest

ANNOTATION = "pxsec.io/ignore"
PER_RULE = "ignore-check.pxsec.io/"
_SPLIT = re.compile(r"[\s,]+")


def parse_rules(text: str) -> tuple[set[str], list[str]]:
    """(rule ids, unknown tokens) of `PXS021,token-reset-reminder PXS016`."""
    ids: set[str] = set()
    unknown: list[str] = []
    for token in _SPLIT.split(text.strip()):
        if not token:
            continue
        rid = rule_id(token)
        if rid:
            ids.add(rid)
        else:
            unknown.append(token)
    return ids, unknown


def _object_ignores(node: Any) -> list[tuple[str, str]]:
    """(annotation, rule list) pairs of an object's ignore annotations."""
    annotations = mapping_get(mapping_get(node, "metadata"), "annotations")
    if not isinstance(annotations, yaml.MappingNode):
        return []
    out = []
    for k, _ in annotations.value:
        key = scalar(k)
        if key == ANNOTATION:
            value = scalar(mapping_get(annotations, ANNOTATION))
            if value is not None:
                out.append((key, value))
        elif key and key.startswith(PER_RULE):
            out.append((key, key[len(PER_RULE):] or "''"))
    return out


def _key(source: str | None, index: int | None, node: Any) -> tuple:
    meta = mapping_get(node, "metadata")
    return (source, index, scalar(mapping_get(node, "kind")), scalar(mapping_get(meta, "namespace")),
            scalar(mapping_get(meta, "name")))


def annotations(docs: Iterable[Document]) -> tuple[dict[tuple, set[str]], list[str]]:
    """{(file, document index, kind, namespace, name) or (file, index): ids} and the problems
    (annotations naming rules that do not exist)."""
    found: dict[tuple, set[str]] = {}
    problems: list[str] = []

    def read(node: Any, key: tuple, where: str) -> None:
        for annotation, text in _object_ignores(node):
            ids, unknown = parse_rules(text)
            if ids:
                found.setdefault(key, set()).update(ids)
            for token in unknown:
                problems.append(f"{where}: metadata.annotations[\"{annotation}\"]: unknown rule {token!r}"
                                f"{suggest(token)} (not ignored)")

    for doc in docs:
        node = doc.node
        if not isinstance(node, yaml.MappingNode):
            continue
        where = doc.location().describe()
        read(node, (doc.source, doc.index), where)
        items = mapping_get(node, "items")
        if isinstance(items, yaml.SequenceNode):
            for i, item in enumerate(items.value):
                if isinstance(item, yaml.MappingNode):
                    read(item, _key(doc.source, doc.index, item), f"{where}: items[{i}]")
    return found, problems


def apply(findings: list[Finding], ignore: set[str], by_object: dict[tuple, set[str]]) -> tuple[list[Finding], int]:
    """(kept findings, number ignored)."""
    kept = []
    for f in findings:
        rules = set(ignore)
        rules |= by_object.get((f.file, f.index), set())
        rules |= by_object.get((f.file, f.index, f.kind, f.namespace, f.name), set())
        if f.rule_id not in rules:
            kept.append(f)
    return kept, len(findings) - len(kept)
