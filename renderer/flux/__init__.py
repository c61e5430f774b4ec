"""`pxsec patches`: what `render` would change, as static kustomize patches (for Flux).

Flux cannot run pxsec: helm-controller takes only kustomize post-renderer patches and
kustomize-controller runs no plugins. So the input stream (typically `helm template` output)
goes through `pipeline.render`, each input object is compared, as data, with the object render
makes of it (the result's document pairs, List items one by one), and each difference becomes a JSON6902 patch (RFC 6902) targeting that object by
group/version/kind/name/namespace.

Why JSON6902 and not strategic merge: kustomize's strategic merge puts the patched elements of
a merged list *first* (a patched `portworx` container moves before its sidecars, added env vars
go before the chart's own), it does not honour `$setElementOrder`, it replaces `args` lists
wholesale, and for kinds it has no schema for (`extensions/v1beta1` DaemonSets, the
`StorageCluster` CRD) it degrades to a JSON merge patch that replaces whole lists, containers
included. JSON6902 ops are applied exactly as written, so `kustomize build` gives the objects
`render` gives, list order included. To keep the paths honest across chart upgrades, every op
that descends into a list item by index is preceded by a `test` op on that item's name (or on a
flag argument's text): if an upgrade moves things, kustomize (and Flux) fails loudly instead of
patching the wrong container. Appends use `/-`, so a chart that adds env vars or args of its
own keeps working. A `test` never compares a value that is not a name, a flag, or a value
already in the rendered object, so a literal secret of the input never reaches a patch.

A Secret that render generates (`secret.create: true`) or refreshes is never a patch: it is left
out with a warning, and its values are never read (render runs with placeholder values).
"""
from __future__ import annotations

import json
import re
from collections import namedtuple
from typing import Any

import yaml

from ..kubeyaml import jsonpatch, kyaml, yamlsafe
from ..render import pipeline
from .. import portworx as px
from ..errors import Location, PxsecError
from ..spec import Spec

PLACEHOLDER = "pxsec-patches-placeholder-not-a-secret-0123456789"
KUSTOMIZATION, HELMRELEASE = "kustomization", "helmrelease"
_REGEX_SPECIAL = re.compile(r"([\\.+*?()|\[\]{}^$])")


class Patch(namedtuple("Patch", "target ops label")):
    """One kustomize patch: target (selector dict), ops (JSON6902 list), label (for messages)."""

    __slots__ = ()


class PatchSet(namedtuple("PatchSet", "patches warnings")):
    """The patches, in input order, and what the user must be told (never values)."""

    __slots__ = ()


# --- from a stream to patches ------------------------------------------------------------------

def _meta(obj: Any) -> dict:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return meta if isinstance(meta, dict) else {}


def _identity(obj: Any) -> tuple:
    if not isinstance(obj, dict):
        return (None, None, None, None)
    meta = _meta(obj)
    return (obj.get("apiVersion"), obj.get("kind"), meta.get("namespace"), meta.get("name"))


def _is_list(obj: Any) -> bool:
    """`v1 List` and every `<Kind>List` with items: kustomize, like kubectl, makes each item a resource."""
    return px.is_list(obj) and isinstance(obj.get("items"), list)


def _label(obj: Any) -> str:
    _, kind, ns, name = _identity(obj)
    return f"{kind} {ns + '/' if ns else ''}{name}"


def _duplicate_key(root: Any) -> str | None:
    """kustomize (go-yaml v3) refuses a mapping with a key twice, so a patch for it is useless."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys = set()
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value != "<<":
                    if k.value in keys:
                        return f"duplicate key {k.value!r} at line {k.start_mark.line + 1}"
                    keys.add(k.value)
                stack.append(v)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None


def _inputs(result: pipeline.RenderResult) -> list[tuple[pipeline.Pair, Location, Any]]:
    """(pair, location, object as Kubernetes reads it) of every input document; kustomize reads
    every one of them, so each must be readable to it."""
    out = []
    for pair in result.pairs:
        doc = pair.document
        if doc.empty:
            continue
        obj = pair.before
        loc = Location(doc.source, doc.index)
        dup = _duplicate_key(doc.node)
        if dup:
            raise PxsecError(f"{dup}: kustomize, and so Flux, cannot read this document", loc)
        out.append((pair, loc, obj))
    return out


def _flatten(ins: list[tuple[pipeline.Pair, Location, Any]]) -> list[Any]:
    """kustomize makes each item of a `v1 List` its own resource: so do the targets."""
    out = []
    for _, _, obj in ins:
        out += obj["items"] if _is_list(obj) else [obj]
    return out


def _fancy(pair: pipeline.Pair) -> bool:
    """Written with tags, merge keys or aliases (read while constructing the input's view)."""
    features = pair.document.features
    return features is not None and features.any


def _where(loc: Location, obj: Any) -> Location:
    _, kind, ns, name = _identity(obj)
    return Location(loc.file, loc.index, kind, name, ns, loc.field)


def target_of(obj: dict) -> dict:
    """A kustomize/Flux selector for exactly this object (its name is a regex there)."""
    api_version, kind, ns, name = _identity(obj)
    group, _, version = api_version.rpartition("/")
    target = {"group": group, "version": version, "kind": kind, "name": _REGEX_SPECIAL.sub(r"\\\1", name)}
    if not group:
        del target["group"]
    if ns:
        target["namespace"] = ns
    return target


def _matches(target: dict, obj: Any) -> bool:
    api_version, kind, ns, name = _identity(obj)
    want_api = f"{target['group']}/{target['version']}" if "group" in target else target["version"]
    return (api_version == want_api and kind == target["kind"] and isinstance(name, str)
            and re.fullmatch(target["name"], name) is not None
            and ("namespace" not in target or ns == target["namespace"]))


def compute(sources: list[tuple[str, str]], spec: Spec) -> PatchSet:
    """The patches that make kustomize produce what `render` produces from `sources`."""
    environ = {var: PLACEHOLDER for var in (px.SYSTEM_KEY, px.STORK_KEY, px.SHARED_KEY)} if spec.secret_create else {}
    result = pipeline.render(sources, spec, environ=environ, allow_short_secrets=True)
    ins = _inputs(result)
    warnings = list(result.warnings)
    changes = []
    for pair, loc, a in ins:
        if not pair.changed:
            continue
        if pair.items:
            changes += [(pair, Location(loc.file, loc.index, field=f"items[{p.item}]"), p.before, p.after)
                        for p in pair.items]
        else:
            changes.append((pair, loc, a, pair.after))
    resources = _flatten(ins)
    patches = []
    for pair, loc, a, b in changes:
        if jsonpatch.same(a, b):
            continue
        where = _where(loc, a)
        if _fancy(pair):
            raise PxsecError("this document is written with YAML tags, merge keys or aliases, which kustomize reads "
                             "differently from Kubernetes, so a patch could miss what render secures; write it "
                             "plainly, or use `pxsec render`", where)
        if _identity(a)[1] == "Secret":
            warnings.append(_secret_warning(b, "refreshes"))
            continue
        if _identity(a) != _identity(b) or _is_list(a):
            raise PxsecError("render changes what identifies this object; that cannot be a patch", where)
        if not isinstance(_identity(a)[0], str) or not isinstance(_identity(a)[1], str) \
                or not isinstance(_identity(a)[3], str) or not _identity(a)[3]:
            raise PxsecError("no apiVersion, kind or metadata.name to target, so render's edit cannot be a "
                             "patch; name the object, or use `pxsec render`", where)
        target = target_of(a)
        if sum(1 for r in resources if _matches(target, r)) > 1:
            raise PxsecError("another object of this kind and name in the input would match the same patch "
                             "target (give both a metadata.namespace)", where)
        try:
            ops = jsonpatch.json6902(a, b)
        except jsonpatch.CannotPatch as e:
            raise PxsecError(f"render's edit cannot be a patch: {e}", where) from None
        patches.append(Patch(target, ops, _label(a)))
    for extra in result.generated_documents:
        obj = extra.obj
        warnings.append(_secret_warning(obj, "generates") if _identity(obj)[1] == "Secret" else
                        f"{_label(obj)}: render generates this object (a secured equivalent of one the operator "
                        f"makes); a new object is not a patch: add it to your manifests from `pxsec render`")
    return PatchSet(patches, list(dict.fromkeys(warnings)))


def _secret_warning(obj: Any, verb: str) -> str:
    ns = _identity(obj)[2]
    return (f"{_label(obj)}: render {verb} this Secret (secret.create: true); a Secret is not a patch and its "
            f"values are not printed: commit it separately, encrypted (SOPS), e.g. from "
            f"`pxsec keys generate --spec SPEC{' -n ' + ns if ns else ''}`")


# --- output ------------------------------------------------------------------------------------

_WIDTH = 1 << 30
HEADER = ("# Generated by `pxsec patches`: JSON6902 patches that give what `pxsec render` gives. Each\n"
          "# `test` op makes the build fail if a chart upgrade moved what the patch edits. Regenerate\n"
          "# after every chart or values change; `pxsec check --spec` on the patched output finds drift.\n")


def _flow(value: Any) -> str:
    """One line of YAML flow style (JSON, which is YAML too, where a string would span lines)."""
    text = kyaml.dump(value, default_flow_style=True).strip()
    return text if "\n" not in text else json.dumps(value, ensure_ascii=False, default=str)


def _patch_items(patches: list[Patch], indent: int) -> str:
    pad = " " * indent
    out = []
    for p in patches:
        out.append(f"{pad}# {_label_comment(p.label)}\n")
        out.append(f"{pad}- target:\n")
        out += [f"{pad}    {k}: {_flow(v)}\n" for k, v in p.target.items()]
        out.append(f"{pad}  patch: |\n")
        out += [f"{pad}    - {_flow(op)}\n" for op in p.ops]
    return "".join(out)


def _label_comment(label: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in label)


def _read(text: str) -> Any:
    return kyaml.construct(yaml.compose(text, Loader=yamlsafe.SyntaxLoader))


def format_patches(patch_set: PatchSet, form: str) -> str:
    """`--for kustomization`: a list for a kustomization's `patches:`; `--for helmrelease`: a
    `postRenderers:` block for a Flux HelmRelease's spec. Checked by reading it back."""
    if form == KUSTOMIZATION:
        text = HEADER + _patch_items(patch_set.patches, 0)
        got = _read(text)
    else:
        text = HEADER + "postRenderers:\n  - kustomize:\n      patches:\n" + _patch_items(patch_set.patches, 8)
        got = _read(text)["postRenderers"][0]["kustomize"]["patches"]
    want = [{"target": p.target, "ops": p.ops} for p in patch_set.patches]
    if not kyaml.same([{"target": g["target"], "ops": _read(g["patch"])} for g in got or []], want):
        raise PxsecError("internal error: the patches do not read back as written")
    return text
