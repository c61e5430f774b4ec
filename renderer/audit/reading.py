"""Reading what a container or StorageCluster says: env lists, px-runc flags, volume mounts.

Values are kept only where a rule compares them (issuers, flag values, Secret names/keys);
literal secret values are never stored, only the fact that a literal was given.
"""
from __future__ import annotations

import re
from collections import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any

from .. import goshlex
from .. import portworx as px
from .objects import Path, as_dict, as_list

_VAR_REF = re.compile(r"\$\(([-._A-Za-z0-9]+)\)")


class Env(namedtuple("Env", "name path source ref value", defaults=(None, None))):
    """One env var: how it is given (never the value of a secret)."""

    # name: str; path: Path; source: "secret" | "literal" | "configmap" | "field" | "other";
    # ref: (Secret name, key) for source == "secret", else None;
    # value: the literal value, kept only for non-secret names, else None
    __slots__ = ()

    @property
    def literal_ref(self) -> str | None:
        """`VAR` for a literal `$(VAR)`: Kubernetes expands it from another env var."""
        if self.source == "literal" and self.value:
            m = _VAR_REF.fullmatch(self.value)
            return m.group(1) if m else None
        return None


def read_env(env: Any, base: Path) -> dict[str, Env]:
    """name -> Env for a list of EnvVar (the last of a name wins, as in the kubelet)."""
    out: dict[str, Env] = {}
    for i, e in enumerate(as_list(env)):
        if not isinstance(e, dict) or not isinstance(e.get("name"), str):
            continue
        name, path = e["name"], base + (i,)
        vf = e.get("valueFrom")
        if isinstance(vf, dict) and isinstance(vf.get("secretKeyRef"), dict):
            ref = vf["secretKeyRef"]
            out[name] = Env(name, path, "secret", (str(ref.get("name")), str(ref.get("key"))))
        elif isinstance(vf, dict) and "configMapKeyRef" in vf:
            out[name] = Env(name, path, "configmap")
        elif isinstance(vf, dict):
            out[name] = Env(name, path, "field" if ("fieldRef" in vf or "resourceFieldRef" in vf) else "other")
        else:
            value = e.get("value")
            value = "" if value is None else str(value)
            keep = value if (name not in px.SECRET_ENV or _VAR_REF.fullmatch(value)) else None
            out[name] = Env(name, path, "literal", value=keep)
    return out


class Setting(namedtuple("Setting", "value path via")):
    """A px-runc auth setting: from an argument, an env twin, or the misc-args annotation."""

    # value: str, or None when given through valueFrom (unknown here); path: Path;
    # via: "arg" | "env" | "misc-args" | "security"
    __slots__ = ()


def scan_args(tokens: list, want: tuple[str, ...]) -> dict[str, list[tuple[int, str | None]]]:
    """flag -> [(token index, value)] for each occurrence of a wanted flag before `--`
    (portworx.scan_flags, the one px-runc argv reader)."""
    out: dict[str, list[tuple[int, str | None]]] = {}
    flags, _ = px.scan_flags([t if isinstance(t, str) else str(t) for t in tokens], want)
    for f in flags:
        out.setdefault(f.flag, []).append((f.index, None if f.value is None else str(f.value)))
    return out


def env_of(proc: Any) -> dict[str, Env]:
    """name -> Env of a container's *final* environment (process.py: envFrom, then env, $(VAR)
    expanded), in the shape the rules read; never a secret's value."""
    from .. import process

    kinds = {process.LITERAL: "literal", process.FROM_SECRET: "secret", process.FROM_CONFIGMAP: "configmap",
             process.FROM_FIELD: "field"}
    out: dict[str, Env] = {}
    for name, var in proc.env.items():
        source = kinds.get(var.source, "other")
        clean = not (var.secret or var.unknown)
        keep = var.value if source in ("literal", "configmap") and clean and name not in px.SECRET_ENV else None
        if source == "literal" and var.value == process.SECRET:
            source = "other"  # a copy of another variable's secret: not comparable, not a literal
        out[name] = Env(name, var.path, source, tuple(str(x) for x in var.ref) if source == "secret" and var.ref
                        else None, keep)
    return out


def split_misc(text: Any) -> list[str] | None:
    """The px-runc args the operator reads (google/shlex, operator util.go `MiscArgs`); None when
    it cannot split them (it then ignores them all)."""
    if not isinstance(text, str):
        return None
    try:
        return goshlex.split(text)
    except goshlex.SplitError:
        return None


class Mount(namedtuple("Mount", "path kind volume items field")):
    """A volume mount: path (mountPath); kind, the volume source ("secret", "configMap",
    "hostPath", "emptyDir", "projected", ..., "unknown"); volume (its name or None); items (the
    projected file names of a secret/configMap volume with `items`, else None); field (Path)."""

    __slots__ = ()


def volume_kind(vol: dict) -> tuple[str, tuple[str, ...] | None]:
    for kind in ("secret", "configMap", "hostPath", "emptyDir", "projected", "csi", "persistentVolumeClaim",
                 "downwardAPI", "ephemeral", "nfs"):
        if kind in vol:
            src = as_dict(vol.get(kind))
            items = src.get("items")
            paths = tuple(str(it.get("path")) for it in as_list(items) if isinstance(it, dict)) \
                if kind in ("secret", "configMap") and isinstance(items, list) else None
            return kind, paths
    return "unknown", None
