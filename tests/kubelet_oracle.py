"""An independent model of what the kubelet starts, for the oracle (imports nothing from pxsec).

Written from ../shared/docs/kubelet-and-stream-facts.md, not from renderer/process.py:
- kubelet_pods.go `makeEnvironmentVariables`: envFrom first (in order, prefix prepended, later
  wins), then env in order; a `value` expands from what is defined so far;
- expansion.Expand: `$$` -> `$`, `$(NAME)` -> its value when defined, else left as written
  (a regular expression here, a character loop there);
- helpers.go `ExpandContainerCommandAndArgs`: command + args expand from the final environment;
- px-runc: flags before `--` only.

`violations(objects)` needs no spec: what must hold of any Portworx container that a gate lets
through (`pxsec check` exit 0) and of anything render writes.
"""
from __future__ import annotations

import base64
import re
import shlex

SECRET = "\x00S\x00"
UNKNOWN = "\x00U\x00"
KEYS = ("PORTWORX_AUTH_SYSTEM_KEY", "PORTWORX_AUTH_STORK_KEY", "PORTWORX_AUTH_SYSTEM_APPS_KEY",
        "PORTWORX_AUTH_JWT_SHAREDSECRET")
FLAGS = {"jwt_issuer", "oidc_issuer", "oidc_client_id", "oidc_custom_claim_namespace", "jwt_rsa_pubkey_file",
         "jwt_ecds_pubkey_file", "username_claim", "jwt_shared_secret", "auth_system_key"}
_REF = re.compile(r"\$\$|\$\(([^)]*)\)")
_PX_IMAGE = re.compile(r"(^|/)portworx/oci-monitor(:|@|$)")
_NAME_OK = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


def expand(text: str, env: dict) -> str:
    def one(m):
        if m.group(0) == "$$":
            return "$"
        return env[m.group(1)][0] if m.group(1) in env else m.group(0)
    return _REF.sub(one, text)


def _map(v) -> dict:
    return v if isinstance(v, dict) else {}


def _seq(v) -> list:
    return v if isinstance(v, list) else []


def _data(objects, kind, name, ns):
    for o in objects:
        meta = o.get("metadata") if isinstance(o, dict) and isinstance(o.get("metadata"), dict) else {}
        if isinstance(o, dict) and o.get("kind") == kind and o.get("apiVersion") == "v1" and meta.get("name") == name \
                and (meta.get("namespace") in (None, ns) or ns is None):
            out = {}
            if kind == "Secret":
                for f in ("data", "stringData"):
                    out.update({k: SECRET for k in _map(o.get(f)) if isinstance(k, str)})
            else:
                out.update({k: v if isinstance(v, str) else UNKNOWN for k, v in _map(o.get("data")).items()
                            if isinstance(k, str)})
                out.update({k: UNKNOWN for k in _map(o.get("binaryData")) if isinstance(k, str)})
            return out
    return None


def environment(c: dict, ns, objects, pod_meta: dict) -> tuple[dict, list[str]]:
    """name -> (value with SECRET/UNKNOWN marks, how), and the prefixes of unseen envFrom sources."""
    env: dict = {}
    unseen: list[str] = []
    for src in _seq(c.get("envFrom")):
        if not isinstance(src, dict):
            continue
        prefix = src.get("prefix") if isinstance(src.get("prefix"), str) else ""
        for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            if not isinstance(src.get(key), dict):
                continue
            data = _data(objects, kind, src[key].get("name"), ns)
            if data is None:
                unseen.append(prefix)
                for n in [n for n in env if n.startswith(prefix)]:
                    env[n] = (UNKNOWN, "unseen")
                continue
            for k, v in data.items():
                if _NAME_OK.match(prefix + k):
                    env[prefix + k] = (v, "secret" if kind == "Secret" else "configmap")
    for e in _seq(c.get("env")):
        if not isinstance(e, dict) or not isinstance(e.get("name"), str):
            continue
        vf = e.get("valueFrom")
        if isinstance(vf, dict) and vf:
            if isinstance(vf.get("secretKeyRef"), dict):
                env[e["name"]] = (SECRET, "secret")
            elif isinstance(vf.get("fieldRef"), dict):
                m = re.match(r"metadata\.(annotations|labels)\['?\"?(.*?)['\"]?\]$", str(vf["fieldRef"].get("fieldPath")))
                val = _map(pod_meta.get(m.group(1))).get(m.group(2), "") if m else UNKNOWN
                env[e["name"]] = (val if isinstance(val, str) else UNKNOWN, "field")
            else:
                env[e["name"]] = (UNKNOWN, "other")
        else:
            raw = e.get("value")
            raw = raw if isinstance(raw, str) else "" if raw is None else str(raw)
            known = dict(env)
            for name in {m.group(1) for m in _REF.finditer(raw) if m.group(1)}:
                if name not in known and any(name.startswith(p) for p in unseen):
                    known[name] = (UNKNOWN, "unseen")
            env[e["name"]] = (expand(raw, known), "literal")
    return env, unseen


def _flag(tok: str) -> str | None:
    if not tok.startswith("-") or tok.startswith("---") or tok == "--":
        return None
    return tok.lstrip("-").split("=", 1)[0]


def _argv_problems(at: str, raw: list, env: dict, unseen: list[str]) -> list[str]:
    bad = []
    known = dict(env)
    for tok in raw:
        for name in {m.group(1) for m in _REF.finditer(tok) if m.group(1)}:
            if name not in known and any(name.startswith(p) for p in unseen):
                known[name] = (UNKNOWN, "unseen")
    out = [expand(t, known) for t in raw]
    end = out.index("--") if "--" in out else len(out)
    for i, tok in enumerate(out):
        if SECRET in tok:
            bad.append(f"{at}: a secret on the command line")
        if i < end and UNKNOWN in tok:
            bad.append(f"{at}: a command-line value nobody can know")
        name = _flag(tok)
        if name in FLAGS and i > end:
            bad.append(f"{at}: -{name} after --")
        if name in FLAGS and i < end and tok != raw[i]:
            bad.append(f"{at}: -{name} produced by $(VAR)")
        if name in ("jwt_shared_secret", "auth_system_key") and i < end:
            bad.append(f"{at}: a secret flag")
        if i < end and i > 0 and _flag(out[i - 1]) in FLAGS and "=" not in out[i - 1] and tok != raw[i] \
                and SECRET not in tok:
            bad.append(f"{at}: a flag value produced by $(VAR)")
    return bad


def _pods(obj: dict):
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    if obj.get("kind") == "Pod":
        yield _map(obj.get("metadata")), spec
    for path in (("template",), ("jobTemplate", "spec", "template")):
        node = spec
        for p in path:
            node = node.get(p) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get("spec"), dict):
            yield node.get("metadata") if isinstance(node.get("metadata"), dict) else {}, node["spec"]


def _is_px(c: dict) -> bool:
    return c.get("name") == "portworx" or (isinstance(c.get("image"), str) and bool(_PX_IMAGE.search(c["image"])))


def _flatten(objects):
    for o in objects:
        if isinstance(o, dict) and isinstance(o.get("items"), list):
            yield from (i for i in o["items"] if isinstance(i, dict))
        elif isinstance(o, dict):
            yield o


def violations(objects: list, local_config_skipped: bool = False) -> list[str]:
    objects = list(_flatten(objects))
    bad = []
    for obj in objects:
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        ann = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
        if local_config_skipped and ann.get("config.kubernetes.io/local-config") == "true":
            continue
        at = f"{obj.get('kind')} {meta.get('name')}"
        if obj.get("kind") == "StorageCluster" and str(obj.get("apiVersion", "")).startswith("core.libopenstorage.org/"):
            bad += _storagecluster(obj, at, objects)
            continue
        for pod_meta, pod in _pods(obj):
            pxs = [(f, c) for f in ("initContainers", "containers") for c in _seq(pod.get(f))
                   if isinstance(c, dict) and _is_px(c)]
            if pxs and (obj.get("kind") != "DaemonSet" or len(pxs) > 1 or pxs[0][0] != "containers"):
                bad.append(f"{at}: Portworx where it cannot be secured")
                continue
            for _, c in pxs:
                env, unseen = environment(c, meta.get("namespace"), objects, pod_meta)
                if "PORTWORX_AUTH_SYSTEM_KEY" not in env:
                    bad.append(f"{at}: no system key")
                for k in KEYS:
                    if k in env and env[k][0] != SECRET:
                        bad.append(f"{at}: {k} not from a Secret ({env[k][1]})")
                raw = [t if isinstance(t, str) else str(t) for f in ("command", "args")
                       for t in (c.get(f) if isinstance(c.get(f), list) else [])]
                bad += _argv_problems(at, raw, env, unseen)
    return bad


def _storagecluster(obj: dict, at: str, objects: list) -> list[str]:
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    sec = spec.get("security") if isinstance(spec.get("security"), dict) else {}
    if sec.get("enabled") is not True:
        return [f"{at}: security not enabled"]
    meta = _map(obj.get("metadata"))
    misc_text = _map(meta.get("annotations")).get("portworx.io/misc-args")
    try:
        misc = shlex.split(misc_text if isinstance(misc_text, str) else "", comments=True)
    except ValueError:
        misc = []
    bad = []
    nodes = [n for n in _seq(spec.get("nodes")) if isinstance(n, dict)]
    groups = [[]] + [_seq(n.get("env")) for n in nodes]
    for i, extra in enumerate(groups):
        c = {"env": _seq(spec.get("env")) + extra}
        env, unseen = environment(c, meta.get("namespace"), objects, {})
        for k in ("PORTWORX_AUTH_JWT_SHAREDSECRET", "PORTWORX_AUTH_SYSTEM_KEY", "PORTWORX_AUTH_SYSTEM_APPS_KEY",
                  "PORTWORX_AUTH_STORK_KEY"):
            env[k] = (SECRET, "secret")
        node_misc = []
        if i:
            try:
                text = nodes[i - 1].get("miscArgs")
                node_misc = shlex.split(text if isinstance(text, str) else "", comments=True)
            except (ValueError, AttributeError, TypeError):
                node_misc = []
        bad += _argv_problems(at, misc + node_misc, env, unseen)
    return bad


def decode(value: str) -> str:  # for tests that build Secrets
    return base64.b64decode(value).decode()
