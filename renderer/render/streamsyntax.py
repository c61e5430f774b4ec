"""Syntax checking of a stream cut as Kubernetes cuts it (k8ssplit): what YAML composes of a
chunk (`body`), whether a chunk has content, the one C pass over the whole stream and the
errors it reports, placed in the document and line they are in.
"""
from __future__ import annotations

import yaml
import yaml.reader

from . import k8ssplit
from .. import lazyre
from ..errors import Location, PxsecError
from ..kubeyaml.yamlsafe import MAX_DEPTH, SyntaxLoader, compose, too_deep, yaml_error

_BOM = "\ufeff"


def _line_count(chunk: str) -> int:
    return k8ssplit.line_count(chunk)


def body(text: str, separated: bool) -> str:
    """The chunk as YAML must compose it: its separator line (apimachinery drops it) blanked to
    spaces of the same length, so `---#: x` is no key and every mark stays in place. A BOM that
    starts the chunk proper is moved to the front, where libyaml drops it as go-yaml does at
    the start of its input (lines stay; see Document.emit for the marks)."""
    if not separated:
        return text
    nl = text.find("\n")
    if nl < 0:
        return k8ssplit.blank(text)
    head, rest = text[:nl + 1], text[nl + 1:]
    if rest.startswith(_BOM):
        return _BOM + k8ssplit.blank(head) + rest[1:]
    return k8ssplit.blank(head) + rest


def _bom_body(text: str, separated: bool) -> bool:
    nl = text.find("\n")
    return separated and nl >= 0 and text.startswith(_BOM, nl + 1)


_TWO_DOCUMENTS = ("YAML sees another document here, inside one Kubernetes document (a '---' after a CR-only "
                  "line break, '...' followed by content, or a directive): Kubernetes reads only the first YAML "
                  "document of it; write each '---' at the start of its own line, after a newline")


def _one_document(chunk: str, source: str, index: int, line: int) -> None:
    """Refuse a chunk in which YAML sees more than one document (a `---` after a CR-only line
    break, `...` followed by content, directives opening another document): Kubernetes reads
    only the first of them (sigs.k8s.io/yaml Unmarshal, go-yaml v2 parses one document), so
    what pxsec secured or checked would not be what the cluster gets. A syntax error after the
    first document has ended (directives with no document) is refused the same way."""
    loader = SyntaxLoader(chunk)
    starts, ended = 0, False
    try:
        while loader.check_event():
            event = loader.get_event()
            ended |= isinstance(event, yaml.DocumentEndEvent)
            if isinstance(event, yaml.DocumentStartEvent):
                starts += 1
                if starts > 1:
                    at = line + event.start_mark.line
                    raise PxsecError(f"line {at}: {_TWO_DOCUMENTS}", Location(source, index), line=at)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        if ended and mark is not None:
            at = line + mark.line
            raise PxsecError(f"line {at}: {_TWO_DOCUMENTS}", Location(source, index), line=at) from None
        compose(chunk, source, index, line)  # the syntax error, with its position
        raise yaml_error(e, line, chunk, Location(source, index)) from None
    finally:
        loader.dispose()


def _libyaml_lines(chunk: str) -> int:
    return _line_count(chunk) + chunk.count("\x85") + chunk.count("\u2028") + chunk.count("\u2029")


def _syntax_check(text: str, source: str, frames: list | None = None, first_index: int = 0,
                  first_line: int = 1) -> None:
    """The whole stream through libyaml's parser in C (no Python objects), as apimachinery cuts
    it (k8ssplit.normalised: each separator line a bare `---`). A syntax error is reported by
    composing the chunk it is in, so it names that document and its line."""
    if frames is None:
        frames = k8ssplit.frames(text, source)
    normal = k8ssplit.normalised(text, frames)
    parser = SyntaxLoader(normal)
    try:
        parser.raw_parse()
    except yaml.YAMLError as e:
        if isinstance(e, yaml.reader.ReaderError):
            _locate_reader_error(e, normal, text, source, frames, first_index, first_line)
        _locate_error(e, text, source, frames, first_index, first_line)
    finally:
        parser.dispose()


def _locate_reader_error(e: yaml.YAMLError, normal: str, text: str, source: str, frames: list,
                         first_index: int, first_line: int) -> None:
    """A character libyaml refuses: the chunk on its line, composed alone, reports it."""
    pos = getattr(e, "position", None)
    if isinstance(pos, int) and frames:
        from bisect import bisect_right

        line = first_line + _line_count(normal.encode("utf-8", "surrogatepass")[:pos].decode("utf-8", "replace"))
        i = max(bisect_right([f.line for f in frames], line) - 1, 0)
        f = frames[i]
        compose(body(text[f.start:f.end], f.separated), source, max(_indices(text, frames, first_index)[i], 0), f.line)
    raise yaml_error(e, first_line, text, Location(source, first_index)) from None


def _locate_error(e: yaml.YAMLError, text: str, source: str, frames: list, first_index: int,
                  first_line: int) -> None:
    """Compose, alone, the chunk(s) the C parser's marks fall in: the first that fails gives
    the error. Only on the error path; each chunk's lines are counted once."""
    marks = [m for m in (getattr(e, "problem_mark", None), getattr(e, "context_mark", None)) if m is not None]
    ends, line = [], 0
    for f in frames:  # libyaml's line count (it also breaks lines at NEL, LS, PS)
        line += _libyaml_lines(text[f.start:f.end])
        ends.append(line)
    from bisect import bisect_right

    candidates = []
    for m in marks:
        i = min(bisect_right(ends, m.line), len(frames) - 1)
        candidates += [i, i - 1]
    index_of = _indices(text, frames, first_index)
    for i in dict.fromkeys(c for c in candidates if c >= 0):
        f = frames[i]
        compose(body(text[f.start:f.end], f.separated), source, max(index_of[i], 0), f.line)
    i = candidates[0] if candidates else 0
    problem = getattr(e, "problem", None) or getattr(e, "context", None) or "invalid YAML"
    if too_deep(problem):
        raise PxsecError(f"YAML nested deeper than {MAX_DEPTH} levels; refused",
                         Location(source, max(index_of[i], 0))) from None
    raise yaml_error(e, first_line, text, Location(source, max(index_of[i], 0))) from None


def _indices(text: str, frames: list, first_index: int) -> list[int]:
    """Each chunk's document index, as parse() counts them (-1 for a leading comment block)."""
    out, index = [], first_index
    for n, f in enumerate(frames):
        if n == 0 and not f.marked and _looks_empty(text[f.start:f.end], False):
            out.append(-1)
            continue
        out.append(index)
        index += 1
    return out


_YAML_LINES = lazyre.compile(r"\r\n|[\r\n\x85\u2028\u2029]")


def _yaml_marker(text: str) -> bool:
    """Does `text` start with a separator line that YAML, too, reads as a document start?"""
    return k8ssplit.is_separator(text) and (len(text) == 3 or text[3] in k8ssplit.BLANKZ)


def _looks_empty(chunk: str, separated: bool) -> bool:
    """No content: only a separator, blank lines, comments, directives or an end marker.
    Stops at the first line with content (the cost of a scan, not of a split). Lines end where
    _YAML_LINES says; a text whose only break is `\n` (nearly all) is cut with str.find."""
    text = chunk
    pos, n, first = 0, len(text), True
    search = None if not any(c in text for c in "\r\x85\u2028\u2029") else _YAML_LINES.search
    if separated:  # the separator line is no content
        pos, first = text.find("\n") + 1 or n, False
    while pos < n:
        if search is None:
            start = text.find("\n", pos)
            start, end = (n, n) if start < 0 else (start, start + 1)
        else:
            m = search(text, pos)
            start, end = (m.start(), m.end()) if m else (n, n)
        s = text[pos:start].strip().lstrip(_BOM)
        if first and _yaml_marker(s):
            s = s[3:].strip()
        first = False
        if s and not s.startswith(("#", "%")) and s != "...":
            return False
        pos = end
    return True
