"""One error type for everything the user can get wrong, formatted as one line.

A message names where the problem is (file, document number, kind/name, field) and what it
is; it never carries a secret value. The CLI prints `pxsec: error: <line>` and exits 1.
"""
from __future__ import annotations



def document_number(index: int) -> int:
    """The document number a person reads (1 for the first document) of a 0-based index."""
    return max(index, 0) + 1


class Location:
    """Where a problem is: file, 0-based document index, kind/name/namespace, field path.

    `index` counts from 0, as yaml.load_all does; messages count documents from 1, as a person
    (and as line numbers) do: `document_number` is the one place that converts."""


def field_text(path: tuple) -> str:
    """A node path written as messages write fields: keys joined by dots, list indexes in
    brackets (`spec.template.spec.containers[0].env`)."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


class Location:
    """Where a problem is: file, 0-based document index, kind/name/namespace, field.

    `field` is the text a message shows; `path`, when the code that raised knows it, is the same
    field as data (a tuple of keys and list indexes into the document), so a caller that needs
    the node (check's line numbers) never reads the text back. Give `path` alone and the text
    is written from it."""

    __slots__ = ("file", "index", "kind", "name", "namespace", "field", "path")

    def __init__(self, file: str | None = None, index: int | None = None, kind: str | None = None,
                 name: str | None = None, namespace: str | None = None, field: str | None = None,
                 path: tuple | None = None):
        if field is None and path:
            field = field_text(path)
        self.file, self.index, self.kind, self.name, self.namespace, self.field, self.path = \
            file, index, kind, name, namespace, field, path

    def at(self, path: tuple) -> "Location":
        """The same object, another field (given as a node path)."""
        return Location(self.file, self.index, self.kind, self.name, self.namespace, path=path)

    def within(self, prefix: tuple) -> None:
        """Re-root the field under `prefix` (an item of a List: `items[3].spec...`), in place."""
        if self.path is not None or not self.field:
            self.path = prefix + (self.path or ())
        self.field = field_text(prefix) + (f".{self.field}" if self.field else "")

    def __eq__(self, other):
        return isinstance(other, Location) and all(getattr(self, a) == getattr(other, a)
                                                   for a in self.__slots__ if a != "path")

    def __repr__(self):
        return "Location(" + ", ".join(f"{a}={getattr(self, a)!r}" for a in self.__slots__) + ")"

    def describe(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.index is not None:
            what = f"document {document_number(self.index)}"
            if self.kind or self.name:
                what += f" ({self.kind or '?'}/{self.name or '?'})"
            parts.append(what)
        if self.field:
            parts.append(self.field)
        return ": ".join(parts)


class PxsecError(Exception):
    """A problem with the user's input; never raised with a secret value in the message."""

    exit_code = 1

    def __init__(self, message: str, location: Location | None = None, *, line: int | None = None,
                 column: int | None = None):
        super().__init__(message)
        self.message = message
        self.location = location or Location()
        self.line, self.column = line, column  # 1-based position in the file, where the YAML layer knows it

    def __str__(self) -> str:
        where = self.location.describe()
        return f"{where}: {self.message}" if where else self.message


class UsageError(PxsecError):
    """Wrong command-line use (exit 2)."""

    exit_code = 2
