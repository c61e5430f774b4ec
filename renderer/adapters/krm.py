"""KRM function mode: `pxsec` with no arguments and a ResourceList on stdin.

Used by `kustomize build --enable-alpha-plugins --enable-exec` (the spec file itself, with a
`config.kubernetes.io/function: {exec: {path: pxsec}}` annotation, listed under
`transformers:`) and by `kpt fn eval DIR --exec pxsec --fn-config spec.yaml`.

Fidelity: the ResourceList is *composed* (node tree), never constructed, so an item pxsec does
not change goes back out as the node it came in as (`1:20` stays a string, `017` stays `017`:
no YAML 1.1 re-typing). The item nodes become render's stream directly (`pipeline.render_stream`,
plain scalars marked as render's own parser marks them), and each changed item is its
document pair's output object written back as nodes, with the subtrees render did not touch kept
as they came. Comments are lost on the way, and the orchestrator (kyaml) restores them from the
`internal.config.kubernetes.io/id` annotation, which is kept like every other
orchestrator annotation (restored even on an item the core rebuilt from scratch).

functionConfig, decided:
- a PortworxSecurity object (the spec itself): the orchestrator's annotations
  (`config.kubernetes.io/*`, `internal.config.kubernetes.io/*`, `config.k8s.io/*`,
  `kustomize.config.k8s.io/*`) are stripped before validation;
- a ConfigMap whose `data.spec` is the path of a spec file, relative to the working directory
  (`kpt fn eval DIR --exec pxsec -- spec=path/to/spec.yaml`);
- none at all: the spec file named by $PXSEC_SPEC.

Output: the ResourceList with the new items and `results` (one info result per changed or
generated object, warnings, or "nothing changed"). On failure: the input items unchanged, an
error result (`resourceRef`, `field.path`, `file`) and exit 1 -- never an empty item list.
"""
from __future__ import annotations

import os
from typing import Any, BinaryIO

import yaml

from ..render import pipeline
from .. import spec as specmod
from ..kubeyaml.yamlsafe import check_depth, construct_safe, mapping_get, scalar, yaml_problem
from .nodes import (INDEX_ANNOTATIONS, PATH_ANNOTATIONS, annotations_of, identity, marked, object_node, rebuild,
                    restore_orchestrator_annotations, serialize, set_key, strip_config_annotations, to_node)
from ..errors import Location, PxsecError
from ..log import log_warning
from ..sources import write_stream
from ..render.result import NOTHING_FOUND
from ..render.stream import Document, Stream

RESOURCE_LIST = "ResourceList"
RESOURCE_LIST_VERSIONS = ("config.kubernetes.io/v1", "config.kubernetes.io/v1beta1")
ITEMS_SOURCE = "ResourceList.items"


# --- spec -------------------------------------------------------------------------------------

def _construct(node: Any, source: str) -> Any:
    return construct_safe(node, Location(file=source))


def function_config_source(obj: Any) -> str:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    kind = obj.get("kind") if isinstance(obj, dict) else None
    return f"functionConfig {kind or '?'}/{name or '?'}"


def spec_from_function_config(node: Any) -> specmod.Spec:
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"):
        path = specmod.resolve_spec_path(None)
        if not path:
            raise PxsecError("no functionConfig: give the PortworxSecurity spec as the function config "
                             "(kustomize: the transformer file; kpt: --fn-config FILE) or set PXSEC_SPEC",
                             Location(file="ResourceList"))
        return specmod.load(path)
    obj = _construct(node, "functionConfig")
    source = function_config_source(obj)
    if isinstance(obj, dict) and obj.get("kind") == "ConfigMap" and obj.get("apiVersion") == "v1":
        data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
        path = data.get("spec")
        if not isinstance(path, str) or not path:
            raise PxsecError("a ConfigMap functionConfig needs data.spec: the path of a PortworxSecurity "
                             "spec file (kpt: -- spec=FILE)", Location(file=source, field="data.spec"))
        unknown = sorted(str(k) for k in data if k != "spec")
        if unknown:
            raise PxsecError(f"unknown key (allowed: spec): {unknown[0]}",
                             Location(file=source, field=f"data.{unknown[0]}"))
        return specmod.load(path)
    return specmod.from_document(strip_config_annotations(obj), source)


# --- results ----------------------------------------------------------------------------------

def resource_ref(node: Any) -> dict:
    api_version, kind, name, namespace = identity(node)
    ref = {"apiVersion": api_version, "kind": kind, "name": name, "namespace": namespace}
    return {k: v for k, v in ref.items() if v}


def file_ref(node: Any) -> dict | None:
    ann = annotations_of(node)
    path = next((ann[k] for k in PATH_ANNOTATIONS if ann.get(k)), None)
    if not path:
        return None
    out: dict[str, Any] = {"path": path}
    index = next((ann[k] for k in INDEX_ANNOTATIONS if ann.get(k)), None)
    if index is not None and index.isdigit():
        out["index"] = int(index)
    return out


def error_result(e: PxsecError, items: list[Any], fc_node: Any) -> dict:
    """A `severity: error` result pointing at the item (or else the functionConfig) at fault.

    Also rewrites `e.location` so the stderr line names the item's file (kpt) instead of the
    internal stream name."""
    result: dict[str, Any] = {"message": e.message, "severity": "error"}
    loc = e.location
    node = None
    if loc.file == ITEMS_SOURCE:
        if loc.index is not None and 0 <= loc.index < len(items):
            node = items[loc.index]
            where = file_ref(node)
            if where:
                loc.file = where["path"]
                loc.index = where.get("index", loc.index)
    else:
        node = fc_node if isinstance(fc_node, yaml.MappingNode) else None
        if not (loc.file or "").startswith("functionConfig"):
            # about a spec *file* (ConfigMap data.spec, PXSEC_SPEC) or the stream: say which
            result["message"] = str(e)
            loc = Location()
    if isinstance(node, yaml.MappingNode):
        result["resourceRef"] = resource_ref(node)
        where = file_ref(node)
        if where:
            result["file"] = where
    if loc.field:
        result["field"] = {"path": loc.field}
    return result


def success_results(render: pipeline.RenderResult, out_items: list[Any]) -> list[dict]:
    by_identity = {}
    for node in out_items:
        _, kind, name, namespace = identity(node)
        by_identity.setdefault((kind, name, namespace), node)
    results = []
    for t in render.touched:
        node = by_identity.get((t.kind, t.name, t.namespace))
        r: dict[str, Any] = {"message": t.what if node is not None else f"{t.label}: {t.what}", "severity": "info"}
        if node is not None:
            r["resourceRef"] = resource_ref(node)
        results.append(r)
    results += [{"message": f"generated {g}", "severity": "info"} for g in render.generated]
    if not render.touched and not render.generated:
        results.append({"message": NOTHING_FOUND, "severity": "info"})
    results += [{"message": w, "severity": "warning"} for w in render.warnings]
    return results


# --- the function -----------------------------------------------------------------------------

def read_resource_list(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PxsecError(f"stdin is not UTF-8 text (byte {e.start})", Location(file="<stdin>")) from None
    check_depth(text, Location(file="<stdin>"))
    try:
        nodes = [n for n in yaml.compose_all(text, Loader=yaml.CSafeLoader) if n is not None]
    except yaml.YAMLError as e:
        raise PxsecError(yaml_problem(e, 1), Location(file="<stdin>")) from None
    hint = ("pxsec with no arguments is a KRM function and reads a ResourceList on stdin; "
            "to secure a manifest stream run `pxsec render --spec FILE` (as a Helm post-renderer: "
            "--post-renderer-args render)")
    if len(nodes) != 1 or not isinstance(nodes[0], yaml.MappingNode):
        raise PxsecError(f"stdin is not a KRM ResourceList. {hint}", Location(file="<stdin>"))
    root = nodes[0]
    kind, api_version = scalar(mapping_get(root, "kind")), scalar(mapping_get(root, "apiVersion"))
    if kind != RESOURCE_LIST or api_version not in RESOURCE_LIST_VERSIONS:
        raise PxsecError(f"stdin is not a KRM ResourceList (kind {kind!r}, apiVersion {api_version!r}). {hint}",
                         Location(file="<stdin>"))
    return root


def items_of(root: Any) -> tuple[list[Any], yaml.SequenceNode]:
    """The items and their sequence node. An `items` that is not a list is replaced by an
    empty list *before* the error is raised, so the error ResourceList can still be written."""
    node = mapping_get(root, "items")
    bad = node is not None and not isinstance(node, yaml.SequenceNode) and not (
        isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null")
    if not isinstance(node, yaml.SequenceNode):
        node = yaml.SequenceNode("tag:yaml.org,2002:seq", [], flow_style=False)
        set_key(root, "items", node)
    if bad:
        raise PxsecError("ResourceList.items is not a list", Location(file="<stdin>", field="items"))
    return list(node.value), node


def check_items(items: list[Any]) -> None:
    for i, item in enumerate(items):
        if not isinstance(item, yaml.MappingNode):
            raise PxsecError("not a KRM object (a mapping)", Location(file=ITEMS_SOURCE, index=i))


def render_items(items: list[Any], spec: specmod.Spec) -> tuple[list[Any], pipeline.RenderResult]:
    """Items in, rendered items out (input items first, in order, then generated objects).

    The stream is built from the item nodes themselves (no text in between); an item render
    leaves alone goes back as the very node it came in as, a changed one is its Pair's output
    object, written as nodes (the subtrees render did not touch kept as they came)."""
    origin: dict[int, Any] = {}
    docs = []
    for i, item in enumerate(items):
        doc = Document(ITEMS_SOURCE, i, "", 1, marked(item, origin, Location(ITEMS_SOURCE, i)))
        doc.identify()
        docs.append(doc)
    result = pipeline.render_stream(Stream(docs), spec, environ=os.environ, local_config=True)
    out = []
    for item, pair in zip(items, result.pairs):
        if not pair.changed:
            out.append(item)
            continue
        node = rebuild(pair.after, pair.document.node, origin)
        restore_orchestrator_annotations(item, node)
        out.append(node)
    out += [object_node(doc.obj) for doc in result.generated_documents]
    return out, result


def write_resource_list(stdout: BinaryIO, root: Any, items_node: yaml.SequenceNode, items: list[Any],
                        results: list[dict]) -> None:
    items_node.value = list(items)
    set_key(root, "results", to_node(results))
    write_stream(stdout, serialize(root).encode("utf-8"))


def run(stdin: BinaryIO, stdout: BinaryIO) -> int:
    root = read_resource_list(stdin.read())
    fc_node = mapping_get(root, "functionConfig")
    items: list[Any] = []
    items_node = None
    try:
        items, items_node = items_of(root)
        check_items(items)  # after items_of: on failure the items go back unchanged
        spec = spec_from_function_config(fc_node)
        out, result = render_items(items, spec)
    except PxsecError as e:
        if items_node is None:  # items was not a list: answer with an empty one and the error
            items_node = mapping_get(root, "items")
        result = error_result(e, items, fc_node)
        try:
            write_resource_list(stdout, root, items_node, items, [result])
        except PxsecError:
            pass  # the first error is the one to report
        raise
    for w in result.warnings:
        log_warning(w)
    write_resource_list(stdout, root, items_node, out, success_results(result, out))
    return 0
