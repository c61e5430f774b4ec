"""Warnings people read: one short line on stderr, the whole text with `-v` (issue 25).

A warning's first clause says what happened; what follows explains why and what to do, and can
run to several hundred characters. `short` keeps the text up to the last clause boundary that
fits (the strongest first: `; `, then ` (`, `: `, `, `) with balanced brackets and quotes, and says where the rest is.
"""
from __future__ import annotations

LINE_LIMIT = 200  # characters of a whole stderr line, `pxsec: warning: ` included
PREFIX = "pxsec: warning: "
MORE = " (more with -v)"
_BOUNDARIES = ("; ", " (", ": ", ", ")
_PAIRS = (("(", ")"), ("[", "]"), ("{", "}"))


def _balanced(text: str) -> bool:
    return all(text.count(a) == text.count(b) for a, b in _PAIRS) and text.count("`") % 2 == 0 \
        and text.count('"') % 2 == 0


def short(message: str, limit: int = LINE_LIMIT) -> str:
    """`message` itself when its line fits in `limit`, else its longest leading clauses that do."""
    room = limit - len(PREFIX)
    if len(message) <= room:
        return message
    room -= len(MORE)
    for sep in _BOUNDARIES:  # the strongest boundary that fits wins, then the longest head
        for cut in sorted((i for i in _positions(message, sep) if 40 <= i <= room), reverse=True):
            head = message[:cut].rstrip(" ,;:")
            if _balanced(head):
                return head + MORE
    return message[: room - 3].rstrip() + "..." + MORE


def _positions(text: str, sep: str):
    start = text.find(sep)
    while start != -1:
        yield start
        start = text.find(sep, start + 1)
