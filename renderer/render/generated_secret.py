"""The Secrets pxsec generates, built one way: templates/secret.yaml.j2 through the safe
serializer of pxsec.spec.templating (no value is ever spliced into YAML as text), parsed back and
compared with what went in before anything is emitted.

Users of the builder: `render` with secret.create: true (one v1 Secret per namespace that runs
a secured workload, below), `keys generate` (shared keys, public keys) and `token generate
--secret`.

secret.create: values come from the environment variables the Portworx docs name, at render
time; they are checked (present, long enough) and base64-encoded into `data`. The Secret is
protected the way Helm and Stork users expect: Helm keeps it on uninstall/upgrade
(`helm.sh/resource-policy: keep`, so rotating or removing pxsec never deletes the cluster's
keys) and Stork skips it in backups and migrations (`stork.libopenstorage.org/skip-resource`,
as the operator marks its own).
"""
from __future__ import annotations

import base64
from collections.abc import Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Iterable

from ..spec import templating
from .. import portworx as px
from ..errors import Location, PxsecError
from ..spec import Spec

MIN_BYTES = 32
GENERATED = "pxsec.io/generated"
MANAGED_BY = "pxsec"
# The operator marks its key and token Secrets so Stork never copies them to another cluster.
SKIP_RESOURCE = ((px.STORK_SKIP_RESOURCE, "true"),)
PROTECT = (("helm.sh/resource-policy", "keep"),) + SKIP_RESOURCE


def manifest(name: str, data: Mapping[str, str | bytes], namespace: str | None = None,
             annotations: Iterable[tuple[str, str]] | Mapping[str, str] = (), managed_by: str | None = None,
             where: Location | None = None) -> tuple[str, dict]:
    """(YAML text, object) of a v1 Opaque Secret with every value base64-encoded under `data`."""
    pairs = tuple(annotations.items() if isinstance(annotations, Mapping) else annotations)
    encoded = [(k, base64.b64encode(v.encode("utf-8") if isinstance(v, str) else v).decode("ascii"))
               for k, v in data.items()]
    text, obj = templating.render("secret.yaml.j2", name=name, namespace=namespace, managed_by=managed_by,
                                  annotations=pairs, data=encoded)
    meta: dict = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    if managed_by is not None:
        meta["labels"] = {"app.kubernetes.io/managed-by": managed_by}
    if pairs:
        meta["annotations"] = dict(pairs)
    if obj != {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "Opaque", "data": dict(encoded)}:
        raise PxsecError(f"the generated Secret {name} did not serialize faithfully; refusing to emit it", where)
    return text, obj


# --- secret.create: true ---------------------------------------------------------------------

def needed(spec: Spec) -> list[tuple[str, str]]:
    """(Secret key, environment variable) pairs the spec's Secret must hold."""
    out = [(spec.key_system, px.SYSTEM_KEY)]
    if spec.stork_enabled:
        out.append((spec.key_stork, px.STORK_KEY))
    if spec.uses_shared_secret:
        out.append((spec.key_jwt_shared_secret, px.SHARED_KEY))
    return out


def values_from_env(spec: Spec, environ: Mapping[str, str], allow_short: bool) -> dict[str, str]:
    """Secret key -> value, read from the environment; errors name variables, never values."""
    loc = Location(file=spec.source, field="spec.secret.create")
    values: dict[str, str] = {}
    missing = [var for _, var in needed(spec) if not environ.get(var)]
    if missing:  # name every one, not only the first
        others = f", and neither are {' and '.join(missing[1:])}" if missing[1:] else ""
        raise PxsecError(f"environment variable {missing[0]} is not set{others} (secret.create: true reads the "
                         f"Secret's values from {'them' if others else 'it'})", loc)
    for key, var in needed(spec):
        value = environ[var]
        if len(value.encode("utf-8")) < MIN_BYTES and not allow_short:
            raise PxsecError(f"environment variable {var} is shorter than {MIN_BYTES} bytes; use a long random "
                             f"value (`pxsec keys generate`) or pass --allow-short-secrets", loc)
        if key in values and values[key] != value:
            raise PxsecError(f"Secret key {key!r} is used for two different variables with different values",
                             Location(file=spec.source, field="spec.secret.keys"))
        values[key] = value
    return values


def build(spec: Spec, namespace: str | None, values: dict[str, str],
          extra_annotations: tuple[tuple[str, str], ...] = ()) -> tuple[str, dict]:
    """(text, object) of the secret.create Secret for one namespace."""
    annotations = ((GENERATED, "true"),) + PROTECT + extra_annotations
    return manifest(spec.secret_name, values, namespace, annotations, managed_by=MANAGED_BY,
                    where=Location(file=spec.source, field="spec.secret"))


def refresh(obj: dict, want: dict) -> bool:
    """Bring a Secret pxsec generated earlier up to date, in place, keeping what others added
    (kpt's and kustomize's annotations, extra labels). True when anything changed."""
    changed = False
    for key in ("type", "data"):
        if obj.get(key) != want[key]:
            obj[key] = want[key]
            changed = True
    if "stringData" in obj:  # would override data
        del obj["stringData"]
        changed = True
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        obj["metadata"] = meta = {}
    for sub in ("labels", "annotations"):
        current = meta.get(sub) if isinstance(meta.get(sub), dict) else {}
        for k, v in want["metadata"][sub].items():
            if current.get(k) != v:
                current[k] = v
                changed = True
        meta[sub] = current
    return changed


def is_generated(obj) -> bool:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    ann = meta.get("annotations") if isinstance(meta, dict) else None
    return isinstance(ann, dict) and ann.get(GENERATED) == "true"
