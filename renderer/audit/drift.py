"""PXS019/PXS020: with --spec, the manifests must be exactly what `pxsec render` makes of them.

The documents check parsed go through `pipeline.render_stream` with the same spec (no second
parse); each document render changes is compared, as data, with the object render makes of it
(its `Pair`: so quoting or flow style never counts), and documents render would add (generated
Secrets) are reported as missing. A refusal points at the node its error names as a path.

Secret values are never needed and never compared: render gets a fixed placeholder for every
variable a `secret.create` spec reads (never the real environment), and the Secret pxsec
manages is compared with its `data`/`stringData` values blanked (keys still count).
Messages name fields, env vars and volumes, and show the values on both sides (expected from
render, found in the input) through `redact`: a literal secret shows as `<literal value>`, the
managed Secret's data not at all.
"""
from __future__ import annotations

from collections import Counter

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any

from ..render import pipeline, redact
from ..errors import PxsecError
from ..spec import Spec
from ..render.stream import Document, Stream
from .objects import field_path, node_line, node_position
from .model import Finding, finding

PLACEHOLDER = "pxsec-check-placeholder-not-a-secret-0123456789"
MAX_PER_DOCUMENT = 20


def placeholder_environ(spec: Spec) -> dict[str, str]:
    """What render reads with secret.create: one fixed, obviously fake value per variable."""
    if not spec.secret_create:
        return {}
    from ..render import generated_secret as secretsmod  # as render does: only when Secrets are made

    return {var: PLACEHOLDER for _, var in secretsmod.needed(spec)}


def _where(doc: Document, path: tuple = ()) -> dict:
    line, column = (node_position(doc, path) if doc.node is not None else None) or (doc.line, None)
    return dict(file=doc.source, index=doc.index, kind=doc.kind, name=doc.name, namespace=doc.namespace,
                field=field_path(path) or None, line=line, column=column)


def _redact(obj: Any, spec: Spec) -> Any:
    """The pxsec-managed Secret with its values blanked: only its shape is compared."""
    if (isinstance(obj, dict) and obj.get("kind") == "Secret" and obj.get("apiVersion") == "v1"
            and isinstance(obj.get("metadata"), dict) and obj["metadata"].get("name") == spec.secret_name):
        obj = dict(obj)
        for key in ("data", "stringData"):
            if isinstance(obj.get(key), dict):
                obj[key] = {k: None for k in obj[key]}
    return obj


def _named(items: list) -> dict[str, int] | None:
    """name -> index when every item is a mapping with a unique string name (env, volumes, ...)."""
    names: dict[str, int] = {}
    for i, it in enumerate(items):
        if not isinstance(it, dict) or not isinstance(it.get("name"), str) or it["name"] in names:
            return None
        names[it["name"]] = i
    return names


def diff(a: Any, b: Any, path: tuple = (), bpath: tuple | None = None) -> list[tuple]:
    """(path in `a`, what, name, found, expected, path in `b`) for each difference from `a` (input)
    to `b` (rendered); `found`/`expected` are the values there (None where one side has nothing).
    Named list entries (env, volumes) are matched by name, so the two paths can differ."""
    bpath = path if bpath is None else bpath
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in a:
            if k not in b:
                out.append((path + (k,), "removed", None, a[k], None, bpath + (k,)))
            else:
                out += diff(a[k], b[k], path + (k,), bpath + (k,))
        out += [(path + (k,), "added", None, None, b[k], bpath + (k,)) for k in b if k not in a]
        return out
    if isinstance(a, list) and isinstance(b, list):
        na, nb = _named(a), _named(b)
        if na is not None and nb is not None and (na or nb):
            out = []
            for name, i in na.items():
                if name not in nb:
                    out.append((path + (i,), "removed", name, a[i], None, bpath))
                else:
                    out += diff(a[i], b[nb[name]], path + (i,), bpath + (nb[name],))
            out += [(path, "added", name, None, b[nb[name]], bpath + (nb[name],)) for name in nb if name not in na]
            return out
        return [] if a == b else [(path, "changed", None, a, b, bpath)]
    if type(a) is not type(b) or a != b:
        return [(path, "changed", None, a, b, bpath)]
    return []


MAX_SHOWN = 160


def _show(v: Any) -> str:
    """A value as one line of flow YAML, shortened; secret values are already masked."""
    if isinstance(v, str) and v.startswith("<") and v.endswith(">"):
        return v  # <literal value>
    import json  # only when there is drift to show (a clean check does not pay for json)

    return _cap(json.dumps(v, ensure_ascii=False, separators=(", ", ": "), default=str))


def _cap(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 3] + "..."


def _scalars(v: Any) -> bool:
    return isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v)


def _list_change(found: list, expected: list) -> str:
    """What render does to a list of scalars (args, command): what it adds and removes."""
    import json

    def one(x: Any) -> str:
        return json.dumps(x, ensure_ascii=False, default=str)

    missing, extra = Counter(map(one, expected)), Counter(map(one, found))
    adds, removes = list((missing - extra).elements()), list((extra - missing).elements())
    parts = [f"adds {_cap(' '.join(adds))}" if adds else "", f"removes {_cap(' '.join(removes))}" if removes else ""]
    what = " and ".join(p for p in parts if p) or "reorders it"
    return f"render {what} (expected {_show(expected)}, found {_show(found)})"


def _message(path: tuple, what: str, name: str | None, found: Any, expected: Any) -> str:
    """What differs (the field path is the finding's `field`), with the values on each side."""
    entry = next((p for p in reversed(path) if isinstance(p, str)), "list")
    if what == "added" and name is not None:
        return f"no {entry} entry {name!r}: render would add {_show(expected)}"
    if what == "added":
        shown = "" if expected is None else f" {_show(expected)}"
        return f"missing: render would add it{':' if shown else ''}{shown}"
    if what == "removed" and name is not None:
        return f"{entry} entry {name!r} is not in the rendered output: render would remove {_show(found)}"
    if what == "removed":
        shown = "" if found is None else f" (found {_show(found)})"
        return f"not in the rendered output: render would remove it{shown}"
    if found == expected:  # the difference is in a secret value, which is never shown
        return "differs from the rendered output in a secret value (hidden): render would replace it"
    if _scalars(found) and _scalars(expected):
        return "differs from the rendered output: " + _list_change(found, expected)
    return f"differs from the rendered output: expected {_show(expected)}, found {_show(found)}"


def _compare(pair: pipeline.Pair, spec: Spec) -> list[Finding]:
    doc = pair.document
    try:
        a, b = _redact(pair.before, spec), _redact(pair.after, spec)
    except PxsecError:
        return []  # an unreadable document is reported by the other rules
    diffs = diff(a, b)
    found = [finding("PXS019", _message(p, what, name, redact.value_at(a, p, x), redact.value_at(b, q, y)),
                     **_where(doc, p)) for p, what, name, x, y, q in diffs[:MAX_PER_DOCUMENT]]
    if len(diffs) > MAX_PER_DOCUMENT:
        found.append(finding("PXS019", f"... and {len(diffs) - MAX_PER_DOCUMENT} more difference(s)", **_where(doc)))
    return found


def _anchor(docs: list[Document], namespace: str | None) -> dict:
    """Where a missing generated object is reported: a secured workload of its namespace."""
    for kinds in (("DaemonSet", "StorageCluster"), ("Deployment", "List")):
        for doc in docs:
            if doc.namespace == namespace and doc.kind in kinds:
                return _where(doc)
    first = docs[0] if docs else None
    return dict(file=first.source if first else None)


def _passed_over(doc: Document) -> bool:
    """A document check's parse passed over (its text test: no node, no role, nothing read)."""
    return (doc.node is None and doc.role is None and not doc.changed and doc._emitted is None
            and doc.kind is None and doc.name is None and doc.namespace is None and not doc.__dict__)


def _forget(doc: Document) -> None:
    """Put a passed-over document back as check's parse left it (whether it is empty, a fact of
    its text, stays known)."""
    doc.node = doc.kind = doc.name = doc.namespace = doc._emitted = None
    doc.changed = False
    doc.__dict__.clear()


def check(sources: list[tuple[str, str]], docs: list[Document], spec: Spec) -> list[Finding]:
    """Drift of `docs` (every document of `sources`, as check parsed them) from what render makes.

    Render edits the documents it is given, and check reads the originals: a document check
    composed goes to render as a copy (Document.fresh). One it passed over (nearly all of a long
    stream) goes as it is, not to pay for thousands of copies: render reaches such a document
    only by composing it (Stream.ensure_composed, to look up a ConfigMap by name) and may then
    edit it (envFrom). Each is put back as check left it once render's changes are compared,
    before anything here looks at check's documents, so the findings are those of a render
    given a copy of every document."""
    del sources  # the documents are already parsed: render works on them
    given, shared = [], []
    for d in docs:
        if _passed_over(d):
            shared.append(d)
            given.append(d)
        else:
            given.append(d.fresh())
    refusal: PxsecError | None = None
    found: list[Finding] = []
    try:
        try:
            result = pipeline.render_stream(Stream(given), spec, environ=placeholder_environ(spec),
                                            allow_short_secrets=True)
        except PxsecError as e:
            refusal = e
        else:
            for pair in result.changed_pairs:  # a changed document is render's (a copy, or given and composed)
                found += _compare(pair, spec)
    finally:
        _give_back(shared)
    if refusal is not None:
        return [_refused(refusal, docs)]
    ins = [d for d in docs if d.index >= 0]
    for extra in result.generated_documents:
        ns = f"{extra.namespace}/" if extra.namespace else ""
        found.append(finding("PXS019", f"{extra.kind} {ns}{extra.name} is missing: render would add it "
                             f"(secret.create: true)", **_anchor(ins, extra.namespace)))
    return found


def _give_back(shared: list[Document]) -> None:
    for d in shared:
        if not _passed_over(d):  # render composed or edited it
            _forget(d)


def _refused(e: PxsecError, docs: list[Document]) -> Finding:
    """PXS020: render refuses the input; placed at the node its error names, as check read it."""
    loc = e.location
    line = None
    match = [d for d in docs if d.source == loc.file and d.index == loc.index and loc.index is not None]
    if match:
        line = node_line(match[0], loc.path or ())
    return finding("PXS020", f"render refuses the input with this spec: {e.message}", file=loc.file,
                   index=loc.index, kind=loc.kind, name=loc.name, namespace=loc.namespace, field=loc.field,
                   line=line)
