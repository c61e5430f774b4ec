"""Small, pure edits shared by the filters: env lists, px-runc argument lists, volumes.

Each edit changes a list in place only when the wanted state differs from what is there, and
returns a description of what it did (names only, never values), or None for "already so".
That makes every filter idempotent by construction: a second run reports no change, and an
unchanged document is emitted byte for byte.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any

from ... import portworx as px
from ...errors import Location, PxsecError


class LiteralSecretReplaced(str):
    """A change that replaced a secret written as a literal `value:`: always also a warning."""


class Report:
    """What one filter did to one document: changes (for -v) and warnings (always shown)."""

    def __init__(self):
        self.changes: list[str] = []
        self.warnings: list[str] = []

    def add(self, change: str | None) -> None:
        if change:
            self.changes.append(change)


def secret_ref(name: str, secret: str, key: str) -> dict:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def literal(name: str, value: str) -> dict:
    return {"name": name, "value": value}


def at(loc: Location, path: str | tuple) -> Location:
    """`loc` with another field: a node path (a tuple: the error then carries it as data) or text."""
    if isinstance(path, tuple):
        return loc.at(path)
    return Location(loc.file, loc.index, loc.kind, loc.name, loc.namespace, path)


def sub(path: str | tuple, *more) -> str | tuple:
    """A field below `path`, in the same form (node path or text)."""
    if isinstance(path, tuple):
        return path + more
    return path + "".join(f"[{m}]" if isinstance(m, int) else f".{m}" for m in more)


POD = ("spec", "template", "spec")


def child(parent: Any, key: str, kind: type, loc: Location, path: str | tuple, create: bool = True) -> Any:
    """parent[key] as `kind` (dict or list), created when absent or null; error when mistyped."""
    value = parent.get(key)
    if value is None:
        if not create:
            return None
        value = kind()
        parent[key] = value
    if not isinstance(value, kind):
        raise PxsecError(f"expected a {'list' if kind is list else 'mapping'}, found {type(value).__name__}",
                         at(loc, path))
    return value


def single_container(obj: dict, loc: Location, matches, what: str) -> tuple[dict, dict, tuple]:
    """(pod spec, the one container `matches(name, image)` picks, its node path) of a workload."""
    pod = child(child(child(obj, "spec", dict, loc, POD[:1]), "template", dict, loc, POD[:2]),
                "spec", dict, loc, POD)
    containers = child(pod, "containers", list, loc, POD + ("containers",), create=False) or []
    idx = [i for i, ct in enumerate(containers) if isinstance(ct, dict) and matches(ct.get("name"), ct.get("image"))]
    if len(idx) != 1:
        raise PxsecError(f"expected one {what} container, found {len(idx)}", at(loc, POD + ("containers",)))
    return pod, containers[idx[0]], POD + ("containers", idx[0])


def pair_with_stork_key(ct: dict, spec, loc: Location, cpath: tuple) -> Report:
    """PX_SHARED_SECRET from the Stork/apps key and the issuer it pairs with (Stork, autopilot)."""
    report = Report()
    path = cpath + ("env",)
    env = child(ct, "env", list, loc, path)
    report.add(set_env(env, secret_ref(px.STORK_SECRET, spec.secret_name, spec.key_stork), loc, path))
    report.add(set_env(env, literal(px.STORK_ISSUER_ENV, spec.stork_issuer), loc, path))
    return report


def _check_env_list(env: list, loc: Location, path: str | tuple) -> None:
    for i, e in enumerate(env):
        if not isinstance(e, dict) or not isinstance(e.get("name"), str):
            raise PxsecError("env entry without a name", at(loc, sub(path, i)))


def set_env(env: list, entry: dict, loc: Location, path: str | tuple) -> str | None:
    """Make `entry` the one env var of its name (replacing in place, dropping duplicates)."""
    _check_env_list(env, loc, path)
    name = entry["name"]
    idx = [i for i, e in enumerate(env) if e["name"] == name]
    if len(idx) == 1 and env[idx[0]] == entry:
        return None
    if not idx:
        env.append(entry)
        return f"added env {name}"
    old = env[idx[0]]
    env[idx[0]] = entry
    for i in reversed(idx[1:]):
        del env[i]
    if name in px.SECRET_ENV and "value" in old:
        return LiteralSecretReplaced(f"replaced literal secret value of env {name} with a secretKeyRef")
    field = px.get(old, "valueFrom", "fieldRef", "fieldPath")
    if name in px.SECRET_ENV and isinstance(field, str) and field.startswith("metadata."):
        return LiteralSecretReplaced(f"{field} holds the key {name} reads, in clear text: remove it")
    return f"set env {name}" + (" (removed duplicates)" if len(idx) > 1 else "")


def remove_env(env: list, names: tuple[str, ...] | list[str], loc: Location, path: str | tuple) -> list[str]:
    _check_env_list(env, loc, path)
    removed = [e["name"] for e in env if e["name"] in names]
    if removed:
        env[:] = [e for e in env if e["name"] not in names]
    return [f"removed env {n}" for n in dict.fromkeys(removed)]


def set_flags(args: list, wanted: list[tuple[str, str]], owned: tuple[str, ...]) -> list[str]:
    """Make `args` carry exactly the `wanted` (flag, value) pairs among the `owned` flags.

    A flag already present with the wanted value stays where it is; a different value is
    replaced in place; duplicates and owned flags that are not wanted are removed; missing
    ones are added in the order given, each flag and value a separate element, at the end of
    the flags: before a `--` terminator (after it they would be px-runc's positional
    arguments, and Portworx would run unsecured), whose tail is left as it is.
    Flags are read by `portworx.scan_flags`, the one px-runc argv reader.
    """
    want = dict(wanted)
    changes: list[str] = []
    out: list = []
    kept: set[str] = set()
    found, end = px.scan_flags(args, frozenset(owned))
    end = len(args) if end is None else end
    i = 0
    for f in found:
        out.extend(args[i:f.index])
        arg, flag = args[f.index], f.flag
        i = f.index + (2 if f.value_index is not None or "=" not in arg else 1)
        if flag in want and flag not in kept:
            kept.add(flag)
            if f.value == want[flag] and arg == flag:
                out.extend([arg, f.value])
            else:
                out.extend([flag, want[flag]])
                changes.append(f"set arg {flag}")
        else:
            changes.append(f"removed arg {flag}" + (" (it carried a secret)" if flag in px.SECRET_FLAGS else ""))
    out.extend(args[i:end])
    for flag, value in wanted:
        if flag not in kept:
            out.extend([flag, value])
            changes.append(f"added arg {flag}")
    out.extend(args[end:])
    if out != args:
        args[:] = out
    return changes


def strip_command_flags(command: list, args: list, owned: tuple[str, ...]) -> list[str]:
    """Remove every owned flag (and its value) from a container's `command`: px-runc receives
    `command` + `args` as one list, so a flag left there would override or duplicate the one
    pxsec sets in `args`. A flag that ends `command` takes its value from `args[0]`."""
    found, _ = px.scan_flags(command, frozenset(owned))
    boundary = any(f.value_index is None and "=" not in command[f.index] for f in found)
    changes = set_flags(command, [], owned)
    if boundary and args:
        del args[0]  # the value of the flag that ended `command`
    return [ch.replace("removed arg", "removed command-line flag") for ch in changes]


def set_named(items: list, entry: dict, what: str) -> str | None:
    """Make `entry` the one item of its `name` in a list of named items (volumes, mounts)."""
    name = entry["name"]
    idx = [i for i, e in enumerate(items) if isinstance(e, dict) and e.get("name") == name]
    if len(idx) == 1 and items[idx[0]] == entry:
        return None
    if not idx:
        items.append(entry)
        return f"added {what} {name}"
    items[idx[0]] = entry
    for i in reversed(idx[1:]):
        del items[i]
    return f"set {what} {name}"


def remove_named(items: list, keep: set[str], what: str) -> list[str]:
    """Drop pxsec's own items (name prefix `pxsec-`) that are no longer wanted."""
    drop = [e.get("name") for e in items
            if isinstance(e, dict) and str(e.get("name", "")).startswith(px.PXSEC_VOLUME_PREFIX)
            and e.get("name") not in keep]
    if drop:
        items[:] = [e for e in items if not (isinstance(e, dict) and e.get("name") in drop)]
    return [f"removed {what} {n}" for n in drop]


def wanted_flags(spec, pubkey_paths: dict[str, str], with_issuer: bool) -> list[tuple[str, str]]:
    """The px-runc (flag, value) pairs a spec asks for, in a fixed order."""
    out: list[tuple[str, str]] = []
    ss = spec.self_signed
    if ss and with_issuer:
        out.append((px.SETTINGS["jwt_issuer"][0], ss.issuer))
    for kind, (_, _, flag) in px.PUBKEY_MOUNTS.items():
        if kind in pubkey_paths:
            out.append((flag, pubkey_paths[kind]))
    if spec.oidc:
        out.append((px.SETTINGS["oidc_issuer"][0], spec.oidc.issuer))
        out.append((px.SETTINGS["oidc_client_id"][0], spec.oidc.client_id))
        if spec.oidc.custom_claim_namespace:
            out.append((px.SETTINGS["oidc_namespace"][0], spec.oidc.custom_claim_namespace))
    if spec.username_claim:
        out.append((px.SETTINGS["username_claim"][0], spec.username_claim))
    return out


def pubkeys(spec) -> dict[str, Any]:
    """kind ('rsa'/'ecdsa') -> KeyRef for each public key the spec configures."""
    ss = spec.self_signed
    out = {}
    if ss and ss.rsa_public_key:
        out["rsa"] = ss.rsa_public_key
    if ss and ss.ecdsa_public_key:
        out["ecdsa"] = ss.ecdsa_public_key
    return out


def pubkey_path(kind: str, key: str) -> str:
    return f"{px.PUBKEY_MOUNTS[kind][1]}/{key}"


def secret_volume(name: str, secret_name: str, key: str) -> dict:
    return {"name": name, "secret": {"secretName": secret_name, "items": [{"key": key, "path": key}]}}
