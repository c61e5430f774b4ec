"""What must hold of what runs: the security invariants, judged on the process model (process.py).

render proves its own output with `judge(..., spec)` and refuses to write it when an error holds;
check's process rules (audit/rules_process.py) report the same problems, so the two never
disagree about what runs. Messages name variables, flags, Secrets and fields, never a value.

Without a spec (check):
- PXS037 (error) a process receives a secret on its command line; a Portworx key variable does
  not come from a Secret; a px-runc security flag is produced by `$(VAR)` expansion, sits after
  `--`, or px-runc's command line depends on a value the manifests do not tell;
- PXS023 (error) a Portworx container where pxsec cannot secure it (another kind than a
  DaemonSet or a StorageCluster, an init container, two in one pod, a shell wrapper);
- PXS039 (warning) a Portworx key variable in a container that is not Portworx's (Stork and
  autopilot carry PX_SHARED_SECRET); an envFrom source not in the input may set a key or setting.
With a spec (render's proof): each key variable comes from the spec's Secret and key, exactly
one value for each security flag the spec sets (and none it does not), no setting's env twin.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any

from . import portworx as px
from .process import FROM_SECRET, SECRET, Process

PROCESS, REFUSED, SIDECAR = "PXS037", "PXS023", "PXS039"
ERROR, WARNING = "error", "warning"
KEY_ENV = frozenset(px.SECRET_ENV)
OWNED = frozenset(px.OWNED_FLAGS)


class Problem:
    """One problem at a node path of the object; `literal` marks a key written as a literal value
    (check reports those as PXS008, for every container)."""

    __slots__ = ("rule", "severity", "path", "message", "literal")

    def __init__(self, rule: str, severity: str, path: tuple, message: str, literal: bool = False):
        self.rule, self.severity, self.path, self.message, self.literal = rule, severity, path, message, literal

    def __repr__(self) -> str:
        return f"Problem({self.rule}, {self.severity}, {self.path}, {self.message!r})"


def _refs(arg) -> str:
    return ", ".join(f"$({r})" for r in arg.refs)


def _keys_from_secrets(p: Process) -> list[Problem]:
    out = []
    for name in px.PX_KEY_ENV if p.role == px.PORTWORX else ():
        var = p.env.get(name)
        if var is None or var.source == FROM_SECRET or var.value == SECRET:
            continue
        how = var.describe() if not var.unknown else "a value the manifests do not tell (a source not in the input)"
        extra = " (in clear text in the manifest)" if var.source in ("literal", "field", "configmap") \
            and not var.unknown else ""
        out.append(Problem(PROCESS, ERROR, var.path, f"{name} comes from {how}{extra}, not from a Secret",
                           # a plain literal is PXS008's; `$(S)` left unexpanded (S defined later) is not
                           literal=var.source == "literal" and "$(" not in var.value and not var.unknown))
    return out


def _command_line(p: Process) -> list[Problem]:
    out = []
    for arg in p.argv:
        if arg.secret:
            out.append(Problem(PROCESS, ERROR, arg.path, f"{_refs(arg) or 'an argument'} puts a secret on the "
                                                          f"command line of container {p.name}"))
    if p.role != px.PORTWORX:
        return out
    texts = [a.text for a in p.argv]
    flags, end = px.scan_flags(texts, OWNED)
    for f in flags:
        arg = p.argv[f.index]
        if arg.refs:
            out.append(Problem(PROCESS, ERROR, arg.path, f"{_refs(arg)} expands into px-runc's {f.flag}: write "
                                                          f"security flags literally (pxsec sets them)"))
        elif f.value_index is not None and p.argv[f.value_index].refs and not p.argv[f.value_index].secret:
            out.append(Problem(PROCESS, ERROR, p.argv[f.value_index].path,
                               f"the value of {f.flag} comes from {_refs(p.argv[f.value_index])}: write it literally"))
        if f.flag in px.SECRET_FLAGS:
            out.append(Problem(PROCESS, ERROR, arg.path, f"{f.flag} puts a secret on px-runc's command line"))
    for i, arg in enumerate(p.argv[:end]):
        if arg.unknown and not arg.secret:
            out.append(Problem(PROCESS, ERROR, arg.path, f"{_refs(arg)} expands to a value the manifests do not "
                                                          f"tell, so px-runc's flags cannot be known"))
        elif arg.refs and px.flag_name(arg.text) in OWNED and not any(f.index == i for f in flags):
            out.append(Problem(PROCESS, ERROR, arg.path, f"{_refs(arg)} expands into a px-runc security flag"))
    if end is not None:
        for i in range(end + 1, len(texts)):
            if px.flag_name(texts[i]) in OWNED:
                out.append(Problem(PROCESS, ERROR, p.argv[i].path,
                                   f"{px.flag_name(texts[i])} after `--` is not a px-runc flag: remove it (pxsec "
                                   f"sets security flags before `--`)"))
    return out


def _sidecar(p: Process) -> list[Problem]:
    if p.role == px.PORTWORX:
        return []
    allowed = {px.STORK_SECRET} if p.role in (px.STORK, px.AUTOPILOT) else set()
    return [Problem(SIDECAR, WARNING, var.path, f"container {p.name} carries {name}, a Portworx key: only the "
                                                 f"Portworx container needs it")
            for name, var in p.env.items() if name in KEY_ENV and name not in allowed]


def _opaque(p: Process) -> list[Problem]:
    if p.role != px.PORTWORX or not p.opaque:
        return []
    out = []
    for o in p.opaque:
        names = [n for n in px.OWNED_ENV if n.startswith(o.prefix) and p.may_define(n)]
        if names:
            out.append(Problem(SIDECAR, WARNING, o.path, f"envFrom {o.kind} {o.name} is not in the input and may "
                                                         f"set {', '.join(sorted(names)[:3])}"
                                                         f"{' ...' if len(names) > 3 else ''}: make sure it does not"))
    return out


def structure(obj: Any) -> list[Problem]:
    """PXS023: Portworx containers where pxsec cannot secure them (portworx.refusal)."""
    if px.classify(obj) != px.PORTWORX:
        return []
    refused = px.refusal_at(obj)
    if not refused:
        return []
    return [Problem(REFUSED, ERROR, tuple(refused[0]), refused[1])]


def judge(obj: Any, procs: list[Process], spec: Any = None, opaque: bool = True) -> list[Problem]:
    """Every problem of one object's processes; with `spec`, also whether they run as it asks.
    `opaque=False` leaves out the envFrom-not-in-the-input warning (render's envfrom filter gives it)."""
    out = structure(obj)
    for p in procs:
        out += _keys_from_secrets(p) + _command_line(p) + _sidecar(p) + (_opaque(p) if opaque else [])
        if spec is not None:
            out += as_spec_says(p, spec)
    return out


# --- with a spec: does it run the way the spec says? -----------------------------------------------
def wanted_keys(spec: Any) -> dict[str, tuple[str, str]]:
    """Key variable -> (Secret, key) a Portworx container of a DaemonSet install gets."""
    s = spec.secret_name
    out = {px.SYSTEM_KEY: (s, spec.key_system)}
    if spec.stork_enabled:
        out[spec.stork_key_env] = (s, spec.key_stork)
    if spec.uses_shared_secret:
        out[px.SHARED_KEY] = (s, spec.key_jwt_shared_secret)
    return out


def wanted_flags(spec: Any, with_issuer: bool) -> dict[str, str]:
    """px-runc flag -> value the spec sets (the issuer goes through env in operator installs)."""
    out = {}
    ss = spec.self_signed
    if ss and with_issuer:
        out[px.SETTINGS["jwt_issuer"][0]] = ss.issuer
    for kind, (_, mount, flag) in px.PUBKEY_MOUNTS.items():
        ref = (ss.rsa_public_key if kind == "rsa" else ss.ecdsa_public_key) if ss else None
        if ref:
            out[flag] = f"{mount}/{ref.key}"
    if spec.oidc:
        out[px.SETTINGS["oidc_issuer"][0]] = spec.oidc.issuer
        out[px.SETTINGS["oidc_client_id"][0]] = spec.oidc.client_id
        if spec.oidc.custom_claim_namespace:
            out[px.SETTINGS["oidc_namespace"][0]] = spec.oidc.custom_claim_namespace
    if spec.username_claim:
        out[px.SETTINGS["username_claim"][0]] = spec.username_claim
    return out


def as_spec_says(p: Process, spec: Any) -> list[Problem]:
    if p.role in (px.STORK, px.AUTOPILOT):
        return _stork_as_spec_says(p, spec)
    if p.role != px.PORTWORX:
        return []
    out = []
    if not p.operator:
        keys = wanted_keys(spec)
        for name in px.PX_KEY_ENV:
            var = p.env.get(name)
            if name in keys and (var is None or var.source != FROM_SECRET or tuple(var.ref or ()) != keys[name]):
                out.append(Problem(PROCESS, ERROR, var.path if var else p.path,
                                   f"{name} does not come from Secret {keys[name][0]} key {keys[name][1]}"))
            elif name not in keys and var is not None:
                out.append(Problem(PROCESS, ERROR, var.path, f"{name} is set, and the spec does not ask for it"))
        for name in px.FLAG_ENV_TWINS:
            if name in p.env:
                out.append(Problem(PROCESS, ERROR, p.env[name].path,
                                   f"{name} is set: the spec sets this through px-runc arguments or not at all"))
    elif spec.self_signed:
        twin = px.SETTINGS["jwt_issuer"][1]
        var = p.env.get(twin)
        if var is None or var.value != spec.self_signed.issuer:
            out.append(Problem(PROCESS, ERROR, ("spec", "security"), f"the operator would not pass the spec's issuer "
                                                                     f"({twin})"))
    want = wanted_flags(spec, with_issuer=not p.operator)
    flags, _ = p.flags(OWNED)
    seen: dict[str, list] = {}
    for f in flags:
        seen.setdefault(f.flag, []).append(f)
    for flag in px.OWNED_FLAGS:
        found = seen.get(flag, [])
        values = {f.value for f in found}
        where = p.argv[found[0].index].path if found else p.path
        if flag in want:
            if values != {want[flag]} or (len(found) != 1 and not p.operator):
                out.append(Problem(PROCESS, ERROR, where, f"px-runc would not get exactly one {flag} with the "
                                                          f"spec's value ({len(found)} found)"))
        elif found:
            out.append(Problem(PROCESS, ERROR, where, f"{flag} is set, and the spec does not set it"))
    return out


def _stork_as_spec_says(p: Process, spec: Any) -> list[Problem]:
    if not spec.stork_enabled:
        return []
    out = []
    var = p.env.get(px.STORK_SECRET)
    want = (spec.secret_name, spec.key_stork)
    if var is None or var.source != FROM_SECRET or tuple(var.ref or ()) != want:
        out.append(Problem(PROCESS, ERROR, var.path if var else p.path,
                           f"{px.STORK_SECRET} does not come from Secret {want[0]} key {want[1]}"))
    issuer = p.env.get(px.STORK_ISSUER_ENV)
    if issuer is None or issuer.value != spec.stork_issuer:
        out.append(Problem(PROCESS, ERROR, issuer.path if issuer else p.path,
                           f"{px.STORK_ISSUER_ENV} is not the spec's Stork issuer"))
    return out
