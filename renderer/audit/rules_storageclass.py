"""Portworx StorageClasses once PX-Security is on (PXS026-PXS028).

A volume request carries the token a StorageClass points at (portworx.CSI_SECRET_PARAMS: six CSI
parameters; portworx.INTREE_SECRET_PARAMS: two in-tree ones), read from key `auth-token`
(portworx.TOKEN_KEY) of the Secret they name. Without them, Portworx creates the volume as the
guest role (public, owned by no one) or, with guestAccess Disabled, refuses it
(../shared/docs/px-security-facts.md §2.4).
"""
from __future__ import annotations

from .. import portworx as pw
from .inventory import Inventory
from .model import Finding
from .objects import Obj, as_dict, get


def _params(o: Obj) -> tuple[str, tuple[str, ...], dict]:
    kind = pw.storageclass_kind(o.data) or "csi"
    names = pw.CSI_SECRET_PARAMS if kind == "csi" else pw.INTREE_SECRET_PARAMS
    return kind, names, as_dict(o.data.get("parameters"))


def _guest_disabled(inv: Inventory) -> list:
    return [p for p in inv.portworx if p.enabled and p.operator
            and get(p.obj.data, "spec", "security", "auth", "guestAccess") == "Disabled"]


def _without_token(inv: Inventory) -> list[tuple[Obj, str]]:
    """(StorageClass, where it points) for each Portworx StorageClass with no token parameter."""
    out = []
    for o in inv.storageclasses:
        kind, names, params = _params(o)
        if not any(n in params for n in names) and o.name not in inv.left_out_storageclasses:
            out.append((o, f"no token parameters ({', '.join(names)}" + (")" if kind == "intree" else
                                                                         f", naming a Secret with key {pw.TOKEN_KEY})")))
    return out


def _anchor(o: Obj) -> tuple:
    return ("parameters",) if "parameters" in o.data else ("provisioner",)


def storageclass_token_missing(inv: Inventory) -> list[Finding]:
    """PXS026: no token parameters while a StorageCluster has guestAccess Disabled."""
    off = _guest_disabled(inv)
    if not off:
        return []
    return [o.at("PXS026", _anchor(o), f"StorageClass {o.name} has {what}: {off[0].obj.label} has "
                 f"guestAccess: Disabled, so Portworx refuses its volume requests and PVCs stay Pending")
            for o, what in _without_token(inv)]


def storageclass_public_volumes(inv: Inventory) -> list[Finding]:
    """PXS027: no token parameters while security is on and guest access is not known to be off."""
    on = [p for p in inv.portworx if p.enabled]
    if not on or _guest_disabled(inv):
        return []
    return [o.at("PXS027", _anchor(o), f"StorageClass {o.name} has {what}: with {on[0].obj.label} secured, its "
                 f"volumes are created by the guest role: public, owned by no one")
            for o, what in _without_token(inv)]


def storageclass_token_invalid(inv: Inventory) -> list[Finding]:
    """PXS028: a half-set of the token parameters, or a token Secret in the stream without `auth-token`."""
    out = []
    for o in inv.storageclasses:
        _, names, params = _params(o)
        present = [n for n in names if n in params]
        if not present:
            continue
        if len(present) < len(names):
            missing = [n for n in names if n not in params]
            out.append(o.at("PXS028", ("parameters", present[0]), f"StorageClass {o.name} sets {', '.join(present)} "
                            f"but not {', '.join(missing)}: the volume operations that lack theirs (create, mount, expand) carry no token"))
            continue
        seen = set()
        for param in (n for n in names if n.endswith("-name")):
            name, namespace = params[param], params[param[:-len("name")] + "namespace"]
            if not isinstance(name, str) or "${" in name or (name, str(namespace)) in seen:
                continue  # a CSI template (resolved per volume), or a Secret already looked at
            seen.add((name, str(namespace)))
            ns = namespace if isinstance(namespace, str) and "${" not in namespace else None
            for doc, keys in inv.data_sources("Secret", name, ns):
                if pw.TOKEN_KEY not in keys:
                    where = f"{doc.namespace}/" if doc.namespace else ""
                    out.append(o.at("PXS028", ("parameters", param), f"StorageClass {o.name} reads its token from "
                                    f"Secret {where}{name}, which has no key {pw.TOKEN_KEY} (the key Portworx reads): "
                                    f"its volume requests carry no token"))
    return out


RULE_FUNCTIONS = (storageclass_token_missing, storageclass_public_volumes, storageclass_token_invalid)
