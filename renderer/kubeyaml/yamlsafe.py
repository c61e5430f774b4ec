"""The YAML safety layer: every guard pxsec puts between untrusted YAML text and libyaml.

- `SyntaxLoader`: libyaml's C parser with no tag resolution (kyaml resolves plain scalars the
  way Kubernetes does);
- `check_depth`: nesting limit (libyaml recurses in C per level);
- `compose`: one document composed with the depth and alias-expansion guards;
- `yaml_problem`, `tag_problem`: one-line, value-free error texts with positions;
- `construct_safe`: PyYAML's safe constructor behind the same error wording (the spec and the
  KRM ResourceList, which are pxsec's own formats, are read with PyYAML's rules).
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any

import yaml
import yaml.constructor
import yaml.cyaml
import yaml.reader
import yaml.resolver

from . import kyaml
from ..errors import Location, PxsecError

# libyaml composes aliases without expanding them; constructing and dumping would expand.
MAX_EXPANDED_NODES = 1_000_000


class SyntaxLoader(yaml.cyaml.CParser, yaml.constructor.BaseConstructor, yaml.resolver.BaseResolver):
    """libyaml's parser with no implicit tag resolution: every plain scalar is a string.

    Enough to check syntax, and resolving tags (a Python call per scalar) was most of the cost
    of composing. Plain scalars get kyaml.PLAIN_TAG: `kyaml.construct` resolves them the way
    Kubernetes' go-yaml does, merge keys and all.
    """

    def __init__(self, stream):
        yaml.cyaml.CParser.__init__(self, stream)
        yaml.constructor.BaseConstructor.__init__(self)
        yaml.resolver.BaseResolver.__init__(self)

    # libyaml's composer calls these two around every node, for path resolvers, which pxsec never
    # adds (BaseResolver's methods return at once when there are none): C callables that do
    # nothing spare two Python calls a node.
    descend_resolver = {}.get  # (parent, index) -> index, unused
    ascend_resolver = tuple  # () -> (), unused

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode:
            return kyaml.PLAIN_TAG if implicit[0] else self.DEFAULT_SCALAR_TAG
        return self.DEFAULT_SEQUENCE_TAG if kind is yaml.SequenceNode else self.DEFAULT_MAPPING_TAG


def too_deep(problem: str | None) -> bool:
    return bool(problem) and "maximum nesting depth" in problem


def reader_problem(e: Any, text: str, first_line: int) -> str:
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


def position(e: Any, first_line: int, text: str = "") -> tuple[int | None, int | None]:
    """(line, column), 1-based in the file, of a YAML error; (None, None) when unknown."""
    if isinstance(e, yaml.reader.ReaderError):
        pos = getattr(e, "position", None)
        if not isinstance(pos, int) or not text:
            return None, None
        before = text.encode("utf-8")[:pos].decode("utf-8", "replace")
        return first_line + before.count("\n"), len(before) - (before.rfind("\n") + 1) + 1
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    return (first_line + mark.line, mark.column + 1) if mark is not None else (None, None)


def yaml_error(e: yaml.YAMLError, first_line: int, text: str, location: Location) -> PxsecError:
    """The one-line error for a YAML error, with its position as data (line, column) too."""
    line, column = position(e, first_line, text)
    return PxsecError(yaml_problem(e, first_line, text), location, line=line, column=column)


def yaml_problem(e: yaml.YAMLError, first_line: int, text: str = "") -> str:
    if isinstance(e, yaml.reader.ReaderError):
        return reader_problem(e, text, first_line)
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    problem = getattr(e, "problem", None) or getattr(e, "context", None) or "invalid YAML"
    if too_deep(problem):
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
    loader = SyntaxLoader(text)
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


def compose(chunk: str, source: str, index: int, line: int) -> Any:
    check_depth(chunk, Location(source, index))
    try:
        node = yaml.compose(chunk, Loader=SyntaxLoader)
    except yaml.YAMLError as e:
        raise yaml_error(e, line, chunk, Location(source, index)) from None
    if node is not None and not expanded_size_ok(node, chunk):
        raise PxsecError(f"YAML aliases expand to more than {MAX_EXPANDED_NODES} nodes (an alias bomb?); refused",
                         Location(source, index))
    return node




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


def construct_safe(node: Any, location: Location) -> Any:
    """PyYAML's safe constructor on a composed node, with pxsec's one-line errors."""
    loader = yaml.CSafeLoader("")
    try:
        return loader.construct_document(node)
    except yaml.YAMLError as e:
        raise PxsecError(yaml_problem(e, 1), location) from None
    except CONSTRUCTOR_ERRORS as e:
        raise PxsecError(tag_problem(e), location) from None
    finally:
        loader.dispose()
