"""Rules about Portworx workloads themselves: security off or half on, mixed clusters, secrets
written into manifests, and the cluster-token reminder (PXS001-PXS003, PXS008, PXS021)."""
from __future__ import annotations

from .. import portworx as pw
from ..errors import document_number
from .inventory import Inventory
from .model import Finding
from .objects import as_list, get
from .profiles import PxAuth
from .reading import read_env, scan_args, split_misc


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
                                 f"({pw.SETTINGS['jwt_issuer'][0]} / {pw.SETTINGS['oidc_issuer'][0]} / public key) "
                                 "and no PORTWORX_AUTH_* keys"))
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
        if px.obj.label != here.obj.label:
            return px.obj.label
        return f"{px.obj.label} (document {document_number(px.obj.doc.index)})"
    return f"{px.obj.label} ({px.obj.doc.source}, document {document_number(px.obj.doc.index)})"


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
    names = [n for n in pw.SECRET_ENV if n != pw.STORK_SECRET] + list(pw.FLAG_ENV_TWINS)
    cluster_misc = scan_args(split_misc(px.obj.annotations().get(pw.MISC_ARGS)) or [],
                             pw.OWNED_FLAGS)
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
            for flag, hits in scan_args(tokens, pw.OWNED_FLAGS).items():
                if [v for _, v in hits][-1:] != [v for _, v in cluster_misc.get(flag, [])][-1:]:
                    out.append(px.obj.at("PXS003", ("spec", "nodes", i, "miscArgs"), f"spec.nodes[{i}] sets "
                                         f"{flag}: those nodes would be secured differently from the rest"))
    return out


def secret_literal(inv: Inventory) -> list[Finding]:
    """PXS008: secret env given as a literal or from a ConfigMap; secrets as px-runc arguments."""
    out = []
    for el in inv.env_lists:
        for name, e in el.env.items():
            if name not in pw.SECRET_ENV:
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
                                 f"{pw.SHARED_KEY if flag == '-jwt_shared_secret' else pw.SYSTEM_KEY} "
                                 f"from a Secret"))
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
