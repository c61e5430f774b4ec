"""The security invariants of a pxsec output, checked on Kubernetes' view of it (k8s_view.read).

An oracle, independent of the code under test: it imports nothing from `renderer` and keeps its
own table of names, taken from ../shared/docs/px-security-facts.md (§2.2-2.4, §3) and the README:

- every Portworx container (named `portworx` or running `portworx/oci-monitor`, in a DaemonSet,
  top level or a list item) has PORTWORX_AUTH_SYSTEM_KEY, the Stork key paired with the Stork
  issuer, and PORTWORX_AUTH_JWT_SHAREDSECRET when sharedSecret, each a secretKeyRef to the
  spec's Secret/key, never a literal `value`; no key variable the spec does not ask for; no flag
  twin (PORTWORX_AUTH_OIDC_* ...) that disagrees with the spec, inline or through envFrom from
  a ConfigMap/Secret in the stream;
- across `command` + `args` (what px-runc receives), exactly one value per security flag the
  spec asks for, equal to the spec's, none it does not ask for, never -jwt_shared_secret or
  -auth_system_key (`-flag v`, `-flag=v`, and `--flag` as Go's flag package reads them);
- a Portworx container whose command is a shell, or a Portworx init container, is never
  accepted (pxsec refuses them);
- no key variable or security flag in any other container (Stork and autopilot carry
  PX_SHARED_SECRET as a secretKeyRef to the Stork key, and Stork PX_JWT_ISSUER = the issuer);
- every env `value` is a string; StorageClusters have spec.security.enabled: true.

`violations(objects, spec)` lists what is wrong; `baseline=` (Kubernetes' view of the input)
restricts the rules about other containers and env value types to what pxsec introduced (it
passes documents it does not own through unchanged, broken or not).
"""
from __future__ import annotations

import base64
import re
from collections import Counter

import kubelet_oracle

# --- the table of names (facts doc §2.2, §2.3, §2.4, §3; README "The spec") ------------------
SYSTEM_KEY = "PORTWORX_AUTH_SYSTEM_KEY"
STORK_KEY_BY_ISSUER = {"stork.openstorage.io": "PORTWORX_AUTH_STORK_KEY",
                       "apps.portworx.io": "PORTWORX_AUTH_SYSTEM_APPS_KEY"}
SHARED_KEY = "PORTWORX_AUTH_JWT_SHAREDSECRET"
STORK_SECRET = "PX_SHARED_SECRET"
STORK_ISSUER_ENV = "PX_JWT_ISSUER"
KEY_ENV = re.compile(r"^(PORTWORX_AUTH_\w*_KEY|PORTWORX_AUTH_JWT_SHAREDSECRET|PX_SHARED_SECRET)$")
FLAGS = ("jwt_issuer", "oidc_issuer", "oidc_client_id", "oidc_custom_claim_namespace",
         "jwt_rsa_pubkey_file", "jwt_ecds_pubkey_file", "username_claim")
SECRET_FLAGS = ("jwt_shared_secret", "auth_system_key")
TWIN = {"jwt_issuer": "PORTWORX_AUTH_JWT_ISSUER", "oidc_issuer": "PORTWORX_AUTH_OIDC_ISSUER",
        "oidc_client_id": "PORTWORX_AUTH_OIDC_CLIENTID",
        "oidc_custom_claim_namespace": "PORTWORX_AUTH_OIDC_CUSTOM_NAMESPACE",
        "jwt_rsa_pubkey_file": "PORTWORX_AUTH_JWT_RSA_PUBKEY", "jwt_ecds_pubkey_file": "PORTWORX_AUTH_JWT_ECDS_PUBKEY",
        "username_claim": "PORTWORX_AUTH_USERNAME_CLAIM"}
PUBKEY_DIR = {"jwt_rsa_pubkey_file": "/etc/pwx/jwt-rsa-pubkey/", "jwt_ecds_pubkey_file": "/etc/pwx/jwt-ecds-pubkey/"}
SHELLS = {"sh", "bash", "ash", "dash", "zsh", "ksh", "busybox"}
_PX_IMAGE = re.compile(r"(^|/)portworx/oci-monitor(:|@|$)")
_STORK_IMAGE = re.compile(r"(^|/)openstorage/stork(:|@|$)")
_AUTOPILOT_IMAGE = re.compile(r"(^|/)portworx/autopilot(:|@|$)")
LOCAL_CONFIG = "config.kubernetes.io/local-config"


class Expect:
    """What the spec asks for, with the schema's defaults."""

    def __init__(self, spec: dict):
        body = spec.get("spec", spec) if spec.get("kind") == "PortworxSecurity" else spec
        secret = body.get("secret") or {}
        keys = secret.get("keys") or {}
        self.secret = secret.get("name", "pxsec-auth-keys")  # README "The spec"
        self.create = bool(secret.get("create", False))
        self.key_system = keys.get("system", "system-secret")
        self.key_stork = keys.get("stork", "stork-secret")
        self.key_shared = keys.get("jwtSharedSecret", "shared-secret")
        stork = body.get("stork") or {}
        self.stork = bool(stork.get("enabled", True))
        self.stork_issuer = stork.get("issuer", "stork.openstorage.io")
        ss, oidc = body.get("selfSigned"), body.get("oidc")
        self.shared = bool(ss and ss.get("sharedSecret"))
        flags: dict = {}
        if ss:
            flags["jwt_issuer"] = ss["issuer"]
            for field, flag in (("rsaPublicKey", "jwt_rsa_pubkey_file"), ("ecdsaPublicKey", "jwt_ecds_pubkey_file")):
                if ss.get(field):
                    flags[flag] = PUBKEY_DIR[flag] + ss[field]["key"]
        if oidc:
            flags["oidc_issuer"] = oidc["issuer"]
            flags["oidc_client_id"] = oidc["clientId"]
            if oidc.get("customClaimNamespace"):
                flags["oidc_custom_claim_namespace"] = oidc["customClaimNamespace"]
        if body.get("usernameClaim"):
            flags["username_claim"] = body["usernameClaim"]
        self.flags = flags

    def px_keys(self) -> dict[str, str]:
        """Key variable -> Secret key, on every Portworx container."""
        want = {SYSTEM_KEY: self.key_system}
        if self.stork:
            want[STORK_KEY_BY_ISSUER[self.stork_issuer]] = self.key_stork
        if self.shared:
            want[SHARED_KEY] = self.key_shared
        return want


# --- reading Kubernetes' view ------------------------------------------------------------------

def _str(v) -> str | None:
    return v if isinstance(v, str) else None


def is_portworx(c: dict) -> bool:
    return c.get("name") == "portworx" or bool(_str(c.get("image")) and _PX_IMAGE.search(c["image"]))


def is_stork(c: dict) -> bool:
    return c.get("name") == "stork" or bool(_str(c.get("image")) and _STORK_IMAGE.search(c["image"]))


def is_autopilot(c: dict) -> bool:
    return c.get("name") == "autopilot" or bool(_str(c.get("image")) and _AUTOPILOT_IMAGE.search(c["image"]))


def where(obj: dict) -> str:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    ns = meta.get("namespace")
    return f"{obj.get('kind')} {ns + '/' if isinstance(ns, str) else ''}{meta.get('name')}"


POD_PATHS = (("spec", "template", "spec"), ("spec", "jobTemplate", "spec", "template", "spec"))
# Kinds whose pod spec sits elsewhere (k8s.io/api/core/v1 types.go: Pod.Spec, PodTemplate.Template).
# A top-level `template` of any other kind is an unknown field the API server drops
# (a DaemonSet whose `template:` lost its indentation runs nothing: its spec is null).
OWN_POD_PATH = {"Pod": ("spec",), "PodTemplate": ("template", "spec")}


def pod_specs(obj: dict):
    """The pod specs of an object where Kubernetes reads them (workload templates, a Pod's spec)."""
    own = OWN_POD_PATH.get(obj.get("kind"))
    paths = POD_PATHS + ((own,) if own else ())
    for path in paths:
        node = obj
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            yield node


def containers(pod: dict, field: str = "containers"):
    items = pod.get(field)
    return [c for c in items if isinstance(c, dict)] if isinstance(items, list) else []


def argv(c: dict) -> list:
    out = []
    for key in ("command", "args"):
        if isinstance(c.get(key), list):
            out += c[key]
    return out


def parse_flags(tokens: list) -> list[tuple[str, object]]:
    """(flag, value) for every security flag in an argv, as a Go-style flag parser reads it."""
    found, i = [], 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if not isinstance(tok, str) or not tok.startswith("-"):
            continue
        name, eq, value = tok.lstrip("-").partition("=")
        if tok.startswith("---") or name not in FLAGS + SECRET_FLAGS:
            continue
        if not eq:
            value = tokens[i] if i < len(tokens) else None
            i += 1
        found.append((name, value))
    return found


def in_stream_sources(objects: list) -> dict:
    """(kind, namespace, name) -> data, for the ConfigMaps and Secrets envFrom can point at."""
    out = {}
    for o in objects:
        if isinstance(o, dict) and o.get("kind") in ("ConfigMap", "Secret"):
            meta = o.get("metadata") if isinstance(o.get("metadata"), dict) else {}
            data = {}

            def mapping(key):
                return o[key] if isinstance(o.get(key), dict) else {}
            if o["kind"] == "Secret":
                data.update(mapping("stringData"))
                for k, v in mapping("data").items():
                    try:
                        data[k] = base64.b64decode(v).decode("utf-8", "replace")
                    except (TypeError, ValueError):
                        data[k] = v
            else:
                data = dict(mapping("data"))
            out[(o["kind"], meta.get("namespace"), meta.get("name"))] = data
    return out


def effective_env(c: dict, ns, sources: dict) -> dict[str, list]:
    """name -> every definition (in order, last one wins): envFrom first, then env."""
    env: dict[str, list] = {}
    def items(key):
        return c[key] if isinstance(c.get(key), list) else []
    for ref in items("envFrom"):
        if not isinstance(ref, dict):
            continue
        prefix = ref.get("prefix") or ""
        for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            target = ref.get(key)
            if isinstance(target, dict):
                for k, v in sources.get((kind, ns, target.get("name")), {}).items():
                    env.setdefault(f"{prefix}{k}", []).append({"name": f"{prefix}{k}", "value": v,
                                                               "via": f"envFrom {kind} {target.get('name')}"})
    for e in items("env"):
        if isinstance(e, dict) and isinstance(e.get("name"), str):
            env.setdefault(e["name"], []).append(e)
    return env


def secret_ref(e: dict):
    ref = (e.get("valueFrom") or {}).get("secretKeyRef") if isinstance(e.get("valueFrom"), dict) else None
    return (ref.get("name"), ref.get("key")) if isinstance(ref, dict) and "value" not in e else None


def is_local_config(obj: dict) -> bool:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    ann = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    return ann.get(LOCAL_CONFIG) == "true"


# --- the rules ---------------------------------------------------------------------------------

MANAGED_KEYS = (SYSTEM_KEY, SHARED_KEY) + tuple(STORK_KEY_BY_ISSUER.values())


def _portworx(ex: Expect, c: dict, env: dict, at: str, relative: list[str]) -> list[str]:
    """Absolute violations on a Portworx container; ones about variables pxsec does not manage
    (PX_SHARED_SECRET, unknown *_KEY names) go to `relative`."""
    bad = []
    tokens = argv(c)
    cmd = c.get("command") if isinstance(c.get("command"), list) else []
    if cmd and isinstance(cmd[0], str) and cmd[0].rsplit("/", 1)[-1] in SHELLS:
        bad.append(f"{at}: command is a shell ({cmd[0]}): px-runc never sees the appended flags")
    for var, key in ex.px_keys().items():
        defs = env.get(var, [])
        if not defs:
            bad.append(f"{at}: {var} missing")
        # the last definition is what the container gets (env after envFrom); an earlier inline
        # literal is still a secret written into the manifest
        for d in defs[-1:] + [d for d in defs[:-1] if "via" not in d]:
            if "via" in d or secret_ref(d) != (ex.secret, key):
                bad.append(f"{at}: {var} is not a secretKeyRef to {ex.secret}/{key} "
                           f"({d.get('via') or ('a literal value' if 'value' in d else 'another source')})")
    for var in env:
        if KEY_ENV.match(var) and var not in ex.px_keys():
            (bad if var in MANAGED_KEYS else relative).append(f"{at}: key variable {var} that the spec does not ask for")
    for flag, twin in TWIN.items():
        for d in env.get(twin, []):
            if flag not in ex.flags:
                bad.append(f"{at}: env twin {twin} of a flag the spec does not ask for ({d.get('via', 'env')})")
            elif d.get("value") != ex.flags[flag]:
                bad.append(f"{at}: env twin {twin} disagrees with the spec ({d.get('via', 'env')})")
    seen = parse_flags(tokens)
    for flag in FLAGS + SECRET_FLAGS:
        values = [v for f, v in seen if f == flag]
        if flag in SECRET_FLAGS and values:
            bad.append(f"{at}: -{flag} puts a secret on the command line")
        elif flag in ex.flags and values != [ex.flags[flag]]:
            bad.append(f"{at}: -{flag} must appear once with the spec's value, found {len(values)} "
                       f"value(s){'' if len(values) != 1 else ' (a different one)'}")
        elif flag not in ex.flags and values:
            bad.append(f"{at}: -{flag} that the spec does not ask for")
    return bad


def _other(ex: Expect, c: dict, env: dict, at: str) -> list[str]:
    bad = []
    for var, defs in env.items():
        if not KEY_ENV.match(var):
            continue
        for d in defs:
            if var == STORK_SECRET and (is_stork(c) or is_autopilot(c)):
                if secret_ref(d) is None:
                    bad.append(f"{at}: {var} is not a secretKeyRef ({d.get('via') or 'a literal value'})")
                continue
            bad.append(f"{at}: key variable {var} outside Portworx")
    for flag, _ in parse_flags(argv(c)):
        bad.append(f"{at}: security flag -{flag} outside Portworx")
    return bad


def _stork(ex: Expect, c: dict, env: dict, at: str) -> list[str]:
    bad = []
    if [secret_ref(d) for d in env.get(STORK_SECRET, [])] != [(ex.secret, ex.key_stork)]:
        bad.append(f"{at}: {STORK_SECRET} is not one secretKeyRef to {ex.secret}/{ex.key_stork}")
    if [d.get("value") for d in env.get(STORK_ISSUER_ENV, [])] != [ex.stork_issuer]:
        bad.append(f"{at}: {STORK_ISSUER_ENV} is not {ex.stork_issuer}")
    return bad


def _env_values(obj, at: str) -> list[str]:
    bad, stack = [], [obj]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            env = node.get("env")
            if isinstance(env, list):
                for e in env:
                    if isinstance(e, dict) and "value" in e and e["value"] is not None and not isinstance(e["value"], str):
                        bad.append(f"{at}: env {e.get('name')} value is a {type(e['value']).__name__}, not a string")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return bad


def _storage_cluster(obj: dict, at: str) -> list[str]:
    bad = []
    sec = (obj.get("spec") or {}).get("security") if isinstance(obj.get("spec"), dict) else None
    if not (isinstance(sec, dict) and sec.get("enabled") is True):
        bad.append(f"{at}: spec.security.enabled is not true")
    return bad


def _storage_cluster_literals(obj: dict, at: str) -> list[str]:
    bad = []
    for pod_env in _env_lists(obj.get("spec")):
        for e in pod_env:
            if isinstance(e, dict) and KEY_ENV.match(str(e.get("name"))) and "value" in e:
                bad.append(f"{at}: {e.get('name')} is a literal value")
    return bad


def _env_lists(node):
    if isinstance(node, dict):
        if isinstance(node.get("env"), list):
            yield node["env"]
        for v in node.values():
            yield from _env_lists(v)
    elif isinstance(node, list):
        for v in node:
            yield from _env_lists(v)


def _check(objects: list, spec: dict, krm: bool) -> tuple[list[str], list[str]]:
    """(absolute violations, relative ones: other containers and env value types)."""
    ex = Expect(spec)
    sources = in_stream_sources(objects)
    absolute, relative = [], []
    for obj in objects:
        if not isinstance(obj, dict) or (krm and is_local_config(obj)):
            continue
        at = where(obj)
        relative += _env_values(obj, at)
        if obj.get("kind") == "StorageCluster":
            absolute += _storage_cluster(obj, at)
            relative += _storage_cluster_literals(obj, at)
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        ns = meta.get("namespace")
        daemonset = obj.get("kind") == "DaemonSet"
        for pod in pod_specs(obj):
            for field in ("initContainers", "containers", "ephemeralContainers"):
                for c in containers(pod, field):
                    cat = f"{at} {field[:-1]} {c.get('name')}"
                    env = effective_env(c, ns, sources)
                    if daemonset and is_portworx(c):
                        if field != "containers":
                            absolute.append(f"{cat}: Portworx runs as an init/ephemeral container (never accepted)")
                        else:
                            absolute += _portworx(ex, c, env, cat, relative)
                        continue
                    relative += _other(ex, c, env, cat)
                    if ex.stork and obj.get("kind") == "Deployment" and is_stork(c) and field == "containers":
                        absolute += _stork(ex, c, env, cat)
    return absolute, relative


def violations(objects: list, spec: dict, baseline: list | None = None, krm: bool = False) -> list[str]:
    """Everything wrong in Kubernetes' view `objects` of a pxsec output, for the spec, including
    what the kubelet would start from it (kubelet_oracle: expansion, envFrom, `--`).

    With `baseline` (Kubernetes' view of the input), rules about containers pxsec does not own
    and about env value types report only what the input did not already have."""
    absolute, relative = _check(objects, spec, krm)
    absolute += kubelet_oracle.violations(objects, local_config_skipped=krm)
    if baseline is not None:
        before = Counter(_check(baseline, spec, krm)[1])
        relative = list((Counter(relative) - before).elements())
    return absolute + relative


def assert_secured(objects: list, spec: dict, baseline: list | None = None, krm: bool = False) -> None:
    bad = violations(objects, spec, baseline, krm)
    assert not bad, "security invariants broken in Kubernetes' view:\n  " + "\n  ".join(bad)


def assert_no_secret_values(text: str, secrets, objects: list | None = None) -> None:
    """No secret value anywhere in `text`; base64 of one only as data of a Secret pxsec generated
    (checked on `objects`, Kubernetes' view of `text`, when given)."""
    for value in secrets:
        assert value not in text, "a secret value appears in the text"
        b64 = base64.b64encode(value.encode()).decode()
        if objects is None:
            continue
        for obj in objects:
            generated = isinstance(obj, dict) and obj.get("kind") == "Secret" and \
                ((obj.get("metadata") or {}).get("annotations") or {}).get("pxsec.io/generated") == "true"
            rest = {k: v for k, v in obj.items() if k != "data"} if generated else obj
            assert b64 not in repr(rest), f"the base64 of a secret value appears outside generated Secret data ({where(obj) if isinstance(obj, dict) else obj!r})"
