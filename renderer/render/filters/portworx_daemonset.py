"""Portworx DaemonSet installs: secret env vars, px-runc args, public-key volumes.

Applies to every DaemonSet with a container named `portworx` or running
`portworx/oci-monitor`, whatever its name, namespace or apiVersion (node-pool DaemonSets too).
px-runc receives `command` + `args`: pxsec owns its flags in both (they are removed from
`command` and set in `args`). Shell-wrapped commands are refused before this filter runs
(portworx.refusal).
"""
from __future__ import annotations

from ... import portworx as px
from ...errors import PxsecError
from ...spec import Spec
from . import common as c
from . import helm_vars



def wanted_env(spec: Spec) -> tuple[list[dict], list[str]]:
    """(env entries to set, env names to remove) on the portworx container."""
    s = spec.secret_name
    env = [c.secret_ref(px.SYSTEM_KEY, s, spec.key_system)]
    stork_keys = list(px.STORK_ISSUER_KEY_ENV.values())
    if spec.stork_enabled:
        env.append(c.secret_ref(spec.stork_key_env, s, spec.key_stork))
    if spec.uses_shared_secret:
        env.append(c.secret_ref(px.SHARED_KEY, s, spec.key_jwt_shared_secret))
    setting = {e["name"] for e in env}
    remove = [n for n in stork_keys + [px.SHARED_KEY] + list(px.FLAG_ENV_TWINS)
              if n not in setting]
    return env, remove


def apply(obj: dict, spec: Spec, loc) -> c.Report:
    report = c.Report()
    pod, ct, cpath = c.single_container(obj, loc, px.is_portworx_container, "Portworx")
    absent = [(h, k) for h, k in ((ct, "env"), (ct, "args"), (ct, "volumeMounts"), (pod, "volumes"))
              if h.get(k) is None]
    env = c.child(ct, "env", list, loc, cpath + ("env",))
    want, remove = wanted_env(spec)
    for entry in want:
        report.add(c.set_env(env, entry, loc, cpath + ("env",)))
    report.changes += c.remove_env(env, remove, loc, cpath + ("env",))

    keys = c.pubkeys(spec)
    paths = {kind: c.pubkey_path(kind, ref.key) for kind, ref in keys.items()}
    args = c.child(ct, "args", list, loc, cpath + ("args",))
    command = ct.get("command")
    if command is not None:
        if not isinstance(command, list):
            raise PxsecError("expected a list", c.at(loc, cpath + ("command",)))
        report.changes += c.strip_command_flags(command, args, px.MANAGED_FLAGS + px.SECRET_FLAGS)
    report.changes += c.set_flags(args, c.wanted_flags(spec, paths, with_issuer=True),
                                  px.MANAGED_FLAGS + px.SECRET_FLAGS)

    volumes = c.child(pod, "volumes", list, loc, c.POD + ("volumes",))
    mounts = c.child(ct, "volumeMounts", list, loc, cpath + ("volumeMounts",))
    keep = set()
    for kind, ref in keys.items():
        vname, mount_path, _ = px.PUBKEY_MOUNTS[kind]
        keep.add(vname)
        report.add(c.set_named(volumes, c.secret_volume(vname, ref.secret_name, ref.key), "volume"))
        report.add(c.set_named(mounts, {"name": vname, "mountPath": mount_path, "readOnly": True}, "volumeMount"))
    report.changes += c.remove_named(volumes, keep, "volume")
    report.changes += c.remove_named(mounts, keep, "volumeMount")
    for holder, key in absent:  # no empty lists where there were none
        if holder.get(key) == []:
            del holder[key]
    helm_vars.scrub(obj, report)  # the chart's portworx.com/helm-vars annotation copies envVars/misc
    return report
