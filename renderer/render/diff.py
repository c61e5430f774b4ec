"""`pxsec render --diff` and `--check`: what render would change, shown as a unified diff.

One diff per input file (stdin is `<stdin>`): the file as it is, against the documents render
emits for it. Documents render generates (the `secret.create` Secrets) are appended to the
output stream, so they show as added at the end of the last input. Both sides are joined by
the same rule as the output stream, so only what render changes differs.

Secret values never appear, on either side: every document is passed through
`redact.text` first (key variables given as literals, secret flags, the `data` of every
Secret, including the one pxsec generates, of which only the metadata and key names show).
"""
from __future__ import annotations

import difflib
import re

from . import redact
from ..errors import document_number
from .stream import Document

_MAYBE_SECRET = re.compile(r"(?i)secret|passw|token|credential|private|key|\\")
_COLOURS = (("+++", "1"), ("---", "1"), ("@@", "36"), ("+", "32"), ("-", "31"), ("\\", "2"))


def _join(texts: list[tuple[str, int]]) -> str:
    """As `stream.join`: (text, index) chunks, with a marker where two documents would run together."""
    parts: list[str] = []
    for text, index in texts:
        if parts:
            if not parts[-1].endswith("\n"):
                parts.append("\n")
            if index >= 0 and not text.lstrip("\ufeff").startswith("---"):
                parts.append("---\n")
        parts.append(text)
    return "".join(parts)


def _groups(documents: list[Document]) -> list[tuple[str, list[Document]]]:
    """Documents by input source, in order; generated documents go with the last source."""
    groups: list[tuple[str, list[Document]]] = []
    for doc in documents:
        if doc.generated and groups:
            groups[-1][1].append(doc)
        elif groups and groups[-1][0] == doc.source:
            groups[-1][1].append(doc)
        else:
            groups.append((doc.source, [doc]))
    return groups


def changed(documents: list[Document]) -> list[str]:
    """`file: Kind namespace/name` of every document render changes or adds."""
    out = []
    for doc in documents:
        if doc.generated or (doc.changed and doc.emit() != doc.text):
            where = "generated" if doc.generated else f"{doc.source} (document {document_number(doc.index)})"
            ns = f"{doc.namespace}/" if doc.namespace else ""
            out.append(f"{where}: {doc.kind} {ns}{doc.name}")
    return out


def _lines(text: str) -> list[str]:
    if not text:
        return []
    lines = [ln + "\n" for ln in text.split("\n")]
    if text.endswith("\n"):
        lines.pop()
    else:
        lines[-1] = lines[-1][:-1] + "\n\\ No newline at end of file\n"
    return lines


def unified(documents: list[Document], context: int = 3) -> str:
    """The unified diff of every input file against render's output for it, secrets hidden."""
    cache: dict[str, str] = {}

    def shown(text: str) -> str:
        if text not in cache:
            cache[text] = redact.text(text) if _MAYBE_SECRET.search(text) else text
        return cache[text]

    def emitted(d: Document) -> str:
        if not d.changed:
            return shown(d.text)
        text = d.emit()
        if text != d.text and shown(text) == shown(d.text):  # only secret values change: say so
            return redact.text(text, redact.CHANGED)
        return shown(text)

    out: list[str] = []
    for source, docs in _groups(documents):
        before = [(shown(d.text), d.index) for d in docs if not d.generated]
        after = [(emitted(d), d.index) for d in docs]
        a, b = _join(before), _join(after)
        if a == b:
            continue
        out.extend(difflib.unified_diff(_lines(a), _lines(b), f"{source}\t(input)", f"{source}\t(pxsec render)",
                                        n=context))
    return "".join(ln if ln.endswith("\n") else ln + "\n" for ln in out)


def colourize(diff: str) -> str:
    """ANSI colours for a terminal: headers bold, hunks cyan, additions green, removals red."""
    out = []
    for ln in diff.splitlines(keepends=True):
        body = ln.rstrip("\n")
        code = next((c for prefix, c in _COLOURS if body.startswith(prefix)), None)
        out.append(f"\033[{code}m{body}\033[0m\n" if code and body else ln)
    return "".join(out)
