"""What both kustomize modes (the KRM function and the legacy exec plugin) do with YAML nodes:
read identity and annotations off composed nodes, put back the orchestrators' bookkeeping
annotations, and serialize nodes without constructing them (so scalars keep their exact text).
"""
from __future__ import annotations

from typing import Any

import yaml

from ..kubeyaml import kyaml
from ..errors import Location, PxsecError
from ..kubeyaml.yamlsafe import MAX_EXPANDED_NODES, expanded_size_ok, mapping_get, scalar

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


def restore_annotations_of(before: Any, after: Any) -> bool:
    """`restore_orchestrator_annotations` for objects (an input's view and render's output)."""
    def annotations(obj: Any) -> Any:
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        return meta.get("annotations") if isinstance(meta, dict) else None

    had = annotations(before)
    if not isinstance(had, dict) or not isinstance(after, dict):
        return False
    has = annotations(after)
    lost = {k: v for k, v in had.items() if isinstance(k, str) and k.startswith(ORCHESTRATOR_PREFIXES)
            and isinstance(v, str) and not (isinstance(has, dict) and k in has)}
    if not lost:
        return False
    meta = after.get("metadata")
    if meta is None:
        meta = after["metadata"] = {}
    if not isinstance(meta, dict) or not isinstance(meta.get("annotations", {}), dict):
        return False
    if meta.get("annotations") is None:
        meta["annotations"] = {}
    meta["annotations"].update(lost)
    return True


def serialize(node: Any, explicit_start: bool = False) -> str:
    return yaml.serialize(node, Dumper=yaml.CSafeDumper, allow_unicode=True, width=1 << 16,
                          explicit_start=explicit_start)


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




# --- between the orchestrator's nodes and render's stream --------------------------------------

_RESOLVER = yaml.resolver.Resolver()


def marked(node: Any, origin: dict[int, Any], location: Location) -> Any:
    """A copy of a node tree composed by PyYAML (YAML 1.1 tags resolved) as render composes a
    stream (`yamlsafe.SyntaxLoader`): every plain, untagged scalar tagged `kyaml.PLAIN_TAG`, so
    `kyaml.construct` reads it as Kubernetes does. Shared nodes (aliases) stay shared.
    `origin` maps id(copy) -> the original node, for `rebuild`."""
    memo: dict[int, Any] = {}
    shared = False
    stack = [(node, None, None)]
    root = None
    while stack:
        n, parent, slot = stack.pop()
        out = memo.get(id(n))
        if out is not None:
            shared = True
        else:
            if isinstance(n, yaml.ScalarNode):
                plain = n.style in ("", None) and n.tag == _RESOLVER.resolve(yaml.ScalarNode, n.value, (True, False))
                out = yaml.ScalarNode(kyaml.PLAIN_TAG if plain else n.tag, n.value, n.start_mark, n.end_mark, n.style)
            elif isinstance(n, yaml.SequenceNode):
                out = yaml.SequenceNode(n.tag, [None] * len(n.value), n.start_mark, n.end_mark, n.flow_style)
                stack.extend((c, out, i) for i, c in enumerate(n.value))
            else:
                out = yaml.MappingNode(n.tag, [[None, None] for _ in n.value], n.start_mark, n.end_mark, n.flow_style)
                for i, (k, v) in enumerate(n.value):
                    stack.append((k, out, (i, 0)))
                    stack.append((v, out, (i, 1)))
            memo[id(n)] = out
            origin[id(out)] = n
        if parent is None:
            root = out
        elif isinstance(slot, tuple):
            parent.value[slot[0]][slot[1]] = out
        else:
            parent.value[slot] = out
    for n in memo.values():
        if isinstance(n, yaml.MappingNode):
            n.value = [tuple(kv) for kv in n.value]
    if shared and not expanded_size_ok(root, "&*"):  # the tree had aliases: no alias bomb
        raise PxsecError(f"YAML aliases expand to more than {MAX_EXPANDED_NODES} nodes (an alias bomb?); refused",
                         location)
    return root


def rebuild(obj: Any, node: Any, origin: dict[int, Any]) -> Any:
    """The node of `obj` (an object render made from the marked `node`): every subtree whose
    value render left alone is the original node (its scalars' style and text kept), the rest
    is written from `obj` with kyaml's quoting (a string no reader takes for another type)."""
    if node is not None and id(node) in origin:
        if isinstance(node, yaml.MappingNode) and isinstance(obj, dict) and not _has_merge(node):
            keys = {kyaml.scalar_value(k) if isinstance(k, yaml.ScalarNode) else None: (k, v) for k, v in node.value}
            if len(keys) == len(node.value):
                return yaml.MappingNode(origin[id(node)].tag, [
                    (origin[id(keys[k][0])], rebuild(v, keys[k][1], origin)) if k in keys else
                    (object_node(k), object_node(v)) for k, v in obj.items()],
                    flow_style=origin[id(node)].flow_style)
        elif isinstance(node, yaml.SequenceNode) and isinstance(obj, list):
            items = node.value
            out = [rebuild(v, items[i] if i < len(items) else None, origin) for i, v in enumerate(obj)]
            _like_siblings(out, [origin[id(n)] for n in items])
            return yaml.SequenceNode(origin[id(node)].tag, out, flow_style=origin[id(node)].flow_style)
        elif isinstance(node, yaml.ScalarNode) and not isinstance(obj, (dict, list)):
            try:
                same = kyaml.same(kyaml.construct(node), obj)
            except (kyaml.Unrepresentable, RecursionError):
                same = False
            if same:
                return origin[id(node)]
    return object_node(obj)


def _like_siblings(new: list, old: list) -> None:
    """New string items of a list take the quoting its original string items share
    (`args: ["-c", "px"]` gets `"-jwt_issuer"`, not a bare word among quoted ones)."""
    styles = {n.style for n in old if isinstance(n, yaml.ScalarNode) and n.tag == STR}
    if len(styles) != 1 or styles <= {"", None}:
        return
    style = styles.pop()
    if style not in ("'", '"'):
        return
    kept = {id(n) for n in old}
    for n in new:
        if id(n) not in kept and isinstance(n, yaml.ScalarNode) and n.tag == STR and n.style in ("", None):
            n.style = style


def _has_merge(node: Any) -> bool:
    return any(isinstance(k, yaml.ScalarNode) and k.value == "<<" and k.tag in (kyaml.PLAIN_TAG, kyaml.MERGE)
               for k, _ in node.value)


_REPRESENTER = yaml.representer.SafeRepresenter()


def object_node(obj: Any) -> Any:
    """A node for an object, written as kyaml.dump writes it: a string that some reader would
    take for another type is double-quoted."""
    if isinstance(obj, dict):
        return yaml.MappingNode(MAP, [(object_node(k), object_node(v)) for k, v in obj.items()], flow_style=False)
    if isinstance(obj, list):
        return yaml.SequenceNode("tag:yaml.org,2002:seq", [object_node(v) for v in obj], flow_style=False)
    if isinstance(obj, str):
        return yaml.ScalarNode(STR, obj, style=None if kyaml.plain_is_string(obj) else '"')
    return _REPRESENTER.represent_data(obj)
