"""What `pxsec render` makes of a Portworx DaemonSet, a Stork Deployment and a StorageCluster
for a spec, read off render itself: the admission policy (policy.py) asks for exactly that.

Each expectation comes from running render's own filters (render/filters/portworx_daemonset.py,
render/filters/stork.py, render/filters/storagecluster.py) on a small probe object that already carries
every env var and px-runc flag pxsec owns (names from portworx.py): what the filter leaves is
what the spec asks for, what it removes is what the spec forbids. So the policy and render (and
`check --spec`, which compares with render) cannot drift apart. Nothing here reads a secret value.
"""
from __future__ import annotations

from collections import namedtuple

from . import portworx as px
from .errors import Location
from .render.filters import common as c
from .render.filters import portworx_daemonset, stork, storagecluster
from .spec import Spec

PROBE_VALUE = "pxsec-policy-probe"  # a value no spec holds: whatever is left of it was not render's
PROBE_IMAGE = "docker.io/portworx/oci-monitor:3.2.0"

# env: [(name, secret, key)] the container must take from a Secret; literal: [(name, value)];
# forbidden_env: names it must not set; flags: [(flag, value)] px-runc must get; forbidden_flags:
# owned flags it must not get; mounts: [(volume, mount path, secret, key)] public-key files.
Container = namedtuple("Container", "env literal forbidden_env flags forbidden_flags mounts")
# security: [(field path under spec.security, value)]; env/forbidden_env: spec.env;
# volumes: [(volume, mount path, secret, key)]; misc_flags: [(flag, value)] in portworx.io/misc-args;
# node_forbidden_env: names spec.nodes[].env must not set.
Cluster = namedtuple("Cluster", "security env forbidden_env volumes misc_flags node_forbidden_env")


def _loc(kind: str) -> Location:
    return Location(file="<policy probe>", index=0, kind=kind, name="probe", namespace="probe")


def _probe_env(names) -> list[dict]:
    return [{"name": n, "value": PROBE_VALUE} for n in names]


def _env_parts(env: list[dict], candidates) -> tuple[list, list, list]:
    """(secretKeyRef entries, literal entries, forbidden names) of an env list render made from
    a probe that set every candidate name to PROBE_VALUE."""
    refs, literals, kept = [], [], set()
    for e in env:
        name = e["name"]
        kept.add(name)
        ref = (e.get("valueFrom") or {}).get("secretKeyRef")
        if ref:
            refs.append((name, ref["name"], ref["key"]))
        elif e.get("value") not in (None, PROBE_VALUE):
            literals.append((name, e["value"]))
    forbidden = [n for n in candidates if n not in kept]
    return refs, literals, forbidden


def _flag_pairs(tokens: list) -> list[tuple[str, str]]:
    flags, _ = px.scan_flags(tokens, frozenset(px.OWNED_FLAGS))
    return [(f.flag, f.value) for f in flags]


def portworx_container(spec: Spec) -> Container:
    """The Portworx container of a DaemonSet after render (any pod template running Portworx)."""
    candidates = list(dict.fromkeys(px.OWNED_ENV))
    args: list = []
    for flag in px.OWNED_FLAGS:
        args += [flag, PROBE_VALUE]
    ct = {"name": "portworx", "image": PROBE_IMAGE, "env": _probe_env(candidates), "args": args}
    obj = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "probe", "namespace": "probe"},
           "spec": {"template": {"spec": {"containers": [ct]}}}}
    portworx_daemonset.apply(obj, spec, _loc("DaemonSet"))
    pod = obj["spec"]["template"]["spec"]
    ct = pod["containers"][0]
    refs, literals, forbidden = _env_parts(ct.get("env") or [], candidates)
    flags = _flag_pairs(ct.get("args") or [])
    kept = {f for f, _ in flags}
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    mounts = [(m["name"], m["mountPath"], volumes[m["name"]]["secret"]["secretName"],
               volumes[m["name"]]["secret"]["items"][0]["key"]) for m in ct.get("volumeMounts") or []]
    return Container(refs, literals, forbidden, flags, [f for f in px.OWNED_FLAGS if f not in kept], mounts)


def stork_container(spec: Spec) -> Container | None:
    """Stork's container after render; None when render refuses Stork (spec.stork.enabled: false)."""
    if not spec.stork_enabled:
        return None
    names = [px.STORK_SECRET, px.STORK_ISSUER_ENV]
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "stork", "namespace": "probe"},
           "spec": {"template": {"spec": {"containers": [{"name": "stork", "env": _probe_env(names)}]}}}}
    stork.apply(obj, spec, _loc("Deployment"))
    refs, literals, forbidden = _env_parts(obj["spec"]["template"]["spec"]["containers"][0]["env"], names)
    return Container(refs, literals, forbidden, [], [], [])


def _leaves(d: dict, path: tuple = ()) -> list[tuple[tuple, object]]:
    out = []
    for k, v in d.items():
        out += _leaves(v, path + (k,)) if isinstance(v, dict) else [(path + (k,), v)]
    return out


def storage_cluster(spec: Spec) -> Cluster:
    """A StorageCluster after render: spec.security, spec.env seeds, spec.volumes, misc-args."""
    env_names = list(dict.fromkeys(n for n in px.SECRET_ENV + px.FLAG_ENV_TWINS if n != px.STORK_SECRET))
    obj = {"apiVersion": "core.libopenstorage.org/v1", "kind": "StorageCluster",
           "metadata": {"name": "probe", "namespace": "probe"},
           "spec": {"image": "portworx/oci-monitor:3.2.0", "env": _probe_env(env_names),
                    "nodes": [{"env": _probe_env(env_names)}]}}
    if not spec.stork_enabled:  # a StorageCluster that runs no Stork, as render requires with this spec
        obj["spec"]["stork"] = {"enabled": False}
    storagecluster.apply(obj, spec, _loc("StorageCluster"))
    sc = obj["spec"]
    refs, _, forbidden = _env_parts(sc.get("env") or [], env_names)
    _, _, node_forbidden = _env_parts(sc["nodes"][0].get("env") or [], env_names)
    volumes = [(v["name"], v["mountPath"], v["secret"]["secretName"], v["secret"]["items"][0]["key"])
               for v in sc.get("volumes") or []]
    paths = {kind: c.pubkey_path(kind, ref.key) for kind, ref in c.pubkeys(spec).items()}
    misc = c.wanted_flags(spec, paths, with_issuer=False)
    return Cluster(_leaves(sc["security"]), refs, forbidden, volumes, misc, node_forbidden)
