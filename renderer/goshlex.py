"""Split and join px-runc argument strings the way the Portworx operator reads them.

The operator splits the `portworx.io/misc-args` annotation with `github.com/google/shlex`
(libopenstorage/operator, drivers/storage/portworx/util/util.go `MiscArgs`), whose rules differ
from POSIX and from Python's `shlex`:

- blanks are exactly space, tab, CR and LF;
- `#` at the start of a word opens a comment that runs to the next LF (or the end); inside a
  word it is an ordinary character (`seven#eight`);
- `'...'` is literal; inside `"..."` a backslash is dropped and the character after it kept,
  whatever it is (`"\\n"` is `n`); outside quotes the same, newline included;
- quoted and unquoted parts of one word join (`a"b c"d` is one word);
- a backslash at the end, or an unclosed quote, is an error: the operator then logs a warning and
  passes none of the annotation's arguments to px-runc (deployment.go, after `MiscArgs`).

This is a re-implementation of those rules (not a copy), tested against google/shlex's own
test table in tests/test_goshlex.py.
"""
from __future__ import annotations

import re

BLANKS = " \t\r\n"
_SAFE = re.compile(r"[A-Za-z0-9@%+=:,./_-]+")


class SplitError(ValueError):
    pass


def tokens(text: str) -> tuple[list[str], list[str]]:
    """(words, comments) of `text`; comments without their `#` and without the ending LF."""
    words: list[str] = []
    comments: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in BLANKS:
            i += 1
            continue
        if ch == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            comments.append(text[i + 1:end])
            i = end + 1
            continue
        word: list[str] = []
        while i < n and text[i] not in BLANKS:
            ch = text[i]
            if ch == "\\":
                if i + 1 >= n:
                    raise SplitError("EOF found after escape character")
                word.append(text[i + 1])
                i += 2
            elif ch == "'":
                end = text.find("'", i + 1)
                if end < 0:
                    raise SplitError("EOF found when expecting closing quote")
                word.append(text[i + 1:end])
                i = end + 1
            elif ch == '"':
                i += 1
                while True:
                    if i >= n:
                        raise SplitError("EOF found when expecting closing quote")
                    ch = text[i]
                    if ch == '"':
                        i += 1
                        break
                    if ch == "\\":
                        if i + 1 >= n:
                            raise SplitError("EOF found after escape character")
                        word.append(text[i + 1])
                        i += 2
                    else:
                        word.append(ch)
                        i += 1
            else:
                word.append(ch)
                i += 1
        words.append("".join(word))
    return words, comments


def split(text: str) -> list[str]:
    """The argument list google/shlex `Split` returns (comments dropped)."""
    return tokens(text)[0]


def quote(word: str) -> str:
    """`word` written so that `split` gives it back unchanged."""
    if word and _SAFE.fullmatch(word):
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"


def join(words: list[str], comments: list[str] = ()) -> str:
    """Words separated by spaces, then each comment (kept, so what was ignored stays ignored)."""
    out = " ".join(quote(w) for w in words)
    for i, comment in enumerate(comments):
        out += (" #" if i == 0 and out else ("\n#" if out else "#")) + comment
    return out
