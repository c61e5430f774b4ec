"""`pxsec patches`: what `render` would change, as static kustomize patches (for Flux).

Flux cannot run pxsec: helm-controller takes only kustomize post-renderer patches and
kustomize-controller runs no plugins. So the input stream (typically `helm template` output)
goes through `pipeline.render`, each input document is compared with its rendered version as
data, and each difference becomes a JSON6902 patch (RFC 6902) targeting that object by
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

from . import pipeline
from .errors import Location, PxsecError
from .spec import ENV_SHARED, ENV_STORK, ENV_SYSTEM, Spec

PLACEHOLDER = "pxsec-patches-placeholder-not-a-secret-0123456789"
KUSTOMIZATION, HELMRELEASE = "kustomization", "helmrelease"
_FLAG = re.compile(r"\A--?[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
_REGEX_SPECIAL = re.compile(r"([\\.+*?()|\[\]{}^$])")


class Patch(namedtuple("Patch", "target ops label")):
    """One kustomize patch: target (selector dict), ops (JSON6902 list), label (for messages)."""

    __slots__ = ()


class PatchSet(namedtuple("PatchSet", "patches warnings")):
    """The patches, in input order, and what the user must be told (never values)."""

    __slots__ = ()


# --- JSON6902 ops from a diff ------------------------------------------------------------------

def _pointer(path: tuple) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _op(op: str, path: tuple, *value: Any) -> dict:
    out = {"op": op, "path": _pointer(path) if path[-1:] != ("-",) else _pointer(path[:-1]) + "/-"}
    if value:
        out["value"] = value[0]
    return out


def _same(a: Any, b: Any) -> bool:
    """Equality as JSON sees it (True is not 1, 1 is not "1")."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _scalars(obj: Any, out: set) -> set:
    if isinstance(obj, dict):
        for v in obj.values():
            _scalars(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _scalars(v, out)
    elif isinstance(obj, str):
        out.add(obj)
    return out


class _Differ:
    """Builds the ops that turn `old` into `new`; `shown` are the strings a test may print."""

    def __init__(self, shown: set):
        self.shown = shown
        self.ops: list[dict] = []

    def value(self, path: tuple, old: Any, new: Any) -> None:
        if _same(old, new):
            return
        if isinstance(old, dict) and isinstance(new, dict):
            self.mapping(path, old, new)
        elif isinstance(old, list) and isinstance(new, list):
            self.sequence(path, old, new)
        else:  # `add` also sets a member that is null (kustomize may have dropped it)
            self.ops.append(_op("add" if old is None else "replace", path, new))

    def mapping(self, path: tuple, old: dict, new: dict) -> None:
        if any(not isinstance(k, str) for k in list(old) + list(new)):
            raise _CannotPatch(f"{_pointer(path) or '/'} has a non-string key, which a JSON patch cannot name")
        for k in old:
            if k not in new:
                self.ops.append(_op("remove", path + (k,)))
        for k, v in new.items():
            if k not in old:
                self.ops.append(_op("add", path + (k,), v))
            else:
                self.value(path + (k,), old[k], v)

    def sequence(self, path: tuple, old: list, new: list) -> None:
        old_names, new_names = _names(old), _names(new)
        if old_names is not None and new_names is not None:
            common_old = [n for n in old_names if n in new_names]
            common_new = [n for n in new_names if n in old_names]
            if common_old == common_new:
                self.named(path, old, new, old_names, new_names)
                return
        self.generic(path, old, new)

    def named(self, path: tuple, old: list, new: list, old_names: list, new_names: list) -> None:
        """Items with unique names: change in place, remove, then add (appends as `/-`)."""
        for i, name in enumerate(old_names):
            if name not in new_names:
                continue
            o, n = old[i], new[new_names.index(name)]
            if _same(o, n):
                continue
            self.ops.append(_op("test", path + (i, "name"), name))
            if any(isinstance(o.get(k), list) or isinstance(n.get(k), list)
                   for k in set(o) | set(n) if not _same(o.get(k), n.get(k))):
                self.value(path + (i,), o, n)  # a container: descend
            else:
                self.ops.append(_op("replace", path + (i,), n))
        for i in reversed(range(len(old_names))):
            if old_names[i] not in new_names:
                self.ops.append(_op("test", path + (i, "name"), old_names[i]))
                self.ops.append(_op("remove", path + (i,)))
        length = sum(1 for n in old_names if n in new_names)
        for j, name in enumerate(new_names):
            if name not in old_names:
                self.ops.append(_op("add", path + ("-" if j == length else j,), new[j]))
                length += 1

    def generic(self, path: tuple, old: list, new: list) -> None:
        """Any list (args, unnamed items): a difflib edit script, applied from the end."""
        import difflib

        keys_old = [json.dumps(v, sort_keys=True) for v in old]
        keys_new = [json.dumps(v, sort_keys=True) for v in new]
        codes = difflib.SequenceMatcher(None, keys_old, keys_new, autojunk=False).get_opcodes()
        for tag, i1, i2, j1, j2 in reversed(codes):
            if tag == "equal":
                continue
            if tag == "replace" and i2 - i1 == j2 - j1 and all(
                    isinstance(old[i], dict) and isinstance(new[j1 + i - i1], dict) for i in range(i1, i2)):
                for i in range(i1, i2):
                    self.value(path + (i,), old[i], new[j1 + i - i1])
                continue
            tests = [_op("test", path + (i,), old[i]) for i in range(i1, i2) if self._printable(old[i])]
            if not tests and i2 > i1 > 0 and self._printable(old[i1 - 1]):  # guard by the unchanged neighbour
                tests = [_op("test", path + (i1 - 1,), old[i1 - 1])]
            self.ops += tests
            self.ops += [_op("remove", path + (i1,)) for _ in range(i1, i2)]
            for k, j in enumerate(range(j1, j2)):  # at the end of the list (done first): append
                self.ops.append(_op("add", path + ("-" if i2 == len(old) else i1 + k,), new[j]))

    def _printable(self, value: Any) -> bool:
        return isinstance(value, str) and (bool(_FLAG.match(value)) or value in self.shown)


def _names(items: list) -> list | None:
    names = [it.get("name") if isinstance(it, dict) else None for it in items]
    if any(not isinstance(n, str) for n in names) or len(set(names)) != len(names):
        return None
    return names


class _CannotPatch(Exception):
    pass


def json6902(old: Any, new: Any) -> list[dict]:
    """The JSON6902 ops that turn `old` into `new` (checked by applying them)."""
    differ = _Differ(_scalars(new, set()))
    differ.value((), old, new)
    try:
        result = apply(old, differ.ops)
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise _CannotPatch(f"the ops do not apply ({type(e).__name__})") from None
    if not _same(result, new):
        raise _CannotPatch("the ops do not reproduce the rendered object")
    return differ.ops


def _parse_pointer(pointer: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]


def apply(doc: Any, ops: list[dict]) -> Any:
    """RFC 6902 add/remove/replace/test on a copy of `doc` (for checking our own ops)."""
    doc = json.loads(json.dumps(doc))
    for op in ops:
        parts = _parse_pointer(op["path"])
        parent = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        last = parts[-1]
        if isinstance(parent, list):
            idx = len(parent) if last == "-" else int(last)
            if op["op"] == "add":
                if idx > len(parent):
                    raise IndexError(last)
                parent.insert(idx, op["value"])
            elif op["op"] == "remove":
                del parent[idx]
            elif op["op"] == "replace":
                parent[idx] = op["value"]
            elif not _same(parent[idx], op["value"]):
                raise ValueError("test failed")
        elif op["op"] in ("add", "replace"):
            if op["op"] == "replace" and last not in parent:
                raise KeyError(last)
            parent[last] = op["value"]
        elif op["op"] == "remove":
            del parent[last]
        elif not _same(parent[last], op["value"]):
            raise ValueError("test failed")
    return doc


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
    return (isinstance(obj, dict) and obj.get("apiVersion") == "v1" and str(obj.get("kind") or "").endswith("List")
            and isinstance(obj.get("items"), list))


def _label(obj: Any) -> str:
    _, kind, ns, name = _identity(obj)
    return f"{kind} {ns + '/' if ns else ''}{name}"


class _DuplicateKey(Exception):
    pass


class _StrictLoader(yaml.CSafeLoader):
    """kustomize (Go's YAML) refuses a mapping with a key twice, so a patch for it is useless."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if (key.tag, key.value) in seen:
                    raise _DuplicateKey(f"duplicate key {key.value!r} at line {key.start_mark.line + 1}: "
                                        f"kustomize, and so Flux, cannot read this document")
                seen.add((key.tag, key.value))
        return super().construct_mapping(node, deep)


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _StrictLoader.construct_yaml_map)


def _documents(text: str, source: str) -> list[tuple[Location, Any]]:
    loader = _StrictLoader(text)
    docs = []
    try:
        while loader.check_data():
            docs.append(loader.get_data())
    except _DuplicateKey as e:
        raise PxsecError(str(e), Location(source, len(docs))) from None
    except yaml.YAMLError as e:  # render read it already: only a reader difference gets here
        raise PxsecError(f"cannot read the YAML: {getattr(e, 'problem', None) or type(e).__name__}",
                         Location(source, len(docs))) from None
    finally:
        loader.dispose()
    return [(Location(source, i), d) for i, d in enumerate(docs) if d is not None]


def _flatten(pairs: list[tuple[Location, Any]]) -> list[tuple[Location, Any]]:
    """kustomize makes each item of a `v1 List` its own resource: so do the targets."""
    out = []
    for loc, obj in pairs:
        if _is_list(obj):
            for i, item in enumerate(obj["items"]):
                out.append((Location(loc.file, loc.index, field=f"items[{i}]"), item))
        else:
            out.append((loc, obj))
    return out


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
    environ = {var: PLACEHOLDER for var in (ENV_SYSTEM, ENV_STORK, ENV_SHARED)} if spec.secret_create else {}
    result = pipeline.render(sources, spec, environ=environ, allow_short_secrets=True)
    ins = [p for name, text in sources for p in _documents(text, name)]
    outs = _documents(result.text, "<rendered>")
    if len(outs) < len(ins) or any(_identity(a) != _identity(b) for (_, a), (_, b) in zip(ins, outs)):
        raise PxsecError("the rendered stream does not line up with the input; use `pxsec render` instead")
    warnings = list(result.warnings)
    pairs = []
    for (loc, a), (_, b) in zip(ins, outs):
        if _is_list(a) and _is_list(b) and len(a["items"]) == len(b["items"]):
            pairs += [(Location(loc.file, loc.index, field=f"items[{i}]"), x, y)
                      for i, (x, y) in enumerate(zip(a["items"], b["items"]))]
        else:
            pairs.append((loc, a, b))
    resources = [obj for _, obj in _flatten(ins)]
    patches = []
    for loc, a, b in pairs:
        if _same(a, b):
            continue
        where = _where(loc, a)
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
            ops = json6902(a, b)
        except _CannotPatch as e:
            raise PxsecError(f"render's edit cannot be a patch: {e}", where) from None
        patches.append(Patch(target, ops, _label(a)))
    for _, extra in outs[len(ins):]:
        warnings.append(_secret_warning(extra, "generates"))
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
    return yaml.dump(value, Dumper=yaml.CSafeDumper, default_flow_style=True, sort_keys=False,
                     width=_WIDTH, allow_unicode=True).strip()


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


def format_patches(patch_set: PatchSet, form: str) -> str:
    """`--for kustomization`: a list for a kustomization's `patches:`; `--for helmrelease`: a
    `postRenderers:` block for a Flux HelmRelease's spec. Checked by reading it back."""
    if form == KUSTOMIZATION:
        text = HEADER + _patch_items(patch_set.patches, 0)
        got = yaml.safe_load(text)
    else:
        text = HEADER + "postRenderers:\n  - kustomize:\n      patches:\n" + _patch_items(patch_set.patches, 8)
        got = yaml.safe_load(text)["postRenderers"][0]["kustomize"]["patches"]
    want = [{"target": p.target, "ops": p.ops} for p in patch_set.patches]
    if [{"target": g["target"], "ops": yaml.safe_load(g["patch"])} for g in got or []] != want:
        raise PxsecError("internal error: the patches do not read back as written")
    return text
