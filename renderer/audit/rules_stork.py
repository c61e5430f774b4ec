"""Rules about Stork and autopilot: their key and issuer must pair with what Portworx verifies
(PXS004-PXS007, PXS022). Issuers and the issuer-to-key map come from `renderer/portworx.py`."""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Iterable

from .. import portworx as pw
from .inventory import Inventory
from .model import Finding
from .profiles import PxAuth, StorkAuth
from .reading import Env

STORK_ISSUERS = tuple(pw.STORK_ISSUER_KEY_ENV) + (pw.OPERATOR_ISSUER,)


def _ref(ref: tuple[str, str]) -> str:
    return f"Secret {ref[0]} key {ref[1]}"


def _refs(refs: Iterable[tuple[str, str]]) -> str:
    return " or ".join(_ref(r) for r in sorted(refs))


def _stork_issuer(st: StorkAuth) -> tuple[str | None, Env | None]:
    """(issuer Stork signs with, the env entry) — None when given through valueFrom."""
    e = st.env.get(pw.STORK_ISSUER_ENV)
    if e is None or (e.source == "literal" and not e.value):
        if st.operator and st.sc is not None:
            return st.sc.stork_issuer, None
        return pw.STORK_DEFAULT_ISSUER, e
    return (e.value if e.source == "literal" else None), e


def stork_missing_shared_secret(inv: Inventory) -> list[Finding]:
    """PXS004: a Stork Deployment without PX_SHARED_SECRET (the operator sets it for StorageClusters)."""
    out = []
    for st in inv.stork:
        if not st.operator and pw.STORK_SECRET not in st.env:
            out.append(st.obj.at("PXS004", st.env_path, f"Stork has no {pw.STORK_SECRET}: it cannot authenticate "
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
        secret = st.env.get(pw.STORK_SECRET)
        if st.operator and st.sc is not None and secret is None:
            secret_ref = next(iter(st.sc.keys.get(pw.STORK_ISSUER_KEY_ENV.get(st.sc.stork_issuer, pw.APPS_KEY), set())), None)
            path = st.env_path
        elif secret is not None and secret.source == "secret":
            secret_ref, path = secret.ref, secret.path
        else:
            continue  # missing (PXS004) or literal (PXS008): nothing to compare
        for px in _candidates(st, inv):
            env_names = [pw.STORK_ISSUER_KEY_ENV[issuer]] if issuer in pw.STORK_ISSUER_KEY_ENV else []
            if px.jwt_issuer == issuer:
                env_names.append(pw.SHARED_KEY)
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
                out.append(st.obj.at("PXS005", path, f"Stork's {pw.STORK_SECRET} is {_ref(secret_ref)} but "
                                     f"{px.obj.label} verifies {issuer} with {_refs(accepted)} ({present[0]})"))
    return out


def stork_issuer_refused(inv: Inventory) -> list[Finding]:
    """PXS006: PX_JWT_ISSUER outside the three values Stork accepts."""
    out = []
    for st in inv.stork:
        issuer, e = _stork_issuer(st)
        if e is not None and issuer is not None and issuer not in STORK_ISSUERS:
            out.append(st.obj.at("PXS006", e.path, f"Stork refuses {pw.STORK_ISSUER_ENV} {issuer!r}: its Portworx "
                                 f"driver fails to start (accepted: {', '.join(STORK_ISSUERS)})"))
    return out


def stork_issuer_implicit(inv: Inventory) -> list[Finding]:
    """PXS007: a Stork Deployment with a shared secret but no PX_JWT_ISSUER."""
    out = []
    for st in inv.stork:
        e = st.env.get(pw.STORK_ISSUER_ENV)
        if not st.operator and pw.STORK_SECRET in st.env and (e is None or e.source == "literal" and not e.value):
            out.append(st.obj.at("PXS007", st.env_path, f"{pw.STORK_ISSUER_ENV} is not set: Stork signs as "
                                 f"{pw.STORK_DEFAULT_ISSUER}, which pairs only with {pw.STORK_KEY}; set it explicitly"))
    return out


def autopilot_missing_shared_secret(inv: Inventory) -> list[Finding]:
    """PXS022: an autopilot Deployment beside a secured Portworx, without PX_SHARED_SECRET."""
    out = []
    on = [p for p in inv.portworx if p.enabled]
    for ap in inv.autopilot:
        near = [p for p in on if p.obj.namespace is None or ap.obj.namespace is None
                or p.obj.namespace == ap.obj.namespace]
        if near and pw.STORK_SECRET not in ap.env:
            out.append(ap.obj.at("PXS022", ap.env_path, f"autopilot has no {pw.STORK_SECRET} but {near[0].obj.label} "
                                 f"is secured: autopilot's calls to Portworx will be refused"))
    return out
