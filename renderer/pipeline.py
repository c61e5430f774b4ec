"""render: a stream of manifests in, the same stream with PX-Security turned on out.

    parse (compose every document)  ->  classify (kind, containers, from the node tree)
    ->  filter each target (portworx_daemonset | stork | autopilot | storagecluster, in Lists too)
    ->  secrets (secret.create: one per namespace)  ->  join (untouched documents verbatim)

All or nothing: any document that cannot be secured raises, and nothing is written.
"""
from __future__ import annotations

from typing import Any, Mapping

from .errors import Location, PxsecError
from .filters import autopilot, portworx_daemonset, secrets, stork, storagecluster
from .filters.common import Report
from .spec import Spec
from .stream import Document, Stream, pod_containers

PORTWORX, STORK, AUTOPILOT, STORAGECLUSTER = "portworx", "stork", "autopilot", "storagecluster"
LIST, SECRET = "list", "secret"
FILTERS = {PORTWORX: portworx_daemonset.apply, STORK: stork.apply, AUTOPILOT: autopilot.apply,
           STORAGECLUSTER: storagecluster.apply}
WORKLOADS = (PORTWORX, STORAGECLUSTER)
LOCAL_CONFIG = "config.kubernetes.io/local-config"
HELM4_FILENAME = "postrenderer.helm.sh/postrender-filename"


def _role(kind: str | None, api_version: str | None, containers, name: str | None, spec: Spec) -> str | None:
    if kind == "DaemonSet" and any(portworx_daemonset.is_portworx_container(n, i) for n, i in containers):
        return PORTWORX
    if kind == "Deployment" and any(stork.is_stork_container(n, i) for n, i in containers):
        return STORK
    if kind == "Deployment" and any(autopilot.is_autopilot_container(n, i) for n, i in containers):
        return AUTOPILOT
    if kind == "StorageCluster" and (api_version or "").startswith("core.libopenstorage.org/"):
        return STORAGECLUSTER
    if kind == "Secret" and api_version == "v1" and name == spec.secret_name:
        return SECRET
    return None


def role_of_document(doc: Document, spec: Spec) -> str | None:
    if doc.kind == "List" or (doc.kind or "").endswith("List") and doc.api_version == "v1":
        return LIST
    containers = pod_containers(doc.node) if doc.kind in ("DaemonSet", "Deployment") else ()
    return _role(doc.kind, doc.api_version, containers, doc.name, spec)


def worth_composing(spec: Spec):
    """A cheap text test: could this document be one pxsec changes? False means surely not.

    A target spells its kind and what identifies it in its text (a container named portworx or
    running portworx/oci-monitor, stork, autopilot; the spec's Secret name), unless an escape
    in a double-quoted scalar builds them ("Daemon\\x53et"): chunks with a backslash are
    composed. So are chunks with anchors or aliases, so that the composer's checks (undefined
    aliases, alias bombs) apply to every document, changed or not."""
    def test(chunk: str) -> bool:
        return ("\\" in chunk or "*" in chunk or "&" in chunk
                or "StorageCluster" in chunk or "List" in chunk
                or ("DaemonSet" in chunk and "portworx" in chunk)
                or ("Deployment" in chunk and ("stork" in chunk or "autopilot" in chunk))
                or ("Secret" in chunk and spec.secret_name in chunk))
    return test


def role_of_object(obj: Any, spec: Spec) -> str | None:
    if not isinstance(obj, dict):
        return None
    try:
        pod = obj["spec"]["template"]["spec"]["containers"]
        containers = [(ct.get("name"), ct.get("image")) for ct in pod if isinstance(ct, dict)]
    except (KeyError, TypeError):
        containers = []
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    return _role(obj.get("kind"), obj.get("apiVersion"), containers, meta.get("name"), spec)


def _meta(obj: Any) -> dict:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return meta if isinstance(meta, dict) else {}


def _annotations(obj: Any) -> dict:
    ann = _meta(obj).get("annotations")
    return ann if isinstance(ann, dict) else {}


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


class RenderResult:
    """The output text and what was done: touched workloads, generated objects, warnings."""

    def __init__(self, text: str, touched: list[Touched] | None = None, generated: list[str] | None = None,
                 warnings: list[str] | None = None):
        self.text = text
        self.touched = touched or []
        self.generated = generated or []
        self.warnings = warnings or []
        self.documents: list[Document] = []  # the stream, each document with its emitted text (render --diff)

    def summary(self) -> list[str]:
        lines = []
        for t in self.touched:
            what = "; ".join(t.report.changes) if t.report.changes else "already secured, unchanged"
            lines.append(f"{t.label}: {what}")
        lines += [f"generated {g}" for g in self.generated]
        if not self.touched and not self.generated:
            lines.append("no Portworx or Stork workload found; nothing changed")
        return lines


class Renderer:
    """One render over one stream; holds what it touched for the summary and the Secrets."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self.touched: list[Touched] = []

    def _apply(self, role: str, obj: dict, loc: Location) -> Report:
        if _annotations(obj).get(LOCAL_CONFIG) == "true":
            return Report()
        report = FILTERS[role](obj, self.spec, loc)
        meta = _meta(obj)
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
                item_role = role_of_object(item, self.spec)
                if item_role in FILTERS:
                    meta = _meta(item)
                    loc = Location(doc.source, doc.index, item.get("kind"), meta.get("name"), meta.get("namespace"))
                    try:
                        report = self._apply(item_role, item, loc)
                    except PxsecError as e:
                        if e.location.field:
                            e.location.field = f"items[{i}].{e.location.field}"
                        raise
                    doc.changed |= bool(report.changes)
            return
        if not isinstance(obj, dict):
            return
        report = self._apply(role, obj, doc.location())
        doc.changed = bool(report.changes)


def _secret_docs(stream: Stream, renderer: Renderer, spec: Spec, environ: Mapping[str, str],
                 allow_short: bool, secret_docs: list[Document]) -> list[str]:
    """Emit or refresh one Secret per namespace of a secured workload; returns labels."""
    namespaces: dict[str | None, str | None] = {}
    for t in renderer.touched:
        namespaces.setdefault(t.namespace, t.helm_filename)
    if not spec.secret_create or not namespaces:
        return []
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
        stream.documents.append(Document("<generated>", len(stream.documents), text, 1, generated=True,
                                         kind="Secret", name=spec.secret_name, namespace=ns))
        out.append(label)
    return out


def render(sources: list[tuple[str, str]], spec: Spec, environ: Mapping[str, str] | None = None,
           allow_short_secrets: bool = False) -> RenderResult:
    roles: dict[int, str] = {}

    def keep(doc: Document) -> bool:
        role = role_of_document(doc, spec)
        if role is not None:
            roles[id(doc)] = role
        return role is not None

    stream = Stream.from_sources(sources, keep, worth_composing(spec))
    renderer = Renderer(spec)
    secret_docs: list[Document] = []
    for doc in stream.documents:
        role = roles.get(id(doc))
        if role is None:
            continue
        if role == SECRET:
            secret_docs.append(doc)
        elif role is not None:
            renderer.document(doc, role)
    generated = _secret_docs(stream, renderer, spec, environ or {}, allow_short_secrets, secret_docs)
    warnings = [w for t in renderer.touched for w in t.report.warnings]
    warnings += [f"{t.label}: {ch} (keep secrets out of manifests)"
                 for t in renderer.touched for ch in t.report.changes if "literal secret" in ch]
    warnings = list(dict.fromkeys(warnings))
    if any(not d.empty for d in stream.documents) and not any(t.role in WORKLOADS for t in renderer.touched):
        warnings.append("no Portworx workload (DaemonSet or StorageCluster) in the input: nothing was secured")
    result = RenderResult(stream.text(), renderer.touched, generated, warnings)
    result.documents = stream.documents
    return result
