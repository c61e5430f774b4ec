"""One small pure function per rule: Inventory in, findings out.

Each function looks at the profiles `inventory.build` extracted and returns `Finding`s; none
reads files, prints or looks at secret values (literal secrets are only known to exist).
The drift rule (PXS019/PXS020) needs the spec and a render: it lives in `drift.py`.
"""
from __future__ import annotations

import re
from typing import Callable, Iterable

from .inventory import (APPS_KEY, FLAG_SETTING, OPERATOR_ISSUER, SECRET_ENV, SECRET_FLAGS, SETTINGS, SHARED_KEY,
                        STORK_KEY, Env, Inventory, PxAuth, StorkAuth, as_list, get, read_env, scan_args, split_misc)
from .model import Finding
from . import rules_operator

STORK_ISSUERS = ("stork.openstorage.io", "apps.portworx.io", OPERATOR_ISSUER)
STORK_DEFAULT_ISSUER = "stork.openstorage.io"
ISSUER_KEY_ENV = {"stork.openstorage.io": STORK_KEY, "apps.portworx.io": APPS_KEY}
USERNAME_CLAIMS = ("sub", "email", "name")
GUEST_ACCESS = ("Enabled", "Disabled", "Managed")
_LIFETIME = re.compile(r"[0-9]+[smhdy]")


def _ref(ref: tuple[str, str]) -> str:
    return f"Secret {ref[0]} key {ref[1]}"


def _refs(refs: Iterable[tuple[str, str]]) -> str:
    return " or ".join(_ref(r) for r in sorted(refs))


def security_disabled(inv: Inventory) -> list[Finding]:
    """PXS001: a Portworx DaemonSet or StorageCluster with no authorization at all."""
    out = []
    for px in inv.portworx:
        if px.enabled or px.partial:
            continue
        if px.operator:
            what = "spec.security.auth.enabled is false" if px.off_path[-2:] == ("auth", "enabled") \
                else "spec.security.enabled is not true"
            out.append(px.obj.at("PXS001", px.off_path, f"PX-Security is off: {what}"))
        else:
            out.append(px.obj.at("PXS001", px.anchor, "PX-Security is off: the portworx container has no issuer "
                                 "(-jwt_issuer / -oidc_issuer / public key) and no PORTWORX_AUTH_* keys"))
    return out


def security_incomplete(inv: Inventory) -> list[Finding]:
    """PXS002: half a setup (issuer without system key, keys without issuer, env-only on a StorageCluster)."""
    return [px.obj.at("PXS002", px.off_path if px.operator else px.env_path, reason)
            for px in inv.portworx for reason in px.partial]


def _signature(px: PxAuth) -> dict[str, object]:
    return {"issuers": px.issuers(), "token model": tuple(sorted(px.model)),
            "username claim": px.settings["username_claim"].value if "username_claim" in px.settings else None}


def _describe(px: PxAuth, here: PxAuth) -> str:
    """The other workload's label, with its file and document when it is elsewhere."""
    if px.obj.doc.source == here.obj.doc.source:
        return f"{px.obj.label} (document {px.obj.doc.index})" if px.obj.label == here.obj.label else px.obj.label
    return f"{px.obj.label} ({px.obj.doc.source}, document {px.obj.doc.index})"


def mixed_cluster(inv: Inventory) -> list[Finding]:
    """PXS003: workloads of one cluster secured differently; per-node security overrides."""
    out = []
    for key, group in inv.clusters().items():
        cluster = key[2] if key[0] == "cluster" else f"(namespace {key[1] or 'unset'})"
        on = [p for p in group if p.enabled]
        if len(group) > 1 and on:
            for p in group:
                if not p.enabled:
                    others = [_describe(q, p) for q in on]
                    verb = "is" if len(others) == 1 else "are"
                    out.append(p.obj.at("PXS003", p.anchor, f"cluster {cluster} is mixed: this workload is not "
                                        f"secured but {', '.join(others)} {verb}"))
            ref = on[0]
            for p in on[1:]:
                a, b = _signature(ref), _signature(p)
                diff = [k for k in a if a[k] != b[k]]
                if not ref.operator and not p.operator and ref.obj.namespace == p.obj.namespace:
                    keys = [n for n in set(ref.keys) | set(p.keys) if ref.keys.get(n) != p.keys.get(n)]
                    diff += [f"key {n}" for n in sorted(keys)]
                if diff:
                    out.append(p.obj.at("PXS003", p.anchor, f"cluster {cluster} is mixed: this workload differs "
                                        f"from {_describe(ref, p)} in {', '.join(diff)}"))
        for p in group:
            if p.operator:
                out += _node_overrides(p)
    return out


def _node_overrides(px: PxAuth) -> list[Finding]:
    """spec.nodes[] env/miscArgs that set a security value different from the cluster's."""
    out = []
    names = [n for n in SECRET_ENV if n != "PX_SHARED_SECRET"] + [env for _, env in SETTINGS.values()]
    cluster_misc = scan_args(split_misc(px.obj.annotations().get("portworx.io/misc-args")) or [],
                             tuple(FLAG_SETTING) + SECRET_FLAGS)
    for i, node in enumerate(as_list(get(px.obj.data, "spec", "nodes"))):
        env = read_env(get(node, "env"), ("spec", "nodes", i, "env"))
        for name in names:
            if name in env:
                mine, theirs = env[name], px.env.get(name)
                if theirs is None or (mine.source, mine.ref, mine.value) != (theirs.source, theirs.ref, theirs.value):
                    out.append(px.obj.at("PXS003", mine.path, f"spec.nodes[{i}] overrides {name}: those nodes "
                                         f"would be secured differently from the rest of the cluster"))
        tokens = split_misc(get(node, "miscArgs"))
        if tokens:
            for flag, hits in scan_args(tokens, tuple(FLAG_SETTING) + SECRET_FLAGS).items():
                if [v for _, v in hits][-1:] != [v for _, v in cluster_misc.get(flag, [])][-1:]:
                    out.append(px.obj.at("PXS003", ("spec", "nodes", i, "miscArgs"), f"spec.nodes[{i}] sets "
                                         f"{flag}: those nodes would be secured differently from the rest"))
    return out


def _stork_issuer(st: StorkAuth) -> tuple[str | None, Env | None]:
    """(issuer Stork signs with, the env entry) — None when given through valueFrom."""
    e = st.env.get("PX_JWT_ISSUER")
    if e is None or (e.source == "literal" and not e.value):
        if st.operator and st.sc is not None:
            return st.sc.stork_issuer, None
        return STORK_DEFAULT_ISSUER, e
    return (e.value if e.source == "literal" else None), e


def stork_missing_shared_secret(inv: Inventory) -> list[Finding]:
    """PXS004: a Stork Deployment without PX_SHARED_SECRET (the operator sets it for StorageClusters)."""
    out = []
    for st in inv.stork:
        if not st.operator and "PX_SHARED_SECRET" not in st.env:
            out.append(st.obj.at("PXS004", st.env_path, "Stork has no PX_SHARED_SECRET: it cannot authenticate "
                                 "to a secured Portworx (add it as a secretKeyRef to Portworx's Stork/apps key)"))
    return out


def _candidates(st: StorkAuth, inv: Inventory) -> list[PxAuth]:
    if st.operator:
        return [st.sc] if st.sc and st.sc.enabled else []
    on = [p for p in inv.portworx if p.enabled]
    same = [p for p in on if p.obj.namespace is None or st.target_namespace is None
            or p.obj.namespace == st.target_namespace]
    return same or on


def stork_key_mismatch(inv: Inventory) -> list[Finding]:
    """PXS005: Stork's PX_SHARED_SECRET is not the Secret/key Portworx verifies Stork's issuer with."""
    out = []
    for st in inv.stork:
        issuer, _ = _stork_issuer(st)
        if issuer not in STORK_ISSUERS:
            continue  # PXS006, or unknown (valueFrom)
        secret = st.env.get("PX_SHARED_SECRET")
        if st.operator and st.sc is not None and secret is None:
            secret_ref = next(iter(st.sc.keys.get(ISSUER_KEY_ENV.get(st.sc.stork_issuer, APPS_KEY), set())), None)
            path = st.env_path
        elif secret is not None and secret.source == "secret":
            secret_ref, path = secret.ref, secret.path
        else:
            continue  # missing (PXS004) or literal (PXS008): nothing to compare
        for px in _candidates(st, inv):
            env_names = [ISSUER_KEY_ENV[issuer]] if issuer in ISSUER_KEY_ENV else []
            if px.jwt_issuer == issuer:
                env_names.append(SHARED_KEY)
            present = [n for n in env_names if n in px.keys]
            if not present:
                want = " or ".join(env_names) if env_names else f"a self-signed issuer {issuer}"
                out.append(st.obj.at("PXS005", path, f"Stork signs as {issuer} but {px.obj.label} has no "
                                     f"{want} to verify it"))
                continue
            accepted = set().union(*(px.keys[n] for n in present))
            if not accepted or secret_ref is None:
                continue  # Portworx's key is a literal: PXS008 reports it
            if secret_ref not in accepted:
                out.append(st.obj.at("PXS005", path, f"Stork's PX_SHARED_SECRET is {_ref(secret_ref)} but "
                                     f"{px.obj.label} verifies {issuer} with {_refs(accepted)} ({present[0]})"))
    return out


def stork_issuer_refused(inv: Inventory) -> list[Finding]:
    """PXS006: PX_JWT_ISSUER outside the three values Stork accepts."""
    out = []
    for st in inv.stork:
        issuer, e = _stork_issuer(st)
        if e is not None and issuer is not None and issuer not in STORK_ISSUERS:
            out.append(st.obj.at("PXS006", e.path, f"Stork refuses PX_JWT_ISSUER {issuer!r}: its Portworx driver "
                                 f"fails to start (accepted: {', '.join(STORK_ISSUERS)})"))
    return out


def stork_issuer_implicit(inv: Inventory) -> list[Finding]:
    """PXS007: a Stork Deployment with a shared secret but no PX_JWT_ISSUER."""
    out = []
    for st in inv.stork:
        e = st.env.get("PX_JWT_ISSUER")
        if not st.operator and "PX_SHARED_SECRET" in st.env and (e is None or e.source == "literal" and not e.value):
            out.append(st.obj.at("PXS007", st.env_path, f"PX_JWT_ISSUER is not set: Stork signs as "
                                 f"{STORK_DEFAULT_ISSUER}, which pairs only with {STORK_KEY}; set it explicitly"))
    return out


def secret_literal(inv: Inventory) -> list[Finding]:
    """PXS008: secret env given as a literal or from a ConfigMap; secrets as px-runc arguments."""
    out = []
    for el in inv.env_lists:
        for name, e in el.env.items():
            if name not in SECRET_ENV:
                continue
            if e.source == "literal":
                via = el.env.get(e.literal_ref) if e.literal_ref else None
                if via is not None and via.source == "secret":
                    continue  # $(VAR) of a secretKeyRef env var
                out.append(el.obj.at("PXS008", e.path, f"{name} is a literal value in the manifest; use "
                                     f"valueFrom.secretKeyRef"))
            elif e.source == "configmap":
                out.append(el.obj.at("PXS008", e.path, f"{name} comes from a ConfigMap; keys belong in a Secret "
                                     f"(valueFrom.secretKeyRef)"))
    for px in inv.portworx:
        for path, flag in px.secret_args:
            out.append(px.obj.at("PXS008", path, f"{flag} puts a secret on the px-runc command line; use "
                                 f"{'PORTWORX_AUTH_JWT_SHAREDSECRET' if flag == '-jwt_shared_secret' else 'PORTWORX_AUTH_SYSTEM_KEY'} "
                                 f"from a Secret"))
    return out


def _covering(px: PxAuth, path: str):
    best = None
    for m in px.mounts:
        mp = m.path.rstrip("/") or "/"
        if path == mp or path.startswith(mp + "/") or mp == "/":
            if best is None or len(mp) > len(best.path.rstrip("/")):
                best = m
    return best


def _pubkeys(px: PxAuth):
    for name in ("rsa_file", "ecds_file"):
        s = px.settings.get(name)
        if s is not None and s.value is not None:
            yield SETTINGS[name][0], s


def pubkey_file_unmounted(inv: Inventory) -> list[Finding]:
    """PXS009: a public-key file path that no volume provides inside the container."""
    out = []
    for px in inv.portworx:
        for flag, s in _pubkeys(px):
            path = s.value
            if not path.startswith("/"):
                out.append(px.obj.at("PXS009", s.path, f"{flag} {path!r} is not an absolute path"))
                continue
            m = _covering(px, path)
            if m is None:
                where = "spec.volumes" if px.operator else "the portworx container's volumeMounts"
                out.append(px.obj.at("PXS009", s.path, f"{flag} {path} is not under any mountPath of {where}"))
            elif m.kind == "emptyDir":
                out.append(px.obj.at("PXS009", s.path, f"{flag} {path} is on emptyDir volume {m.volume}, "
                                     f"which holds no key"))
            elif m.items is not None:
                rel = path[len(m.path.rstrip("/")) + 1:]
                if rel not in m.items:
                    out.append(px.obj.at("PXS009", s.path, f"{flag} {path}: volume {m.volume} projects only "
                                         f"{', '.join(m.items) or 'no file'} at {m.path}"))
    return out


def pubkey_file_on_host(inv: Inventory) -> list[Finding]:
    """PXS010: a public-key file that only a hostPath provides."""
    out = []
    for px in inv.portworx:
        for flag, s in _pubkeys(px):
            m = _covering(px, s.value) if s.value.startswith("/") else None
            if m is not None and m.kind == "hostPath":
                out.append(px.obj.at("PXS010", s.path, f"{flag} {s.value} is read from host path volume "
                                     f"{m.volume}: the file must exist on every node"))
    return out


def oidc_issuer_not_https(inv: Inventory) -> list[Finding]:
    """PXS011."""
    out = []
    for px in inv.portworx:
        s = px.settings.get("oidc_issuer")
        if s is not None and s.value is not None and not s.value.startswith("https://"):
            out.append(px.obj.at("PXS011", s.path, f"OIDC issuer {s.value!r} is not an https:// URL"))
    return out


def oidc_client_id_missing(inv: Inventory) -> list[Finding]:
    """PXS012."""
    return [px.obj.at("PXS012", px.settings["oidc_issuer"].path, "an OIDC issuer is set without -oidc_client_id "
                      "(PORTWORX_AUTH_OIDC_CLIENTID): Portworx does not configure OIDC")
            for px in inv.portworx if "oidc_issuer" in px.settings and "oidc_client_id" not in px.settings]


def username_claim_unknown(inv: Inventory) -> list[Finding]:
    """PXS013."""
    out = []
    for px in inv.portworx:
        s = px.settings.get("username_claim")
        if s is not None and s.value is not None and s.value not in USERNAME_CLAIMS:
            out.append(px.obj.at("PXS013", s.path, f"username claim {s.value!r} is not one of "
                                 f"{', '.join(USERNAME_CLAIMS)}"))
    return out


def self_signed_without_key(inv: Inventory) -> list[Finding]:
    """PXS014: a self-signed issuer with neither a shared secret nor a public key."""
    out = []
    for px in inv.portworx:
        s = px.settings.get("jwt_issuer")
        if s is not None and not (px.model & {"shared-secret", "rsa", "ecdsa"}):
            out.append(px.obj.at("PXS014", s.path, "self-signed issuer without PORTWORX_AUTH_JWT_SHAREDSECRET, "
                                 "-jwt_rsa_pubkey_file or -jwt_ecds_pubkey_file: its tokens cannot be verified"))
    return out


def self_signed_issuer_url(inv: Inventory) -> list[Finding]:
    """PXS015."""
    out = []
    for px in inv.portworx:
        s = px.settings.get("jwt_issuer")
        if s is not None and s.value and re.match(r"https?://", s.value):
            out.append(px.obj.at("PXS015", s.path, f"self-signed issuer {s.value!r} is a URL; use a plain name "
                                 f"such as openstorage.io (URLs are for OIDC providers)"))
    return out


def _auth(px: PxAuth):
    return get(px.obj.data, "spec", "security", "auth")


def guest_access_enabled(inv: Inventory) -> list[Finding]:
    """PXS016: guestAccess Enabled, explicitly or by the operator's default."""
    out = []
    for px in inv.portworx:
        if not (px.operator and px.enabled):
            continue
        auth = _auth(px)
        value = get(auth, "guestAccess")
        if value == "Enabled":
            out.append(px.obj.at("PXS016", ("spec", "security", "auth", "guestAccess"),
                                 "guestAccess: Enabled lets calls without a token use public volumes"))
        elif value is None:
            out.append(px.obj.at("PXS016", ("spec", "security", "auth") if isinstance(auth, dict)
                                 else ("spec", "security"),
                                 "guestAccess is not set and the operator defaults it to Enabled: calls without a "
                                 "token can use public volumes"))
    return out


def guest_access_invalid(inv: Inventory) -> list[Finding]:
    """PXS017."""
    out = []
    for px in inv.portworx:
        value = get(_auth(px), "guestAccess") if px.operator else None
        if value is not None and value not in GUEST_ACCESS:
            out.append(px.obj.at("PXS017", ("spec", "security", "auth", "guestAccess"),
                                 f"guestAccess {value!r} is not one of {', '.join(GUEST_ACCESS)} (case-sensitive)"))
    return out


def token_lifetime_invalid(inv: Inventory) -> list[Finding]:
    """PXS018: tokenLifetime not <integer><s|m|h|d|y>, or placed directly under auth."""
    out = []
    for px in inv.portworx:
        if not px.operator:
            continue
        auth = _auth(px)
        value = get(auth, "selfSigned", "tokenLifetime")
        if value is not None and not (isinstance(value, str) and _LIFETIME.fullmatch(value)):
            out.append(px.obj.at("PXS018", ("spec", "security", "auth", "selfSigned", "tokenLifetime"),
                                 f"tokenLifetime {value!r} is not <integer><s|m|h|d|y> (e.g. 24h, 7d); compound "
                                 f"durations such as 1h30m are refused"))
        if isinstance(auth, dict) and "tokenLifetime" in auth:
            out.append(px.obj.at("PXS018", ("spec", "security", "auth", "tokenLifetime"),
                                 "tokenLifetime belongs under spec.security.auth.selfSigned; here it is ignored"))
    return out


def token_reset_reminder(inv: Inventory) -> list[Finding]:
    """PXS021: once per secured cluster, and on each ClusterPair/Migration object."""
    out = []
    for key, group in inv.clusters().items():
        on = [p for p in group if p.enabled]
        if on:
            out.append(on[0].obj.at("PXS021", on[0].anchor, "if this cluster is paired with another or migrates "
                                    "to/from one, run `pxctl cluster token reset` after enabling PX-Security and "
                                    "update the ClusterPair objects on the other clusters"))
    if any(p.enabled for p in inv.portworx):
        for o in inv.pairings:
            out.append(o.at("PXS021", ("spec",), f"{o.kind} with a secured cluster: make sure its token was "
                            f"generated after `pxctl cluster token reset` on the secured cluster"))
    return out


def autopilot_missing_shared_secret(inv: Inventory) -> list[Finding]:
    """PXS022: an autopilot Deployment beside a secured Portworx, without PX_SHARED_SECRET."""
    out = []
    on = [p for p in inv.portworx if p.enabled]
    for ap in inv.autopilot:
        near = [p for p in on if p.obj.namespace is None or ap.obj.namespace is None
                or p.obj.namespace == ap.obj.namespace]
        if near and "PX_SHARED_SECRET" not in ap.env:
            out.append(ap.obj.at("PXS022", ap.env_path, f"autopilot has no PX_SHARED_SECRET but {near[0].obj.label} "
                                 f"is secured: autopilot's calls to Portworx will be refused"))
    return out


RULE_FUNCTIONS: tuple[Callable[[Inventory], list[Finding]], ...] = (
    security_disabled, security_incomplete, mixed_cluster, stork_missing_shared_secret, stork_key_mismatch,
    stork_issuer_refused, stork_issuer_implicit, secret_literal, pubkey_file_unmounted, pubkey_file_on_host,
    oidc_issuer_not_https, oidc_client_id_missing, username_claim_unknown, self_signed_without_key,
    self_signed_issuer_url, guest_access_enabled, guest_access_invalid, token_lifetime_invalid,
    token_reset_reminder, autopilot_missing_shared_secret,
) + rules_operator.RULE_FUNCTIONS


def run(inv: Inventory) -> list[Finding]:
    out = list(inv.errors)
    for fn in RULE_FUNCTIONS:
        out.extend(fn(inv))
    return out


__all__ = ["run", "RULE_FUNCTIONS"]
