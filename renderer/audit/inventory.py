"""The parsed stream as the rules see it: objects, and what each says about PX-Security.

Built once per check from `stream.Stream`: only Portworx, Stork, autopilot and other
pod-template documents are constructed (everything else stays composed). Each object keeps
its document and node path, so any field path resolves to a 1-based line in its file
(`Document.line + node.start_mark.line`). Nothing here judges; `rules.py` does.

Values are kept only where a rule compares them (issuers, flag values, Secret names/keys);
literal secret values are never stored, only the fact that a literal was given.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

import yaml

from .. import pipeline
from ..filters.autopilot import is_autopilot_container
from ..filters import common as c
from ..filters import goshlex
from ..filters.storagecluster import (MISC_ARGS, OPERATOR_APPS_KEY, OPERATOR_SHARED_SECRET_KEY,
                                      OPERATOR_SYSTEM_KEY, OPERATOR_SYSTEM_SECRET, stork_issuer_for)
from ..spec import Spec, build as build_spec
from ..stream import Document, Stream
from .model import finding

Path = tuple  # of str (mapping key) and int (sequence index)

SYSTEM_KEY = "PORTWORX_AUTH_SYSTEM_KEY"
STORK_KEY = "PORTWORX_AUTH_STORK_KEY"
APPS_KEY = "PORTWORX_AUTH_SYSTEM_APPS_KEY"
SHARED_KEY = "PORTWORX_AUTH_JWT_SHAREDSECRET"
PX_KEY_ENV = (SYSTEM_KEY, STORK_KEY, APPS_KEY, SHARED_KEY)
SECRET_ENV = tuple(c.SECRET_ENV)
SECRET_FLAGS = tuple(c.SECRET_FLAGS)
OPERATOR_ISSUER = "operator.portworx.io"
DEFAULT_SHARED_SECRET = "px-shared-secret"

# setting name -> (px-runc flag, env twin)
SETTINGS = {
    "jwt_issuer": ("-jwt_issuer", "PORTWORX_AUTH_JWT_ISSUER"),
    "rsa_file": ("-jwt_rsa_pubkey_file", "PORTWORX_AUTH_JWT_RSA_PUBKEY"),
    "ecds_file": ("-jwt_ecds_pubkey_file", "PORTWORX_AUTH_JWT_ECDS_PUBKEY"),
    "oidc_issuer": ("-oidc_issuer", "PORTWORX_AUTH_OIDC_ISSUER"),
    "oidc_client_id": ("-oidc_client_id", "PORTWORX_AUTH_OIDC_CLIENTID"),
    "oidc_namespace": ("-oidc_custom_claim_namespace", "PORTWORX_AUTH_OIDC_CUSTOM_NAMESPACE"),
    "username_claim": ("-username_claim", "PORTWORX_AUTH_USERNAME_CLAIM"),
}
FLAG_SETTING = {flag: name for name, (flag, _) in SETTINGS.items()}
ENV_SETTING = {env: name for name, (_, env) in SETTINGS.items()}

_POD_KINDS = {"DaemonSet", "Deployment", "StatefulSet", "ReplicaSet", "Job", "ReplicationController"}
PAIRING_KINDS = {"ClusterPair", "Migration", "MigrationSchedule"}


# ---------------------------------------------------------------------------- paths, lines

def field_path(path: Path) -> str:
    """`spec.template.spec.containers[0].env[2]`; keys with dots or slashes are quoted."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", p):
            out += f".{p}" if out else p
        else:
            out += f'["{p}"]'
    return out


def node_line(doc: Document, path: Path) -> int | None:
    """1-based line of the node at `path` (or of its nearest existing ancestor)."""
    where = node_position(doc, path)
    return where[0] if where else None


def node_position(doc: Document, path: Path) -> tuple[int, int] | None:
    """(1-based line, 1-based column) of the node at `path` (or of its nearest existing ancestor)."""
    node = doc.node
    if node is None:
        return None
    mark = node.start_mark
    for p in path:
        if isinstance(p, int):
            if not isinstance(node, yaml.SequenceNode) or not 0 <= p < len(node.value):
                break
            node = node.value[p]
            mark = node.start_mark
        else:
            hit = None
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == p:
                        hit = (k, v)  # last one wins, as when constructing
            if hit is None:
                break
            mark = hit[0].start_mark  # the key's line: where an editor shows `field:`
            node = hit[1]
    return doc.line + mark.line, mark.column + 1


# ---------------------------------------------------------------------------- objects

@dataclass
class Obj:
    """One Kubernetes object: a document, or an item of a List document."""

    doc: Document
    prefix: Path  # () for a document, ("items", i) for a List item
    data: dict
    role: str | None = None

    @property
    def kind(self) -> str | None:
        k = self.data.get("kind")
        return k if isinstance(k, str) else None

    @property
    def meta(self) -> dict:
        m = self.data.get("metadata")
        return m if isinstance(m, dict) else {}

    @property
    def name(self) -> str | None:
        n = self.meta.get("name")
        return n if isinstance(n, str) else None

    @property
    def namespace(self) -> str | None:
        n = self.meta.get("namespace")
        return n if isinstance(n, str) else None

    @property
    def label(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}"

    def annotations(self) -> dict:
        a = self.meta.get("annotations")
        return a if isinstance(a, dict) else {}

    def at(self, rule_id: str, path: Path, message: str):
        """A finding of `rule_id` at `path` inside this object."""
        full = self.prefix + tuple(path)
        line, column = node_position(self.doc, full) or (None, None)
        return finding(rule_id, message, file=self.doc.source, index=self.doc.index, kind=self.kind,
                       name=self.name, namespace=self.namespace, field=field_path(full) or None,
                       line=line, column=column)


def get(d: Any, *path) -> Any:
    for p in path:
        if isinstance(p, int):
            d = d[p] if isinstance(d, list) and 0 <= p < len(d) else None
        else:
            d = d.get(p) if isinstance(d, dict) else None
    return d


def as_list(v: Any) -> list:
    return v if isinstance(v, list) else []


def as_dict(v: Any) -> dict:
    return v if isinstance(v, dict) else {}


# ---------------------------------------------------------------------------- env, args, mounts

@dataclass(frozen=True)
class Env:
    """One env var: how it is given (never the value of a secret)."""

    name: str
    path: Path
    source: str  # "secret" | "literal" | "configmap" | "field" | "other"
    ref: tuple[str, str] | None = None  # (Secret name, key) for source == "secret"
    value: str | None = None  # the literal value, kept only for non-secret names

    @property
    def literal_ref(self) -> str | None:
        """`VAR` for a literal `$(VAR)`: Kubernetes expands it from another env var."""
        if self.source == "literal" and self.value:
            m = re.fullmatch(r"\$\(([-._A-Za-z0-9]+)\)", self.value)
            return m.group(1) if m else None
        return None


def read_env(env: Any, base: Path) -> dict[str, Env]:
    """name -> Env for a list of EnvVar (the last of a name wins, as in the kubelet)."""
    out: dict[str, Env] = {}
    for i, e in enumerate(as_list(env)):
        if not isinstance(e, dict) or not isinstance(e.get("name"), str):
            continue
        name, path = e["name"], base + (i,)
        vf = e.get("valueFrom")
        if isinstance(vf, dict) and isinstance(vf.get("secretKeyRef"), dict):
            ref = vf["secretKeyRef"]
            out[name] = Env(name, path, "secret", (str(ref.get("name")), str(ref.get("key"))))
        elif isinstance(vf, dict) and "configMapKeyRef" in vf:
            out[name] = Env(name, path, "configmap")
        elif isinstance(vf, dict):
            out[name] = Env(name, path, "field" if ("fieldRef" in vf or "resourceFieldRef" in vf) else "other")
        else:
            value = e.get("value")
            value = "" if value is None else str(value)
            keep = value if (name not in SECRET_ENV or re.fullmatch(r"\$\([-._A-Za-z0-9]+\)", value)) else None
            out[name] = Env(name, path, "literal", value=keep)
    return out


@dataclass(frozen=True)
class Setting:
    """A px-runc auth setting: from an argument, an env twin, or the misc-args annotation."""

    value: str | None  # None when given through valueFrom (unknown here)
    path: Path
    via: str  # "arg" | "env" | "misc-args" | "security"


def _flag_name(token: Any) -> str | None:
    if not isinstance(token, str) or not token.startswith("-"):
        return None
    name = token.split("=", 1)[0]
    return name[1:] if name.startswith("--") else name


def scan_args(tokens: list, want: tuple[str, ...]) -> dict[str, list[tuple[int, str | None]]]:
    """flag -> [(token index, value)] for each occurrence of a wanted flag."""
    out: dict[str, list[tuple[int, str | None]]] = {}
    i = 0
    while i < len(tokens):
        flag = _flag_name(tokens[i])
        if flag in want:
            if "=" in tokens[i]:
                value, step = tokens[i].split("=", 1)[1], 1
            else:
                nxt = tokens[i + 1] if i + 1 < len(tokens) else None
                value, step = (None if nxt is None else str(nxt)), 2
            out.setdefault(flag, []).append((i, value))
            i += step
            continue
        i += 1
    return out


def split_misc(text: Any) -> list[str] | None:
    """The px-runc args the operator reads (google/shlex, operator util.go `MiscArgs`); None when
    it cannot split them (it then ignores them all)."""
    if not isinstance(text, str):
        return None
    try:
        return goshlex.split(text)
    except goshlex.SplitError:
        return None


@dataclass(frozen=True)
class Mount:
    path: str  # mountPath
    kind: str  # volume source: "secret", "configMap", "hostPath", "emptyDir", "projected", ..., "unknown"
    volume: str | None
    items: tuple[str, ...] | None  # projected file names for secret/configMap volumes with `items`
    field: Path


def _volume_kind(vol: dict) -> tuple[str, tuple[str, ...] | None]:
    for kind in ("secret", "configMap", "hostPath", "emptyDir", "projected", "csi", "persistentVolumeClaim",
                 "downwardAPI", "ephemeral", "nfs"):
        if kind in vol:
            src = as_dict(vol.get(kind))
            items = src.get("items")
            paths = tuple(str(it.get("path")) for it in as_list(items) if isinstance(it, dict)) \
                if kind in ("secret", "configMap") and isinstance(items, list) else None
            return kind, paths
    return "unknown", None


# ---------------------------------------------------------------------------- profiles

@dataclass
class PxAuth:
    """What one Portworx workload (DaemonSet or StorageCluster) says about PX-Security."""

    obj: Obj
    operator: bool  # StorageCluster (the operator fills in keys and defaults)
    cluster: tuple  # grouping key: ("cluster", namespace, name) or ("namespace", namespace)
    enabled: bool  # an auth mode is configured (DS) / auth is on in spec.security (SC)
    anchor: Path  # where whole-workload findings point
    settings: dict[str, Setting] = field(default_factory=dict)
    env: dict[str, Env] = field(default_factory=dict)  # portworx container env / spec.env
    env_path: Path = ()
    keys: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # key env -> acceptable refs
    mounts: list[Mount] = field(default_factory=list)
    secret_args: list[tuple[Path, str]] = field(default_factory=list)  # (path, flag) of secrets in args
    stork_issuer: str | None = None  # SC: the issuer the operator gives Stork
    off_path: Path = ()  # SC: the field that turns auth off
    partial: list[str] = field(default_factory=list)  # what is missing for a working setup

    @property
    def jwt_issuer(self) -> str | None:
        s = self.settings.get("jwt_issuer")
        return s.value if s else None

    @property
    def model(self) -> frozenset[str]:
        out = set()
        if SHARED_KEY in self.keys or self.operator and self.enabled:
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


@dataclass
class StorkAuth:
    obj: Obj
    operator: bool  # spec.stork of a StorageCluster (the operator fills in what the user did not set)
    env: dict[str, Env]
    env_path: Path
    target_namespace: str | None
    sc: PxAuth | None = None


@dataclass
class Autopilot:
    obj: Obj
    env: dict[str, Env]
    env_path: Path


@dataclass
class EnvList:
    """Any env list in the stream (containers of every workload, StorageCluster env lists)."""

    obj: Obj
    path: Path
    env: dict[str, Env]


@dataclass
class Inventory:
    objects: list[Obj] = field(default_factory=list)
    portworx: list[PxAuth] = field(default_factory=list)
    stork: list[StorkAuth] = field(default_factory=list)
    autopilot: list[Autopilot] = field(default_factory=list)
    env_lists: list[EnvList] = field(default_factory=list)
    pairings: list[Obj] = field(default_factory=list)  # ClusterPair / Migration objects
    errors: list = field(default_factory=list)  # findings for documents that could not be read
    documents: list = field(default_factory=list)  # every document (rules_operator: Secrets, annotations)

    def workloads(self) -> int:
        """How many distinct Portworx, Stork and autopilot objects were looked at."""
        objs = [p.obj for p in self.portworx] + [s.obj for s in self.stork] + [a.obj for a in self.autopilot]
        return len({(o.doc.source, o.doc.index, o.prefix) for o in objs})

    def clusters(self) -> dict[tuple, list[PxAuth]]:
        out: dict[tuple, list[PxAuth]] = {}
        for p in self.portworx:
            out.setdefault(p.cluster, []).append(p)
        return out


# ---------------------------------------------------------------------------- building

def _pod_spec_path(obj: dict) -> Path | None:
    kind = obj.get("kind")
    if kind in _POD_KINDS:
        return ("spec", "template", "spec")
    if kind == "CronJob":
        return ("spec", "jobTemplate", "spec", "template", "spec")
    if kind == "Pod":
        return ("spec",)
    return None


def _containers(o: Obj) -> Iterator[tuple[Path, dict]]:
    base = _pod_spec_path(o.data)
    if base is None:
        return
    pod = get(o.data, *base)
    for key in ("initContainers", "containers"):
        for i, ct in enumerate(as_list(get(pod, key))):
            if isinstance(ct, dict):
                yield base + (key, i), ct


def _daemonset(o: Obj) -> PxAuth | None:
    from ..filters.portworx_daemonset import is_portworx_container

    pod_path = ("spec", "template", "spec")
    pod = as_dict(get(o.data, *pod_path))
    found = [(i, ct) for i, ct in enumerate(as_list(pod.get("containers")))
             if isinstance(ct, dict) and is_portworx_container(ct.get("name"), ct.get("image"))]
    if not found:
        return None
    i, ct = found[0]
    cpath = pod_path + ("containers", i)
    env = read_env(ct.get("env"), cpath + ("env",))
    # px-runc receives command + args as one list: flags in either count
    command = [a if isinstance(a, str) else str(a) for a in as_list(ct.get("command"))]
    args = [a if isinstance(a, str) else str(a) for a in as_list(ct.get("args"))]
    token_paths = [cpath + ("command", j) for j in range(len(command))] + [cpath + ("args", j) for j in range(len(args))]
    flags = scan_args(command + args, tuple(FLAG_SETTING) + SECRET_FLAGS + ("-c",))
    settings: dict[str, Setting] = {}
    for name, (flag, twin) in SETTINGS.items():
        if flag in flags:
            idx, value = flags[flag][-1]
            settings[name] = Setting(value, token_paths[idx], "arg")
        elif twin in env:
            e = env[twin]
            settings[name] = Setting(e.value if e.source == "literal" else None, e.path, "env")
    cluster = flags.get("-c", [(0, None)])[-1][1]
    keys = {n: {env[n].ref} for n in PX_KEY_ENV if n in env and env[n].ref}
    keys.update({n: set() for n in PX_KEY_ENV if n in env and not env[n].ref})  # literal: present, not comparable
    if "-jwt_shared_secret" in flags:
        keys.setdefault(SHARED_KEY, set())
    volumes = {v["name"]: v for v in as_list(pod.get("volumes")) if isinstance(v, dict) and isinstance(v.get("name"), str)}
    mounts = []
    for j, m in enumerate(as_list(ct.get("volumeMounts"))):
        if isinstance(m, dict) and isinstance(m.get("mountPath"), str):
            vol = volumes.get(m.get("name")) if isinstance(m.get("name"), str) else None
            kind, items = _volume_kind(vol) if vol else ("unknown", None)
            if m.get("subPath") and items is not None:
                items = None
            mounts.append(Mount(m["mountPath"], kind, m.get("name"), items, cpath + ("volumeMounts", j)))
    secret_args = [(token_paths[idx], flag) for flag in SECRET_FLAGS for idx, _ in flags.get(flag, [])]
    mode = any(k in settings for k in ("jwt_issuer", "oidc_issuer", "rsa_file", "ecds_file"))
    px = PxAuth(o, False, ("cluster", o.namespace, cluster) if cluster else ("namespace", o.namespace), mode,
                cpath, settings, env, cpath + ("env",), keys, mounts, secret_args)
    if mode and SYSTEM_KEY not in env and "-auth_system_key" not in flags:
        px.partial.append(f"{SYSTEM_KEY} is not set (Portworx requires the system key with authorization)")
    if not mode and (keys or secret_args):
        px.partial.append("auth keys are set but no issuer is configured (no -jwt_issuer, -oidc_issuer or "
                          "public-key file), so Portworx does not enable authorization")
    return px


def _storagecluster(o: Obj) -> PxAuth:
    spec = as_dict(o.data.get("spec"))
    sec = spec.get("security")
    auth = get(sec, "auth")
    enabled = get(sec, "enabled") is True and get(auth, "enabled") is not False
    off = ("spec", "security", "auth", "enabled") if get(sec, "enabled") is True else ("spec", "security", "enabled")
    env = read_env(spec.get("env"), ("spec", "env"))
    misc = split_misc(o.annotations().get(MISC_ARGS)) or []
    misc_path = ("metadata", "annotations", MISC_ARGS)
    flags = scan_args(misc, tuple(FLAG_SETTING) + SECRET_FLAGS)
    settings: dict[str, Setting] = {}
    for name, (flag, twin) in SETTINGS.items():
        if name == "jwt_issuer":
            continue  # the operator's own: below
        if flag in flags:
            settings[name] = Setting(flags[flag][-1][1], misc_path, "misc-args")
        elif twin in env:
            e = env[twin]
            settings[name] = Setting(e.value if e.source == "literal" else None, e.path, "env")
    ss = as_dict(get(auth, "selfSigned"))
    keys: dict[str, set[tuple[str, str]]] = {}
    stork_issuer = stork_issuer_for(o.data) if isinstance(o.data.get("spec"), dict) else "apps.portworx.io"
    if enabled:
        issuer = ss.get("issuer")
        if isinstance(issuer, str) and issuer:
            settings["jwt_issuer"] = Setting(issuer, ("spec", "security", "auth", "selfSigned", "issuer"), "security")
        elif "PORTWORX_AUTH_JWT_ISSUER" in env and env["PORTWORX_AUTH_JWT_ISSUER"].source == "literal":
            e = env["PORTWORX_AUTH_JWT_ISSUER"]
            settings["jwt_issuer"] = Setting(e.value, e.path, "env")
        else:
            settings["jwt_issuer"] = Setting(OPERATOR_ISSUER, ("spec", "security"), "security")
        shared = ss.get("sharedSecret") if isinstance(ss.get("sharedSecret"), str) and ss.get("sharedSecret") \
            else DEFAULT_SHARED_SECRET
        apps_env = APPS_KEY if stork_issuer == "apps.portworx.io" else STORK_KEY
        keys = {SYSTEM_KEY: {(OPERATOR_SYSTEM_SECRET, OPERATOR_SYSTEM_KEY)},
                apps_env: {(OPERATOR_SYSTEM_SECRET, OPERATOR_APPS_KEY)},
                SHARED_KEY: {(shared, OPERATOR_SHARED_SECRET_KEY)}}
        # spec.env seeds the operator's Secrets when it creates them: the seed's Secret/key is the same key.
        for seed, target in ((SYSTEM_KEY, SYSTEM_KEY), (APPS_KEY, apps_env), (SHARED_KEY, SHARED_KEY)):
            if seed in env and env[seed].ref:
                keys[target].add(env[seed].ref)
    mounts = [Mount("/etc/pwx", "hostPath", "etcpwx", None, ("spec",))]  # the operator always mounts it
    for j, v in enumerate(as_list(spec.get("volumes"))):
        if isinstance(v, dict) and isinstance(v.get("mountPath"), str):
            kind, items = _volume_kind(v)
            mounts.append(Mount(v["mountPath"], kind, v.get("name"), items, ("spec", "volumes", j)))
    secret_args = [(misc_path, flag) for flag in SECRET_FLAGS if flag in flags]
    px = PxAuth(o, True, ("cluster", o.namespace, o.name) if o.name else ("namespace", o.namespace), enabled,
                ("spec", "security") if isinstance(sec, dict) else ("spec",), settings, env, ("spec", "env"),
                keys, mounts, secret_args, stork_issuer, off)
    if not enabled and (any(n in env for n in PX_KEY_ENV) or any(s in settings for s in SETTINGS)):
        px.partial.append("auth settings are in spec.env or the misc-args annotation but spec.security does not "
                          "enable auth, so the operator neither creates the system keys nor wires Stork")
    return px


def _stork_from_sc(px: PxAuth) -> StorkAuth | None:
    stork = get(px.obj.data, "spec", "stork")
    if not isinstance(stork, dict) or stork.get("enabled") is False:
        return None
    return StorkAuth(px.obj, True, read_env(stork.get("env"), ("spec", "stork", "env")), ("spec", "stork", "env"),
                     px.obj.namespace, px)


def _env_lists(o: Obj) -> Iterator[EnvList]:
    for cpath, ct in _containers(o):
        yield EnvList(o, cpath + ("env",), read_env(ct.get("env"), cpath + ("env",)))
    if o.role == pipeline.STORAGECLUSTER:
        spec = as_dict(o.data.get("spec"))
        yield EnvList(o, ("spec", "env"), read_env(spec.get("env"), ("spec", "env")))
        for comp in ("stork", "autopilot"):
            yield EnvList(o, ("spec", comp, "env"), read_env(get(spec, comp, "env"), ("spec", comp, "env")))
        for i, node in enumerate(as_list(spec.get("nodes"))):
            yield EnvList(o, ("spec", "nodes", i, "env"), read_env(get(node, "env"), ("spec", "nodes", i, "env")))


def _objects(docs: list[Document], role_spec: Spec, errors: list) -> Iterator[Obj]:
    """Every object worth constructing: Portworx/Stork targets, pod workloads, pairing objects."""
    from ..errors import PxsecError

    for doc in docs:
        if doc.node is None or not isinstance(doc.node, yaml.MappingNode):
            continue
        role = pipeline.role_of_document(doc, role_spec)
        wanted = role in (pipeline.PORTWORX, pipeline.STORK, pipeline.AUTOPILOT, pipeline.STORAGECLUSTER,
                          pipeline.LIST) \
            or doc.kind in _POD_KINDS or doc.kind in ("CronJob", "Pod") or doc.kind in PAIRING_KINDS
        if not wanted:
            continue
        try:
            data = doc.construct()
        except PxsecError as e:
            errors.append(finding("PXS000", e.message, file=doc.source, index=doc.index, kind=doc.kind,
                                  name=doc.name, namespace=doc.namespace, line=doc.line))
            continue
        if not isinstance(data, dict):
            continue
        if role == pipeline.LIST:
            for i, item in enumerate(as_list(data.get("items"))):
                if isinstance(item, dict):
                    yield Obj(doc, ("items", i), item, pipeline.role_of_object(item, role_spec))
            continue
        yield Obj(doc, (), data, role if role != pipeline.SECRET else None)


def build(docs: list[Document]) -> Inventory:
    inv = Inventory(documents=list(docs))
    role_spec = build_spec({}, "<check>")  # roles of workloads do not depend on the spec
    for o in _objects(docs, role_spec, inv.errors):
        inv.objects.append(o)
        inv.env_lists.extend(_env_lists(o))
        if o.kind in PAIRING_KINDS and (o.data.get("apiVersion") or "").startswith("stork.libopenstorage.org/"):
            inv.pairings.append(o)
        if o.role == pipeline.PORTWORX:
            px = _daemonset(o)
            if px:
                inv.portworx.append(px)
        elif o.role == pipeline.STORAGECLUSTER:
            px = _storagecluster(o)
            inv.portworx.append(px)
            st = _stork_from_sc(px)
            if st:
                inv.stork.append(st)
        elif o.role == pipeline.STORK:
            from ..filters.stork import is_stork_container

            for cpath, ct in _containers(o):
                if cpath[-2] == "containers" and is_stork_container(ct.get("name"), ct.get("image")):
                    env = read_env(ct.get("env"), cpath + ("env",))
                    target = env.get("PX_NAMESPACE")
                    ns = target.value if target and target.source == "literal" and target.value else o.namespace
                    inv.stork.append(StorkAuth(o, False, env, cpath + ("env",), ns))
                    break
        elif o.role == pipeline.AUTOPILOT:
            for cpath, ct in _containers(o):
                if cpath[-2] == "containers" and is_autopilot_container(ct.get("name"), ct.get("image")):
                    inv.autopilot.append(Autopilot(o, read_env(ct.get("env"), cpath + ("env",)), cpath + ("env",)))
                    break
    return inv


def parse_sources(sources: list[tuple[str, str]]) -> tuple[list[Document], list]:
    """Documents of every source that parses, and a PXS000 finding for each that does not."""
    from ..errors import PxsecError

    docs: list[Document] = []
    errors = []
    for name, text in sources:
        try:
            docs.extend(Stream.from_sources([(name, text)]).documents)
        except PxsecError as e:
            m = re.match(r"line (\d+)(?:, column (\d+))?", e.message)
            last = max(1, len(text.splitlines()))  # an error at the end of the stream: the last line
            line = min(int(m.group(1)), last) if m else None
            column = int(m.group(2)) if m and m.group(2) and line == int(m.group(1)) else None
            errors.append(finding("PXS000", e.message, file=name, index=e.location.index, line=line,
                                  column=column))
    return docs, errors
