"""A stream Kubernetes reads as JSON values (`{...}\\n{...}`), and how pxsec writes one back.

apimachinery's `YAMLOrJSONDecoder` (pkg/util/yaml/decoder.go) reads a stream whose first
non-space byte is `{` as a series of JSON values; see k8ssplit.json_values for where it falls
back to YAML. pxsec keeps each value's text (whitespace before it included) as one document:
untouched values are written back byte for byte; a changed one is written as JSON (two-space
indent, keys in the order the filters left them), so the output is still a JSON stream.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

    from .stream import Document

from . import k8ssplit
from ..kubeyaml import kyaml
from ..errors import Location, PxsecError


def parse_json(text: str, source: str, role: Callable[[Document], str | None] | None = None,
               worth_composing: Callable[[str], bool] | None = None, *, syntax: bool = False) -> list[Document]:
    from .stream import Document, compose, finish, parse_yaml

    spans, rest = k8ssplit.json_values(text, source)
    docs: list[Document] = []
    line, at = 1, 0
    for index, (a, b) in enumerate(spans):
        line += k8ssplit.line_count(text[at:a])
        at = a
        chunk = text[a:b]
        if worth_composing is not None and not worth_composing(chunk):
            doc = Document(source, index, chunk, line)  # json_values decoded it: the syntax is checked
        else:
            doc = finish(Document(source, index, chunk, line), compose(as_yaml(chunk), source, index, line), role)
        doc.json = True
        docs.append(doc)
    if rest is not None:
        line += k8ssplit.line_count(text[at:rest])
        docs += parse_yaml(text[rest:], source, role, worth_composing, first_index=len(spans), first_line=line,
                           syntax=syntax)
    return docs


def as_yaml(value: str) -> str:
    """A JSON value as libyaml composes it: a raw tab in valid JSON is whitespace (inside a string
    it must be escaped), which YAML refuses at the start of a line; a space keeps every mark."""
    return value.replace("\t", " ")


def dumps(obj: Any, location: Location) -> str:
    import json  # only a JSON stream's changed documents need it: a YAML stream's render never imports json

    try:
        return json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        raise PxsecError("a value cannot be written as JSON (NaN, infinity or a non-string key)", location) from None


def emit_json(doc: Document) -> str:
    """A changed value of a JSON stream: its whitespace around, the object as JSON."""
    text = doc.text
    lead = len(text) - len(text.lstrip(k8ssplit.JSON_SPACE))
    trail = len(text.rstrip(k8ssplit.JSON_SPACE))
    return text[:lead] + dumps(doc.obj, doc.location()) + text[trail:]


class JoinState:
    """Which reader Kubernetes is in while pxsec writes the output stream (stream.join).

    An output that starts with a JSON value is read as JSON; after one value a document that is
    not JSON switches the reader to YAML for good (then `---` separates documents), after two or
    more it is an error (YAMLOrJSONDecoder.Decode: `d.count > 1`), so from there on every
    document is written as JSON: a YAML document from another input or one pxsec generated is
    converted (its comments are lost), an empty one dropped."""

    def __init__(self) -> None:
        self.mode: str | None = None
        self.json_values = 0

    def text(self, doc: Document) -> str | None:
        if self.mode is None:
            self.mode = "json" if doc.json else "yaml"
        if self.mode == "json":
            if doc.json:
                self.json_values += 1
                return doc.emit()
            if self.json_values < 2:
                self.mode = "yaml"
                return doc.emit()
            return _as_json(doc)
        return doc.emit()


def _as_json(doc: Document) -> str | None:
    from .stream import body, compose

    if doc.index < 0 or doc.empty:
        return None
    if doc.changed and doc.obj is not None:
        obj = doc.obj
    else:
        node = doc.node
        if node is None:
            node = compose(body(doc.text.lstrip("\ufeff"), doc.separated), doc.source, doc.index, doc.line)
        if node is None:
            return None
        try:
            obj = kyaml.construct(node, kyaml.Features())
        except kyaml.Unrepresentable as e:
            raise PxsecError(f"invalid YAML: {e}", doc.location()) from None
    if obj is None:
        return None
    return "\n" + dumps(obj, doc.location()) + "\n"
