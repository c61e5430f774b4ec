"""Hide secret values before anything is shown: `render --diff` text and `check`'s drift values.

What counts as a secret value:
- the `value:` of an env entry whose name is a key variable (`PORTWORX_AUTH_SYSTEM_KEY`, ...,
  `PX_SHARED_SECRET`) or looks like one (`*SECRET*`, `*PASSW*`, `*TOKEN*`, `*_KEY`, ...);
- the argument after `-jwt_shared_secret` / `-auth_system_key` (or `-flag=value`), and any
  string that carries such a flag (a misc-args annotation);
- every value under `data` / `stringData` of a `Secret`, and the value of any key named like a
  key variable (a ConfigMap that feeds one).

Two forms: `value_at` masks constructed values (drift messages), `text` masks a document's
YAML text by the marks of the composed nodes, so quoting, flow style and block scalars never
matter. A document that cannot be composed, or that still shows a secret after masking, is
replaced as a whole.
"""
from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any

import yaml

from .. import portworx as px

LITERAL = "<literal value>"
HIDDEN = "<secret value hidden>"
CHANGED = "<new secret value hidden>"
_SECRETISH = re.compile(r"SECRET|PASSW|TOKEN|CREDENTIAL|PRIVATE|(^|_)(API_?)?KEY$", re.I)
_FLAG_IN_TEXT = re.compile("(" + "|".join(map(re.escape, px.SECRET_FLAGS)) + r")(=|\s+)(\S+)")


def secret_env_name(name: Any) -> bool:
    return isinstance(name, str) and (name in px.SECRET_ENV or bool(_SECRETISH.search(name)))


def _flag_of(item: Any) -> str | None:
    """The secret flag an argv item names (`-f`, `--f`, `-f=v`, read by `portworx.flag_name`),
    else None. Masking reads past a `--` terminator too: better one value too many hidden."""
    flag = px.flag_name(item)
    return flag if flag in px.SECRET_FLAGS else None


def _inline(item: Any) -> bool:
    return isinstance(item, str) and "=" in item


def _mask_string(s: str) -> str:
    """Secret flags' values, and `KEY=value` of key variables (the chart's helm-vars annotation
    copies `envVars` there)."""
    from .filters.helm_vars import mask

    return _FLAG_IN_TEXT.sub(lambda m: m.group(0) if m.group(3).startswith("<") else
                             f"{m.group(1)}{m.group(2)}{LITERAL}", mask(s, LITERAL))


def value(obj: Any) -> Any:
    """A copy of `obj` with every secret value replaced by `<literal value>`."""
    if isinstance(obj, dict):
        out = {k: value(v) for k, v in obj.items()}
        if secret_env_name(obj.get("name")) and "value" in obj:
            out["value"] = LITERAL
        for k in obj:
            if k in px.SECRET_ENV and not isinstance(obj[k], (dict, list)):  # a ConfigMap key, say
                out[k] = LITERAL
        if obj.get("kind") == "Secret":
            for key in ("data", "stringData"):
                if isinstance(obj.get(key), dict):
                    out[key] = {k: (LITERAL if v is not None else None) for k, v in obj[key].items()}
        return out
    if isinstance(obj, list):
        out = [value(v) for v in obj]
        for i, item in enumerate(obj):
            flag = _flag_of(item)
            if flag and not _inline(item) and i + 1 < len(obj):
                out[i + 1] = LITERAL
            elif flag and _inline(item):
                out[i] = f"{item.split('=', 1)[0]}={LITERAL}"
        return out
    if isinstance(obj, str):
        return _mask_string(obj)
    return obj


def value_at(root: Any, path: tuple, found: Any) -> Any:
    """`found` (the value at `path` inside `root`), masked with what its context says."""
    parents = [root]
    for p in path[:-1]:
        cur = parents[-1]
        parents.append(cur[p] if isinstance(cur, (dict, list)) and _has(cur, p) else None)
    if path:
        parent, last = parents[-1], path[-1]
        if isinstance(parent, dict) and last == "value" and secret_env_name(parent.get("name")):
            return LITERAL
        if isinstance(parent, dict) and last in px.SECRET_ENV and not isinstance(found, (dict, list)):
            return LITERAL
        if isinstance(parent, list) and isinstance(last, int) and last > 0 and _flag_of(parent[last - 1]) \
                and not _inline(parent[last - 1]):
            return LITERAL
        if isinstance(root, dict) and root.get("kind") == "Secret" and path[0] in ("data", "stringData"):
            if len(path) >= 2:
                return LITERAL if found is not None else None
            if isinstance(found, dict):
                return {k: (LITERAL if v is not None else None) for k, v in found.items()}
    return value(found)


def _has(container: Any, key: Any) -> bool:
    if isinstance(container, dict):
        return key in container
    return isinstance(key, int) and 0 <= key < len(container)


# ---------------------------------------------------------------------------- YAML text

def _scalar(node: Any) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _secret_nodes(root: Any) -> list[yaml.Node]:
    out: list[yaml.Node] = []
    stack = [root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            pairs = {_scalar(k): v for k, v in node.value}
            if secret_env_name(_scalar(pairs.get("name"))) and "value" in pairs:
                out.append(pairs["value"])
            out.extend(v for k, v in node.value if _scalar(k) in px.SECRET_ENV and isinstance(v, yaml.ScalarNode))
            for k, v in node.value:
                stack.extend((k, v))
        elif isinstance(node, yaml.SequenceNode):
            items = node.value
            for i, item in enumerate(items):
                flag = _flag_of(_scalar(item))
                if flag and not _inline(_scalar(item)) and i + 1 < len(items):
                    out.append(items[i + 1])
                elif flag:
                    out.append(item)
            stack.extend(items)
        elif isinstance(node, yaml.ScalarNode) and _FLAG_IN_TEXT.search(node.value or ""):
            out.append(node)
    if isinstance(root, yaml.MappingNode):
        pairs = {_scalar(k): v for k, v in root.value}
        if _scalar(pairs.get("kind")) == "Secret":
            for key in ("data", "stringData"):
                data = pairs.get(key)
                if isinstance(data, yaml.MappingNode):
                    out.extend(v for _, v in data.value)
                elif data is not None:
                    out.append(data)
    return out


def _values(node: Any) -> list[str]:
    if isinstance(node, yaml.ScalarNode):
        return [node.value]
    subs = node.value if isinstance(node, yaml.SequenceNode) else [v for _, v in node.value]
    return [s for sub in subs for s in _values(sub)]


def text(chunk: str, placeholder: str = HIDDEN) -> str:
    """`chunk` (one YAML document's text) with every secret value replaced by `placeholder`."""
    if "\r" in chunk.replace("\r\n", "") or any(c in chunk for c in "\x85\u2028\u2029"):
        return _whole(chunk)  # line breaks that str.split and libyaml count differently
    try:
        root = yaml.compose(chunk.lstrip("\ufeff"), Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return _whole(chunk)
    nodes = _secret_nodes(root)
    if not nodes:
        return chunk
    offset = len(chunk) - len(chunk.lstrip("\ufeff"))
    lines = chunk.split("\n")
    spans = sorted({(n.start_mark.line, n.start_mark.column, n.end_mark.line, n.end_mark.column) for n in nodes})
    outer: list[tuple] = []
    for span in spans:  # a span inside another (an item of a masked sequence) goes with it
        if outer and (span[0], span[1]) < (outer[-1][2], outer[-1][3]):
            continue
        outer.append(span)
    spans = outer[::-1]
    for sl, sc, el, ec in spans:
        sc += offset if sl == 0 else 0
        ec += offset if el == 0 else 0
        if el == sl:
            lines[sl] = lines[sl][:sc] + placeholder + lines[sl][ec:]
            continue
        tail = lines[el][ec:] if ec > 0 and el < len(lines) else ""
        last = el + 1 if ec > 0 else el
        lines[sl:last] = [lines[sl][:sc] + placeholder + tail]
    masked = "\n".join(lines)
    if any(len(v) >= 6 and v in masked for n in nodes for v in _values(n)):
        return _whole(chunk)
    return masked


def _whole(chunk: str) -> str:
    """A document that cannot be masked node by node: its marker and one line instead of the body."""
    marker = "---\n" if chunk.lstrip("\ufeff").startswith("---") else ""
    return f"{marker}# {HIDDEN}: document not shown\n"
