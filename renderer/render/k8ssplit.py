"""How Kubernetes cuts a manifest stream into documents, as offsets into the text.

kubectl, Helm (a post-renderer's output goes back through the same reader) and Argo CD read a
stream with apimachinery's `yaml.NewYAMLOrJSONDecoder` (k8s.io/apimachinery
pkg/util/yaml/decoder.go, v0.34):

- `GuessJSONStream`/`IsJSONBuffer`: when the first byte that is not a Go space
  (`unicode.IsSpace`; a BOM is not one) within the first 4096 bytes is `{`, the stream is a
  series of JSON values (`json.Decoder`), one document each. `YAMLOrJSONDecoder.Decode`: when a
  value does not decode and at most one did before, the reader goes back to the end of the
  last good value, `consumeWhitespace` eats spaces up to and including the first newline, and
  the rest is read as YAML; after two values, a bad one is an error.
- `YAMLReader.Read` over `LineReader` (lines end at `\\n` only): a line that starts with `---`
  ends the current chunk when what follows, `strings.TrimSpace`d (Go's Unicode spaces), is
  empty or starts with `#`; anything else is `invalid Yaml document separator`, an error for
  the whole stream. The separator line belongs to no chunk.
- Each chunk goes to sigs.k8s.io/yaml's `Unmarshal` (go-yaml v2), which reads the chunk's
  first YAML document only (`yaml.unmarshal` calls `parser.parse()` once).

This module only finds offsets; `stream` composes and emits.
"""
from __future__ import annotations

import re

from .. import lazyre
from ..errors import Location, PxsecError

# Go's unicode.IsSpace (strings.TrimSpace): Python's str.isspace() without U+001C..U+001F
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
JSON_SPACE = " \t\r\n"  # encoding/json's isSpace
YAML_BREAKS = "\r\n\x85\u2028\u2029"  # libyaml's IS_BREAK: lines YAML sees that apimachinery does not
SNIFF_BYTES = 4096  # NewYAMLOrJSONDecoder(r, 4096) in kubectl's StreamVisitor

# LineReader lines start after `\n` only: a separator is `---` at the start or after `\n` (a
# literal, which `re` scans for in C; `^---` with re.M would try every position in Python's re)
_NL_SEPARATOR = re.compile("\n---")
# A marker or a directive YAML sees inside an apimachinery chunk: `---`/`...` after a line break
# apimachinery does not split on (CR, NEL, LS, PS), `...` at any line start, `%` at a line start.
# Every match starts with the line break before it (a leading character class keeps the scan in C).
# A marker must be followed by a blank or the end (_marker_ends): checked in Python on the few
# matches, since a class that mixes ASCII with U+2028 costs `re` half a millisecond to compile.
BLANKZ = " \t" + YAML_BREAKS
_BLANKZ = "(?=[" + BLANKZ + r"]|\Z)"
# after `\n`, `\n...` and `\n%` (every stream has `\n`): two literal scans, as fast as one regex
# `\n(?:\.\.\.|%)` and with no compile at start
_INNER_NL = ("\n...", "\n%")
_INNER_RARE = lazyre.compile(r"[\r\x85\u2028\u2029](?:---" + _BLANKZ + r"|\.\.\." + _BLANKZ + "|%)")


def _marker_ends(text: str, at: int) -> bool:
    """`(?=[ \\t\\r\\n\\x85\\u2028\\u2029]|\\Z)` at `at`."""
    return at >= len(text) or text[at] in BLANKZ


def _inner_at_start(text: str) -> bool:
    return text.startswith("%") or (text.startswith("...") and _marker_ends(text, 3))


class Frame:
    """One chunk: text[start:end]. When it opens with a separator line that ends the chunk
    before it, Kubernetes drops that line: it is text[start:body] (`separated`). A separator
    line that comes when YAMLReader's buffer is empty (at the start of the stream, or right
    after another separator) is not dropped: Read writes it into the buffer, so it is YAML
    content of its chunk (`---#: x` a key, `---` a document start); then body == start and
    `marked` says the frame still opens with a separator line."""

    __slots__ = ("start", "_skip", "end", "line", "marked")  # _skip: the dropped line's length (a small,
    # shared int, where an offset would be one more int object per chunk of a long stream)

    def __init__(self, start: int, body: int, end: int, line: int, marked: bool = False):
        self.start, self._skip, self.end, self.line, self.marked = start, body - start, end, line, marked

    @property
    def body(self) -> int:
        return self.start + self._skip

    @property
    def separated(self) -> bool:
        return self._skip > 0


def line_count(chunk: str) -> int:
    """Lines a chunk spans, as pxsec numbers lines (`\\n`, `\\r\\n` and a lone `\\r` end one)."""
    return chunk.count("\n") + chunk.count("\r") - chunk.count("\r\n")


def separator_ok(rest: str) -> bool:
    """YAMLReader.Read: what follows `---` on a separator line, TrimSpace'd, is empty or a comment."""
    rest = rest.strip(GO_SPACE)
    return not rest or rest[0] == "#"


def is_separator(text: str) -> bool:
    """Does `text` start with a line apimachinery takes for a document separator?"""
    if not text.startswith("---"):
        return False
    nl = text.find("\n")
    return separator_ok(text[3:] if nl < 0 else text[3:nl])


def blank(line: str) -> str:
    """A separator line as YAML must not see it: spaces, same length, line breaks kept (so
    every mark and line number of the chunk stays where it was)."""
    return "".join(c if c in YAML_BREAKS else " " for c in line)


def frames(text: str, source: str, first_line: int = 1, first_is_data: bool = False,
           continued: bool = False) -> list[Frame]:
    """The chunks YAMLReader.Read cuts `text` into, each with the separator line that opens it.

    `first_is_data`: the text's first line is not a separator candidate (it followed a BOM).
    `continued`: the text continues a stream after a document, so a separator on its first
    line ends that document and is dropped (one document's text read again in its place). A bad
    separator is an error naming its line, not its content (it may hold a secret).

    One scan for `\\n---` (a literal, which `re` finds in C), and per chunk a constant amount
    of Python: a stream of a million documents costs a scan, not a parse."""
    find, count = text.find, text.count
    cr = "\r" in text  # a lone CR ends a line for pxsec's line numbers too (line_count)
    n_text = len(text)
    out: list[Frame] = []
    line = first_line
    empty = not continued  # YAMLReader.Read's buffer: nothing read since the last chunk ended
    a, marked = 0, text.startswith("---") and not first_is_data
    ends = [m.start() + 1 for m in _NL_SEPARATOR.finditer(text)]  # a regex of a literal: a C scan
    ends.append(n_text)
    append = out.append
    for b in ends:
        if b <= a:
            continue
        body = a
        if marked:
            nl = find("\n", a, b)
            if nl != a + 3:  # `---\n`, the common case, needs no look
                end_of_line = b if nl < 0 else nl + 1
                if not separator_ok(text[a + 3:end_of_line]):
                    raise PxsecError(f"line {line}: invalid document separator: a line that starts with '---' may "
                                     "only have spaces or a comment after it (Kubernetes refuses the whole stream: "
                                     "invalid Yaml document separator)", Location(source, _index(text, out)),
                                     line=line)
            if not empty:  # it ends the chunk before and is dropped
                body = b if nl < 0 else nl + 1
        append(Frame(a, body, b, line, marked))
        line += count("\n", a, b) + ((count("\r", a, b) - count("\r\n", a, b)) if cr else 0)
        empty = body == b
        a, marked = b, True
    return out


def _index(text: str, done: list[Frame]) -> int:
    """The index of the document after `done` (a leading comment block is no document)."""
    first = done[0] if done else None
    if first is not None and not first.marked and \
            all(not ln.strip(GO_SPACE) or ln.lstrip(GO_SPACE).startswith("#") for ln in text[first.start:first.end].split("\n")):
        return len(done) - 1
    return len(done)


def marker_starts(text: str) -> list[int]:
    """Where YAML sees a document marker or a directive start a line (unsorted)."""
    hits = [0] if _inner_at_start(text) else []
    find = text.find
    for needle in _INNER_NL:
        at = find(needle)
        while at >= 0:
            if needle == "\n%" or _marker_ends(text, at + 4):
                hits.append(at + 1)
            at = find(needle, at + 1)
    if any(c in text for c in "\r\x85\u2028\u2029"):
        hits += [m.start() + 1 for m in _INNER_RARE.finditer(text)]
    return hits


def inner_markers(text: str, chunks: list[Frame]) -> list[int]:
    """Indices of the chunks in which YAML could see another document (or a directive) where
    apimachinery sees none, each hit placed by bisection. The scan after `\\n` starts with a
    literal (fast in `re`); the one after CR, NEL, LS or PS runs only when the text has one."""
    hits = marker_starts(text)
    if not hits:
        return []
    from bisect import bisect_right

    starts = [f.start for f in chunks]
    found: list[int] = []
    for at in sorted(hits):
        i = bisect_right(starts, at) - 1
        if i >= 0 and at >= chunks[i].body and (not found or found[-1] != i):
            found.append(i)
    return found


def normalised(text: str, chunks: list[Frame]) -> str:
    """The stream as libyaml must see it to read apimachinery's chunks: every separator line
    becomes a bare `---` (padded with spaces to the same length), so a `---#: x` line opens a
    document instead of being a key. Lines stay where they are (errors are placed by line)."""
    if not _needs_normalising(text, chunks):
        return text
    parts = []
    for f in chunks:
        if f.separated:
            parts.append("---" + blank(text[f.start + 3:f.body]))
            # go-yaml drops a BOM that starts its input (the chunk); mid-stream libyaml would not
            parts.append(text[f.body + 1 if text.startswith("\ufeff", f.body) else f.body:f.end])
        else:
            parts.append(text[f.start:f.end])
    return "".join(parts)


def _needs_normalising(text: str, chunks: list[Frame]) -> bool:
    """Does a separator line have more than `---` and its line break, or a BOM start the chunk
    it opens? A dropped line of 4 characters ending in `\n` is `---\n` (every frame opens with
    `---`), so the common stream is decided by an int and a character per chunk; a BOM is looked
    for only if the text has one."""
    bom = "\ufeff" in text
    for f in chunks:
        skip = f._skip
        if skip and (((skip != 4 or text[f.start + 3] != "\n")
                      and text[f.start:f.start + skip].rstrip("\r\n") != "---")
                     or (bom and text.startswith("\ufeff", f.start + skip))):
            return True
    return False


def looks_json(text: str) -> bool:
    """IsJSONBuffer on the first 4096 bytes: the first non-space byte is `{`."""
    head = text[:SNIFF_BYTES]
    rest = head.lstrip(GO_SPACE)
    return rest.startswith("{") and len(head[:len(head) - len(rest)].encode("utf-8", "surrogatepass")) < SNIFF_BYTES


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


_DECODER = None  # json.JSONDecoder, made for the first JSON stream (most streams are YAML: no json import)


def _decoder():
    global _DECODER
    if _DECODER is None:
        import json

        _DECODER = json.JSONDecoder(parse_constant=_no_constant)
    return _DECODER


def json_values(text: str, source: str) -> tuple[list[tuple[int, int]], int | None]:
    """YAMLOrJSONDecoder.Decode on a stream that looks like JSON: the (start, end) of each JSON
    value (start includes the whitespace before it), and where the YAML rest begins (None when
    the stream is JSON to its end). The last value's span takes the trailing whitespace."""
    spans: list[tuple[int, int]] = []
    pos, n = 0, len(text)
    while True:
        at = pos
        while at < n and text[at] in JSON_SPACE:
            at += 1
        if at == n:
            if spans:
                spans[-1] = (spans[-1][0], n)
            return spans, None
        try:
            _, end = _decoder().raw_decode(text, at)
        except RecursionError:
            raise PxsecError("JSON nested too deeply; refused", Location(source, len(spans))) from None
        except ValueError:
            if len(spans) > 1:
                line = 1 + line_count(text[:at])
                raise PxsecError(f"line {line}: invalid JSON in a JSON stream (Kubernetes reads a stream that "
                                 "starts with '{' as JSON values, and after two of them accepts nothing else)",
                                 Location(source, len(spans)), line=line)
            if not spans:  # YAML from the start: what consumeWhitespace eats is blank to YAML too
                return spans, 0
            # consumeWhitespace: Go spaces up to and including the first newline
            while pos < n and text[pos] in GO_SPACE:
                pos += 1
                if text[pos - 1] == "\n":
                    break
            spans[-1] = (spans[-1][0], pos)
            return spans, pos
        spans.append((pos, end))
        pos = end
