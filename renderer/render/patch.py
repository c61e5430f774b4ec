"""Minimal text edits for a changed document: rewrite only what changed.

A filter changes a few values of a document (an env list, an args list, a new key). Instead
of dumping the whole document again, which would drop its comments and restyle every line, the
original text is edited where the composed node tree says the changed values are:

- a changed value whose node exists is replaced in place (block values as indented block YAML,
  flow collections as one-line flow collections, scalars as scalars);
- a block sequence that only grew gets its new items appended after the last one;
- a key added to a block mapping is inserted after the mapping's last line.

The result is parsed again, the way Kubernetes reads it (kyaml), and must construct to exactly
the intended object (types included: `"y"` must stay a string); otherwise the caller falls back
to dumping the whole document. So an edit is either right or not used. Every value written
goes through kyaml's dumper or JSON quoting, so a string stays a string for every reader.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any

import yaml

from ..kubeyaml import kyaml

_BIG = 1 << 16


class _Unsupported(Exception):
    pass


def _dump_block(value: Any, indent: int, nl: str) -> str:
    text = kyaml.dump(value)
    pad = " " * indent
    return "".join(pad + ln + nl for ln in text.splitlines())


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _quoted(value: str) -> str:
    """A YAML double-quoted scalar: every reader gets this exact string back. Control characters and
    YAML's other line breaks (U+0085, U+2028, U+2029, which would fold) are escaped."""
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch < " " or ch == "\x7f" or ch in "\x85\u2028\u2029\ufeff" or "\ud800" <= ch <= "\udfff":
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _scalar_text(value: Any) -> str:
    if isinstance(value, str):
        return _quoted(value)
    text = kyaml.dump(value, default_flow_style=True)
    text = text.strip()
    if text.endswith("..."):
        text = text[:-3].strip()
    return text


def _flow_text(value: Any) -> str:
    """A one-line flow collection of scalars (the caller checked: no nested collections)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_scalar_text(str(k))}: {_scalar_text(v)}" for k, v in value.items()) + "}"
    return "[" + ", ".join(_scalar_text(v) for v in value) + "]"


def _last_leaf_end(node: Any) -> int:
    while True:
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style and node.value:
            last = node.value[-1]
            node = last[1] if isinstance(node, yaml.MappingNode) else last
            continue
        return node.end_mark.index


def _line_after(text: str, pos: int) -> int:
    """Start of the line after the one containing pos (pos itself when it starts a line)."""
    if pos > 0 and text[pos - 1] == "\n":
        return pos
    nl = text.find("\n", pos)
    return len(text) if nl < 0 else nl + 1


class _Editor:
    def __init__(self, text: str):
        self.text = text
        self.nl = "\r\n" if "\r\n" in text else "\n"
        self.edits: list[tuple[int, int, str]] = []

    def replace_node(self, node: Any, value: Any, indent: int) -> None:
        start, end = node.start_mark.index, node.end_mark.index
        if isinstance(value, (dict, list)) and value:
            if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.flow_style or \
                    isinstance(node, yaml.ScalarNode) and node.style is None and node.value and \
                    "\n" not in self.text[start:end]:
                if isinstance(node, yaml.ScalarNode) or not _all_scalars(value):
                    if isinstance(node, yaml.ScalarNode):
                        raise _Unsupported("scalar becomes a collection")
                    raise _Unsupported("flow collection with nested values")
                self.edits.append((start, end, _flow_text(value)))
                return
            if isinstance(node, yaml.ScalarNode):  # empty value (`key:`) becomes a block
                if node.value != "" or node.style is not None:
                    raise _Unsupported("scalar becomes a collection")
                block = _dump_block(value, indent, self.nl)
                self.edits.append((start, end, self.nl + block.rstrip("\r\n")))
                return
            # a block collection: rewrite it whole, at its own column
            col = node.start_mark.column
            block = _dump_block(value, col, self.nl)[col:]
            end = _line_after(self.text, _last_leaf_end(node))
            self.edits.append((start, end, block))
            return
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style:
            raise _Unsupported("block collection becomes a scalar")
        self.edits.append((start, end, _flow_text(value) if isinstance(value, (dict, list)) else _scalar_text(value)))

    def diff(self, node: Any, old: Any, new: Any, indent: int) -> None:
        if type(old) is type(new) and old == new:
            return
        if isinstance(node, yaml.MappingNode) and not node.flow_style and isinstance(old, dict) \
                and isinstance(new, dict) and old and new:
            mark = len(self.edits)
            try:
                self._mapping(node, old, new)
            except _Unsupported:  # rewrite this mapping alone
                del self.edits[mark:]
                self.replace_node(node, new, indent)
            return
        if isinstance(node, yaml.SequenceNode) and not node.flow_style and isinstance(old, list) \
                and isinstance(new, list) and old and new:
            self._sequence(node, old, new)
            return
        self.replace_node(node, new, indent)

    def _mapping(self, node: Any, old: dict, new: dict) -> None:
        keys = {}
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode) or k.value == "<<" or k.value in keys \
                    or not isinstance(kyaml.scalar_value(k), str):
                raise _Unsupported("merge or duplicate keys")
            keys[k.value] = (k, v)
        if set(keys) != {str(k) for k in old} or any(not isinstance(k, str) for k in new):
            raise _Unsupported("non-string keys")
        if any(k not in new for k in old):
            raise _Unsupported("key removed")
        col = node.value[0][0].start_mark.column if node.value else 0
        for k in old:
            knode, vnode = keys[k]
            self.diff(vnode, old[k], new[k], knode.start_mark.column + 2)
        added = [k for k in new if k not in old]
        if added:
            at = _line_after(self.text, _last_leaf_end(node))
            block = _dump_block({k: new[k] for k in added}, col, self.nl)
            self.edits.append((at, at, block))

    def _sequence(self, node: Any, old: list, new: list) -> None:
        col = node.start_mark.column
        if len(new) == len(old):
            for item, o, n in zip(node.value, old, new):
                self.diff(item, o, n, col + 2)
            return
        if len(new) > len(old) and new[:len(old)] == old:
            at = _line_after(self.text, _last_leaf_end(node))
            self.edits.append((at, at, _dump_block(new[len(old):], col, self.nl)))
            return
        self.replace_node(node, new, col)


def _all_scalars(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return all(isinstance(v, (str, int, float, bool)) or v is None for v in items)


def patch(text: str, node: Any, old: Any, new: Any) -> str | None:
    """`text` (whose composed root is `node`, constructing to `old`) edited to construct to `new`."""
    done = patch_read(text, node, old, new)
    return None if done is None else done[0]


def patch_read(text: str, node: Any, old: Any, new: Any) -> tuple[str, Any] | None:
    """patch(), and Kubernetes' reading of the edited text that proved it: (text, object read).
    Render's proof (selfcheck.py) judges that object when the text it reads back is this one."""
    trailing = "" if text.endswith(("\n", "\r")) else ("\r\n" if "\r\n" in text else "\n")
    if trailing:  # appended blocks start on a line of their own; the added break is taken off again
        text += trailing
    editor = _Editor(text)
    try:
        editor.diff(node, old, new, 0)
    except (_Unsupported, AttributeError, TypeError):
        return None
    edits = sorted(editor.edits, key=lambda e: (e[0], e[1]))
    for (a0, a1, _), (b0, _b1, _) in zip(edits, edits[1:]):
        if b0 < a1:
            return None  # overlapping edits: not a shape this module handles
    out = text
    for start, end, replacement in reversed(edits):
        out = out[:start] + replacement + out[end:]
    if trailing and out.endswith(trailing):
        out = out[:-len(trailing)]
    view = _kube_view(out)
    if not kyaml.same(view, new):
        return None
    return out, view


def _kube_view(text: str) -> Any:
    """The edited text as render's stream reads a document (yamlsafe.compose: nesting and alias
    limits, then libyaml), constructed as Kubernetes decodes it."""
    from ..errors import PxsecError
    from ..kubeyaml.yamlsafe import compose  # yamlsafe, not stream: no patch <-> stream circle

    try:
        return kyaml.construct(compose(text, "<patched>", 0, 1))
    except (PxsecError, kyaml.Unrepresentable, RecursionError):
        return _Unsupported  # never equal to an object
