"""What both kustomize modes (the KRM function and the legacy exec plugin) do with YAML nodes:
read identity and annotations off composed nodes, put back the orchestrators' bookkeeping
annotations, and serialize nodes without constructing them (so scalars keep their exact text).
"""
from __future__ import annotations

from typing import Any

import yaml

from ..errors import Location, PxsecError
from ..yamlsafe import mapping_get, scalar

STR = "tag:yaml.org,2002:str"
MAP = "tag:yaml.org,2002:map"

# Annotations owned by the orchestrators (kyaml, kustomize, kpt, Helm 4): never dropped.
ORCHESTRATOR_PREFIXES = (
    "internal.config.kubernetes.io/",
    "config.kubernetes.io/",
    "config.k8s.io/",
    "kustomize.config.k8s.io/",
    "postrenderer.helm.sh/",
)
# ... of which these must not survive onto a validated spec (they are the function's plumbing).
CONFIG_PREFIXES = ORCHESTRATOR_PREFIXES[:4]
# Annotations that describe *where an object lives*: never copied to another object.
PATH_ANNOTATIONS = ("internal.config.kubernetes.io/path", "config.kubernetes.io/path")
INDEX_ANNOTATIONS = ("internal.config.kubernetes.io/index", "config.kubernetes.io/index")


# --- node helpers -----------------------------------------------------------------------------

def annotations_of(node: Any) -> dict[str, str]:
    """String annotations of an object node (non-string values are ignored)."""
    ann = mapping_get(mapping_get(node, "metadata"), "annotations")
    out: dict[str, str] = {}
    if isinstance(ann, yaml.MappingNode):
        for k, v in ann.value:
            if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode):
                out[k.value] = v.value
    return out


def identity(node: Any) -> tuple[str | None, str | None, str | None, str | None]:
    meta = mapping_get(node, "metadata")
    return (scalar(mapping_get(node, "apiVersion")), scalar(mapping_get(node, "kind")),
            scalar(mapping_get(meta, "name")), scalar(mapping_get(meta, "namespace")))


def _str_node(value: str) -> yaml.ScalarNode:
    return yaml.ScalarNode(STR, value)


def set_key(mapping: yaml.MappingNode, key: str, value: Any) -> None:
    for i, (k, _) in enumerate(mapping.value):
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            mapping.value[i] = (k, value)
            return
    mapping.value.append((_str_node(key), value))


def _child_mapping(mapping: yaml.MappingNode, key: str) -> yaml.MappingNode | None:
    child = mapping_get(mapping, key)
    if isinstance(child, yaml.MappingNode):
        return child
    if child is None or (isinstance(child, yaml.ScalarNode) and child.tag == "tag:yaml.org,2002:null"):
        child = yaml.MappingNode(MAP, [], flow_style=False)
        set_key(mapping, key, child)
        return child
    return None


def restore_orchestrator_annotations(before: Any, after: Any) -> bool:
    """Put back on `after` the orchestrator annotations `before` had and `after` lost.

    The core keeps metadata on objects it changes, but rebuilds a Secret it generated on an
    earlier run from scratch; kpt/kustomize need their bookkeeping back on it. Returns
    whether anything was added.
    """
    lost = {k: v for k, v in annotations_of(before).items()
            if k.startswith(ORCHESTRATOR_PREFIXES) and k not in annotations_of(after)}
    if not lost or not isinstance(after, yaml.MappingNode):
        return False
    meta = _child_mapping(after, "metadata")
    ann = _child_mapping(meta, "annotations") if meta is not None else None
    if ann is None:
        return False
    for k, v in lost.items():
        ann.value.append((_str_node(k), _str_node(v)))
    return True


def serialize(node: Any, explicit_start: bool = False) -> str:
    return yaml.serialize(node, Dumper=yaml.CSafeDumper, allow_unicode=True, width=1 << 16,
                          explicit_start=explicit_start)


def compose_all(text: str, source: str) -> list[Any]:
    try:
        return [n for n in yaml.compose_all(text, Loader=yaml.CSafeLoader) if n is not None]
    except yaml.YAMLError as e:  # the core has parsed this text already: should not happen
        raise PxsecError(f"cannot read back the rendered stream ({type(e).__name__})", Location(file=source)) from None


def to_node(obj: Any) -> Any:
    return yaml.compose(yaml.dump(obj, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True),
                        Loader=yaml.CSafeLoader)


def strip_config_annotations(doc: Any) -> Any:
    """The spec object without the orchestrators' plumbing annotations (function, path, index...)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("metadata"), dict):
        return doc
    meta = dict(doc["metadata"])
    ann = meta.get("annotations")
    if isinstance(ann, dict):
        kept = {k: v for k, v in ann.items() if not (isinstance(k, str) and k.startswith(CONFIG_PREFIXES))}
        if kept:
            meta["annotations"] = kept
        else:
            meta.pop("annotations")
    return {**doc, "metadata": meta}


