"""Operator installs (StorageCluster, core.libopenstorage.org): work with the operator.

The operator owns `px-system-secrets` and the shared-secret Secret, and overwrites the
portworx container's key env vars with references to them (facts §2.1-2.2). So pxsec:
- turns on `spec.security` (auth, guestAccess, selfSigned issuer/tokenLifetime/sharedSecret);
- seeds the operator's Secrets from the user's Secret through `spec.env` only where the user's
  Secret/key differs from the operator's names (the operator copies `spec.env` values into
  Secrets it creates; an existing Secret in the cluster keeps its values: we warn);
- passes OIDC, username claim and public-key files as px-runc args through the
  `portworx.io/misc-args` annotation (merged with what is there) and mounts keys via `spec.volumes`;
- pins Stork to the same key/issuer pair the operator gives Portworx (`spec.stork.env` wins
  over the operator's Stork env, so stale entries there would break the pairing).
"""
from __future__ import annotations

import re
import shlex

from ..errors import PxsecError
from ..spec import Spec
from . import common as c

MISC_ARGS = "portworx.io/misc-args"
OPERATOR_SYSTEM_SECRET = "px-system-secrets"
OPERATOR_SYSTEM_KEY = "system-secret"
OPERATOR_APPS_KEY = "apps-secret"
OPERATOR_SHARED_SECRET_KEY = "shared-secret"
_VERSION = re.compile(r":(\d+)\.(\d+)")


def stork_issuer_for(obj: dict) -> str:
    """The issuer the operator gives Stork: apps.portworx.io from PX 2.6 on (facts §2.3)."""
    spec = obj.get("spec") or {}
    image = spec.get("image") or ""
    m = _VERSION.search(image if isinstance(image, str) else "")
    if not m and isinstance(spec.get("version"), str):
        m = re.match(r"v?(\d+)\.(\d+)", spec["version"])
        if m:
            return "stork.openstorage.io" if (int(m.group(1)), int(m.group(2))) < (2, 6) else "apps.portworx.io"
        return "apps.portworx.io"
    if m and (int(m.group(1)), int(m.group(2))) < (2, 6):
        return "stork.openstorage.io"
    return "apps.portworx.io"


def _misc_args(annotations: dict, loc, spec: Spec, paths: dict[str, str], report: c.Report) -> None:
    current = annotations.get(MISC_ARGS)
    if current is not None and not isinstance(current, str):
        raise PxsecError("expected a string", c.at(loc, f"metadata.annotations.{MISC_ARGS}"))
    try:
        tokens = shlex.split(current or "")
    except ValueError as e:
        raise PxsecError(f"cannot split px-runc arguments: {e}", c.at(loc, f"metadata.annotations.{MISC_ARGS}")) from None
    before = list(tokens)
    # The operator passes the self-signed issuer as PORTWORX_AUTH_JWT_ISSUER: no -jwt_issuer here.
    changes = c.set_flags(tokens, c.wanted_flags(spec, paths, with_issuer=False), c.MANAGED_FLAGS + c.SECRET_FLAGS)
    if tokens != before:
        annotations[MISC_ARGS] = shlex.join(tokens)
        report.changes += [f"{ch} in annotation {MISC_ARGS}" for ch in changes]


def _security(sc: dict, spec: Spec, loc, report: c.Report) -> None:
    sec = c.child(sc, "security", dict, loc, "spec.security")
    if sec.get("enabled") is not True:
        sec["enabled"] = True
        report.add("set spec.security.enabled")
    auth = c.child(sec, "auth", dict, loc, "spec.security.auth")
    if "enabled" in auth and auth["enabled"] is not True:
        auth["enabled"] = True
        report.add("set spec.security.auth.enabled")
    if spec.guest_access and auth.get("guestAccess") != spec.guest_access:
        auth["guestAccess"] = spec.guest_access
        report.add("set spec.security.auth.guestAccess")
    wanted = {}
    if spec.self_signed:
        wanted["issuer"] = spec.self_signed.issuer
    if spec.token_lifetime:
        wanted["tokenLifetime"] = spec.token_lifetime
    if spec.uses_shared_secret and spec.key_jwt_shared_secret == OPERATOR_SHARED_SECRET_KEY:
        wanted["sharedSecret"] = spec.secret_name  # the operator reads key shared-secret of it
    if wanted:
        ss = c.child(auth, "selfSigned", dict, loc, "spec.security.auth.selfSigned")
        for k, v in wanted.items():
            if ss.get(k) != v:
                ss[k] = v
                report.add(f"set spec.security.auth.selfSigned.{k}")


def _seed_env(sc: dict, spec: Spec, loc, report: c.Report) -> list[str]:
    """spec.env entries that seed the operator's Secrets from the user's Secret."""
    absent = sc.get("env") is None
    env = c.child(sc, "env", list, loc, "spec.env")
    s = spec.secret_name
    seeds, remove = [], []
    if (s, spec.key_system) != (OPERATOR_SYSTEM_SECRET, OPERATOR_SYSTEM_KEY):
        seeds.append(c.secret_ref("PORTWORX_AUTH_SYSTEM_KEY", s, spec.key_system))
    else:
        remove.append("PORTWORX_AUTH_SYSTEM_KEY")
    if spec.stork_enabled and (s, spec.key_stork) != (OPERATOR_SYSTEM_SECRET, OPERATOR_APPS_KEY):
        seeds.append(c.secret_ref("PORTWORX_AUTH_SYSTEM_APPS_KEY", s, spec.key_stork))
    else:
        remove.append("PORTWORX_AUTH_SYSTEM_APPS_KEY")
    if spec.uses_shared_secret and spec.key_jwt_shared_secret != OPERATOR_SHARED_SECRET_KEY:
        seeds.append(c.secret_ref("PORTWORX_AUTH_JWT_SHAREDSECRET", s, spec.key_jwt_shared_secret))
    else:
        remove.append("PORTWORX_AUTH_JWT_SHAREDSECRET")
    # The operator sets these itself (STORK_KEY before PX 2.6) or they are args here.
    remove += ["PORTWORX_AUTH_STORK_KEY"] + [n for n in c.FLAG_ENV_TWINS if n != "PORTWORX_AUTH_JWT_ISSUER"]
    if spec.self_signed:
        remove.append("PORTWORX_AUTH_JWT_ISSUER")  # selfSigned.issuer is authoritative
    for entry in seeds:
        report.add(c.set_env(env, entry, loc, "spec.env"))
    report.changes += c.remove_env(env, remove, loc, "spec.env")
    if absent and not env:
        del sc["env"]
    return [e["name"] for e in seeds]


def _nodes(sc: dict, loc, report: c.Report) -> None:
    """Per-node overrides must not make some nodes differently secured than others."""
    nodes = c.child(sc, "nodes", list, loc, "spec.nodes", create=False) or []
    for i, node in enumerate(nodes):
        if not isinstance(node, dict):
            continue
        env = c.child(node, "env", list, loc, f"spec.nodes[{i}].env", create=False)
        if env:
            names = [n for n in c.SECRET_ENV + c.FLAG_ENV_TWINS if n != "PX_SHARED_SECRET"]
            report.changes += [f"{ch} in spec.nodes[{i}]" for ch in c.remove_env(env, names, loc, f"spec.nodes[{i}].env")]
        misc = node.get("miscArgs")
        if isinstance(misc, str):
            try:
                tokens = shlex.split(misc)
            except ValueError as e:
                raise PxsecError(f"cannot split px-runc arguments: {e}", c.at(loc, f"spec.nodes[{i}].miscArgs")) from None
            changes = c.set_flags(tokens, [], c.MANAGED_FLAGS + c.SECRET_FLAGS)
            if changes:
                node["miscArgs"] = shlex.join(tokens)
                report.changes += [f"{ch} in spec.nodes[{i}].miscArgs" for ch in changes]


def _volumes(sc: dict, spec: Spec, loc, report: c.Report) -> dict[str, str]:
    keys = c.pubkeys(spec)
    absent = sc.get("volumes") is None
    volumes = c.child(sc, "volumes", list, loc, "spec.volumes")
    keep, paths = set(), {}
    for kind, ref in keys.items():
        vname, mount_path, _ = c.PUBKEY_MOUNTS[kind]
        keep.add(vname)
        paths[kind] = c.pubkey_path(kind, ref.key)
        vol = c.secret_volume(vname, ref.secret_name, ref.key)
        vol.update({"mountPath": mount_path, "readOnly": True})
        report.add(c.set_named(volumes, vol, "volume"))
    report.changes += c.remove_named(volumes, keep, "volume")
    if absent and not volumes:
        del sc["volumes"]
    return paths


def _stork(sc: dict, spec: Spec, obj: dict, loc, report: c.Report) -> None:
    stork = sc.get("stork")
    if not isinstance(stork, dict) or stork.get("enabled") is not True or not spec.stork_enabled:
        return
    issuer = stork_issuer_for(obj)
    if spec.stork_issuer_explicit and spec.stork_issuer != issuer:
        report.warnings.append(
            f"spec.stork.issuer {spec.stork_issuer} is ignored for the operator install: the operator "
            f"gives Portworx the key for {issuer}, so Stork uses that issuer")
    env = c.child(stork, "env", list, loc, "spec.stork.env")
    report.add(c.set_env(env, c.secret_ref("PX_SHARED_SECRET", OPERATOR_SYSTEM_SECRET, OPERATOR_APPS_KEY),
                         loc, "spec.stork.env"))
    report.add(c.set_env(env, c.literal("PX_JWT_ISSUER", issuer), loc, "spec.stork.env"))


def apply(obj: dict, spec: Spec, loc) -> c.Report:
    report = c.Report()
    meta = c.child(obj, "metadata", dict, loc, "metadata")
    sc = c.child(obj, "spec", dict, loc, "spec")
    _security(sc, spec, loc, report)
    seeded = _seed_env(sc, spec, loc, report)
    _nodes(sc, loc, report)
    paths = _volumes(sc, spec, loc, report)
    had_key, before = "annotations" in meta, meta.get("annotations")
    annotations = c.child(meta, "annotations", dict, loc, "metadata.annotations")
    _misc_args(annotations, loc, spec, paths, report)
    if before is None and not annotations:  # leave `annotations:` (null) or its absence as it was
        if had_key:
            meta["annotations"] = None
        else:
            del meta["annotations"]
    _stork(sc, spec, obj, loc, report)
    if seeded:
        report.warnings.append(
            f"seeded {', '.join(seeded)} from Secret {spec.secret_name} through spec.env; if the operator's "
            f"Secrets (px-system-secrets, px-shared-secret) already exist in namespace "
            f"{loc.namespace or '(release namespace)'}, their values win over seeded ones")
    return report
