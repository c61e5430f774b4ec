"""envFrom on a Portworx container: settings that arrive from a ConfigMap or Secret.

`envFrom` turns every key of a ConfigMap or Secret (with an optional prefix) into an env var.
An explicit `env` entry wins over it (Kubernetes' EnvVar precedence), so the key env vars pxsec
sets are safe. The others are not: an env twin of a px-runc flag (`PORTWORX_AUTH_OIDC_ISSUER`)
or a key env var the spec does not ask for (`PORTWORX_AUTH_JWT_SHAREDSECRET` would turn on
shared-secret tokens) would still reach Portworx. So, like an inline twin:

- a source in the stream loses those keys (the ConfigMap/Secret document is edited), and a key
  env var's value in a ConfigMap (not a Secret) is removed with a warning;
- a source not in the stream cannot be checked: a warning names it.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any

from ... import portworx as px
from ...errors import Location
from ...records import Record
from .portworx_daemonset import wanted_env


class Ref(Record, fields="kind name namespace prefix workload field"):
    __slots__ = ()


def refs(obj: dict, loc: Location) -> list[Ref]:
    """The envFrom sources of the Portworx containers of a secured DaemonSet."""
    out = []
    base = ".".join(px.POD_SPEC_PATHS["DaemonSet"])
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    ns = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
    label = f"{loc.kind} {ns + '/' if ns else ''}{loc.name}"
    for key, i, ct in px.containers(obj, ("containers",)):
        if not px.is_portworx_container(ct.get("name"), ct.get("image")):
            continue
        sources = ct.get("envFrom")
        for j, src in enumerate(sources if isinstance(sources, list) else []):
            if not isinstance(src, dict):
                continue
            prefix = src.get("prefix") if isinstance(src.get("prefix"), str) else ""
            for kind, field in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                ref = src.get(field)
                if isinstance(ref, dict) and isinstance(ref.get("name"), str):
                    out.append(Ref(kind, ref["name"], ns, prefix, label, f"{base}.{key}[{i}].envFrom[{j}]"))
    return out


def _matches(doc: Any, ref: Ref) -> bool:
    return (doc.kind == ref.kind and doc.api_version == "v1" and doc.name == ref.name
            and (doc.namespace is None or ref.namespace is None or doc.namespace == ref.namespace))


def apply(stream: Any, found_refs: list[Ref], spec: Any) -> list[str]:
    """Edit in-stream sources; return warnings (names only, never values)."""
    if not found_refs:
        return []
    setting = {e["name"] for e in wanted_env(spec)[0]}
    warnings = []
    for ref in dict.fromkeys(found_refs):
        # the text test skips documents that cannot name it; one composed already (a KRM item,
        # whose stream has nodes and no text) is read directly
        docs = [d for d in stream.documents if (d.node is not None or ref.name in d.text)
                and stream.ensure_composed(d) and _matches(d, ref)]
        if not docs:
            warnings.append(f"{ref.workload}: {ref.field} reads {ref.kind} {ref.name}, which is not in the input: "
                            f"pxsec cannot see whether it sets PX-Security settings (PORTWORX_AUTH_*); make sure "
                            f"it does not")
            continue
        for doc in docs:
            obj = doc.construct()
            for field in ("data", "stringData") if ref.kind == "Secret" else ("data", "binaryData"):
                data = obj.get(field) if isinstance(obj, dict) else None
                if not isinstance(data, dict):
                    continue
                for key in [k for k in data if isinstance(k, str)]:
                    name = ref.prefix + key
                    if name not in px.OWNED_ENV:
                        continue
                    if name in setting and ref.kind == "Secret":
                        continue  # pxsec's own env entry overrides it
                    del data[key]
                    doc.changed = True
                    why = ("a secret in a ConfigMap: keep secrets out of manifests"
                           if name in px.PX_KEY_ENV and ref.kind == "ConfigMap" else
                           "the spec sets this through px-runc arguments or not at all")
                    warnings.append(f"{ref.kind} {ref.name}: removed {field}.{key}, which {ref.workload} reads "
                                    f"as {name} through envFrom ({why})")
    return warnings
