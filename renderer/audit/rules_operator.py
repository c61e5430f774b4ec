"""Rules about what the Portworx operator does with a StorageCluster, and secrets in annotations.

Each rule states the operator behaviour it relies on (libopenstorage/operator):
- PXS030: component/auth.go `createPrivateKeysSecret` / `Delete` rewrite and delete the Secrets
  it owns (`CreateOrAppendToSecret` drops labels, annotations, ownerReferences);
- PXS031: util.go `MiscArgs` splits misc-args with google/shlex; on an error deployment.go passes
  none of them, and a `#` word starts a comment;
- PXS032: util.go `GetPortworxVersion` / `GetStorkVersion` decide which key Portworx gets; a
  `spec.stork.env` / `spec.autopilot.env` issuer pinned without a readable version may be wrong;
- PXS033: component/autopilot.go `setDefaultAutopilotSecret` keeps a user PX_SHARED_SECRET;
- PXS034: any annotation carrying a key value (the DaemonSet chart's `portworx.com/helm-vars`);
- PXS035: Stork before 2.5.0 ignores PX_JWT_ISSUER (the operator requires 2.5.0 for the apps issuer);
- PXS036: `spec.nodes[].miscArgs` may replace the cluster's misc-args on those nodes;
- PXS040: component/auth.go `getPrivateKeyOrGenerate` reads each spec.env key seed with
  `GetValueFromEnvVar`: a seed from a key the operator never writes into its own Secret fails the
  auth component on every reconcile once that Secret exists;
- PXS041: deployment.go `getEnvList` overwrites spec.env PORTWORX_AUTH_JWT_ISSUER with
  selfSigned.issuer; `updateSystemGuestRole` fails on a guestAccess other than the three values;
- PXS042: component/portworx_sc.go creates default StorageClasses without token parameters (and
  `CreateStorageClass` keeps a class of that name already there);
- PXS043: `maintainAuthTokenSecret` makes only px-user-token, in the StorageCluster's namespace.
"""
from __future__ import annotations

from .. import goshlex, px_version
from ..render.filters import helm_vars, operator_storageclasses, operator_warnings
from .. import portworx as pw
from .inventory import Inventory
from ..errors import PxsecError
from .objects import as_list, field_path, get, node_position
from .reading import read_env, scan_args
from .model import Finding, finding

_MISC_PATH = ("metadata", "annotations", pw.MISC_ARGS)


def _operators(inv: Inventory):
    return [p for p in inv.portworx if p.operator]


def operator_owned_secret(inv: Inventory) -> list[Finding]:
    """PXS030: sharedSecret naming a non-default Secret; an operator-owned Secret kept in manifests."""
    out = []
    namespaces = {}
    for px in _operators(inv):
        shared = get(px.obj.data, "spec", "security", "auth", "selfSigned", "sharedSecret")
        owned = set(pw.OPERATOR_OWNED_SECRETS) | ({shared} if isinstance(shared, str) and shared else set())
        namespaces.setdefault(px.obj.namespace, set()).update(owned)
        if isinstance(shared, str) and shared and shared != pw.DEFAULT_SHARED_SECRET and px.enabled:
            out.append(px.obj.at("PXS030", ("spec", "security", "auth", "selfSigned", "sharedSecret"),
                                 f"selfSigned.sharedSecret names Secret {shared}: the operator rewrites it on every "
                                 f"reconcile (labels, annotations and ownerReferences dropped); use "
                                 f"{pw.DEFAULT_SHARED_SECRET} and seed it through spec.env {pw.SHARED_KEY}"))
    for doc in getattr(inv, "documents", []):
        if doc.kind != "Secret" or not doc.name:
            continue
        for ns, names in namespaces.items():
            if doc.name in names and (ns is None or doc.namespace is None or ns == doc.namespace):
                out.append(finding("PXS030", f"Secret {doc.name} is owned by the Portworx operator: it rewrites it "
                                   f"on every reconcile, dropping its labels, annotations and ownerReferences (so a "
                                   f"GitOps tool and the operator keep undoing each other), and deletes "
                                   f"{pw.OPERATOR_SYSTEM_SECRET}/{pw.DEFAULT_SHARED_SECRET} with the cluster under a "
                                   f"deleteStrategy",
                                   file=doc.source, index=doc.index, kind=doc.kind, name=doc.name,
                                   namespace=doc.namespace, line=doc.line))
                break
    return out


def misc_args_ignored(inv: Inventory) -> list[Finding]:
    """PXS031: misc-args the operator cannot split (all ignored), or security flags in a comment."""
    out = []
    for px in _operators(inv):
        texts = [(_MISC_PATH, px.obj.annotations().get(pw.MISC_ARGS))]
        texts += [(("spec", "nodes", i, "miscArgs"), get(n, "miscArgs"))
                  for i, n in enumerate(as_list(get(px.obj.data, "spec", "nodes")))]
        for path, text in texts:
            if not isinstance(text, str):
                continue
            try:
                _, comments = goshlex.tokens(text)
            except goshlex.SplitError as e:
                out.append(px.obj.at("PXS031", path, f"the operator cannot split these px-runc arguments "
                                     f"(google/shlex: {e}) and passes none of them to Portworx"))
                continue
            hidden = sorted({f for c in comments for f in scan_args(c.split(), pw.OWNED_FLAGS)})
            if hidden:
                out.append(px.obj.at("PXS031", path, f"{', '.join(hidden)} follow an unquoted '#': the operator reads "
                                     f"the rest of the line as a comment and ignores them"))
    return out


def _pinned(px, comp: str):
    return read_env(get(px.obj.data, "spec", comp, "env"), ("spec", comp, "env"))


def component_issuer_unknown(inv: Inventory) -> list[Finding]:
    """PXS032: spec.stork.env / spec.autopilot.env pin an issuer while the PX version is unreadable,
    or pin one that does not pair with the key the operator gives Portworx."""
    out = []
    for px in _operators(inv):
        if not px.enabled:
            continue
        want = px_version.stork_issuer(px.obj.data)
        for comp in ("stork", "autopilot"):
            env = _pinned(px, comp)
            e = env.get(pw.STORK_ISSUER_ENV)
            if e is None or e.source != "literal":
                continue
            if want is None:
                out.append(px.obj.at("PXS032", e.path, f"spec.{comp}.env pins {pw.STORK_ISSUER_ENV} but the Portworx "
                                     f"version cannot be read (spec.image tag, {pw.PX_IMAGE_ENV}, "
                                     f"{pw.PX_VERSION_ANNOTATION}, {pw.PX_RELEASE_MANIFEST_ENV}): the operator "
                                     f"decides at run time which key Portworx gets, so this issuer may be refused; "
                                     f"leave it to the operator"))
            elif comp == "autopilot" and e.value != want:
                out.append(px.obj.at("PXS032", e.path, f"autopilot signs as {e.value} but the operator gives "
                                     f"Portworx the key for {want}"))
    return out


def autopilot_key_overridden(inv: Inventory) -> list[Finding]:
    """PXS033: spec.autopilot.env PX_SHARED_SECRET other than the operator's apps key."""
    out = []
    for px in _operators(inv):
        e = _pinned(px, "autopilot").get(pw.STORK_SECRET)
        if px.enabled and e is not None and e.source == "secret" \
                and e.ref != (pw.OPERATOR_SYSTEM_SECRET, pw.OPERATOR_APPS_KEY):
            out.append(px.obj.at("PXS033", e.path, f"autopilot's {pw.STORK_SECRET} is {e.ref[0]}/{e.ref[1]}, which "
                                 f"wins over the operator's {pw.OPERATOR_SYSTEM_SECRET}/{pw.OPERATOR_APPS_KEY}: "
                                 f"Portworx verifies autopilot with the latter, so autopilot's calls are refused"))
    return out


def _annotation_maps(data: dict, prefix: tuple):
    if not isinstance(data, dict):
        return
    yield prefix + ("metadata", "annotations"), get(data, "metadata", "annotations")
    yield prefix + ("spec", "template", "metadata", "annotations"), get(data, "spec", "template", "metadata",
                                                                        "annotations")
    kind = data.get("kind")
    for i, item in enumerate(as_list(data.get("items")) if isinstance(kind, str) and kind.endswith("List") else []):
        yield from _annotation_maps(item, prefix + ("items", i))


def secret_in_annotation(inv: Inventory) -> list[Finding]:
    """PXS034: a key value (env var or secret flag) inside any annotation of any object, read as
    Kubernetes decodes the document (`Document.view`)."""
    out = []
    needles = pw.SECRET_ENV + pw.SECRET_FLAGS
    for doc in getattr(inv, "documents", []):
        if doc.node is None or not any(n in doc.text for n in needles):
            continue
        try:
            data = doc.view()
        except PxsecError:
            continue  # unreadable: reported elsewhere
        for path, ann in _annotation_maps(data, ()):
            for key, value in (ann.items() if isinstance(ann, dict) else ()):
                names = helm_vars.secrets_in(value) if isinstance(value, str) else []
                if names:
                    at = path + (str(key),)
                    line, column = node_position(doc, at) or (doc.line, None)
                    out.append(finding("PXS034", f"annotation {key} carries the value of {', '.join(names)}: anyone "
                                       f"who can read this object can read the key (`pxsec render` removes it); "
                                       f"rotate the key", file=doc.source, index=doc.index, kind=doc.kind,
                                       name=doc.name, namespace=doc.namespace, field=field_path(at), line=line,
                                       column=column))
    return out


def stork_too_old_for_issuer(inv: Inventory) -> list[Finding]:
    """PXS035: a Stork image older than 2.5.0 with PX_JWT_ISSUER (it signs as stork.openstorage.io)."""
    out = []
    for st in inv.stork:
        if st.operator:
            image = get(st.obj.data, "spec", "stork", "image")
        else:  # env_path is the Stork container's path + ("env",)
            image = get(st.obj.data, *st.env_path[:-1], "image")
        tag = image.split(":")[-1] if isinstance(image, str) and ":" in image else None
        v = px_version.semver(tag) if tag else None
        e = st.env.get(pw.STORK_ISSUER_ENV)
        if v and not px_version.at_least(v, (2, 5, 0)) and e and e.source == "literal" \
                and e.value and e.value != pw.STORK_DEFAULT_ISSUER:
            out.append(st.obj.at("PXS035", e.path, f"Stork {tag} predates the release that reads "
                                 f"{pw.STORK_ISSUER_ENV}: it ignores {e.value} and signs as {pw.STORK_DEFAULT_ISSUER}; "
                                 f"upgrade Stork to 2.5.0 or later"))
    return out


def node_misc_args_without_security(inv: Inventory) -> list[Finding]:
    """PXS036: spec.nodes[].miscArgs without the security flags the cluster's misc-args carries."""
    out = []
    for px in _operators(inv):
        cluster = scan_args(goshlex_split(px.obj.annotations().get(pw.MISC_ARGS)), pw.OWNED_FLAGS)
        if not cluster:
            continue
        for i, node in enumerate(as_list(get(px.obj.data, "spec", "nodes"))):
            words = goshlex_split(get(node, "miscArgs"))
            if not words:
                continue
            missing = sorted(set(cluster) - set(scan_args(words, pw.OWNED_FLAGS)))
            if missing:
                out.append(px.obj.at("PXS036", ("spec", "nodes", i, "miscArgs"), f"spec.nodes[{i}].miscArgs lacks "
                                     f"{', '.join(missing)}: if it replaces the cluster's {pw.MISC_ARGS} on those "
                                     f"nodes (the CRD says it 'overrides/adds onto' them), they run without them"))
    return out


def goshlex_split(text) -> list[str]:
    if not isinstance(text, str):
        return []
    try:
        return goshlex.split(text)
    except goshlex.SplitError:
        return []


# --- issue 21: what keeps an operator install working once security is on -----------------------

# component/auth.go: the keys the operator writes into each Secret it owns
_WRITTEN = {pw.OPERATOR_SYSTEM_SECRET: (pw.OPERATOR_SYSTEM_KEY, pw.OPERATOR_APPS_KEY),
            pw.ADMIN_TOKEN_SECRET: (pw.TOKEN_KEY,), pw.USER_TOKEN_SECRET: (pw.TOKEN_KEY,)}
_SEEDS = (pw.SHARED_KEY, pw.SYSTEM_KEY, pw.APPS_KEY)
_GUEST = ("Enabled", "Disabled", "Managed")


def _shared_name(px) -> str:
    shared = get(px.obj.data, "spec", "security", "auth", "selfSigned", "sharedSecret")
    return shared if isinstance(shared, str) and shared else pw.DEFAULT_SHARED_SECRET


def operator_secret_seed_missing(inv: Inventory) -> list[Finding]:
    """PXS040: a spec.env key seed reading a key the operator never writes into its own Secret."""
    out = []
    for px in _operators(inv):
        if not px.enabled:
            continue
        written = {**_WRITTEN, _shared_name(px): (pw.OPERATOR_SHARED_SECRET_KEY,)}
        env = read_env(get(px.obj.data, "spec", "env"), ("spec", "env"))
        for name in _SEEDS:
            e = env.get(name)
            if e is None or e.source != "secret" or e.ref[0] not in written or e.ref[1] in written[e.ref[0]]:
                continue
            out.append(px.obj.at("PXS040", e.path, f"{name} is seeded from key {e.ref[1]} of {e.ref[0]}, a Secret the "
                                 f"operator writes with only {', '.join(written[e.ref[0]])}: once it exists, the auth "
                                 f"component fails on every reconcile (getPrivateKeyOrGenerate) and "
                                 f"{pw.ADMIN_TOKEN_SECRET}/{pw.USER_TOKEN_SECRET} stop being refreshed; keep your keys "
                                 f"in a Secret of your own"))
    return out


def user_setting_overridden(inv: Inventory) -> list[Finding]:
    """PXS041: a security value the user set that the operator overrides or rejects."""
    out = []
    for px in _operators(inv):
        if not px.enabled:
            continue
        issuer = get(px.obj.data, "spec", "security", "auth", "selfSigned", "issuer")
        e = read_env(get(px.obj.data, "spec", "env"), ("spec", "env")).get(pw.SETTINGS["jwt_issuer"][1])
        if isinstance(issuer, str) and issuer and e is not None and e.source == "literal" and e.value \
                and e.value != issuer:
            out.append(px.obj.at("PXS041", e.path, f"spec.env {pw.SETTINGS['jwt_issuer'][1]} {e.value} is "
                                 f"overwritten with selfSigned.issuer {issuer} (getEnvList): tokens issued for "
                                 f"{e.value} are refused"))
        guest = get(px.obj.data, "spec", "security", "auth", "guestAccess")
        if guest is not None and guest not in _GUEST:
            out.append(px.obj.at("PXS041", ("spec", "security", "auth", "guestAccess"), f"guestAccess {guest!r} is "
                                 f"not Enabled, Disabled or Managed: the operator's auth component fails on every "
                                 f"reconcile (updateSystemGuestRole)"))
    return out


def default_storageclasses_without_token(inv: Inventory) -> list[Finding]:
    """PXS042: guestAccess Disabled while the operator still makes its default StorageClasses."""
    out = []
    in_stream = {o.name for o in inv.storageclasses}
    for px in _operators(inv):
        if not px.enabled or not operator_warnings.storageclass_warning(px.obj.data):
            continue
        missing = [n for n, _, _ in operator_storageclasses.default_classes(px.obj.data) if n not in in_stream]
        if missing:
            shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
            out.append(px.obj.at("PXS042", ("spec", "security", "auth", "guestAccess"), f"the operator creates "
                                 f"StorageClasses {shown} without token parameters: with guestAccess Disabled their "
                                 f"PVCs fail; put secured ones of the same names in the manifests (pxsec render "
                                 f"does, with spec storageClasses)"))
    return out


def _token_refs(o) -> list[tuple[tuple, str, str | None]]:
    """(path, Secret name, namespace or None) of each token Secret a StorageClass names."""
    params = o.data.get("parameters") if isinstance(o.data.get("parameters"), dict) else {}
    pairs = [(pw.CSI_SECRET_PARAMS[i], pw.CSI_SECRET_PARAMS[i + 1]) for i in range(0, len(pw.CSI_SECRET_PARAMS), 2)]
    pairs.append(pw.INTREE_SECRET_PARAMS)
    out = []
    for name_key, ns_key in pairs:
        name, ns = params.get(name_key), params.get(ns_key)
        if isinstance(name, str) and name:
            out.append((("parameters", name_key), name, ns if isinstance(ns, str) and ns else None))
    return out


def operator_token_secret_missing(inv: Inventory) -> list[Finding]:
    """PXS043: in an operator install, a StorageClass token Secret the operator does not make and
    the manifests do not hold."""
    ops = [p for p in _operators(inv) if p.enabled]
    if not ops or any(not p.operator for p in inv.portworx):
        return []
    namespaces = {p.obj.namespace for p in ops}
    out = []
    for o in inv.storageclasses:
        seen = set()
        for path, name, ns in _token_refs(o):
            made = name == pw.USER_TOKEN_SECRET and ns in namespaces
            if made or (name, ns) in seen or (ns != pw.PVC_NAMESPACE and inv.data_sources("Secret", name, ns)):
                continue
            seen.add((name, ns))
            where = "each PVC namespace" if ns == pw.PVC_NAMESPACE else f"namespace {ns or '(unset)'}"
            theirs = ", ".join(sorted(n or "(release namespace)" for n in namespaces))
            out.append(o.at("PXS043", path, f"StorageClass {o.name} reads token Secret {name} in {where}: the "
                            f"operator makes only {pw.USER_TOKEN_SECRET} in namespace {theirs} "
                            f"(maintainAuthTokenSecret) and the manifests do not hold it"))
    return out


RULE_FUNCTIONS = (operator_owned_secret, misc_args_ignored, component_issuer_unknown, autopilot_key_overridden,
                  secret_in_annotation, stork_too_old_for_issuer, node_misc_args_without_security,
                  operator_secret_seed_missing, user_setting_overridden, default_storageclasses_without_token,
                  operator_token_secret_missing)
