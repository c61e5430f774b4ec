"""Portworx containers `pxsec render` refuses to secure, and settings that reach Portworx
around its args and env (PXS023-PXS025).

- PXS023: `portworx.refusal`, render's own reason: a shell-wrapped command (appended flags become
  the script's $0, $1), an init container running Portworx, Portworx in a kind other than a
  DaemonSet. Render fails on these; check says why, at the field.
- PXS024/PXS025: `envFrom` turns every key of a ConfigMap or Secret (with its prefix) into an env
  var; an explicit `env` entry wins over it (Kubernetes' EnvVar precedence). So a px-runc flag
  twin or a key env var that the container does not set itself reaches Portworx from the source,
  and a key in a ConfigMap is a secret outside a Secret. render removes those keys from sources
  in the stream (render/filters/envfrom.py) and warns about sources it cannot see; check does the same.
"""
from __future__ import annotations

from .. import portworx as pw
from .inventory import Inventory
from .model import Finding
from .objects import Obj, Path, field_path
from .profiles import containers
from .reading import read_env

_REFUSED = "; refused"


def _refusal_path(o: Obj, field: str) -> Path:
    """The node path of the field `portworx.refusal` names: the candidate whose text it is."""
    candidates: list[Path] = [("kind",)]
    for cpath, _ in containers(o):
        candidates += [cpath, cpath + ("command",)]
    return next((p for p in candidates if field_path(p) == field), ())


def portworx_refused(inv: Inventory) -> list[Finding]:
    """PXS023: a Portworx container of a shape render refuses to secure."""
    out = []
    for o in inv.portworx_objects:
        refused = pw.refusal(o.data)
        if refused:
            field, reason = refused
            reason = reason[:-len(_REFUSED)] if reason.endswith(_REFUSED) else reason
            out.append(o.at("PXS023", _refusal_path(o, field), f"{reason}; `pxsec render` refuses it, so as written "
                            f"this Portworx runs without PX-Security"))
    return out


def _why(name: str, kind: str) -> str:
    if name in pw.PX_KEY_ENV:
        turns_on = ", and turns on shared-secret tokens" if name == pw.SHARED_KEY else ""
        return f"a key the container does not set itself, so Portworx takes it from the {kind}{turns_on}"
    return "the env twin of a px-runc flag, outside the container's args and env: Portworx reads it as a setting"


def envfrom_settings(inv: Inventory) -> tuple[list[Finding], list[Finding]]:
    """(PXS024, PXS025) findings for the envFrom sources of every Portworx container."""
    errors, notes = [], []
    for o in inv.portworx_objects:
        for cpath, ct in containers(o, ("containers",)):
            if not pw.is_portworx_container(ct.get("name"), ct.get("image")) or not isinstance(ct.get("envFrom"), list):
                continue
            explicit = read_env(ct.get("env"), cpath + ("env",))
            for j, src in enumerate(ct["envFrom"]):
                prefix = src.get("prefix") if isinstance(src, dict) and isinstance(src.get("prefix"), str) else ""
                for kind, ref_key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                    ref = src.get(ref_key) if isinstance(src, dict) else None
                    if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
                        continue
                    path = cpath + ("envFrom", j)
                    found = inv.data_sources(kind, ref["name"], o.namespace)
                    if not found:
                        notes.append(o.at("PXS025", path, f"envFrom reads {kind} {ref['name']}, which is not in the "
                                          f"input: check cannot see whether it sets PX-Security settings or keys "
                                          f"(PORTWORX_AUTH_*); make sure it does not"))
                    for _, keys in found:
                        for key in sorted(keys):
                            name = prefix + key
                            if name not in pw.OWNED_ENV:
                                continue
                            if kind == "ConfigMap" and name in pw.PX_KEY_ENV:
                                why = "a key in a ConfigMap: keep keys in a Secret"
                            elif name in explicit:
                                continue  # the container's own env entry wins
                            else:
                                why = _why(name, kind)
                            errors.append(o.at("PXS024", path, f"{kind} {ref['name']} sets {name} (data key {key}) "
                                               f"through envFrom: {why}; `pxsec render` removes it or overrides it"))
    return errors, notes


def envfrom_sets_security(inv: Inventory) -> list[Finding]:
    """PXS024."""
    return envfrom_settings(inv)[0]


def envfrom_source_unseen(inv: Inventory) -> list[Finding]:
    """PXS025."""
    return envfrom_settings(inv)[1]


RULE_FUNCTIONS = (portworx_refused, envfrom_sets_security, envfrom_source_unseen)
