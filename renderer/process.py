"""What runs: each container's effective environment and command line, as the kubelet builds them.

One model shared by render (which proves its own output with it) and check (whose rules read it),
so the two cannot disagree about what runs. Built from the object Kubernetes decodes, never from
text. The kubelet's rules (kubelet-and-stream-facts.md, each with the upstream function):

- environment (kubelet_pods.go `makeEnvironmentVariables`): `envFrom` sources first, in order,
  later ones win, `prefix` prepended, keys that are not valid env names skipped; then `env` in
  order, an entry overriding any earlier variable of its name. A `value` is expanded with `$(NAME)`
  resolved against the variables defined *so far*; `valueFrom` reads a Secret or ConfigMap key,
  or the pod's own fields (`fieldRef`: metadata.annotations/labels are clear text in the manifest);
- `$(VAR)` expansion (third_party/forked/golang/expansion/expand.go `Expand`): `$$` is an escaped
  `$`, an undefined `$(NAME)` stays as written;
- command line (container/helpers.go `ExpandContainerCommandAndArgs`): `command` + `args`, each
  expanded with the container's *final* environment; px-runc reads its flags with
  `portworx.scan_flags` (nothing after `--` is a px-runc flag);
- a StorageCluster (operator deployment.go `getEnvList`, util.go `MiscArgs`): the operator's
  Portworx container gets `spec.env` merged with the node group's `env`, the security env when
  `spec.security.enabled`, and the args of `portworx.io/misc-args` (google/shlex) and the node
  group's `miscArgs`, which the kubelet then expands like any args.

Values of secrets are never read: a piece of a value that comes from a Secret is SECRET, a piece
that cannot be known from the manifests (a ConfigMap or Secret not in the stream, a field of the
running pod) is UNKNOWN. Only those marks, never the value, reach a message.
"""
from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any, Iterable, Iterator

from . import lazyre, portworx as px

SECRET = "\ue000"  # stands in for a piece of a value that comes from a Secret
UNKNOWN = "\ue001"  # stands in for a piece of a value that the manifests cannot tell

# where a variable comes from
LITERAL, FROM_SECRET, FROM_CONFIGMAP, FROM_FIELD, FROM_RESOURCE, FROM_UNKNOWN = (
    "literal", "secret", "configmap", "field", "resource", "unknown")

# kubelet: envFrom keys must be C identifiers-ish (validation.IsEnvVarName: [-._a-zA-Z][-._a-zA-Z0-9]*)
_ENV_NAME = lazyre.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*\Z")
# a downward-API field that names one annotation or label: `metadata.(annotations|labels)[KEY]`,
# KEY optionally quoted; field_key() reads it as re.match with FIELD_KEY did (a test holds them
# together), without a compile on every start
FIELD_KEY = r"metadata\.(annotations|labels)\[['\"]?(.*?)['\"]?\]\Z"
_QUOTES = "'\""


def field_key(field: str) -> tuple[str, str] | None:
    """(annotations|labels, KEY) for `metadata.annotations[KEY]` / `metadata.labels[KEY]`, one
    quote stripped from each end of KEY; None when the field is neither or KEY has a line break
    (re's `.`)."""
    for holder in ("annotations", "labels"):
        head = "metadata." + holder + "["
        if field.startswith(head) and field.endswith("]") and len(field) > len(head):
            key = field[len(head):-1]
            if "\n" in key:
                return None
            if key[:1] and key[0] in _QUOTES:
                key = key[1:]
            if key[-1:] and key[-1] in _QUOTES:
                key = key[:-1]
            return holder, key
    return None


# --- $(VAR) expansion (expand.go Expand, tryReadVariableName) --------------------------------------
def expand(text: str, lookup) -> tuple[str, tuple[str, ...]]:
    """`text` with `$(NAME)` replaced by `lookup(NAME)` (None: left as written) and `$$` by `$`, as
    the kubelet does; also the names that were replaced."""
    if "$" not in text:
        return text, ()
    out: list[str] = []
    used: list[str] = []
    checkpoint = cursor = 0
    n = len(text)
    while cursor < n:
        if text[cursor] == "$" and cursor + 1 < n:
            out.append(text[checkpoint:cursor])
            nxt = text[cursor + 1]
            if nxt == "$":
                out.append("$")
                advance = 1
            elif nxt == "(":
                close = text.find(")", cursor + 2)
                if close < 0:
                    out.append("$(")
                    advance = 1
                else:
                    name = text[cursor + 2:close]
                    value = lookup(name)
                    if value is None:
                        out.append(f"$({name})")
                    else:
                        out.append(value)
                        used.append(name)
                    advance = close - cursor
            else:
                out.append("$" + nxt)
                advance = 1
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    out.append(text[checkpoint:])
    return "".join(out), tuple(used)


# --- the stream's ConfigMaps and Secrets (what envFrom and *KeyRef can read) -------------------
class Sources:
    """The v1 ConfigMaps and Secrets of a stream: key names of each (a Secret's data and
    stringData: stringData wins on the API server, and only names are kept), and ConfigMap values.
    """

    def __init__(self):
        self._by: dict[tuple[str, str], list[tuple[str | None, dict]]] = {}

    def add(self, obj: Any) -> None:
        if not isinstance(obj, dict) or obj.get("apiVersion") != "v1" or obj.get("kind") not in ("ConfigMap", "Secret"):
            return
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        name, ns = meta.get("name"), meta.get("namespace")
        if not isinstance(name, str):
            return
        data: dict[str, str] = {}
        if obj["kind"] == "Secret":
            for field in ("data", "stringData"):
                d = obj.get(field)
                if isinstance(d, dict):
                    data.update({k: SECRET for k in d if isinstance(k, str)})
        else:
            d = obj.get("data")
            if isinstance(d, dict):
                data.update({k: (v if isinstance(v, str) else UNKNOWN) for k, v in d.items() if isinstance(k, str)})
            d = obj.get("binaryData")
            if isinstance(d, dict):
                data.update({k: UNKNOWN for k in d if isinstance(k, str)})
        self._by.setdefault((obj["kind"], name), []).append((ns if isinstance(ns, str) else None, data))

    def get(self, kind: str, name: Any, namespace: str | None) -> dict | None:
        """key -> value (SECRET for a Secret's keys) of the object envFrom/keyRef reads; None when
        it is not in the stream."""
        for ns, data in self._by.get((kind, name), ()) if isinstance(name, str) else ():
            if ns is None or namespace is None or ns == namespace:
                return data
        return None


# --- the model -------------------------------------------------------------------------------------
class Var:
    """One variable of a container's final environment: where it came from, never a secret value."""

    __slots__ = ("name", "source", "path", "ref", "value")

    def __init__(self, name: str, source: str, path: tuple, ref: tuple | None, value: str):
        self.name, self.source, self.path, self.ref, self.value = name, source, path, ref, value

    @property
    def secret(self) -> bool:
        """Its value carries (part of) a Secret's value."""
        return SECRET in self.value

    @property
    def unknown(self) -> bool:
        return UNKNOWN in self.value

    def describe(self) -> str:
        if self.source == FROM_SECRET and self.ref:
            return f"Secret {self.ref[0]} key {self.ref[1]}"
        return {LITERAL: "a literal value", FROM_CONFIGMAP: "a ConfigMap", FROM_FIELD: "a field of the pod",
                FROM_RESOURCE: "a resource field", FROM_UNKNOWN: "a source not in the input"}.get(self.source,
                                                                                             self.source)

    def __repr__(self) -> str:
        return f"Var({self.name}, {self.source})"


class Opaque:
    """An envFrom source that is not in the stream: it may define any variable under its prefix."""

    __slots__ = ("kind", "name", "prefix", "path", "order")

    def __init__(self, kind: str, name: Any, prefix: str, path: tuple, order: int):
        self.kind, self.name, self.prefix, self.path, self.order = kind, name, prefix, path, order


class Arg:
    """One element of the argv the process receives, after the kubelet's expansion."""

    __slots__ = ("text", "path", "refs")

    def __init__(self, text: str, path: tuple, refs: tuple[str, ...]):
        self.text, self.path, self.refs = text, path, refs

    @property
    def secret(self) -> bool:
        return SECRET in self.text

    @property
    def unknown(self) -> bool:
        return UNKNOWN in self.text


class Process:
    """One container as it runs: its role, environment and argv, with where each piece came from.

    `path` is the node path of the container (or of the StorageCluster's spec for the container the
    operator builds); Var.path and Arg.path are node paths inside the same object."""

    def __init__(self, role: str | None, path: tuple, name: Any, image: Any):
        self.role, self.path, self.name, self.image = role, path, name, image
        self.env: dict[str, Var] = {}
        self.opaque: list[Opaque] = []
        self.argv: list[Arg] = []
        self.operator = False  # built by the operator from a StorageCluster
        self.group: str | None = None  # StorageCluster node group (spec.nodes[i]) or None

    def flags(self, want: tuple[str, ...] | frozenset | None = None) -> tuple[list, int | None]:
        """portworx.scan_flags over the expanded argv."""
        return px.scan_flags([a.text for a in self.argv], want)

    def may_define(self, name: str) -> list[Opaque]:
        """envFrom sources not in the stream that could set `name` in the final environment: an
        `env` entry or a later known source overrides them."""
        var = self.env.get(name)
        if var is not None and var.source != FROM_UNKNOWN:
            return []
        return [o for o in self.opaque if name.startswith(o.prefix)]


def _lookup_in(env: dict[str, Var], opaque: list[Opaque]):
    def lookup(name: str) -> str | None:
        var = env.get(name)
        if var is not None:
            return var.value
        if any(name.startswith(o.prefix) for o in opaque):
            return UNKNOWN
        return None
    return lookup


def _field_value(field: Any, pod_meta: dict) -> str:
    if isinstance(field, str):
        named = field_key(field)
        if named:
            holder = pod_meta.get(named[0])
            value = holder.get(named[1]) if isinstance(holder, dict) else None
            return value if isinstance(value, str) else ""
    return UNKNOWN


def environment(ct: dict, path: tuple, namespace: str | None, sources: Sources, pod_meta: dict,
                proc: Process) -> None:
    """Fill proc.env/opaque with the container's final environment (makeEnvironmentVariables)."""
    env, opaque = proc.env, proc.opaque
    env_from = ct.get("envFrom")
    for j, src in enumerate(env_from if isinstance(env_from, list) else ()):
        if not isinstance(src, dict):
            continue
        prefix = src.get("prefix") if isinstance(src.get("prefix"), str) else ""
        for kind, field in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            ref = src.get(field)
            if not isinstance(ref, dict):
                continue
            data = sources.get(kind, ref.get("name"), namespace)
            where = path + ("envFrom", j)
            if data is None:  # not in the stream: it may set (or override) any name under its prefix
                opaque.append(Opaque(kind, ref.get("name"), prefix, where, j))
                for name in [n for n in env if n.startswith(prefix)]:
                    env[name] = Var(name, FROM_UNKNOWN, where, None, UNKNOWN)
                continue
            for key, value in data.items():
                name = prefix + key
                if not _ENV_NAME.match(name):
                    continue  # the kubelet skips invalid names (and reports an event)
                source = FROM_SECRET if kind == "Secret" else FROM_CONFIGMAP
                env[name] = Var(name, source, where, (ref.get("name"), key), value)
    items = ct.get("env")
    for i, e in enumerate(items if isinstance(items, list) else ()):
        if not isinstance(e, dict) or not isinstance(e.get("name"), str):
            continue
        name, where = e["name"], path + ("env", i)
        vf = e.get("valueFrom")
        if isinstance(vf, dict) and vf:
            var = _value_from(name, vf, where, namespace, sources, pod_meta)
        else:
            value = e.get("value")
            text = value if isinstance(value, str) else "" if value is None else str(value)
            expanded, _ = expand(text, _lookup_in(env, opaque))
            var = Var(name, LITERAL, where, None, expanded)
        env.pop(name, None)  # a later definition: last in order
        env[name] = var


def _value_from(name: str, vf: dict, where: tuple, namespace: str | None, sources: Sources, pod_meta: dict) -> Var:
    if isinstance(vf.get("secretKeyRef"), dict):
        ref = vf["secretKeyRef"]
        return Var(name, FROM_SECRET, where, (ref.get("name"), ref.get("key")), SECRET)
    if isinstance(vf.get("configMapKeyRef"), dict):
        ref = vf["configMapKeyRef"]
        data = sources.get("ConfigMap", ref.get("name"), namespace)
        value = data.get(ref.get("key"), UNKNOWN) if data is not None else UNKNOWN
        return Var(name, FROM_CONFIGMAP, where, (ref.get("name"), ref.get("key")), value)
    if isinstance(vf.get("fieldRef"), dict):
        field = vf["fieldRef"].get("fieldPath")
        return Var(name, FROM_FIELD, where, (field,) if isinstance(field, str) else None,
                   _field_value(field, pod_meta))
    if isinstance(vf.get("resourceFieldRef"), dict):
        return Var(name, FROM_RESOURCE, where, None, UNKNOWN)
    return Var(name, FROM_UNKNOWN, where, None, UNKNOWN)


def command_line(ct: dict, path: tuple, proc: Process) -> None:
    """proc.argv: command + args, expanded with the final environment (ExpandContainerCommandAndArgs).
    A container without `command` runs its image's entrypoint, which pxsec cannot see; px-runc's
    flags are in `args` then, as they are in every Portworx manifest."""
    lookup = _lookup_in(proc.env, proc.opaque)
    for key in ("command", "args"):
        items = ct.get(key)
        for i, item in enumerate(items if isinstance(items, list) else ()):
            text = item if isinstance(item, str) else "" if item is None else str(item)
            expanded, used = expand(text, lookup)
            proc.argv.append(Arg(expanded, path + (key, i), used))


# --- objects that run containers ------------------------------------------------------------------
def role_of_container(ct: dict) -> str | None:
    name, image = ct.get("name"), ct.get("image")
    if px.is_portworx_container(name, image):
        return px.PORTWORX
    if px.is_stork_container(name, image):
        return px.STORK
    if px.is_autopilot_container(name, image):
        return px.AUTOPILOT
    return None


def processes(obj: Any, sources: Sources | None = None) -> Iterator[Process]:
    """Every container the object would run (init containers included), as it would run; for a
    StorageCluster, the Portworx container the operator builds for each node group."""
    if not isinstance(obj, dict):
        return
    sources = sources or Sources()
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
    if px.classify(obj) == px.STORAGECLUSTER:
        yield from storagecluster(obj, sources)
        return
    for pod_path in px.pod_spec_paths(obj):
        pod = px.get(obj, *pod_path)
        if not isinstance(pod, dict):
            continue
        tmeta = px.get(obj, *pod_path[:-1], "metadata") if pod_path != ("spec",) else meta
        tmeta = tmeta if isinstance(tmeta, dict) else {}
        for key in ("initContainers", "containers"):
            items = pod.get(key)
            for i, ct in enumerate(items if isinstance(items, list) else ()):
                if not isinstance(ct, dict):
                    continue
                path = pod_path + (key, i)
                proc = Process(role_of_container(ct), path, ct.get("name"), ct.get("image"))
                environment(ct, path, namespace, sources, tmeta, proc)
                command_line(ct, path, proc)
                yield proc


def _misc_tokens(text: Any) -> list[str] | None:
    from . import goshlex  # the operator's own splitter (google/shlex)

    if not isinstance(text, str):
        return [] if text is None else None
    try:
        return goshlex.split(text)
    except goshlex.SplitError:
        return None


def operator_env(obj: dict) -> list[tuple[str, str, tuple | None, str]]:
    """(name, source, ref, value) the operator sets on the Portworx container when auth is on
    (deployment.go getEnvList, after the user's spec.env: these names are overwritten)."""
    sec = px.get(obj, "spec", "security")
    if not isinstance(sec, dict) or sec.get("enabled") is not True:
        return []
    auth = sec.get("auth") if isinstance(sec.get("auth"), dict) else {}
    if auth.get("enabled") is False:
        return []
    ss = auth.get("selfSigned") if isinstance(auth.get("selfSigned"), dict) else {}
    shared = ss.get("sharedSecret") if isinstance(ss.get("sharedSecret"), str) else px.DEFAULT_SHARED_SECRET
    issuer = ss.get("issuer") if isinstance(ss.get("issuer"), str) else px.OPERATOR_ISSUER
    from . import px_version  # which key the operator pairs with Stork

    stork_env = px.STORK_ISSUER_KEY_ENV.get(px_version.stork_issuer(obj) or px.APPS_ISSUER, px.APPS_KEY)
    return [(px.SHARED_KEY, FROM_SECRET, (shared, px.OPERATOR_SHARED_SECRET_KEY), SECRET),
            (px.SYSTEM_KEY, FROM_SECRET, (px.OPERATOR_SYSTEM_SECRET, px.OPERATOR_SYSTEM_KEY), SECRET),
            (px.SETTINGS["jwt_issuer"][1], LITERAL, None, issuer),
            (stork_env, FROM_SECRET, (px.OPERATOR_SYSTEM_SECRET, px.OPERATOR_APPS_KEY), SECRET)]


def storagecluster(obj: dict, sources: Sources) -> Iterator[Process]:
    """The Portworx container the operator builds, once for the cluster-wide spec and once per
    node group (spec.nodes[i]: its env merged over spec.env by name, its miscArgs added to the
    annotation's; overwriteClusterSpecWithNodeSpec)."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
    ann = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    misc = _misc_tokens(ann.get(px.MISC_ARGS))
    groups: list[tuple[tuple, dict | None]] = [(("spec",), None)]
    nodes = spec.get("nodes")
    groups += [(("spec", "nodes", i), n) for i, n in enumerate(nodes if isinstance(nodes, list) else ())
               if isinstance(n, dict)]
    added = operator_env(obj)
    for path, node in groups:
        proc = Process(px.PORTWORX, path, "portworx", spec.get("image"))
        proc.operator = True
        proc.group = None if node is None else ".".join(str(p) for p in path)
        ct: dict = {"env": list(spec.get("env") or []) if isinstance(spec.get("env"), list) else []}
        env_paths = [("spec", "env", i) for i in range(len(ct["env"]))]
        if node is not None and isinstance(node.get("env"), list):
            for i, e in enumerate(node["env"]):
                if isinstance(e, dict):
                    same = [k for k, x in enumerate(ct["env"]) if isinstance(x, dict) and x.get("name") == e.get("name")]
                    for k in reversed(same):
                        del ct["env"][k], env_paths[k]
                    ct["env"].append(e)
                    env_paths.append(path + ("env", i))
        tmp = Process(None, (), None, None)
        environment(ct, (), namespace, sources, meta, tmp)
        for name, var in tmp.env.items():  # re-home each variable to its real node path
            i = var.path[1] if len(var.path) > 1 and var.path[0] == "env" else None
            var.path = env_paths[i] if isinstance(i, int) and i < len(env_paths) else path
            proc.env[name] = var
        for name, source, ref, value in added:
            proc.env.pop(name, None)
            proc.env[name] = Var(name, source, ("spec", "security"), ref, value)
        lookup = _lookup_in(proc.env, proc.opaque)
        pieces: list[tuple[list[str] | None, tuple]] = [(misc, ("metadata", "annotations", px.MISC_ARGS))]
        if node is not None:
            pieces.append((_misc_tokens(node.get("miscArgs")), path + ("miscArgs",)))
        for tokens, where in pieces:
            for tok in tokens or ():
                expanded, used = expand(tok, lookup)
                proc.argv.append(Arg(expanded, where, used))
        yield proc


def field_path(path: tuple) -> str:
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


def referenced(obj: Any) -> set[tuple[str, Any]]:
    """(kind, name) of every ConfigMap and Secret the containers of an object read through envFrom or
    a *KeyRef (the StorageCluster's env lists too): what `Sources` must hold to model them."""
    out: set = set()
    lists: list = [ct for _, _, ct in px.containers(obj)]
    spec = obj.get("spec") if isinstance(obj, dict) and isinstance(obj.get("spec"), dict) else {}
    if px.classify(obj) == px.STORAGECLUSTER:
        nodes = spec.get("nodes")
        lists = [spec] + [n for n in (nodes if isinstance(nodes, list) else ()) if isinstance(n, dict)]
    for ct in lists:
        for src in ct.get("envFrom") if isinstance(ct.get("envFrom"), list) else ():
            for kind, field in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                if isinstance(src, dict) and isinstance(src.get(field), dict):
                    out.add((kind, src[field].get("name")))
        for e in ct.get("env") if isinstance(ct.get("env"), list) else ():
            vf = e.get("valueFrom") if isinstance(e, dict) else None
            if isinstance(vf, dict) and isinstance(vf.get("configMapKeyRef"), dict):
                out.add(("ConfigMap", vf["configMapKeyRef"].get("name")))
    return out


def sources_of(objects: Iterable[Any]) -> Sources:
    out = Sources()
    for obj in objects:
        out.add(obj)
    return out
