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
from typing import Any, Callable, Iterator

import yaml
import yaml.constructor
import yaml.cyaml
import yaml.reader
import yaml.resolver

from . import kyaml
from .errors import Location, PxsecError

_MARKER = re.compile(r"(?:^|(?<=\r))---(?=[ \t\r\n]|$)", re.M)
_DIRECTIVE = re.compile(r"(?:^|(?<=\r))%", re.M)
_BOM = "\ufeff"
# libyaml composes aliases without expanding them; constructing and dumping would expand.
MAX_EXPANDED_NODES = 1_000_000


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
        """A fresh object constructed from the node (the filters mutate `obj` in place)."""
        return kyaml.construct(self.node)

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


class _SyntaxLoader(yaml.cyaml.CParser, yaml.constructor.BaseConstructor, yaml.resolver.BaseResolver):
    """libyaml's parser with no implicit tag resolution: every plain scalar is a string.

    Enough to check syntax, and resolving tags (a Python call per scalar) was most of the cost
    of composing. Plain scalars get kyaml.PLAIN_TAG: `kyaml.construct` resolves them the way
    Kubernetes' go-yaml does, merge keys and all.
    """

    def __init__(self, stream):
        yaml.cyaml.CParser.__init__(self, stream)
        yaml.constructor.BaseConstructor.__init__(self)
        yaml.resolver.BaseResolver.__init__(self)

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode:
            return kyaml.PLAIN_TAG if implicit[0] else self.DEFAULT_SCALAR_TAG
        return self.DEFAULT_SEQUENCE_TAG if kind is yaml.SequenceNode else self.DEFAULT_MAPPING_TAG


def dump(obj: Any) -> str:
    return kyaml.dump(obj)


def _too_deep(problem: str | None) -> bool:
    return bool(problem) and "maximum nesting depth" in problem


def _reader_problem(e: Any, text: str, first_line: int) -> str:
    """libyaml's reader error (a control character, a NUL): position and character, no text."""
    char = getattr(e, "character", None)
    what = f"character {char!r} (U+{char:04X})" if isinstance(char, int) else "a character"
    if isinstance(char, int):
        what = f"control character U+{char:04X}"
    pos = getattr(e, "position", None)
    where = ""
    if isinstance(pos, int) and text:
        before = text.encode("utf-8")[:pos].decode("utf-8", "replace")
        line = first_line + before.count("\n")
        col = len(before) - (before.rfind("\n") + 1) + 1
        where = f"line {line}, column {col}: "
    return f"{where}invalid YAML: {what} is not allowed in YAML text"


def yaml_problem(e: yaml.YAMLError, first_line: int, text: str = "") -> str:
    if isinstance(e, yaml.reader.ReaderError):
        return _reader_problem(e, text, first_line)
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    problem = getattr(e, "problem", None) or getattr(e, "context", None) or "invalid YAML"
    if _too_deep(problem):
        return f"YAML nested deeper than {MAX_DEPTH} levels; refused"
    # libyaml messages describe tokens, never quote the text: safe to show.
    where = f"line {first_line + mark.line}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}invalid YAML: {problem}"


# PyYAML's constructors raise these, not YAMLError, for values that do not fit an explicit tag
# (`!!int x`, `!!timestamp x`, `!!binary` with bad base64...).
CONSTRUCTOR_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError)


def tag_problem(e: Exception) -> str:
    # the value itself is not repeated: it could be anything, a secret included
    return f"invalid YAML: a value does not match its tag ({type(e).__name__})"


def scalar(node: Any) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def mapping_get(node: Any, key: str) -> Any:
    """Value node of `key` in a mapping node (last one wins, as when constructing)."""
    found = None
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                found = v
    return found


def _expanded_size(root: Any) -> int:
    """How many nodes the document has once aliases are expanded (memoized per node)."""
    memo: dict[int, int] = {}
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        nid = id(node)
        if nid in memo:
            continue
        children = []
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [c for kv in node.value for c in kv]
        if done or not children:
            total = 1 + sum(memo.get(id(c), 1) for c in children)
            memo[nid] = min(total, MAX_EXPANDED_NODES + 1)
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in memo)
    return memo[id(root)]


MAX_DEPTH = 1000  # libyaml >= 0.2.6 (PyYAML 6.0.4 wheels) allows exactly this many levels
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def check_depth(text: str, location: Location) -> None:
    """Refuse nesting deeper than MAX_DEPTH: libyaml's composer recurses in C once per level and
    overflows the stack (a segfault) somewhere past 20,000 levels, tools downstream of pxsec
    recurse too, and newer libyaml refuses more than 1000 levels itself: the same limit here
    makes pxsec behave alike whichever libyaml PyYAML was built with. A text with fewer than MAX_DEPTH characters, or fewer nesting indicators,
    cannot nest that deep; others are scanned with the event parser, which keeps its own stack."""
    if len(text) <= MAX_DEPTH:
        return
    # every level opens with one of these indicators: fewer of them, no need to scan
    if sum(text.count(c) for c in "[{-:?") <= MAX_DEPTH:
        return
    loader = _SyntaxLoader(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, _OPEN):
                depth += 1
                if depth > MAX_DEPTH:
                    raise PxsecError(f"YAML nested deeper than {MAX_DEPTH} levels; refused", location)
            elif isinstance(event, _CLOSE):
                depth -= 1
    except yaml.YAMLError:
        return  # composing reports the syntax error with its position
    finally:
        loader.dispose()


def expanded_size_ok(node: Any, text: str) -> bool:
    """False when aliases would expand the node tree past MAX_EXPANDED_NODES."""
    return not ("&" in text and "*" in text and _expanded_size(node) > MAX_EXPANDED_NODES)


def _compose(chunk: str, source: str, index: int, line: int) -> Any:
    check_depth(chunk, Location(source, index))
    try:
        node = yaml.compose(chunk, Loader=_SyntaxLoader)
    except yaml.YAMLError as e:
        raise PxsecError(yaml_problem(e, line, chunk), Location(source, index)) from None
    if node is not None and not expanded_size_ok(node, chunk):
        raise PxsecError(f"YAML aliases expand to more than {MAX_EXPANDED_NODES} nodes (an alias bomb?); refused",
                         Location(source, index))
    return node


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


def split(text: str) -> Iterator[tuple[str, int]]:
    """(chunk, first line) for each document chunk; the chunks concatenate back to `text`."""
    starts = [m.start() for m in _MARKER.finditer(text)]
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
    parser = _SyntaxLoader(text)
    try:
        parser.raw_parse()
    except yaml.YAMLError as e:
        if isinstance(e, yaml.reader.ReaderError):
            raise PxsecError(_reader_problem(e, text, 1), Location(source, 0)) from None
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
        if _too_deep(problem):
            raise PxsecError(f"YAML nested deeper than {MAX_DEPTH} levels; refused", Location(source, index)) from None
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise PxsecError(f"{where}invalid YAML: {problem}", Location(source, index)) from None
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


def parse(text: str, source: str, keep: Callable[[Document], bool] | None = None,
          worth_composing: Callable[[str], bool] | None = None) -> list[Document]:
    """All documents of a stream (composed, not constructed).

    With `worth_composing`, the whole stream is syntax-checked once by libyaml in C, and only
    chunks for which `worth_composing(text)` is true are composed; the others keep their text
    only (kind/name unknown). Without it, every chunk is composed.

    Every document is composed (that is the syntax check) and its identity read off the node;
    the node itself is kept only where `keep(doc)` says so. Thousands of retained node trees
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
        node = _compose(chunk, source, index, line)
        is_preamble = n == 0 and not _MARKER.match(chunk)
        if is_preamble and node is None:
            # comments/blank lines before the first `---`: not a document of its own
            docs.append(Document(source, -1, prefix + chunk, line))
            prefix = ""
            continue
        doc = Document(source, index, prefix + chunk, line, node, empty=node is None or _is_null(node))
        prefix = ""
        if isinstance(node, yaml.MappingNode):
            obj = doc.view()  # identity as Kubernetes reads it: merge keys, tags and escapes resolved
            if isinstance(obj, dict):
                meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
                doc.api_version = _text(obj.get("apiVersion"))
                doc.kind = _text(obj.get("kind"))
                doc.name = _text(meta.get("name"))
                doc.namespace = _text(meta.get("namespace"))
        if keep is not None and node is not None and not keep(doc):
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


def pod_containers(node: Any) -> list[tuple[str | None, str | None]]:
    """(name, image) of each container of a workload node's pod template, without constructing."""
    spec = mapping_get(mapping_get(mapping_get(mapping_get(node, "spec"), "template"), "spec"), "containers")
    out = []
    if isinstance(spec, yaml.SequenceNode):
        for c in spec.value:
            out.append((scalar(mapping_get(c, "name")), scalar(mapping_get(c, "image"))))
    return out


def join(docs: list[Document]) -> str:
    """The output stream: each document's text, with a marker wherever two would run together."""
    parts: list[str] = []
    for doc in docs:
        text = doc.emit()
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
    def from_sources(cls, sources: list[tuple[str, str]], keep: Callable[[Document], bool] | None = None,
                     worth_composing: Callable[[str], bool] | None = None) -> "Stream":
        docs: list[Document] = []
        for name, text in sources:
            docs.extend(parse(text, name, keep, worth_composing))
        return cls(docs)

    def ensure_composed(self, doc: Document) -> bool:
        """Compose (again) a document that parse() passed over or let go; True for a mapping."""
        if doc.node is None and doc.index >= 0 and not doc.generated:
            node = _compose(doc.text.lstrip(_BOM), doc.source, doc.index, doc.line)
            if node is None:
                return False
            doc.node = node
            obj = doc.view()
            if isinstance(obj, dict):
                meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
                doc.api_version, doc.kind = _text(obj.get("apiVersion")), _text(obj.get("kind"))
                doc.name, doc.namespace = _text(meta.get("name")), _text(meta.get("namespace"))
        return isinstance(doc.node, yaml.MappingNode)

    def text(self) -> str:
        return join(self.documents)
