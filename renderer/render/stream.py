"""A manifest stream as raw text chunks, cut as Kubernetes cuts it, parsed only as far as needed.

Design for speed and byte-fidelity:
- The text is cut where apimachinery's reader cuts it (k8ssplit: `---` lines with nothing or a
  comment after them, or the values of a JSON stream, see jsonstream). Each chunk keeps its
  own bytes: separator line, comments (`# Source:` lines), body; the chunks concatenate back
  to the input.
- Every chunk is *composed* with libyaml as Kubernetes' YAML reader sees it (streamsyntax.body:
  the separator line Kubernetes drops is blanked), or, with `worth_composing`, only the chunks
  worth it are: the others cost a scan, not a parse (render passes them through byte for byte;
  one that is no valid YAML fails where it is applied, as it would without pxsec). check asks
  for `syntax=True`: the whole stream through libyaml's parser once, in C. A chunk in which YAML
  would see a second document is refused (Kubernetes reads only the first).
- Only documents a filter wants are *constructed* into Python objects; only documents a
  filter changed are dumped again. Everything else is emitted as the original chunk.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any, Callable, Iterator

import yaml
import yaml.reader

from . import k8ssplit
from ..kubeyaml import kyaml
from ..errors import Location, PxsecError
from .streamsyntax import _YAML_LINES, _bom_body, _indices, _looks_empty, _one_document, _syntax_check, \
    _yaml_marker, body
from ..kubeyaml.yamlsafe import MAX_DEPTH, SyntaxLoader, check_depth, compose

_BOM = "\ufeff"
_SAME = object()  # Document._emitted: join() wrote the input text unchanged


class Document:
    """One document chunk of a stream: its original text and what was read off it.

    A stream can hold millions of documents nobody touches (`"---\na: 1\n" * 10**7`), so what
    every document has lives in slots; what only composed, edited or generated documents have
    (view, skeleton, features, obj, api_version, generated) is a class default until set, and
    then goes to the instance's `__dict__`, created only for those documents."""

    __slots__ = ("source", "index", "_text", "_src", "_at", "line", "node", "_empty", "role", "changed",
                 "separated", "json", "_emitted", "kind", "name", "namespace", "__dict__")

    generated = False  # created by pxsec, not from the input
    _view: Any = None  # what Kubernetes decodes (see view())
    skeleton: Any = None  # identity and containers, read cheaply (see identify())
    features: kyaml.Features | None = None  # aliases, merge keys, tags seen while constructing
    obj: Any = None  # unshared copy of the view, only for documents a filter edits
    _written: str | None = None  # emit()'s text of a changed document, made once (see emit)
    _written_read: Any = None  # (YAML text, object) the patcher read back to prove `_written` (see emit)
    api_version: str | None = None

    def __init__(self, source: str, index: int, text: str, line: int, node: Any = None, *,
                 empty: bool | None = False, generated: bool = False, kind: str | None = None,
                 name: str | None = None, namespace: str | None = None):
        self.source = source
        self.index = index  # 0-based index among the stream's documents, as yaml.load_all counts them
        self._text = text  # the original chunk, emitted as is unless the document changed (see text)
        self._src: str | None = None
        self._at = None
        self.line = line  # 1-based line of the chunk's first line in the source
        self.node = node  # composed root node: kept only for documents the caller wants (see parse)
        self._empty = empty  # no content (comments only, or an empty/null document); None: not looked yet
        if generated:
            self.generated = True
        self.role: str | None = None  # what the caller's `role` function made of it (parse)
        self.changed = False
        self.separated = False  # the text starts with an apimachinery separator line (k8ssplit)
        self.json = False  # a value of a JSON stream (jsonstream): emitted as JSON when changed
        self._emitted: str | None = None  # its text in the output, once join() wrote it (see emitted)
        self.kind = kind
        self.name = name
        self.namespace = namespace

    @property
    def text(self) -> str:
        """The original chunk. A document parse() did not compose keeps offsets into its stream's
        text instead (`_src`, `_at`: its k8ssplit frame), so a long stream of untouched documents
        is held once, not twice."""
        if self._src is not None:
            f = self._at
            return self._src[f.start:f.end]
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        self._text, self._src = value, None

    @property
    def emitted(self) -> str | None:
        """Its text in the output, once join() wrote it (render's proof reads it back)."""
        return self.text if self._emitted is _SAME else self._emitted

    @property
    def empty(self) -> bool:
        """No content (comments only, or an empty/null document). A document parse() did not
        compose is looked at (a scan of its text) only when somebody asks."""
        if self._empty is None:
            self._empty = _looks_empty(self.text, self.separated)
        return self._empty

    @empty.setter
    def empty(self, value: bool) -> None:
        self._empty = value

    def fresh(self) -> "Document":
        """A copy for another render to edit (check's drift): what was read is shared, what a
        render sets (obj, changed, what it emitted) starts anew. copy.copy costs ten times this."""
        out = object.__new__(Document)
        out.source, out.index, out._text, out._src, out._at, out.line = \
            self.source, self.index, self._text, self._src, self._at, self.line
        out.node, out._empty, out.role, out.changed, out.separated, out.json = \
            self.node, self._empty, self.role, False, self.separated, self.json
        out._emitted, out.kind, out.name, out.namespace = None, self.kind, self.name, self.namespace
        extra = self.__dict__
        if extra:
            out.__dict__.update(extra)
            out.__dict__.pop("obj", None)
            out.__dict__.pop("_written", None)
            out.__dict__.pop("_written_read", None)
        return out

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
        from ..portworx import POD_SPEC_PATHS

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
        """Separator line, blank lines and comments before the body: kept on re-emission.

        Lines are YAML's (a CR, NEL, LS or PS ends one too), so a comment never carries content
        past a line break YAML sees; directives end the header (the body is dumped resolved)."""
        out = []
        text = self.text.lstrip(_BOM)
        if self.separated or _yaml_marker(text):
            nl = text.find("\n")
            out.append(text[:nl + 1] if nl >= 0 else text + "\n")
            text = text[nl + 1:] if nl >= 0 else ""
        for ln in _YAML_LINES.split(text):
            s = ln.strip().lstrip(_BOM)
            if s and not s.startswith("#"):
                break
            out.append(ln + "\n")
        return "".join(out)

    def pristine(self) -> Any:
        """The object as read, before the filters edited their unshared copy (`obj`)."""
        return self.view()

    def emit(self) -> str:
        """Its text in the output. A changed document's is made once and kept: emit() runs only
        after the filters are done (render's proof reads it back, then join writes the same text),
        and patching it again would cost a second patch and a second read-back."""
        if not self.changed:
            return self.text
        if self._written is None:
            self._written = self._emit_changed()
        return self._written

    def _emit_changed(self) -> str:
        if self.json:
            from .jsonstream import emit_json

            return emit_json(self)
        if self.node is not None and not _bom_body(self.text, self.separated):  # marks shifted by a BOM
            from .patch import patch_read

            if not self.separated:
                done = patch_read(self.text, self.node, self.pristine(), self.obj)
                if done is not None:
                    self._written_read = done
                    return done[0]
            else:  # patched as composed (separator blanked; patch re-reads its result), then restored
                composed = body(self.text, True)
                done = patch_read(composed, self.node, self.pristine(), self.obj)
                cut = self.text.find("\n") + 1
                if done is not None and cut and done[0].startswith(composed[:cut]):
                    self._written_read = done
                    return self.text[:cut] + done[0][cut:]
        # the whole document, as Kubernetes reads it (aliases, merge keys, tags resolved)
        return self.header() + dump(self.obj)


def dump(obj: Any) -> str:
    return kyaml.dump(obj)


def split(text: str) -> Iterator[tuple[str, int]]:
    """(chunk, first line) for each chunk apimachinery's YAMLReader cuts a YAML stream into; the
    chunks concatenate back to `text`. A bad separator line raises PxsecError."""
    for f in k8ssplit.frames(text, "<stream>"):
        yield text[f.start:f.end], f.line


def parse(text: str, source: str, role: Callable[[Document], str | None] | None = None,
          worth_composing: Callable[[str], bool] | None = None, *, continued: bool = False,
          syntax: bool = False) -> list[Document]:
    """All documents of a stream, cut as Kubernetes cuts it (k8ssplit), composed, not constructed.

    With `worth_composing`, only chunks for which `worth_composing(text)` is true are composed;
    the others keep their text only (kind/name unknown) and are never parsed, unless `syntax`
    asks for the whole stream to be syntax-checked once by libyaml in C (check reports a YAML
    error anywhere). Without it, every chunk is composed.

    Every composed document has its identity read off the node; with `role`, `doc.role` records
    what the caller makes of it, and the node is kept only where that is not None. Thousands of retained node trees
    would cost memory and, through the cyclic garbage collector, more time than composing.

    `continued=True` reads one document's text again as it stands in its stream, after another
    document: a separator on its first line is dropped there (`doc.emitted` of a document with
    `doc.separated`), while at the start of a stream Kubernetes reads it as YAML.
    """
    from .jsonstream import parse_json

    if not text.startswith(_BOM) and k8ssplit.looks_json(text):
        return parse_json(text, source, role, worth_composing, syntax=syntax)
    prefix = ""
    if text.startswith(_BOM):
        prefix, text = _BOM, text[1:]
    docs = parse_yaml(text, source, role, worth_composing, first_is_data=bool(prefix), continued=continued,
                      syntax=syntax)
    if prefix:
        if docs:
            docs[0].text = prefix + docs[0].text
        else:  # a lone BOM
            docs.append(Document(source, -1, prefix, 1))
    return docs


def parse_yaml(text: str, source: str, role: Callable[[Document], str | None] | None = None,
               worth_composing: Callable[[str], bool] | None = None, *, first_is_data: bool = False,
               continued: bool = False, syntax: bool = False,
               first_index: int = 0, first_line: int = 1) -> list[Document]:
    """parse() for the YAML part of a stream (`text` without its leading BOM)."""
    frames = k8ssplit.frames(text, source, first_line, first_is_data, continued)
    index_of = _indices(text, frames, first_index)
    for i in k8ssplit.inner_markers(text, frames):
        f = frames[i]
        _one_document(body(text[f.start:f.end], f.separated), source, max(index_of[i], 0), f.line)
    if worth_composing is not None and syntax:
        _syntax_check(text, source, frames, first_index, first_line)
    docs: list[Document] = []
    append = docs.append
    for n, index in enumerate(index_of):
        # each frame is let go once its document exists: frames and documents never all coexist
        f, frames[n] = frames[n], None
        chunk = text[f.start:f.end]
        if index < 0:  # comments/blank lines before the first separator: not a document of its own
            doc = Document(source, -1, chunk, f.line)
            doc.separated = f.separated
            append(doc)
            continue
        if worth_composing is not None and not worth_composing(chunk):
            # the text shows this is no document the caller wants: scanned, never parsed (its
            # nesting is the business of whoever parses it; check's syntax pass measures it)
            if syntax and len(chunk) > MAX_DEPTH:
                check_depth(body(chunk, f.separated), Location(source, index))
            doc = Document(source, index, None, f.line, empty=None)
            doc._src, doc._at, doc.separated = text, f, f._skip > 0
            append(doc)
            continue
        doc = Document(source, index, chunk, f.line)
        doc.separated = f.separated
        append(finish(doc, compose(body(chunk, f.separated), source, index, f.line), role))
    return docs


def finish(doc: Document, node: Any, role: Callable[[Document], str | None] | None) -> Document:
    """A composed document: identity read off the node, role given, node kept only if wanted."""
    doc.node = node
    doc.empty = node is None or _is_null(node)
    if isinstance(node, yaml.MappingNode):
        doc.identify()
    if role is not None and node is not None:
        doc.role = role(doc)
    if role is not None and doc.role is None:
        doc.node = None
        if doc._view is not None:  # (assigning the class default would give the document a __dict__)
            doc._view = None
    return doc


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _is_null(node: Any) -> bool:
    return isinstance(node, yaml.ScalarNode) and kyaml.is_plain(node) and node.value in ("", "~", "null", "Null", "NULL")


def join(docs: list[Document]) -> str:
    """The output stream: each document's text, with a separator wherever two would run together
    (see pieces)."""
    return "".join(pieces(docs))


def pieces(docs: list[Document]) -> Iterator[str]:
    """The output stream in pieces, to be joined or written as they come (a long stream is never
    held twice): each document's text, with a separator wherever two would run together.

    An output that starts with values of a JSON stream stays one for Kubernetes
    (jsonstream.JoinState): after two JSON values, the documents that follow are written as
    JSON too, since YAMLOrJSONDecoder then accepts nothing else."""
    from .jsonstream import JoinState

    state = JoinState()
    last: Document | None = None
    prev = ""
    for doc in docs:
        if state.mode == "yaml" and not doc.changed:  # the common case: the input's own text, as is
            text = doc.text
            doc._emitted = _SAME
        else:
            text = state.text(doc)
            if text is None:
                continue
            doc._emitted = text
        if last is not None:
            if state.json_values >= 2:
                if not prev[-1:].isspace() and not text[:1].isspace():
                    yield "\n"
            elif last.json and not doc.json and doc.source == last.source and not doc.generated:
                pass  # the input's own switch from a JSON value to YAML (YAMLOrJSONDecoder.Decode): as it was
            else:
                if not prev.endswith("\n"):
                    yield "\n"
                if doc.index >= 0 and not doc.separated and not k8ssplit.is_separator(text.lstrip(_BOM)):
                    yield "---\n"
        yield text
        last, prev = doc, text


class Stream:
    """Every input source, in order, plus documents pxsec generates (appended at the end)."""

    def __init__(self, documents: list[Document] | None = None):
        self.documents = documents if documents is not None else []

    @classmethod
    def from_sources(cls, sources: list[tuple[str, str]], role: Callable[[Document], str | None] | None = None,
                     worth_composing: Callable[[str], bool] | None = None, syntax: bool = False) -> "Stream":
        docs: list[Document] = []
        for name, text in sources:
            docs.extend(parse(text, name, role, worth_composing, syntax=syntax))
        return cls(docs)

    def ensure_composed(self, doc: Document) -> bool:
        """Compose (again) a document that parse() passed over or let go; True for a mapping."""
        if doc.node is None and doc.index >= 0 and not doc.generated:
            text = body(doc.text.lstrip(_BOM), doc.separated)
            if doc.json:
                from .jsonstream import as_yaml

                text = as_yaml(text)
            node = compose(text, doc.source, doc.index, doc.line)
            if node is None:
                return False
            doc.node = node
            if isinstance(node, yaml.MappingNode):
                doc.identify()
        return isinstance(doc.node, yaml.MappingNode)

    def text(self) -> str:
        return join(self.documents)


_SyntaxLoader = SyntaxLoader  # the name tests and older callers use
