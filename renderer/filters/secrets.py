"""secret.create: true: one v1 Secret per namespace that runs a secured workload.

Values come from the environment variables the Portworx docs name, at render time; they are
checked (present, long enough) and base64-encoded into `data`. The Secret is protected the
way Helm and Stork users expect: Helm keeps it on uninstall/upgrade (`helm.sh/resource-policy:
keep`, so rotating or removing pxsec never deletes the cluster's keys) and Stork skips it in
backups and migrations (`stork.libopenstorage.org/skip-resource`, as the operator marks its own).
"""
from __future__ import annotations

import base64
from typing import Mapping

from .. import templating
from ..errors import Location, PxsecError
from ..spec import ENV_SHARED, ENV_STORK, ENV_SYSTEM, Spec

MIN_BYTES = 32
GENERATED = "pxsec.io/generated"
PROTECT = (
    ("helm.sh/resource-policy", "keep"),
    ("stork.libopenstorage.org/skip-resource", "true"),
)


def needed(spec: Spec) -> list[tuple[str, str]]:
    """(Secret key, environment variable) pairs the spec's Secret must hold."""
    out = [(spec.key_system, ENV_SYSTEM)]
    if spec.stork_enabled:
        out.append((spec.key_stork, ENV_STORK))
    if spec.uses_shared_secret:
        out.append((spec.key_jwt_shared_secret, ENV_SHARED))
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
    """(text, object) of the Secret for one namespace."""
    data = [(k, base64.b64encode(v.encode("utf-8")).decode("ascii")) for k, v in values.items()]
    annotations = ((GENERATED, "true"),) + PROTECT + extra_annotations
    text, obj = templating.render("secret.yaml.j2", name=spec.secret_name, namespace=namespace,
                                  annotations=annotations, data=data)
    expected_meta = {"name": spec.secret_name, "labels": {"app.kubernetes.io/managed-by": "pxsec"},
                     "annotations": dict(annotations)}
    if namespace is not None:
        expected_meta["namespace"] = namespace
    if obj != {"apiVersion": "v1", "kind": "Secret", "metadata": expected_meta, "type": "Opaque", "data": dict(data)}:
        raise PxsecError("the generated Secret did not serialize faithfully; refusing to emit it",
                         Location(file=spec.source, field="spec.secret"))
    return text, obj


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
