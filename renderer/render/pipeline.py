"""render: a stream of manifests in, the same stream with PX-Security turned on out.

    parse (compose every document)  ->  classify (kind, containers, from the node tree)
    ->  filter each target (portworx_daemonset | stork | autopilot | storagecluster, in Lists too)
    ->  secrets (secret.create: one per namespace)  ->  pairs + join (untouched documents verbatim)

`render(sources)` parses and calls `render_stream(stream)`; a caller that has the stream already
(check, the KRM function) calls `render_stream` itself. The result's `pairs` give, for every
input document, the object Kubernetes reads from it and the object render makes of it: callers
that compare input and output (check's drift, Flux patches, the kustomize modes) read those, and
never parse render's text again. A filter module is imported only when a document of its role
is in the stream.

All or nothing: any document that cannot be secured raises, and nothing is written.
"""
from __future__ import annotations

import re
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any, Mapping

from .. import portworx as px
from ..errors import Location, PxsecError
from .filters.common import LiteralSecretReplaced, Report
from ..portworx import AUTOPILOT, LIST, PORTWORX, STORAGECLASS, STORAGECLUSTER, STORK, WORKLOADS
from .result import Pair, RenderResult, Touched
from ..spec import Spec
from .k8ssplit import YAML_BREAKS
from .stream import Document, Stream

SECRET = "secret"
# role -> the filter module that secures it (pxsec.render.filters.<module>.apply), imported on first use
FILTERS = {PORTWORX: "portworx_daemonset", STORK: "stork", AUTOPILOT: "autopilot", STORAGECLUSTER: "storagecluster"}


def filter_module(name: str):
    """A module of pxsec.render.filters, imported when a render first needs it (a small render of a
    Stork-less DaemonSet install never imports the operator's filters)."""
    return __import__(f"{__package__}.filters.{name}", fromlist=("apply",))
LOCAL_CONFIG = "config.kubernetes.io/local-config"
HELM4_FILENAME = "postrenderer.helm.sh/postrender-filename"


def role_of_object(obj: Any, spec: Spec | None = None) -> str | None:
    """What an object (as Kubernetes decodes it) is to pxsec: a role of portworx.classify, or
    SECRET for the spec's Secret."""
    role = px.classify(obj)
    if role is None and spec is not None and isinstance(obj, dict) and obj.get("kind") == "Secret" \
            and obj.get("apiVersion") == "v1" and _meta(obj).get("name") == spec.secret_name:
        return SECRET
    return role


def role_of_document(doc: Document, spec: Spec | None = None) -> str | None:
    """The role of a composed document, from its skeleton (kyaml.skeleton): what classify needs."""
    if doc.node is None:
        return None
    return role_of_object(doc.skeleton if doc.skeleton is not None else doc.view(), spec)


# A tag, anchor or alias: `(?:^|[\s\[{,?:-])[!&*][^\s\[\]{},]` (re.M), written to start with its
# character class, which re scans for in C (the `^|` alternation made re try every position in
# Python's matcher: 2 ms of a small render); the lookbehind is the character before.
_TAG_OR_ALIAS = re.compile(r"[!&*](?<![^\s\[{,?:-][!&*])[^\s\[\]{},]")
# `kind: StorageCluster` (not a CRD's names): `\bkind\W{0,3}:\s*\W?StorageCluster\b`, starting with
# its literal for the same reason
_KIND_STORAGECLUSTER = re.compile(r"kind(?<!\wkind)\W{0,3}:\s*\W?StorageCluster\b")
_ITEMS_KEY = re.compile(r"items[\"']?\s*:")


def _top_level_items(chunk: str) -> bool:
    r"""A top-level `items:` (kubectl applies the items of any object that has them, whatever its
    kind): `(?:^|[{,]\s*)["']?items["']?\s*:` (re.M), found by its literal and then read backwards."""
    for m in _ITEMS_KEY.finditer(chunk):
        i = m.start()
        if i and chunk[i - 1] in "\"'":
            i -= 1
        if i == 0 or chunk[i - 1] == "\n":
            return True
        while i and chunk[i - 1].isspace():  # re's \s on str is str.isspace
            i -= 1
        if i and chunk[i - 1] in "{,":
            return True
    return False


def worth_composing(spec: Spec | None):
    """A cheap text test: could this document be one pxsec changes or reads? False means surely not.

    A target spells in its text what identifies it: its kind, and a container named portworx or
    running portworx/oci-monitor, stork, autopilot; the spec's Secret name; a Portworx
    provisioner. Merge keys and aliases move those words but never hide them. Only an escape in a
    double-quoted scalar ("Daemon\\x53et") or a tag (`!!binary`) can build them from other text:
    a chunk with a backslash is tested as its text and, after it, the text with every escape
    decoded (`decode_escapes`: each double-quoted scalar's value stands in it), so a CRD whose
    patterns are full of backslashes is not composed for them; a chunk with a tag is composed, as
    are chunks with anchors or aliases (the composer then checks them: undefined aliases, alias
    bombs) and, for envFrom, any chunk that names a PORTWORX_AUTH_* setting.

    `spec=None` is check's reading (no spec): every Secret, every object that wires a token, and
    every object with a pxsec.io/ annotation (ignore rules) too; the ConfigMaps and Secrets that
    envFrom reads are composed afterwards, by name (audit/inventory.py)."""
    wired = spec is None or spec.tokens is not None  # VolumeSnapshotClasses, PVCs and Stork objects too
    secret_name = spec.secret_name if spec is not None else ""
    audit = spec is None

    def test(chunk: str) -> bool:
        if "\\" in chunk:
            chunk += "\n" + decode_escapes(chunk)
        return (("StorageCluster" in chunk and _KIND_STORAGECLUSTER.search(chunk) is not None)
                or ("items" in chunk and _top_level_items(chunk))
                or ("portworx" in chunk and ("containers" in chunk or "DaemonSet" in chunk))
                or ("Deployment" in chunk and ("stork" in chunk or "autopilot" in chunk))
                or px.AUTH_ENV_PREFIX in chunk or px.STORK_SECRET in chunk
                or ("Secret" in chunk and secret_name in chunk)
                or (audit and "pxsec.io/" in chunk)
                or ("StorageClass" in chunk and ("portworx" in chunk or "pxd" in chunk))
                or (wired and ("PersistentVolumeClaim" in chunk or px.STORK_API_GROUP in chunk
                               or "VolumeSnapshotClass" in chunk))
                or (("!" in chunk or "&" in chunk or "*" in chunk) and _TAG_OR_ALIAS.search(chunk) is not None))
    return test


# YAML's (and JSON's) escapes in a double-quoted scalar: libyaml scanner.c yaml_parser_scan_flow_scalar,
# which go-yaml v2's scannerc.go (Kubernetes' reader) ports. An escaped line break drops the break
# and the next line's leading blanks. (A loop over the backslashes, not `re`: the pattern for
# these cost a millisecond to compile, the loop nothing for the few backslashes a chunk has.)
_SIMPLE_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f",
                   "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0",
                   "L": "\u2028", "P": "\u2029"}
_HEX_WIDTH = {"x": 2, "u": 4, "U": 8}
_HEX = frozenset("0123456789abcdefABCDEF")


def decode_escapes(text: str) -> str:
    """`text` with every backslash escape decoded, wherever it stands: the value of each
    double-quoted scalar of `text` is a substring of the result (escapes are decoded left to
    right, and no escape can begin before a scalar's opening quote and run into it). Text outside
    such scalars comes out garbled, which is why worth_composing tests this after the text itself."""
    out = []
    pos, n = 0, len(text)
    while True:
        i = text.find("\\", pos)
        if i < 0 or i + 1 >= n:  # (a backslash that ends the text stays)
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:i])
        c = text[i + 1]
        pos = i + 2
        width = _HEX_WIDTH.get(c)
        if width is not None:
            digits = text[pos:pos + width]
            if len(digits) == width and _HEX.issuperset(digits):
                code = int(digits, 16)
                out.append(chr(code) if code <= 0x10FFFF else "")
                pos += width
            else:
                out.append(c)
        elif c in YAML_BREAKS:
            if c == "\r" and text.startswith("\n", pos):
                pos += 1
            while pos < n and text[pos] in " \t":
                pos += 1
        else:
            out.append(_SIMPLE_ESCAPES.get(c, c))


def _meta(obj: Any) -> dict:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return meta if isinstance(meta, dict) else {}


def _annotations(obj: Any) -> dict:
    ann = _meta(obj).get("annotations")
    return ann if isinstance(ann, dict) else {}


class Renderer:
    """One render over one stream; holds what it touched for the summary and the Secrets.

    `local_config`: honour `config.kubernetes.io/local-config: "true"` (KRM/kpt only, where it
    means "not deployed"); Helm and kubectl apply such objects, so elsewhere they are secured."""

    def __init__(self, spec: Spec, local_config: bool = False):
        self.spec = spec
        self.local_config = local_config
        self.touched: list[Touched] = []
        self.env_from: list = []  # envFrom sources of secured Portworx containers (filters.envfrom.Ref)
        self.storage_classes: list[tuple[Document, dict, Location, tuple]] = []  # (doc, object, location, path prefix)
        self.reports: dict[tuple[int, int | None], Report] = {}  # (id(document), List item or None) -> report
        self.token_objects: list[tuple[Document, dict, Location, tuple, str]] = []  # the same, and the role (spec.tokens)

    def _apply(self, role: str, obj: dict, loc: Location) -> Report:
        if self.local_config and _annotations(obj).get(LOCAL_CONFIG) == "true":
            return Report()
        meta = _meta(obj)
        for key in ("name", "namespace"):
            if key in meta and meta[key] is not None and not isinstance(meta[key], str):
                raise PxsecError(f"expected a string, found {type(meta[key]).__name__} (Kubernetes rejects it)",
                                 Location(loc.file, loc.index, loc.kind, path=("metadata", key)))
        if role == PORTWORX:
            refused = px.refusal_at(obj)
            if refused:
                raise PxsecError(refused[1], loc.at(refused[0]))
        _check_env_values(obj, loc)
        report = filter_module(FILTERS[role]).apply(obj, self.spec, loc)
        if role == PORTWORX:
            self.env_from += filter_module("envfrom").refs(obj, loc)
        self.touched.append(Touched(role, obj.get("kind"), meta.get("namespace"), meta.get("name"), report,
                                    _annotations(obj).get(HELM4_FILENAME)))
        return report

    def document(self, doc: Document, role: str) -> None:
        obj = doc.construct()
        if role == LIST:
            items = obj.get("items") if isinstance(obj, dict) else None
            if not isinstance(items, list):
                return
            for i, item in enumerate(items):
                item_role = role_of_object(item)
                if item_role == STORAGECLASS:
                    self.storage_classes.append((doc, item, Location(doc.source, doc.index, "StorageClass",
                                                                     _str(_meta(item).get("name"))), ("items", i)))
                if item_role in px.TOKEN_ROLES:
                    self.token_objects.append((doc, item, Location(doc.source, doc.index, item.get("kind"), _str(
                        _meta(item).get("name")), _str(_meta(item).get("namespace"))), ("items", i), item_role))
                if item_role in FILTERS:
                    meta = _meta(item)
                    loc = Location(doc.source, doc.index, item.get("kind"), _str(meta.get("name")),
                                   _str(meta.get("namespace")))
                    try:
                        report = self._apply(item_role, item, loc)
                    except PxsecError as e:
                        e.location.within(("items", i))
                        raise
                    self.reports[(id(doc), i)] = report
                    doc.changed |= bool(report.changes)
            return
        if not isinstance(obj, dict):
            return
        if role == STORAGECLASS:
            self.storage_classes.append((doc, obj, doc.location(), ()))
            return
        if role in px.TOKEN_ROLES:
            self.token_objects.append((doc, obj, doc.location(), (), role))
            return
        report = self._apply(role, obj, doc.location())
        self.reports[(id(doc), None)] = report
        doc.changed = bool(report.changes)

    def storageclasses(self, stream: Stream) -> list[str]:
        """Second pass, once the workloads (and so the default namespace) are known."""
        sc_spec = self.spec.storage_classes
        if sc_spec is None or not self.storage_classes:
            return []
        storageclass = filter_module("storageclass")
        chosen = [(d, o, loc, pre) for d, o, loc, pre in self.storage_classes
                  if sc_spec.selects(_meta(o).get("name"))]
        if not chosen:
            return []
        namespace = sc_spec.token_namespace or self._token_namespace(chosen[0][2], sc_spec.section)
        warnings = []
        for doc, obj, loc, prefix in chosen:
            if namespace == px.PVC_NAMESPACE and px.storageclass_kind(obj) == "intree":
                raise PxsecError("${pvc.namespace} is a CSI template: the in-tree provisioner would read it "
                                 f"literally; set spec.{sc_spec.section}.tokenSecret.namespace or exclude this "
                                 "StorageClass", Location(loc.file, loc.index, loc.kind, loc.name,
                                                          path=prefix + ("provisioner",)))
            report = storageclass.apply(obj, sc_spec, namespace, loc)
            self.reports[(id(doc), prefix[1] if prefix else None)] = report
            doc.changed |= bool(report.changes)
            warnings += report.warnings
            self.touched.append(Touched(STORAGECLASS, "StorageClass", None, _meta(obj).get("name"), report))
        what = "Objects wired by spec.tokens" if sc_spec.section == "tokens" else "StorageClasses"
        if any(doc.changed for doc, *_ in chosen):  # already secured output: nothing new to say
            warnings += self._token_secret_warning(stream, sc_spec, namespace, what)  # one warning for both passes
        return warnings

    def tokens(self, stream: Stream) -> list[str]:
        """Second pass for spec.tokens: VolumeSnapshotClasses, in-tree Portworx PVCs, Stork objects."""
        t = self.spec.tokens
        if t is None or not self.token_objects:
            return []
        tokens = filter_module("tokens")
        intree = {_meta(o).get("name") for _, o, _, _ in self.storage_classes if px.storageclass_kind(o) == "intree"}
        chosen = []
        for doc, obj, loc, prefix, role in self.token_objects:
            sel = {px.SNAPSHOTCLASS: t.snapshot_classes, px.PVC: t.pvcs, px.STORK_OBJECT: t.stork}[role]
            if (role != px.PVC or px.pvc_intree(obj, intree)) and sel.selects(_meta(obj).get("name"),
                                                                              _meta(obj).get("namespace")):
                chosen.append((doc, obj, loc, prefix, role))
        if not chosen:
            return []
        namespace = t.token_namespace or self._token_namespace(chosen[0][2], "tokens")
        warnings = []
        for doc, obj, loc, prefix, role in chosen:
            try:
                report = tokens.apply(role, obj, t.token_name, namespace, loc)
            except PxsecError as e:
                if prefix:
                    e.location.within(prefix)
                raise
            self.reports[(id(doc), prefix[1] if prefix else None)] = report
            doc.changed |= bool(report.changes)
            warnings += report.warnings
            if obj.get("kind") != px.CLUSTERPAIR:
                self.touched.append(Touched(role, obj.get("kind"), _meta(obj).get("namespace"), _meta(obj).get("name"),
                                            report))
        if any(doc.changed and (role != px.STORK_OBJECT or obj.get("kind") != px.CLUSTERPAIR)
               for doc, obj, _, _, role in chosen):  # already secured output: nothing new to say
            warnings += self._token_secret_warning(stream, t, namespace, "Objects wired by spec.tokens")
        return warnings

    def _token_namespace(self, loc: Location, section: str = "storageClasses") -> str:
        found = {t.namespace for t in self.touched if t.role in WORKLOADS}
        if len(found) == 1 and None not in found:
            return found.pop()
        why = ("the Portworx workloads in the stream are in several namespaces" if len(found) > 1 else
               "no StorageCluster or Portworx DaemonSet in the stream names its namespace")
        raise PxsecError(f"needed here: {why}",
                         Location(self.spec.source, field=f"spec.{section}.tokenSecret.namespace"))

    def _token_secret_warning(self, stream: Stream, sc_spec, namespace: str,
                              what: str = "StorageClasses") -> list[str]:
        """DaemonSet installs have no operator to create the token Secret: say how to make it."""
        if any(t.role == STORAGECLUSTER for t in self.touched):
            return []
        for doc in stream.documents:
            if doc.kind == "Secret" and doc.name == sc_spec.token_name and doc.namespace in (namespace, None):
                return []
        each = " in each PVC namespace" if namespace == px.PVC_NAMESPACE else ""
        ns = "NAMESPACE" if namespace == px.PVC_NAMESPACE else namespace
        return [f"{what} need token Secret {sc_spec.token_name}{each}; create it: pxsec token generate "
                f"--spec SPEC --role system.user --secret {sc_spec.token_name} -n {ns} | kubectl apply -f -"]


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _check_env_values(obj: dict, loc: Location) -> None:
    """Every env `value` of a workload pxsec edits must be a string to Kubernetes: the API server
    rejects a boolean or number (`value: y`, `value: 0o17`), and a re-written document must not
    turn a string into one."""
    for key, i, ct in px.containers(obj):
        env = ct.get("env")
        if not isinstance(env, list):
            continue
        for j, e in enumerate(env):
            if isinstance(e, dict) and "value" in e and e["value"] is not None and not isinstance(e["value"], str):
                what = "a boolean" if isinstance(e["value"], bool) else type(e["value"]).__name__
                path = px.POD_SPEC_PATHS.get(obj.get("kind"), ("spec",)) + (key, i, "env", j, "value")
                raise PxsecError(f"Kubernetes reads this env value as {what}, not a string, and rejects it; "
                                 f"quote it", loc.at(path))


def _secret_docs(stream: Stream, job: Renderer, spec: Spec, environ: Mapping[str, str],
                 allow_short: bool, secret_docs: list[Document]) -> list[str]:
    """Emit or refresh one Secret per namespace of a secured workload; returns labels."""
    namespaces: dict[str | None, str | None] = {}
    for t in job.touched:
        if t.role in FILTERS:  # the workloads that read the keys: not StorageClasses, PVCs, ...
            namespaces.setdefault(t.namespace, t.helm_filename)
    if not spec.secret_create or not namespaces:
        return []
    from . import generated_secret as secrets  # Jinja2 and the template: only when Secrets are made
    values = secrets.values_from_env(spec, environ, allow_short)
    existing: dict[str | None, Document] = {}
    for doc in secret_docs:
        obj = doc.construct()
        if not secrets.is_generated(obj):
            raise PxsecError(f"a Secret {spec.secret_name} is already in the input and secret.create is true; "
                             f"set secret.create: false to use it, or remove it", doc.location())
        existing[doc.namespace] = doc
    out = []
    for ns in sorted(namespaces, key=lambda n: (n is not None, n or "")):
        helm_file = namespaces[ns]
        extra = ((HELM4_FILENAME, helm_file),) if helm_file else ()
        text, want = secrets.build(spec, ns, values, extra)
        label = f"Secret {ns + '/' if ns else ''}{spec.secret_name}"
        if ns in existing:
            doc = existing[ns]
            if secrets.refresh(doc.construct(), want):
                doc.changed = True
                out.append(label + " (refreshed)")
            continue
        doc = Document("<generated>", len(stream.documents), text, 1, generated=True,
                       kind="Secret", name=spec.secret_name, namespace=ns)
        doc.obj, doc.api_version = want, "v1"
        stream.documents.append(doc)
        out.append(label)
    return out


def render(sources: list[tuple[str, str]], spec: Spec, environ: Mapping[str, str] | None = None,
           allow_short_secrets: bool = False, local_config: bool = False) -> RenderResult:
    """Parse `sources` ((name, text) pairs) and render the stream (see render_stream)."""
    stream = Stream.from_sources(sources, lambda doc: role_of_document(doc, spec), worth_composing(spec))
    return render_stream(stream, spec, environ, allow_short_secrets, local_config)


def render_stream(stream: Stream, spec: Spec, environ: Mapping[str, str] | None = None,
                  allow_short_secrets: bool = False, local_config: bool = False) -> RenderResult:
    """Render a parsed stream, in place: the filters edit each target's `obj`, generated Secrets
    are appended to `stream.documents`. A document with a node and no role yet (a stream
    parsed without render's role function, as check and the KRM function parse) is classified
    here."""
    for doc in stream.documents:
        if doc.role is None and doc.node is not None and not doc.generated:
            doc.role = role_of_document(doc, spec)
    job = Renderer(spec, local_config)
    secret_docs = [doc for doc in stream.documents if doc.role == SECRET]
    inputs = list(stream.documents)
    for doc in inputs:
        if doc.role is not None and doc.role != SECRET:
            job.document(doc, doc.role)
    envfrom_warnings = filter_module("envfrom").apply(stream, job.env_from, spec) if job.env_from else []
    envfrom_warnings += job.storageclasses(stream) + job.tokens(stream)
    classes: list[str] = []
    if any(doc.role == STORAGECLUSTER for doc in inputs):  # operator installs: the operator's own classes
        classes, sc_warnings = filter_module("operator_storageclasses").apply(
            stream, {_meta(o).get("name") for _, o, _, _ in job.storage_classes}, spec)
        envfrom_warnings += sc_warnings
    generated = classes + _secret_docs(stream, job, spec, environ or {}, allow_short_secrets, secret_docs)
    warnings = [w for t in job.touched for w in t.report.warnings] + envfrom_warnings
    warnings += [f"{t.label}: {ch} (keep secrets out of manifests)"
                 for t in job.touched for ch in t.report.changes if isinstance(ch, LiteralSecretReplaced)]
    warnings = list(dict.fromkeys(warnings))
    if any(not d.empty for d in stream.documents) and not any(t.role in WORKLOADS for t in job.touched):
        warnings.append("no Portworx workload (DaemonSet or StorageCluster) in the input: nothing was secured")
    from .selfcheck import prove  # render proves what it is about to write (selfcheck.py)

    warnings += [w for w in prove(stream, spec, local_config) if w not in warnings]
    result = RenderResult(None, job.touched, generated, warnings)
    result.documents = stream.documents
    result.make_pairs = lambda changed_only=False: _pairs(inputs, job, stream, changed_only)
    result.generated_documents = [d for d in stream.documents[len(inputs):] if d.generated]
    return result


def _pairs(inputs: list[Document], job: Renderer, stream: Stream, changed_only: bool = False) -> list[Pair]:
    """One Pair per input document (index >= 0), with item Pairs for the Lists a filter ran in;
    with `changed_only`, only those of the documents render changed."""
    out = []
    for doc in inputs:
        if doc.index < 0 or doc.generated or (changed_only and not doc.changed):
            continue
        pair = Pair(doc, None, doc.changed, job.reports.get((id(doc), None)), stream.ensure_composed)
        if doc.role == LIST and doc.obj is not None:
            items = doc.obj.get("items") if isinstance(doc.obj, dict) else None
            for i in range(len(items) if isinstance(items, list) else 0):
                report = job.reports.get((id(doc), i))
                pair.items.append(Pair(doc, i, bool(report and report.changes), report))
        out.append(pair)
    return out
