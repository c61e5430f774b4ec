"""A multi-document YAML stream as raw text chunks, parsed only as far as needed.

Design for speed and byte-fidelity:
- The text is split on document markers (`---` at column 0; YAML forbids them inside
  content, so this is exact). Each chunk keeps its own bytes: marker line, comments
  (`# Source:` lines), body.
- Every chunk is *composed* with libyaml (a real syntax check, no Python objects built), and
  its kind/name/containers are read off the node tree.
- Only documents a filter wants are *constructed* into Python objects; only documents a
  filter changed are dumped again. Everything else is emitted as the original chunk.
"""
from __future__ import annotations

import re
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any, Callable, Iterator

import yaml
import yaml.reader

from . import kyaml
from .errors import Location, PxsecError
from .yamlsafe import MAX_DEPTH, SyntaxLoader, check_depth, compose, too_deep, yaml_error

_MARKER = re.compile(r"(?:^|(?<=\r))---(?=[ \t\r\n]|$)", re.M)
_BOM = "\ufeff"


class Document:
    """One document chunk of a stream: its original text and what was read off it."""

    def __init__(self, source: str, index: int, text: str, line: int, node: Any = None, *,
                 empty: bool = False, generated: bool = False, kind: str | None = None,
                 name: str | None = None, namespace: str | None = None):
        self.source = source
        self.index = index  # 0-based index among the stream's documents, as yaml.load_all counts them
        self.text = text  # the original chunk, emitted as is unless the document changed
        self.line = line  # 1-based line of the chunk's first line in the source
        self.node = node  # composed root node: kept only for documents the caller wants (see parse)
        self.empty = empty  # no content (comments only, or an empty/null document)
        self.generated = generated  # created by pxsec, not from the input
        self._view: Any = None  # what Kubernetes decodes (see view())
        self.skeleton: Any = None  # identity and containers, read cheaply (see identify())
        self.role: str | None = None  # what the caller's `role` function made of it (parse)
        self.features: kyaml.Features | None = None  # aliases, merge keys, tags seen while constructing
        self.obj: Any = None  # unshared copy of the view, only for documents a filter edits
        self.changed = False
        self.api_version: str | None = None
        self.kind = kind
        self.name = name
        self.namespace = namespace

    def location(self, field: str | None = None) -> Location:
        return Location(self.source, self.index, self.kind, self.name, self.namespace, field)

    def view(self) -> Any:
        """The object as Kubernetes decodes it (kyaml.construct); shared by aliases. Cached."""
        if self._view is None and self.node is not None:
            feats = kyaml.Features()
            try:
                self._view = kyaml.construct(self.node, feats)
            except kyaml.Unrepresentable as e:
                raise PxsecError(f"invalid YAML: {e}", self.location()) from None
            except RecursionError:
                raise PxsecError("YAML nested too deeply; refused", self.location()) from None
            self.features = feats
        return self._view

    def identify(self) -> Any:
        """Read identity (apiVersion, kind, name, namespace) off the node, as Kubernetes reads it,
        and keep the skeleton `portworx.classify` needs."""
        from .portworx import POD_SPEC_PATHS

        skel = self.skeleton = kyaml.skeleton(self.node, POD_SPEC_PATHS)
        meta = skel.get("metadata") or {}
        self.api_version, self.kind = _text(skel.get("apiVersion")), _text(skel.get("kind"))
        self.name, self.namespace = _text(meta.get("name")), _text(meta.get("namespace"))
        return skel

    def construct(self) -> Any:
        """A private, unshared copy of the object for the filters to edit."""
        if self.obj is None and self.node is not None:
            self.obj = kyaml.unshare(self.view())
        return self.obj

    def header(self) -> str:
        """Marker line, directives, blank lines and comments before the body: kept on re-emission."""
        out = []
        marker = directives = False
        for ln in self.text.splitlines(keepends=True):
            s = ln.strip().lstrip(_BOM)
            if _MARKER.match(ln.lstrip(_BOM)):
                marker = True
                if ln[3:].strip() and not ln[3:].strip().startswith("#"):
                    out.append("---\n")  # content on the marker line: re-emit a bare marker
                    return "".join(out)
                out.append(ln.rstrip("\r\n") + "\n")
                continue
            if not s or s.startswith("#") or (s.startswith("%") and not marker):
                directives |= s.startswith("%")
                out.append(ln.rstrip("\r\n") + "\n")
                continue
            break
        if directives and not marker:
            out.append("---\n")
        return "".join(out)

    def pristine(self) -> Any:
        """The object as read, before the filters edited their unshared copy (`obj`)."""
        return self.view()

    def emit(self) -> str:
        if not self.changed:
            return self.text
        if self.node is not None:
            from .patch import patch

            edited = patch(self.text, self.node, self.pristine(), self.obj)
            if edited is not None:
                return edited
        # the whole document, as Kubernetes reads it (aliases, merge keys, tags resolved)
        return self.header() + dump(self.obj)


def dump(obj: Any) -> str:
    return kyaml.dump(obj)


def _line_count(chunk: str) -> int:
    return chunk.count("\n") + chunk.count("\r") - chunk.count("\r\n")


def _directive_start(text: str, marker: int) -> int:
    """Where the directives (`%YAML`, `%TAG`) written just before a marker begin: they belong to
    the document the marker opens. `marker` itself when there are none."""
    start = marker
    pos = marker
    while pos > 0:
        prev = max(text.rfind("\n", 0, pos - 1), text.rfind("\r", 0, pos - 1)) + 1
        line = text[prev:pos].strip()
        if line.startswith("%"):
            start = prev
        elif line and not line.startswith("#"):
            break
        pos = prev
    return start


def _marker_starts(text: str) -> list[int]:
    """Offsets of the document markers (`---` at the start of a line, then a blank or the end);
    the same as _MARKER.finditer, several times faster on long streams."""
    out = []
    n = len(text)
    i = text.find("---")
    while i >= 0:
        if (i == 0 or text[i - 1] in "\n\r") and (i + 3 == n or text[i + 3] in " \t\r\n"):
            out.append(i)
        i = text.find("---", i + 3)
    return out


def split(text: str) -> Iterator[tuple[str, int]]:
    """(chunk, first line) for each document chunk; the chunks concatenate back to `text`."""
    starts = _marker_starts(text)
    if "%" in text:
        starts = [_directive_start(text, s) if s else s for s in starts]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    starts.append(len(text))
    line = 1
    for a, b in zip(starts, starts[1:]):
        chunk = text[a:b]
        if chunk:
            yield chunk, line
            line += _line_count(chunk)


def _syntax_check(text: str, source: str) -> None:
    """The whole stream through libyaml's parser in C (no Python objects): a syntax error is
    reported with the index of the document it is in."""
    parser = SyntaxLoader(text)
    try:
        parser.raw_parse()
    except yaml.YAMLError as e:
        if isinstance(e, yaml.reader.ReaderError):
            raise yaml_error(e, 1, text, Location(source, 0)) from None
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        index = 0
        if mark is not None:  # the document the error is in, counted as parse() counts them
            index = -1
            for n, (chunk, start) in enumerate(split(text)):
                if start > mark.line + 1:
                    break
                if n > 0 or _MARKER.match(chunk) or not _looks_empty(chunk):
                    index += 1
            index = max(index, 0)
        problem = getattr(e, "problem", None) or getattr(e, "context", None) or "invalid YAML"
        if too_deep(problem):
            raise PxsecError(f"YAML nested deeper than {MAX_DEPTH} levels; refused", Location(source, index)) from None
        raise yaml_error(e, 1, text, Location(source, index)) from None
    finally:
        parser.dispose()


def _looks_empty(chunk: str) -> bool:
    """No content: only a marker, blank lines, comments, directives or an end marker."""
    for n, line in enumerate(chunk.splitlines()):
        s = line.strip().lstrip(_BOM)
        if n == 0 and _MARKER.match(line):
            s = line[3:].strip()
        if s and not s.startswith(("#", "%")) and s != "...":
            return False
    return True


def parse(text: str, source: str, role: Callable[[Document], str | None] | None = None,
          worth_composing: Callable[[str], bool] | None = None) -> list[Document]:
    """All documents of a stream (composed, not constructed).

    With `worth_composing`, the whole stream is syntax-checked once by libyaml in C, and only
    chunks for which `worth_composing(text)` is true are composed; the others keep their text
    only (kind/name unknown). Without it, every chunk is composed.

    Every composed document has its identity read off the node; with `role`, `doc.role` records
    what the caller makes of it, and the node is kept only where that is not None. Thousands of retained node trees
    would cost memory and, through the cyclic garbage collector, more time than composing.
    """
    docs: list[Document] = []
    prefix = ""
    if text.startswith(_BOM):
        prefix, text = _BOM, text[1:]
    if worth_composing is not None:
        _syntax_check(text, source)
    index = 0
    for n, (chunk, line) in enumerate(split(text)):
        if worth_composing is not None and not worth_composing(chunk):
            # syntax already checked; the text shows this is no document the caller wants
            check_depth(chunk, Location(source, index))
            if n == 0 and not _MARKER.match(chunk) and _looks_empty(chunk):
                docs.append(Document(source, -1, prefix + chunk, line))
            else:
                docs.append(Document(source, index, prefix + chunk, line, empty=_looks_empty(chunk)))
                index += 1
            prefix = ""
            continue
        node = compose(chunk, source, index, line)
        is_preamble = n == 0 and not _MARKER.match(chunk)
        if is_preamble and node is None:
            # comments/blank lines before the first `---`: not a document of its own
            docs.append(Document(source, -1, prefix + chunk, line))
            prefix = ""
            continue
        doc = Document(source, index, prefix + chunk, line, node, empty=node is None or _is_null(node))
        prefix = ""
        if isinstance(node, yaml.MappingNode):
            doc.identify()
        if role is not None and node is not None:
            doc.role = role(doc)
        if role is not None and doc.role is None:
            doc.node = None
            doc._view = None
        docs.append(doc)
        index += 1
    if prefix:  # a lone BOM
        docs.append(Document(source, -1, prefix, 1))
    return docs


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _is_null(node: Any) -> bool:
    return isinstance(node, yaml.ScalarNode) and kyaml.is_plain(node) and node.value in ("", "~", "null", "Null", "NULL")


def join(docs: list[Document]) -> str:
    """The output stream: each document's text, with a marker wherever two would run together."""
    parts: list[str] = []
    for doc in docs:
        text = doc.emitted = doc.emit()  # kept: render's proof reads back what it wrote
        if parts:
            prev = parts[-1]
            if not prev.endswith("\n"):
                parts.append("\n")
            head = text.lstrip(_BOM)
            if doc.index >= 0 and not _MARKER.match(head) and not head.startswith("%"):
                parts.append("---\n")
        parts.append(text)
    return "".join(parts)


class Stream:
    """Every input source, in order, plus documents pxsec generates (appended at the end)."""

    def __init__(self, documents: list[Document] | None = None):
        self.documents = documents if documents is not None else []

    @classmethod
    def from_sources(cls, sources: list[tuple[str, str]], role: Callable[[Document], str | None] | None = None,
                     worth_composing: Callable[[str], bool] | None = None) -> "Stream":
        docs: list[Document] = []
        for name, text in sources:
            docs.extend(parse(text, name, role, worth_composing))
        return cls(docs)

    def ensure_composed(self, doc: Document) -> bool:
        """Compose (again) a document that parse() passed over or let go; True for a mapping."""
        if doc.node is None and doc.index >= 0 and not doc.generated:
            node = compose(doc.text.lstrip(_BOM), doc.source, doc.index, doc.line)
            if node is None:
                return False
            doc.node = node
            if isinstance(node, yaml.MappingNode):
                doc.identify()
        return isinstance(doc.node, yaml.MappingNode)

    def text(self) -> str:
        return join(self.documents)


_SyntaxLoader = SyntaxLoader  # the name tests and older callers use
