"""Rules about Portworx's auth settings: public-key files, OIDC, username claim, self-signed
issuer, and a StorageCluster's guestAccess and tokenLifetime (PXS009-PXS018)."""
from __future__ import annotations

import re

from .. import portworx as pw
from .inventory import Inventory
from .model import Finding
from .objects import get
from .profiles import PxAuth

USERNAME_CLAIMS = ("sub", "email", "name")
GUEST_ACCESS = ("Enabled", "Disabled", "Managed")
_LIFETIME = re.compile(r"[0-9]+[smhdy]")


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
            yield pw.SETTINGS[name][0], s


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
    return [px.obj.at("PXS012", px.settings["oidc_issuer"].path, "an OIDC issuer is set without "
                      f"{pw.SETTINGS['oidc_client_id'][0]} ({pw.SETTINGS['oidc_client_id'][1]}): Portworx does not "
                      "configure OIDC")
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
            out.append(px.obj.at("PXS014", s.path, f"self-signed issuer without {pw.SHARED_KEY}, "
                                 f"{pw.SETTINGS['rsa_file'][0]} or {pw.SETTINGS['ecds_file'][0]}: its tokens cannot "
                                 "be verified"))
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
