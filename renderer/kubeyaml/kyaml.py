"""YAML as Kubernetes reads it, and YAML that every reader reads the same way.

kubectl, Helm and the API server decode manifests with sigs.k8s.io/yaml, whose YAML layer is a
fork of go-yaml v2 (`sigs.k8s.io/yaml/goyaml.v2`, resolve.go and decode.go). Its reading differs
from PyYAML's (YAML 1.1) in ways that matter to a security tool:

- plain `y`, `Y`, `n`, `N` are booleans; `0o17` is an int; `12:30` (PyYAML: sexagesimal 750),
  timestamps and `=` are strings;
- a merge key `<<` is applied where it stands, so a key written *before* it is overwritten by the
  merged value (PyYAML lets explicit keys win);
- `!!binary` values decode to strings; unknown tags (`!foo x`) are ignored.

`construct` builds Python objects from a node tree composed by `stream._SyntaxLoader` (which
marks plain scalars with PLAIN_TAG) with exactly those rules. `dump`/`Dumper` write YAML whose
strings stay strings for go-yaml, YAML 1.1 and YAML 1.2 readers alike: a string that any of them
would read as something else is quoted.
"""
from __future__ import annotations

import base64
import binascii
import re
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any

import yaml

from .. import lazyre

PLAIN_TAG = "tag:pxsec.io,2026:plain"  # a plain (unquoted, untagged) scalar, resolved here
_Y = "tag:yaml.org,2002:"
STR, BOOL, INT, FLOAT, NULL, MERGE, BINARY, TIMESTAMP = (
    _Y + t for t in ("str", "bool", "int", "float", "null", "merge", "binary", "timestamp"))

_MAP = {}
for _v, _words in ((True, "y Y yes Yes YES true True TRUE on On ON"),
                   (False, "n N no No NO false False FALSE off Off OFF"),
                   (None, "~ null Null NULL"),
                   (float("nan"), ".nan .NaN .NAN"),
                   (float("inf"), ".inf .Inf .INF +.inf +.Inf +.INF"),
                   (float("-inf"), "-.inf -.Inf -.INF")):
    for _w in _words.split():
        _MAP[_w] = _v
_MAP[""] = None
_HINTS = set("+-0123456789yYnNtTfFoO~.")
# go-yaml v2 resolve.go's int and float forms. Compiled when a value needs them: most numbers in
# manifests are plain decimals (read without them) or quantities like 200m (no number's character).
_GO_FLOAT = lazyre.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_GO_DOT_FLOAT = lazyre.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?\Z")
_GO_INT = lazyre.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)\Z")
_NUMBER_CHARS = frozenset("0123456789+-.xXoObBeEacdfACDF")  # every character the two forms can match
_DIGITS = frozenset("0123456789")
# go-yaml v2 parseTimestamp's formats: date, or date and time (T, t or space), optional zone
_GO_TIMESTAMP = lazyre.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?"
                           r"(Z|[+-][0-9]{2}:[0-9]{2})?)?\Z")


class Unrepresentable(ValueError):
    """A value Kubernetes' reader rejects (an explicit tag that does not fit its value)."""


def _go_int(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    if body[:2] in ("0x", "0X"):
        return sign * int(body[2:], 16)
    if body[:2] in ("0o", "0O"):
        return sign * int(body[2:], 8)
    if body[:2] in ("0b", "0B"):
        return sign * int(body[2:], 2)
    if len(body) > 1 and body[0] == "0":
        return sign * int(body[1:], 8)
    return sign * int(body)


def _could_be_number(text: str) -> bool:
    """What every match of _GO_INT, _GO_FLOAT and _GO_DOT_FLOAT has: only their characters, a
    digit, at most one dot (`-f`, `127.0.0.1` and `./config` need no pattern)."""
    return _NUMBER_CHARS.issuperset(text) and not _DIGITS.isdisjoint(text) and text.count(".") <= 1


def resolve_plain(value: str) -> Any:
    """What go-yaml v2 makes of a plain scalar decoded into interface{} (resolve.go)."""
    if value in _MAP:
        return _MAP[value]
    if not value or value[0] not in _HINTS:
        return value
    first = value[0]
    if first == ".":
        return float(value) if _could_be_number(value) and _GO_DOT_FLOAT.match(value) else value
    if first in "+-0123456789":
        if value[4:5] == "-" and _DIGITS.issuperset(value[:4]):  # [0-9]{4}-
            return value  # timestamps decode to strings into interface{} (decode.go)
        plain = value.replace("_", "")
        if not _could_be_number(plain):
            return value
        digits = plain[1:] if plain[0] in "+-" else plain
        if digits and _DIGITS.issuperset(digits) and (digits[0] != "0" or digits == "0"):  # [-+]?([1-9][0-9]*|0)
            return int(plain)
        if _GO_INT.match(plain):
            return _go_int(plain)
        if _GO_FLOAT.match(plain):
            return float(plain)
    return value


def is_plain(node: Any) -> bool:
    return node.tag == PLAIN_TAG


def _scalar(node: Any) -> Any:
    tag, value = node.tag, node.value
    if tag == PLAIN_TAG:
        return resolve_plain(value)
    if tag == STR or not tag.startswith(_Y):
        return value  # quoted, !!str, or a tag go-yaml does not resolve: the text itself
    if tag == TIMESTAMP:
        if not _GO_TIMESTAMP.match(value):
            raise Unrepresentable("a value does not match its tag timestamp")
        return value
    if tag == BINARY:
        try:
            return base64.b64decode("".join(value.split()), validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            raise Unrepresentable("a !!binary value is not base64") from None
    got = resolve_plain(value)
    ok = {BOOL: lambda v: isinstance(v, bool), NULL: lambda v: v is None,
          INT: lambda v: isinstance(v, int) and not isinstance(v, bool),
          FLOAT: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)}.get(tag)
    if ok is None:
        return value
    if not ok(got):
        raise Unrepresentable(f"a value does not match its tag {tag[len(_Y):]}")
    return float(got) if tag == FLOAT else got


def _key(value: Any) -> Any:
    """Mapping keys as sigs.k8s.io/yaml turns them into JSON object keys."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value) if isinstance(value, int) else repr(value)
    raise Unrepresentable("a mapping key is a collection")


class Features:
    """What a document uses that a text edit cannot preserve safely."""

    __slots__ = ("aliases", "merges", "tags")

    def __init__(self):
        self.aliases = self.merges = self.tags = False

    @property
    def any(self) -> bool:
        return self.aliases or self.merges or self.tags


def construct(root: Any, features: Features | None = None) -> Any:
    """Python objects from a composed node tree, as go-yaml v2 decodes it into interface{}.

    Aliases yield the same object each time they are used (see `unshare`). (Every node of every
    document pxsec reads goes through `build`: classes compared by identity, a plain scalar
    resolved inline, a loop instead of a generator; a third less time than the plain form.)"""
    feats = features if features is not None else Features()
    memo: dict[int, Any] = {}

    def build(node: Any) -> Any:
        nid = id(node)
        if nid in memo:
            feats.aliases = True
            return memo[nid]
        cls = node.__class__
        if cls is not _SCALAR and cls is not _SEQUENCE and cls is not _MAPPING:  # a subclass
            cls = _SCALAR if isinstance(node, _SCALAR) else _SEQUENCE if isinstance(node, _SEQUENCE) else _MAPPING
        if cls is _SCALAR:
            tag = node.tag
            if tag == PLAIN_TAG:
                out = memo[nid] = resolve_plain(node.value)
                return out
            if tag != STR:
                feats.tags = True
            out = memo[nid] = _scalar(node)
            return out
        if cls is _SEQUENCE:
            if node.tag != _SEQ_TAG:
                feats.tags = True
            out = memo[nid] = []
            append = out.append
            for item in node.value:
                append(build(item))
            return out
        if node.tag != _MAP_TAG:
            feats.tags = True
        out = memo[nid] = {}
        for knode, vnode in node.value:
            if knode.value == "<<" and isinstance(knode, _SCALAR) and knode.tag in (PLAIN_TAG, MERGE):
                feats.merges = True
                _merge(out, vnode, build)
                continue
            out[_key(build(knode))] = build(vnode)
        return out

    return build(root)


_SCALAR, _SEQUENCE, _MAPPING = yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode
_SEQ_TAG, _MAP_TAG = _Y + "seq", _Y + "map"


def _merge(out: dict, vnode: Any, build) -> None:
    """go-yaml v2 `merge`: the merged mapping's keys are set where `<<` stands (later keys win);
    of a sequence of mappings, earlier ones take precedence."""
    if isinstance(vnode, yaml.MappingNode):
        sources = [vnode]
    elif isinstance(vnode, yaml.SequenceNode):
        sources = list(reversed(vnode.value))
    else:
        raise Unrepresentable("a merge key (<<) needs a mapping or a list of mappings")
    for src in sources:
        if not isinstance(src, yaml.MappingNode):
            raise Unrepresentable("a merge key (<<) needs a mapping or a list of mappings")
        merged = build(src)
        out.update(merged)


def get(node: Any, key: str) -> Any:
    """The value node of `key` in a mapping node, as go-yaml decodes it (merge keys applied where
    they stand, later keys win), without constructing anything else. None when absent."""
    found = None
    if isinstance(node, yaml.MappingNode):
        for knode, vnode in node.value:
            if isinstance(knode, yaml.ScalarNode) and knode.value == "<<" and knode.tag in (PLAIN_TAG, MERGE):
                sources = vnode.value if isinstance(vnode, yaml.SequenceNode) else [vnode]
                for src in sources:  # the first source that has the key wins among merged ones
                    hit = get(src, key)
                    if hit is not None:
                        found = hit
                        break
            elif isinstance(knode, yaml.ScalarNode) and _key_text(knode) == key:
                found = vnode
    return found


def _key_text(knode: Any) -> Any:
    if knode.tag == PLAIN_TAG:
        value = resolve_plain(knode.value)
        return value if isinstance(value, str) else None
    try:
        return _scalar(knode)
    except Unrepresentable:
        return None


def scalar_value(node: Any) -> Any:
    """A scalar node's value as Kubernetes reads it; None for collections, absent or bad values."""
    if not isinstance(node, yaml.ScalarNode):
        return None
    try:
        return _scalar(node)
    except Unrepresentable:
        return None


def skeleton(node: Any, pod_paths: dict, depth: int = 0) -> Any:
    """The few fields an object's identity and role depend on (apiVersion, kind, metadata name,
    namespace and annotations, provisioner, driver (VolumeSnapshotClass), the pod spec's containers'
    name/image/command, list items), read as Kubernetes reads them. Enough for `portworx.classify`; far cheaper than
    constructing every document of a stream."""
    if not isinstance(node, yaml.MappingNode) or depth > 8:
        return None
    out: dict = {}
    for key in ("apiVersion", "kind", "provisioner", "driver"):
        value = scalar_value(get(node, key))
        if value is not None:
            out[key] = value
    meta = get(node, "metadata")
    if isinstance(meta, yaml.MappingNode):
        out["metadata"] = {k: v for k in ("name", "namespace")
                           if (v := scalar_value(get(meta, k))) is not None}
    items = get(node, "items")
    if isinstance(items, yaml.SequenceNode):
        out["items"] = [skeleton(i, pod_paths, depth + 1) for i in items.value]
    elif items is not None:
        out["items"] = scalar_value(items)
    path = pod_paths.get(out.get("kind")) if isinstance(out.get("kind"), str) else None
    if path is None and "items" not in out:  # a kind pxsec does not know: any pod-template shape
        from ..portworx import GENERIC_POD_PATHS

        for shape in GENERIC_POD_PATHS:
            pod = node
            for part in shape:
                pod = get(pod, part)
            if isinstance(get(pod, "containers"), yaml.SequenceNode):
                path = shape
                break
    if path:
        pod = node
        for part in path:
            pod = get(pod, part)
        holder = out
        for part in path[:-1]:
            holder = holder.setdefault(part, {})
        spec = holder[path[-1]] = {}
        for list_key in ("initContainers", "containers"):
            seq = get(pod, list_key)
            if isinstance(seq, yaml.SequenceNode):
                spec[list_key] = [{k: scalar_value(get(c, k)) for k in ("name", "image")}
                                  for c in seq.value if isinstance(c, yaml.MappingNode)]
    return out


def unshare(obj: Any) -> Any:
    """A deep copy in which no two places share an object (YAML aliases constructed once are
    shared; a filter editing one place must not edit the other)."""
    if isinstance(obj, dict):
        return {k: unshare(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [unshare(v) for v in obj]
    return obj


def same(a: Any, b: Any) -> bool:
    """Equality that tells True from 1 and 1 from 1.0 (Kubernetes' JSON does)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and a != a:
        return b != b
    return a == b


# ---------------------------------------------------------------------------- writing

def plain_is_string(value: str) -> bool:
    """True when `value` written plain reads back as this string for go-yaml v2, YAML 1.1
    (PyYAML) and YAML 1.2 core alike."""
    if resolve_plain(value) != value or not isinstance(resolve_plain(value), str):
        return False
    if value in ("=", "<<") or value.lower() in ("true", "false", "null", "yes", "no", "on", "off", "y", "n"):
        return False
    return _YAML11.resolve(yaml.ScalarNode, value, (True, False)) == STR


_YAML11 = yaml.resolver.Resolver()


class Dumper(yaml.CSafeDumper):
    """The safe dumper, quoting every string that some reader would take for another type."""

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode and implicit[0] and not plain_is_string(value):
            tag = super().resolve(kind, value, implicit)
            return tag if tag != STR else INT  # anything but str: the emitter quotes it
        return super().resolve(kind, value, implicit)


def dump(obj: Any, **kw: Any) -> str:
    kw.setdefault("default_flow_style", False)
    return yaml.dump(obj, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=1 << 16, **kw)
