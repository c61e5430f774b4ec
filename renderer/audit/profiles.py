"""Workload profiles: what one Portworx DaemonSet, StorageCluster, Stork or autopilot object
says about PX-Security, read the way Portworx, px-runc and the operator read it.

Nothing here judges; the rules do. Every name comes from `renderer/portworx.py`.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any, Iterator

from .. import portworx as px, process, px_version
from .objects import Obj, Path, as_dict, as_list, get
from .reading import Env, Mount, Setting, env_of, read_env, scan_args, split_misc, volume_kind

MODE_SETTINGS = ("jwt_issuer", "oidc_issuer", "rsa_file", "ecds_file")  # any one turns authorization on


class PxAuth:
    """What one Portworx workload (DaemonSet or StorageCluster) says about PX-Security."""

    def __init__(self, obj: Obj, operator: bool, cluster: tuple, enabled: bool, anchor: Path,
                 settings: dict[str, Setting] | None = None, env: dict[str, Env] | None = None, env_path: Path = (),
                 keys: dict[str, set[tuple[str, str]]] | None = None, mounts: list[Mount] | None = None,
                 secret_args: list[tuple[Path, str]] | None = None, stork_issuer: str | None = None,
                 off_path: Path = (), partial: list[str] | None = None):
        self.obj = obj
        self.operator = operator  # StorageCluster (the operator fills in keys and defaults)
        self.cluster = cluster  # grouping key: ("cluster", namespace, name) or ("namespace", namespace)
        self.enabled = enabled  # an auth mode is configured (DS) / auth is on in spec.security (SC)
        self.anchor = anchor  # where whole-workload findings point
        self.settings = {} if settings is None else settings
        self.env = {} if env is None else env  # portworx container env / spec.env
        self.env_path = env_path
        self.keys = {} if keys is None else keys  # key env -> acceptable refs
        self.mounts = [] if mounts is None else mounts
        self.secret_args = [] if secret_args is None else secret_args  # (path, flag) of secrets in args
        self.stork_issuer = stork_issuer  # SC: the issuer the operator gives Stork
        self.off_path = off_path  # SC: the field that turns auth off
        self.partial = [] if partial is None else partial  # what is missing for a working setup

    @property
    def jwt_issuer(self) -> str | None:
        s = self.settings.get("jwt_issuer")
        return s.value if s else None

    @property
    def model(self) -> frozenset[str]:
        out = set()
        if px.SHARED_KEY in self.keys or self.operator and self.enabled:
            out.add("shared-secret")
        if "rsa_file" in self.settings:
            out.add("rsa")
        if "ecds_file" in self.settings:
            out.add("ecdsa")
        if "oidc_issuer" in self.settings:
            out.add("oidc")
        return frozenset(out)

    def issuers(self) -> tuple:
        return tuple((k, self.settings[k].value) for k in ("jwt_issuer", "oidc_issuer", "oidc_client_id")
                     if k in self.settings)


class StorkAuth:
    """What one Stork Deployment (or a StorageCluster's spec.stork) says about PX-Security."""

    def __init__(self, obj: Obj, operator: bool, env: dict[str, Env], env_path: Path, target_namespace: str | None,
                 sc: PxAuth | None = None):
        self.obj = obj
        self.operator = operator  # spec.stork of a StorageCluster (the operator fills in what the user did not set)
        self.env = env
        self.env_path = env_path
        self.target_namespace = target_namespace
        self.sc = sc


class Autopilot:
    """An autopilot Deployment's env."""

    def __init__(self, obj: Obj, env: dict[str, Env], env_path: Path):
        self.obj, self.env, self.env_path = obj, env, env_path


class EnvList:
    """Any env list in the stream (containers of every workload, StorageCluster env lists)."""

    def __init__(self, obj: Obj, path: Path, env: dict[str, Env]):
        self.obj, self.path, self.env = obj, path, env


def containers(o: Obj, keys: tuple[str, ...] = ("initContainers", "containers")) -> Iterator[tuple[Path, dict]]:
    """(path, container) of every container of the object's pod spec (portworx.containers)."""
    paths = px.pod_spec_paths(o.data)
    if not paths:
        return
    base = paths[0]
    for key, i, ct in px.containers(o.data, keys):
        yield base + (key, i), ct


def daemonset(o: Obj, sources: Any = None) -> PxAuth | None:
    """The profile of the first Portworx container of a pod workload (a DaemonSet, as Portworx runs),
    read off the process the kubelet starts (process.py): the final environment and the argv after
    `$(VAR)` expansion."""
    if px.POD_SPEC_PATHS.get(o.kind or "") != px.POD_SPEC_PATHS["DaemonSet"]:
        return None  # a Pod or CronJob running Portworx: the refusal rule reports it
    found = [(cpath, ct) for cpath, ct in containers(o, ("containers",))
             if px.is_portworx_container(ct.get("name"), ct.get("image"))]
    if not found:
        return None
    cpath, ct = found[0]
    pod = as_dict(get(o.data, *cpath[:-2]))
    proc = next(p for p in process.processes(o.data, sources) if p.path == cpath)
    env = env_of(proc)
    # px-runc receives command + args as one list, expanded by the kubelet: flags in either count
    token_paths = [a.path for a in proc.argv]
    flags = scan_args([a.text for a in proc.argv], px.OWNED_FLAGS + ("-c",))
    settings: dict[str, Setting] = {}
    for name, (flag, twin) in px.SETTINGS.items():
        if flag in flags:
            idx, value = flags[flag][-1]
            settings[name] = Setting(value, token_paths[idx], "arg")
        elif twin in env:
            e = env[twin]
            settings[name] = Setting(e.value if e.source == "literal" else None, e.path, "env")
    cluster = flags.get("-c", [(0, None)])[-1][1]
    keys = {n: {env[n].ref} for n in px.PX_KEY_ENV if n in env and env[n].ref}
    keys.update({n: set() for n in px.PX_KEY_ENV if n in env and not env[n].ref})  # literal: present, not comparable
    if px.SHARED_SECRET_FLAG in flags:
        keys.setdefault(px.SHARED_KEY, set())
    volumes = {v["name"]: v for v in as_list(pod.get("volumes")) if isinstance(v, dict) and isinstance(v.get("name"), str)}
    mounts = []
    for j, m in enumerate(as_list(ct.get("volumeMounts"))):
        if isinstance(m, dict) and isinstance(m.get("mountPath"), str):
            vol = volumes.get(m.get("name")) if isinstance(m.get("name"), str) else None
            kind, items = volume_kind(vol) if vol else ("unknown", None)
            if m.get("subPath") and items is not None:
                items = None
            mounts.append(Mount(m["mountPath"], kind, m.get("name"), items, cpath + ("volumeMounts", j)))
    secret_args = [(token_paths[idx], flag) for flag in px.SECRET_FLAGS for idx, _ in flags.get(flag, [])]
    mode = any(k in settings for k in MODE_SETTINGS)
    auth = PxAuth(o, False, ("cluster", o.namespace, cluster) if cluster else ("namespace", o.namespace), mode,
                  cpath, settings, env, cpath + ("env",), keys, mounts, secret_args)
    if mode and px.SYSTEM_KEY not in env and px.SYSTEM_KEY_FLAG not in flags:
        auth.partial.append(f"{px.SYSTEM_KEY} is not set (Portworx requires the system key with authorization)")
    if not mode and (keys or secret_args):
        auth.partial.append(f"auth keys are set but no issuer is configured (no {px.SETTINGS['jwt_issuer'][0]}, "
                            f"{px.SETTINGS['oidc_issuer'][0]} or public-key file), so Portworx does not enable "
                            "authorization")
    return auth


def _sc_jwt_issuer(selfsigned: dict, env: dict[str, Env]) -> Setting:
    """The issuer the operator configures: selfSigned.issuer, a literal env twin, or its own."""
    twin = px.SETTINGS["jwt_issuer"][1]
    issuer = selfsigned.get("issuer")
    if isinstance(issuer, str) and issuer:
        return Setting(issuer, ("spec", "security", "auth", "selfSigned", "issuer"), "security")
    if twin in env and env[twin].source == "literal":
        return Setting(env[twin].value, env[twin].path, "env")
    return Setting(px.OPERATOR_ISSUER, ("spec", "security"), "security")


def storagecluster(o: Obj) -> PxAuth:
    spec = as_dict(o.data.get("spec"))
    sec = spec.get("security")
    auth = get(sec, "auth")
    enabled = get(sec, "enabled") is True and get(auth, "enabled") is not False
    off = ("spec", "security", "auth", "enabled") if get(sec, "enabled") is True else ("spec", "security", "enabled")
    env = read_env(spec.get("env"), ("spec", "env"))
    misc = split_misc(o.annotations().get(px.MISC_ARGS)) or []
    misc_path = ("metadata", "annotations", px.MISC_ARGS)
    flags = scan_args(misc, px.OWNED_FLAGS)
    settings: dict[str, Setting] = {}
    for name, (flag, twin) in px.SETTINGS.items():
        if name == "jwt_issuer":
            continue  # the operator's own: below
        if flag in flags:
            settings[name] = Setting(flags[flag][-1][1], misc_path, "misc-args")
        elif twin in env:
            e = env[twin]
            settings[name] = Setting(e.value if e.source == "literal" else None, e.path, "env")
    ss = as_dict(get(auth, "selfSigned"))
    keys: dict[str, set[tuple[str, str]]] = {}
    stork_issuer = (px_version.stork_issuer(o.data) or px.APPS_ISSUER) \
        if isinstance(o.data.get("spec"), dict) else px.APPS_ISSUER
    if enabled:
        settings["jwt_issuer"] = _sc_jwt_issuer(ss, env)
        shared = ss.get("sharedSecret") if isinstance(ss.get("sharedSecret"), str) and ss.get("sharedSecret") \
            else px.DEFAULT_SHARED_SECRET
        apps_env = px.STORK_ISSUER_KEY_ENV.get(stork_issuer, px.APPS_KEY)
        keys = {px.SYSTEM_KEY: {(px.OPERATOR_SYSTEM_SECRET, px.OPERATOR_SYSTEM_KEY)},
                apps_env: {(px.OPERATOR_SYSTEM_SECRET, px.OPERATOR_APPS_KEY)},
                px.SHARED_KEY: {(shared, px.OPERATOR_SHARED_SECRET_KEY)}}
        # spec.env seeds the operator's Secrets when it creates them: the seed's Secret/key is the same key.
        for seed, target in ((px.SYSTEM_KEY, px.SYSTEM_KEY), (px.APPS_KEY, apps_env), (px.SHARED_KEY, px.SHARED_KEY)):
            if seed in env and env[seed].ref:
                keys[target].add(env[seed].ref)
    mounts = [Mount(px.PWX_DIR, "hostPath", px.OPERATOR_PWX_VOLUME, None, ("spec",))]  # the operator always mounts it
    for j, v in enumerate(as_list(spec.get("volumes"))):
        if isinstance(v, dict) and isinstance(v.get("mountPath"), str):
            kind, items = volume_kind(v)
            mounts.append(Mount(v["mountPath"], kind, v.get("name"), items, ("spec", "volumes", j)))
    secret_args = [(misc_path, flag) for flag in px.SECRET_FLAGS if flag in flags]
    auth_ = PxAuth(o, True, ("cluster", o.namespace, o.name) if o.name else ("namespace", o.namespace), enabled,
                   ("spec", "security") if isinstance(sec, dict) else ("spec",), settings, env, ("spec", "env"),
                   keys, mounts, secret_args, stork_issuer, off)
    if not enabled and (any(n in env for n in px.PX_KEY_ENV) or any(s in settings for s in px.SETTINGS)):
        auth_.partial.append("auth settings are in spec.env or the misc-args annotation but spec.security does not "
                             "enable auth, so the operator neither creates the system keys nor wires Stork")
    return auth_


def stork_from_storagecluster(auth: PxAuth) -> StorkAuth | None:
    stork = get(auth.obj.data, "spec", "stork")
    if not isinstance(stork, dict) or stork.get("enabled") is False:
        return None
    return StorkAuth(auth.obj, True, read_env(stork.get("env"), ("spec", "stork", "env")), ("spec", "stork", "env"),
                     auth.obj.namespace, auth)


def stork_deployment(o: Obj) -> StorkAuth | None:
    for cpath, ct in containers(o, ("containers",)):
        if px.is_stork_container(ct.get("name"), ct.get("image")):
            env = read_env(ct.get("env"), cpath + ("env",))
            target = env.get("PX_NAMESPACE")
            ns = target.value if target and target.source == "literal" and target.value else o.namespace
            return StorkAuth(o, False, env, cpath + ("env",), ns)
    return None


def autopilot_deployment(o: Obj) -> Autopilot | None:
    for cpath, ct in containers(o, ("containers",)):
        if px.is_autopilot_container(ct.get("name"), ct.get("image")):
            return Autopilot(o, read_env(ct.get("env"), cpath + ("env",)), cpath + ("env",))
    return None


def env_lists(o: Obj) -> Iterator[EnvList]:
    for cpath, ct in containers(o):
        yield EnvList(o, cpath + ("env",), read_env(ct.get("env"), cpath + ("env",)))
    if o.role == px.STORAGECLUSTER:
        spec = as_dict(o.data.get("spec"))
        yield EnvList(o, ("spec", "env"), read_env(spec.get("env"), ("spec", "env")))
        for comp in ("stork", "autopilot"):
            yield EnvList(o, ("spec", comp, "env"), read_env(get(spec, comp, "env"), ("spec", comp, "env")))
        for i, node in enumerate(as_list(spec.get("nodes"))):
            yield EnvList(o, ("spec", "nodes", i, "env"), read_env(get(node, "env"), ("spec", "nodes", i, "env")))
