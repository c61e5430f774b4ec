"""JSON6902 (RFC 6902) ops that turn one object into another, and a small applier to check them.

Lists of items with unique names (containers, env, volumes) are edited by name: a `test` op on
the item's name precedes every op that reaches into it by index, removals go from the end, and
new items are appended with `/-` where they come last. Other lists (args, StorageCluster nodes)
get a difflib edit script applied from the end; an unnamed item edited in place is guarded by a
`test` on a member the edit keeps (a node's selector). A `test` only ever compares a name, a flag argument, or a string
that is in the target object, so a value the target does not carry (a literal secret of the
source) is never written into an op. `json6902` applies its ops to the source and refuses to
return ops that do not reproduce the target exactly.
"""
from __future__ import annotations

import copy
import re
from typing import Any

_FLAG = re.compile(r"\A--?[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


def _pointer(path: tuple) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _op(op: str, path: tuple, *value: Any) -> dict:
    out = {"op": op, "path": _pointer(path) if path[-1:] != ("-",) else _pointer(path[:-1]) + "/-"}
    if value:
        out["value"] = value[0]
    return out


def same(a: Any, b: Any) -> bool:
    """Equality as JSON sees it (True is not 1, 1 is not "1")."""
    return _canon(a) == _canon(b)


def _canon(v: Any) -> tuple:
    """A hashable, type-strict form of a YAML value (any keys, dates included)."""
    if isinstance(v, dict):
        return ("map", tuple(sorted((repr(k), _canon(x)) for k, x in v.items())))
    if isinstance(v, list):
        return ("seq", tuple(_canon(x) for x in v))
    return (type(v).__name__, repr(v))


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
        if same(old, new):
            return
        if isinstance(old, dict) and isinstance(new, dict):
            self.mapping(path, old, new)
        elif isinstance(old, list) and isinstance(new, list):
            self.sequence(path, old, new)
        else:  # `add` also sets a member that is null (kustomize may have dropped it)
            self.ops.append(_op("add" if old is None else "replace", path, new))

    def mapping(self, path: tuple, old: dict, new: dict) -> None:
        if any(not isinstance(k, str) for k in list(old) + list(new)):
            raise CannotPatch(f"{_pointer(path) or '/'} has a non-string key, which a JSON patch cannot name")
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
            if same(o, n):
                continue
            self.ops.append(_op("test", path + (i, "name"), name))
            if any(isinstance(o.get(k), list) or isinstance(n.get(k), list)
                   for k in set(o) | set(n) if not same(o.get(k), n.get(k))):
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

        keys_old = [_canon(v) for v in old]
        keys_new = [_canon(v) for v in new]
        codes = difflib.SequenceMatcher(None, keys_old, keys_new, autojunk=False).get_opcodes()
        for tag, i1, i2, j1, j2 in reversed(codes):
            if tag == "equal":
                continue
            if tag == "replace" and i2 - i1 == j2 - j1 and all(
                    isinstance(old[i], dict) and isinstance(new[j1 + i - i1], dict) for i in range(i1, i2)):
                for i in range(i1, i2):
                    o, n = old[i], new[j1 + i - i1]
                    # guard by a member the edit keeps (a node's selector): it is in the target anyway
                    kept = [k for k in o if isinstance(k, str) and k in n and same(o[k], n[k])]
                    if kept:
                        self.ops.append(_op("test", path + (i, sorted(kept)[0]), o[sorted(kept)[0]]))
                    self.value(path + (i,), o, n)
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


class CannotPatch(Exception):
    pass


def json6902(old: Any, new: Any) -> list[dict]:
    """The JSON6902 ops that turn `old` into `new` (checked by applying them)."""
    differ = _Differ(_scalars(new, set()))
    differ.value((), old, new)
    try:
        result = apply(old, differ.ops)
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise CannotPatch(f"the ops do not apply ({type(e).__name__})") from None
    if not same(result, new):
        raise CannotPatch("the ops do not reproduce the rendered object")
    return differ.ops


def _parse_pointer(pointer: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]


def apply(doc: Any, ops: list[dict]) -> Any:
    """RFC 6902 add/remove/replace/test on a copy of `doc` (for checking our own ops)."""
    doc = copy.deepcopy(doc)
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
            elif not same(parent[idx], op["value"]):
                raise ValueError("test failed")
        elif op["op"] in ("add", "replace"):
            if op["op"] == "replace" and last not in parent:
                raise KeyError(last)
            parent[last] = op["value"]
        elif op["op"] == "remove":
            del parent[last]
        elif not same(parent[last], op["value"]):
            raise ValueError("test failed")
    return doc
