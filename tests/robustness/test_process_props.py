"""The differential test of issue 20: what a gate lets through really runs secured.

Generated Portworx streams exercise each rule of the kubelet that decides what runs (envFrom order
and prefixes, `env` overriding, `$(VAR)` expanding only from what is defined before, `$$`
escapes, `fieldRef` to the pod's annotations, command + args expanded from the final env, `--`,
StorageCluster misc-args expanded from the operator's env, sidecars) and the stream separators
apimachinery splits on. For every input:
- if `pxsec check` (no spec) exits 0, the independent model of tests/kubelet_oracle.py, run on
  Kubernetes' own reading of the input (k8sread, batched at the end of the session), finds nothing;
- if `pxsec render` exits 0, its output satisfies tests/invariants.py (which includes that model).
Both are recorded here and judged by test_oracle_props (groups `check_zero` and `kubelet_render`).
"""
from __future__ import annotations

import itertools
import random

import yaml
from hypothesis import given, settings

from . import oracle, strategies as s
from .harness import CANARIES, assert_no_crash, count, hypothesis_settings, outcome, run_inprocess, scaled, write

SETTINGS = hypothesis_settings()
BUDGET = scaled({"kubelet_rules": 1500})
_serial = itertools.count()
KEY = "PORTWORX_AUTH_SYSTEM_KEY"
SPEC = """apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
metadata: {name: s}
spec:
  secret: {name: px-keys, keys: {system: system, stork: stork, jwtSharedSecret: shared}}
  stork: {enabled: false}
  selfSigned: {issuer: openstorage.io, sharedSecret: true}
"""
SEPARATORS = ("---\n", "--- # Source: a.yaml\n", "---# Source: b.yaml\n", "---\u00a0#: x\n", "---\t\n",
              "--- \n", "---  # c\n")


def _secret_ref(name: str, key: str) -> dict:
    return {"valueFrom": {"secretKeyRef": {"name": name, "key": key}}}


def _key_entry(r: random.Random, annotations: dict, sources: list) -> list[dict]:
    """How the system key reaches the container: a Secret, or one of the ways it should not."""
    how = r.choice(["secret", "secret", "literal", "field", "copy", "copy-later", "envfrom-secret",
                    "envfrom-configmap", "absent"])
    if how == "secret":
        return [{"name": KEY, **_secret_ref("px-keys", "system")}]
    if how == "literal":
        return [{"name": KEY, "value": "not-a-secret-value"}]
    if how == "field":
        annotations["k"] = "clear-text-key"
        return [{"name": KEY, "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['k']"}}}]
    if how == "copy":  # $(VAR) from a variable defined before: a copy of a Secret's value
        return [{"name": "S", **_secret_ref("px-keys", "system")}, {"name": KEY, "value": "$(S)"}]
    if how == "copy-later":  # defined after: stays the literal text "$(S)"
        return [{"name": KEY, "value": "$(S)"}, {"name": "S", **_secret_ref("px-keys", "system")}]
    if how == "envfrom-secret":
        sources.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "from-secret", "namespace": "kube-system"},
                        r.choice(["data", "stringData"]): {"SYSTEM_KEY": "c2VjcmV0"}})
        return []
    if how == "envfrom-configmap":
        sources.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "from-cm", "namespace": "kube-system"},
                        "data": {"SYSTEM_KEY": "plain"}})
        return []
    return []


def _args(r: random.Random, env: list) -> list:
    args = ["-c", "px-cluster"]
    for _ in range(r.randint(0, 3)):
        pick = r.choice(["issuer", "issuer-eq", "terminator", "smuggle", "smuggle-value", "key-arg", "escaped",
                         "unseen", "plain", "claim"])
        if pick == "issuer":
            args += ["-jwt_issuer", "openstorage.io"]
        elif pick == "issuer-eq":
            args += ["--jwt_issuer=openstorage.io"]
        elif pick == "terminator":
            args += ["--"] + r.choice([["-jwt_issuer", "rogue"], ["-x"], []])
        elif pick == "smuggle":
            env.append({"name": "F", "value": r.choice(["-jwt_issuer=rogue", "-oidc_issuer", "-x"])})
            args += ["$(F)"]
        elif pick == "smuggle-value":
            env.append({"name": "V", "value": "rogue"})
            args += ["-username_claim", "$(V)"]
        elif pick == "key-arg":
            args += [r.choice(["$(PORTWORX_AUTH_SYSTEM_KEY)", "--key=$(PORTWORX_AUTH_SYSTEM_KEY)"])]
        elif pick == "escaped":
            args += ["$$(PORTWORX_AUTH_SYSTEM_KEY)"]
        elif pick == "unseen":
            args += ["$(PORTWORX_AUTH_OIDC_ISSUER)"]
        elif pick == "claim":
            args += ["-username_claim", "email"]
        else:
            args += ["-x", "kubernetes"]
    return args


def daemonset(r: random.Random) -> list[dict]:
    annotations: dict = {}
    sources: list = []
    env = _key_entry(r, annotations, sources)
    if r.random() < 0.7:
        env.append({"name": "PORTWORX_AUTH_JWT_SHAREDSECRET", **_secret_ref("px-keys", "shared")})
    args = _args(r, env)
    r.shuffle(env) if r.random() < 0.2 else None
    ct: dict = {"name": "portworx", "image": "portworx/oci-monitor:3.1.0", "args": args, "env": env}
    env_from = []
    for src in sources:
        ref = "secretRef" if src["kind"] == "Secret" else "configMapRef"
        env_from.append({"prefix": "PORTWORX_AUTH_", ref: {"name": src["metadata"]["name"]}})
    if r.random() < 0.2:
        env_from.append({"prefix": r.choice(["", "PORTWORX_AUTH_", "X_"]), "configMapRef": {"name": "not-in-stream"}})
    if env_from:
        ct["envFrom"] = env_from
    containers = [ct]
    if r.random() < 0.15:
        containers.append({"name": "helper", "image": "busybox", "env": [{"name": KEY, **_secret_ref("px-keys", "system")}]})
    if r.random() < 0.05:
        containers.append({"name": "px2", "image": "portworx/oci-monitor:3.1.0"})
    kind = "DaemonSet" if r.random() < 0.93 else r.choice(["Deployment", "NodeAgentSet"])
    tmeta: dict = {"labels": {"name": "portworx"}}
    if annotations:
        tmeta["annotations"] = annotations
    ds = {"apiVersion": "apps/v1" if kind != "NodeAgentSet" else "example.com/v1", "kind": kind,
          "metadata": {"name": "portworx", "namespace": "kube-system"},
          "spec": {"selector": {"matchLabels": {"name": "portworx"}},
                   "template": {"metadata": tmeta, "spec": {"containers": containers}}}}
    return [ds] + sources


def storagecluster(r: random.Random) -> list[dict]:
    misc = r.choice(["-x kubernetes", "-x $(PORTWORX_AUTH_SYSTEM_KEY)", "$(F) rogue", "-a -- -jwt_issuer x",
                     "-username_claim $(V)", "-jwt_issuer=$(V)"])
    env = [{"name": "F", "value": "-jwt_issuer"}, {"name": "V", "value": "email"}]
    sc = {"apiVersion": "core.libopenstorage.org/v1", "kind": "StorageCluster",
          "metadata": {"name": "px", "namespace": "kube-system", "annotations": {"portworx.io/misc-args": misc}},
          "spec": {"image": "portworx/oci-monitor:3.1.0", "env": env,
                   "security": {"enabled": True, "auth": {"selfSigned": {"issuer": "openstorage.io"}}}}}
    return [sc]


def stream(r: random.Random) -> str:
    objs = daemonset(r) if r.random() < 0.8 else storagecluster(r)
    if r.random() < 0.5:
        objs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "100%"}})
    r.shuffle(objs)
    out = ""
    for i, o in enumerate(objs):
        out += (r.choice(SEPARATORS) if i or r.random() < 0.5 else "") + yaml.safe_dump(o, sort_keys=False)
    return out


@settings(max_examples=BUDGET["kubelet_rules"], **SETTINGS)
@given(r=s.seeds)
def test_what_check_passes_and_render_writes_runs_secured(workdir, r):
    count("kubelet_rules")
    text = stream(r).encode()
    gate = run_inprocess(["check", "-f", "json", "-"], text, CANARIES)
    assert_no_crash(gate, CANARIES)
    outcome("kubelet_check", gate.code)
    if gate.code == 0:
        oracle.record("check_zero", "", text, text)
    spec = write(workdir / f"kubelet-spec-{next(_serial) % 8}.yaml", SPEC)
    rendered = run_inprocess(["render", "-s", str(spec), "-"], text, CANARIES)
    assert_no_crash(rendered, CANARIES)
    outcome("kubelet_render", rendered.code)
    if rendered.code == 0:
        oracle.record("kubelet_render", SPEC, text, rendered.stdout)
