"""Operator installs (StorageCluster, core.libopenstorage.org): work with the operator.

The operator owns `px-system-secrets` and the shared-secret Secret (rewrites them on every
reconcile, deletes them with a deleteStrategy: component/auth.go) and overwrites the portworx
container's key env vars with references to them (deployment.go `getEnvList`). So pxsec:
- turns on `spec.security` (auth; guestAccess: the spec's, else the StorageCluster's, else
  Disabled; selfSigned issuer/tokenLifetime; `sharedSecret: px-shared-secret`, an operator-owned
  name), warning whenever it replaces a value the StorageCluster set, naming old and new;
- seeds the operator's Secrets from the user's Secret through `spec.env` wherever the user's
  Secret/key differs from the operator's (the operator copies `spec.env` values into Secrets it
  creates; an existing Secret in the cluster keeps its values: we warn), and warns (or, with
  `secret.create`, refuses) when the user's Secret is one the operator owns;
- passes OIDC, username claim and public-key files as px-runc args through the
  `portworx.io/misc-args` annotation (split and joined as the operator's google/shlex reads it,
  comments kept) and through each `spec.nodes[].miscArgs`, and mounts keys via `spec.volumes`;
- pins Stork's and autopilot's key/issuer to the pair the operator gives Portworx when the PX
  version is knowable (renderer/px_version.py), and otherwise leaves them to the operator;
  refuses a node group whose PX_IMAGE pairs otherwise, and Stork disabled in the spec while the
  cluster runs it;
- warns about what it cannot change in the stream (operator_warnings.py).
"""
from __future__ import annotations

from ... import goshlex, px_version
from ... import portworx as px
from ...errors import PxsecError
from ...spec import Spec
from . import common as c
from . import operator_secrets, operator_warnings

GUEST_ACCESS_DEFAULT = "Disabled"
GUEST_ACCESS_VALUES = ("Enabled", "Disabled", "Managed")  # corev1.GuestRole*, case-sensitive


def stork_issuer_for(obj: dict) -> str:
    """The issuer the operator gives Stork; its own default (max version: apps) when unknowable."""
    return px_version.stork_issuer(obj) or px.APPS_ISSUER


def _edit_args(text, wanted, loc, path: tuple) -> tuple[str | None, list[str]]:
    """(new text or None when unchanged, changes) of a px-runc argument string, split and joined as
    the operator's google/shlex does; comments stay comments."""
    if text is not None and not isinstance(text, str):
        raise PxsecError("expected a string", c.at(loc, path))
    try:
        words, comments = goshlex.tokens(text or "")
    except goshlex.SplitError as e:
        raise PxsecError(f"cannot split px-runc arguments as the operator does (google/shlex: {e}); the operator "
                         f"would ignore every argument in it", c.at(loc, path)) from None
    before = list(words)
    # The operator passes the self-signed issuer as PORTWORX_AUTH_JWT_ISSUER: no -jwt_issuer here.
    changes = c.set_flags(words, wanted, px.MANAGED_FLAGS + px.SECRET_FLAGS)
    return (goshlex.join(words, comments) if words != before else None), changes


def _misc_args(annotations: dict, loc, spec: Spec, paths: dict[str, str], report: c.Report) -> None:
    new, changes = _edit_args(annotations.get(px.MISC_ARGS), c.wanted_flags(spec, paths, with_issuer=False), loc,
                              ("metadata", "annotations", px.MISC_ARGS))
    if new is not None:
        annotations[px.MISC_ARGS] = new
        report.changes += [f"{ch} in annotation {px.MISC_ARGS}" for ch in changes]


def _guest_access(auth: dict, spec: Spec, report: c.Report) -> None:
    """The spec's guestAccess wins, then the StorageCluster's, then pxsec's default (Disabled).

    component/auth.go `updateSystemGuestRole` rewrites the `system.guest` role for Enabled and
    Disabled, leaves it alone for Managed, and fails the auth component on any other value."""
    old = auth.get("guestAccess")
    if spec.guest_access:
        new = spec.guest_access
        if old is not None and old != new:
            report.warnings.append(f"spec.security.auth.guestAccess {old} replaced by {new}, the pxsec spec's "
                                   f"guestAccess (the operator then rewrites the system.guest role)")
    elif old in GUEST_ACCESS_VALUES:
        return  # the user's choice in the StorageCluster wins over pxsec's default
    elif old is None:
        new = GUEST_ACCESS_DEFAULT
        report.warnings.append(f"neither the pxsec spec nor the StorageCluster sets guestAccess: pxsec set it to "
                               f"{new} (the operator's default, Enabled, lets tokenless clients manage volumes)")
    else:
        new = GUEST_ACCESS_DEFAULT
        report.warnings.append(f"spec.security.auth.guestAccess {old!r} replaced by {new}: the operator's auth "
                               f"component fails on anything but Enabled, Disabled or Managed")
    if old != new:
        auth["guestAccess"] = new
        report.add("set spec.security.auth.guestAccess")


def _user_issuer(sc: dict, ss: dict) -> tuple[str | None, str]:
    """The issuer the StorageCluster already sets, as portworx.go `setSecuritySpecDefaults` reads
    it: selfSigned.issuer, else a literal spec.env PORTWORX_AUTH_JWT_ISSUER."""
    if isinstance(ss.get("issuer"), str) and ss["issuer"]:
        return ss["issuer"], "spec.security.auth.selfSigned.issuer"
    env = sc.get("env") if isinstance(sc.get("env"), list) else []
    for e in env:
        if isinstance(e, dict) and e.get("name") == px.SETTINGS["jwt_issuer"][1] and isinstance(e.get("value"), str) \
                and e["value"]:
            return e["value"], f"spec.env {px.SETTINGS['jwt_issuer'][1]}"
    return None, ""


def _security(sc: dict, spec: Spec, loc, report: c.Report) -> None:
    sec = c.child(sc, "security", dict, loc, "spec.security")
    if sec.get("enabled") is not True:
        sec["enabled"] = True
        report.add("set spec.security.enabled")
    auth = c.child(sec, "auth", dict, loc, "spec.security.auth")
    if "enabled" in auth and auth["enabled"] is not True:
        auth["enabled"] = True
        report.add("set spec.security.auth.enabled")
    _guest_access(auth, spec, report)
    wanted = {}
    if spec.self_signed:
        wanted["issuer"] = spec.self_signed.issuer
    if spec.token_lifetime:
        wanted["tokenLifetime"] = spec.token_lifetime
    # Always an operator-owned Secret: the operator rewrites (and may delete) the one named here.
    wanted["sharedSecret"] = px.DEFAULT_SHARED_SECRET
    ss = c.child(auth, "selfSigned", dict, loc, "spec.security.auth.selfSigned")
    old = ss.get("sharedSecret")
    if old not in (None, px.DEFAULT_SHARED_SECRET):
        report.warnings.append(operator_secrets.renamed_warning(old))
    issuer, where = _user_issuer(sc, ss)
    if "issuer" in wanted and issuer is not None and issuer != wanted["issuer"]:
        report.warnings.append(f"{where} {issuer} replaced by {wanted['issuer']} (the pxsec spec's "
                               f"selfSigned.issuer): tokens issued for {issuer} stop working")
    life = ss.get("tokenLifetime")
    if "tokenLifetime" in wanted and life is not None and life != wanted["tokenLifetime"]:
        report.warnings.append(f"spec.security.auth.selfSigned.tokenLifetime {life} replaced by "
                               f"{wanted['tokenLifetime']} (the pxsec spec's tokenLifetime)")
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
    if (s, spec.key_system) != (px.OPERATOR_SYSTEM_SECRET, px.OPERATOR_SYSTEM_KEY):
        seeds.append(c.secret_ref(px.SYSTEM_KEY, s, spec.key_system))
    else:
        remove.append(px.SYSTEM_KEY)
    if spec.stork_enabled and (s, spec.key_stork) != (px.OPERATOR_SYSTEM_SECRET, px.OPERATOR_APPS_KEY):
        seeds.append(c.secret_ref(px.APPS_KEY, s, spec.key_stork))
    else:
        remove.append(px.APPS_KEY)
    if spec.uses_shared_secret and (s, spec.key_jwt_shared_secret) != (px.DEFAULT_SHARED_SECRET,
                                                                         px.OPERATOR_SHARED_SECRET_KEY):
        seeds.append(c.secret_ref(px.SHARED_KEY, s, spec.key_jwt_shared_secret))
    else:
        remove.append(px.SHARED_KEY)
    # The operator sets these itself (STORK_KEY before PX 2.6) or they are args here.
    remove += [px.STORK_KEY] + [n for n in px.FLAG_ENV_TWINS if n != px.SETTINGS["jwt_issuer"][1]]
    if spec.self_signed:
        remove.append(px.SETTINGS["jwt_issuer"][1])  # selfSigned.issuer is authoritative
    for entry in seeds:
        report.add(c.set_env(env, entry, loc, "spec.env"))
    report.changes += c.remove_env(env, remove, loc, "spec.env")
    if absent and not env:
        del sc["env"]
    return [e["name"] for e in seeds]


def _nodes(sc: dict, spec: Spec, paths: dict[str, str], loc, report: c.Report) -> None:
    """Per-node overrides must not make some nodes differently secured than others.

    The CRD says `spec.nodes[].miscArgs` "overrides/adds onto" the annotation: where it replaces
    it, those nodes would lose the security flags, so they carry the same flags (same values)."""
    nodes = c.child(sc, "nodes", list, loc, "spec.nodes", create=False) or []
    for i, node in enumerate(nodes):
        if not isinstance(node, dict):
            continue
        env = c.child(node, "env", list, loc, f"spec.nodes[{i}].env", create=False)
        if env:
            names = [n for n in px.SECRET_ENV + px.FLAG_ENV_TWINS if n != px.STORK_SECRET]
            report.changes += [f"{ch} in spec.nodes[{i}]" for ch in c.remove_env(env, names, loc, f"spec.nodes[{i}].env")]
        misc = node.get("miscArgs")
        if misc is None or misc == "":
            continue
        wanted = c.wanted_flags(spec, paths, with_issuer=False)
        new, changes = _edit_args(misc, wanted, loc, f"spec.nodes[{i}].miscArgs")
        if new is not None:
            node["miscArgs"] = new
            report.changes += [f"{ch} in spec.nodes[{i}].miscArgs" for ch in changes]
        if wanted:
            report.warnings.append(
                f"spec.nodes[{i}].miscArgs may replace the cluster's {px.MISC_ARGS} on those nodes, so pxsec puts "
                f"the same security flags there too; keep them when you edit it")


def _volumes(sc: dict, spec: Spec, loc, report: c.Report) -> dict[str, str]:
    keys = c.pubkeys(spec)
    absent = sc.get("volumes") is None
    volumes = c.child(sc, "volumes", list, loc, "spec.volumes")
    keep, paths = set(), {}
    for kind, ref in keys.items():
        vname, mount_path, _ = px.PUBKEY_MOUNTS[kind]
        keep.add(vname)
        paths[kind] = c.pubkey_path(kind, ref.key)
        vol = c.secret_volume(vname, ref.secret_name, ref.key)
        vol.update({"mountPath": mount_path, "readOnly": True})
        report.add(c.set_named(volumes, vol, "volume"))
    report.changes += c.remove_named(volumes, keep, "volume")
    if absent and not volumes:
        del sc["volumes"]
    return paths


def _pin(holder: dict, what: str, issuer: str | None, loc, report: c.Report) -> None:
    """Pin a component's PX_SHARED_SECRET (the operator's apps key) and PX_JWT_ISSUER to the pair the
    operator gives Portworx; with no knowable issuer, leave both to the operator (Stork) or keep
    only the operator's own key reference (autopilot: `component/autopilot.go` sets no issuer)."""
    path = f"spec.{what}.env"
    absent = holder.get("env") is None
    env = c.child(holder, "env", list, loc, path)
    key = c.secret_ref(px.STORK_SECRET, px.OPERATOR_SYSTEM_SECRET, px.OPERATOR_APPS_KEY)
    if issuer is not None:
        wanted, drop = [key, c.literal(px.STORK_ISSUER_ENV, issuer)], []
    elif what == "autopilot":
        wanted, drop = [key], [px.STORK_ISSUER_ENV]
    else:
        wanted, drop = [], [px.STORK_SECRET, px.STORK_ISSUER_ENV]
    for entry in wanted:
        change = c.set_env(env, entry, loc, path)
        report.add(change and type(change)(f"{change} in {path}"))  # keeps LiteralSecretReplaced
    report.changes += [f"{ch} in {path}" for ch in c.remove_env(env, drop, loc, path)]
    if absent and not env:
        del holder["env"]


def _unknown_version_warning(what: str, obj: dict) -> str:
    ignored = px_version.ignored_annotation(obj)
    if ignored is not None:
        return (f"spec.image has no tag: the operator appends its release manifest's version and ignores "
                f"{px.PX_VERSION_ANNOTATION} {ignored}; pxsec leaves {what}'s issuer to the operator (tag "
                f"spec.image to pin it)")
    return (f"cannot tell which Portworx version the operator will run (no version in spec.image, a "
            f"{px.PX_IMAGE_ENV} value, the {px.PX_VERSION_ANNOTATION} annotation or {px.PX_RELEASE_MANIFEST_ENV}), "
            f"so not which "
            f"issuer it pairs with {what}'s key: pxsec leaves {what}'s issuer to the operator")


def runs_stork(sc: dict) -> bool:
    """SetDefaultsOnStorageCluster enables Stork when `spec.stork` is absent."""
    return sc.get("stork") is None or (isinstance(sc.get("stork"), dict) and sc["stork"].get("enabled") is True)


def _stork(sc: dict, spec: Spec, obj: dict, loc, report: c.Report) -> None:
    if runs_stork(sc) and not spec.stork_enabled:
        # As for a Stork Deployment in a DaemonSet install (stork.py): a stale spec.stork.env would
        # win over the operator's pair (GetStorkEnvMap, then spec.stork.env), unpinned by pxsec.
        raise PxsecError("the StorageCluster runs Stork (spec.stork absent or enabled) but the pxsec spec has "
                         "stork.enabled: false; enable Stork in the pxsec spec or set spec.stork.enabled: false "
                         "here", c.at(loc, "spec.stork"))
    stork = sc.get("stork")
    if not isinstance(stork, dict) or stork.get("enabled") is not True or not spec.stork_enabled:
        return
    issuer = px_version.stork_issuer(obj)
    if issuer is None:
        report.warnings.append(_unknown_version_warning("Stork", obj))
    elif spec.stork_issuer_explicit and spec.stork_issuer != issuer:
        report.warnings.append(
            f"spec.stork.issuer {spec.stork_issuer} is ignored for the operator install: the operator "
            f"gives Portworx the key for {issuer}, so Stork uses that issuer")
    _pin(stork, "stork", issuer, loc, report)


def _node_versions(sc: dict, obj: dict, loc) -> None:
    """Stork and autopilot are one Deployment each, paired with the cluster-wide PX version; a node
    group whose `spec.nodes[].env` PX_IMAGE gives Portworx another issuer's key refuses them."""
    want = px_version.stork_issuer(obj)
    for i, node in enumerate(sc.get("nodes") if isinstance(sc.get("nodes"), list) else []):
        env = node.get("env") if isinstance(node, dict) else None
        if not isinstance(env, list) or not any(isinstance(e, dict) and e.get("name") == px.PX_IMAGE_ENV for e in env):
            continue
        group = px_version.with_node_env(obj, env)
        got = px_version.stork_issuer(group)
        if got != want:
            v, _ = px_version.portworx_version(group)
            ver = ".".join(map(str, v[0])) if v else "an unknown version"
            raise PxsecError(f"{px.PX_IMAGE_ENV} runs Portworx {ver} on this node group, which gets the key for "
                             f"{got or 'an issuer the operator picks'} while Stork/autopilot sign as "
                             f"{want or 'the operator picks'}: use one Portworx version for every node group",
                             c.at(loc, f"spec.nodes[{i}].env"))


def _autopilot(sc: dict, obj: dict, loc, report: c.Report) -> None:
    """The operator sets autopilot's PX_SHARED_SECRET only when `spec.autopilot.env` has none
    (component/autopilot.go `setDefaultAutopilotSecret`): a stale one would win, so pxsec owns it."""
    ap = sc.get("autopilot")
    if not isinstance(ap, dict):
        return
    env = ap.get("env") if isinstance(ap.get("env"), list) else []
    stale = any(isinstance(e, dict) and e.get("name") in (px.STORK_SECRET, px.STORK_ISSUER_ENV) for e in env)
    if ap.get("enabled") is not True and not stale:
        return
    issuer = px_version.stork_issuer(obj)
    if issuer is None and ap.get("enabled") is True:
        report.warnings.append(_unknown_version_warning("autopilot", obj))
    _pin(ap, "autopilot", issuer, loc, report)


def apply(obj: dict, spec: Spec, loc) -> c.Report:
    report = c.Report()
    meta = c.child(obj, "metadata", dict, loc, "metadata")
    sc = c.child(obj, "spec", dict, loc, "spec")
    operator_secrets.check_secret_name(spec, loc, report)
    _security(sc, spec, loc, report)
    seeded = _seed_env(sc, spec, loc, report)
    paths = _volumes(sc, spec, loc, report)
    _nodes(sc, spec, paths, loc, report)
    had_key, before = "annotations" in meta, meta.get("annotations")
    annotations = c.child(meta, "annotations", dict, loc, "metadata.annotations")
    _misc_args(annotations, loc, spec, paths, report)
    if before is None and not annotations:  # leave `annotations:` (null) or its absence as it was
        if had_key:
            meta["annotations"] = None
        else:
            del meta["annotations"]
    _stork(sc, spec, obj, loc, report)
    _autopilot(sc, obj, loc, report)
    if runs_stork(sc) or (isinstance(sc.get("autopilot"), dict) and sc["autopilot"].get("enabled") is True):
        _node_versions(sc, obj, loc)
    if report.changes:  # a second render of secured output stays quiet (issue 25)
        report.warnings += operator_warnings.warnings(obj, spec, loc)
    if not spec.uses_shared_secret:
        report.warnings.append(operator_secrets.always_hs256_warning(loc.namespace))
    if seeded:
        report.warnings.append(
            f"seeded {', '.join(seeded)} from Secret {spec.secret_name} through spec.env; if the operator's "
            f"Secrets ({px.OPERATOR_SYSTEM_SECRET}, {px.DEFAULT_SHARED_SECRET}) already exist in namespace "
            f"{loc.namespace or '(release namespace)'}, their values win over seeded ones")
    return report
