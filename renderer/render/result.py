"""What render returns: the document pairs (input object -> output object, and what the
filter did), the output stream, the workloads it touched, what it generated and its warnings.

Callers that compare input and output (check's drift, Flux patches, the kustomize modes) read
`RenderResult.pairs`; none of them parses render's text again.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any

    from .filters.common import Report
    from .stream import Document

from ..errors import Location

NOTHING_FOUND = "no Portworx or Stork workload found; nothing changed"


class Touched:
    """A workload a filter ran on, and its report."""

    def __init__(self, role: str, kind: str, namespace: str | None, name: str | None, report: Report,
                 helm_filename: str | None = None):
        self.role, self.kind, self.namespace, self.name = role, kind, namespace, name
        self.report, self.helm_filename = report, helm_filename

    @property
    def label(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}"

    @property
    def what(self) -> str:
        """What was done to it, in words (names only): `-v` lines and KRM results both print this."""
        return "; ".join(self.report.changes) if self.report.changes else "already secured, unchanged"


_UNREAD = object()


class Pair:
    """One input document (or one item of a List in it) and what render made of it.

    `before`: the object Kubernetes reads from the input (`Document.view()`; None for an empty
    document); `after`: the object render emits (the filters' edited copy, `Document.obj`, or
    `before` itself when unchanged); `changed`: whether render changed it; `report`: what the
    filter that ran on it did (None when no filter ran); `items`: for a List pxsec looked into,
    one Pair per item (`item` is then the item's index)."""

    __slots__ = ("document", "item", "changed", "report", "items", "_before", "_compose")

    def __init__(self, document: Document, item: int | None = None, changed: bool = False,
                 report: Report | None = None, compose=None):
        self.document, self.item, self.changed, self.report = document, item, changed, report
        self.items: list[Pair] = []
        self._before: Any = _UNREAD
        self._compose = compose

    @property
    def before(self) -> Any:
        if self._before is _UNREAD:
            doc = self.document
            if doc.node is None and self._compose is not None:
                self._compose(doc)  # a document render passed over: composed now, for this caller
            view = doc.view()
            self._before = view if self.item is None else view["items"][self.item]
        return self._before

    @property
    def after(self) -> Any:
        if not self.document.changed or self.document.obj is None:
            return self.before
        obj = self.document.obj
        return obj if self.item is None else obj["items"][self.item]

    @property
    def location(self) -> Location:
        """Where the input object is; an item's field is `items[i]`."""
        return self.document.location(f"items[{self.item}]" if self.item is not None else None)

    def __repr__(self) -> str:  # never a value
        item = f" items[{self.item}]" if self.item is not None else ""
        return f"Pair({self.document.source}#{self.document.index}{item}, changed={self.changed})"


class RenderResult:
    """What render made: the output stream (`text`, joined when read), the document `pairs`, the
    `generated_documents` (secret.create Secrets; `obj` is the object), and what was done:
    touched workloads, labels of generated objects, warnings."""

    def __init__(self, text: str | None = None, touched: list[Touched] | None = None,
                 generated: list[str] | None = None, warnings: list[str] | None = None):
        self._text = text
        self.touched = touched or []
        self.generated = generated or []
        self.warnings = warnings or []
        self.documents: list[Document] = []  # the stream, each document with its emitted text (render --diff)
        self._pairs: list[Pair] | None = None
        self.make_pairs = None  # render's way to make the pairs, the first time a caller reads them
        self.generated_documents: list[Document] = []

    @property
    def pairs(self) -> list[Pair]:
        """One Pair per input document, in input order. Made when first read: a plain render
        that only writes its output never pays for a Pair per document."""
        if self._pairs is None:
            self._pairs = self.make_pairs() if self.make_pairs is not None else []
        return self._pairs

    @property
    def changed_pairs(self) -> list[Pair]:
        """The pairs of the documents render changed, in input order (`pairs` whose `changed` is
        true), without a Pair for each of the documents it passed over."""
        if self._pairs is not None or self.make_pairs is None:
            return [p for p in self.pairs if p.changed]
        return self.make_pairs(changed_only=True)

    def pieces(self):
        """The output stream in pieces (stream.pieces), for a writer that need not hold it whole."""
        if self._text is None:
            from .stream import pieces
            return pieces(self.documents)
        return iter((self._text,))

    @property
    def text(self) -> str:
        """The output stream. Joined from the documents each time it is read, so a caller that
        edits an output object first (the legacy plugin restoring kustomize's annotations) gets
        its edit written."""
        if self._text is None:
            from .stream import join
            return join(self.documents)
        return self._text

    def summary(self) -> list[str]:
        lines = [f"{t.label}: {t.what}" for t in self.touched]
        lines += [f"generated {g}" for g in self.generated]
        if not self.touched and not self.generated:
            lines.append(NOTHING_FOUND)
        return lines
