"""Regular expressions compiled on first use.

Python compiles a pattern in Python (re._compiler): one of render's patterns costs 0.1-1 ms, and a
small render ran 31 compiles at import, a third of pxsec's own start-up, most for patterns that
render then never used (a directive inside a chunk, a Helm-vars secret, a version string). A
`Lazy` pattern compiles when a method is first asked for and then binds that method on itself, so
later calls cost what a compiled pattern's do.
"""
from __future__ import annotations

import re


class Lazy:
    """`re.compile(pattern, flags)`, deferred: `.search`, `.match`, `.sub`, ... as on a pattern."""

    def __init__(self, pattern: str, flags: int = 0):
        self._args = (pattern, flags)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        compiled = self.__dict__.get("_compiled")
        if compiled is None:
            compiled = self.__dict__["_compiled"] = re.compile(*self._args)
        value = getattr(compiled, name)
        self.__dict__[name] = value  # bound once: the next lookup finds it without __getattr__
        return value


def compile(pattern: str, flags: int = 0) -> Lazy:  # noqa: A001 (re's name, on purpose)
    return Lazy(pattern, flags)
