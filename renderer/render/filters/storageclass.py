"""Portworx StorageClasses: the token a volume request carries once Portworx checks tokens.

With PX-Security on, a volume request without a token is made by the guest role (a public
volume, owned by no one) or, with guest access disabled, refused. A StorageClass points at a
Secret whose key `auth-token` holds a token (../shared/docs/px-security-facts.md §2.4):

- CSI (`pxd.portworx.com`): `csi.storage.k8s.io/{provisioner,node-publish,controller-expand}-secret-{name,namespace}`;
- in-tree (`kubernetes.io/portworx-volume`): `openstorage.io/auth-secret-{name,namespace}`.

Parameters that name another Secret are replaced, with a warning that names the old one.
A StorageClass's parameters cannot change on a cluster where it exists: every changed
StorageClass gets a warning with the way to recreate it for each engine.
"""
from __future__ import annotations

from ... import portworx as px
from ...errors import PxsecError
from . import common as c

# One line: the per-engine ways to recreate it are in the README ("Upgrading a cluster where the
# StorageClass exists"), which the warning names.
RECREATE = ("parameters cannot change in place: where {name} exists, run `kubectl delete storageclass {name}` "
            "first (PVs stay; README: \"Upgrading a cluster\")")


def wanted_params(kind: str, secret: str, namespace: str) -> dict[str, str]:
    names = px.CSI_SECRET_PARAMS if kind == "csi" else px.INTREE_SECRET_PARAMS
    return {p: (secret if p.endswith("-name") else namespace) for p in names}


def apply(obj: dict, sc_spec, namespace: str, loc) -> c.Report:
    """Point one Portworx StorageClass at the token Secret `sc_spec.token_name` in `namespace`."""
    report = c.Report()
    kind = px.storageclass_kind(obj)
    name = (obj.get("metadata") or {}).get("name")
    params = obj.get("parameters")
    absent = params is None
    if absent:
        params = obj["parameters"] = {}
    if not isinstance(params, dict):
        raise PxsecError("expected a mapping", c.at(loc, "parameters"))
    want = wanted_params(kind, sc_spec.token_name, namespace)
    old = {k: params.get(k) for k in want if k in params}
    stale = sorted({f"{old[k]}" for k in old if k.endswith("-name") and old[k] != want[k]})
    for key, value in want.items():
        if params.get(key) != value:
            params[key] = value
            report.add(f"set parameter {key}")
    if stale:
        report.warnings.append(f"StorageClass {name}: replaced token Secret {', '.join(stale)} with "
                               f"{sc_spec.token_name} in its parameters")
    if report.changes:
        report.warnings.append(f"StorageClass {name}: " + RECREATE.format(name=name))
    elif absent:
        del obj["parameters"]
    return report
