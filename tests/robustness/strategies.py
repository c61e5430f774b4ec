"""Hypothesis strategies for the robustness suite: specs, manifests, and YAML texts both
malformed and odd-but-valid.

Sizes are bounded so one example stays in the low milliseconds: nesting depth stays far below
what libyaml's recursive composer survives (see the subprocess tests for the deep cases), and
huge scalars are built from repetition rather than drawn byte by byte.
"""
from __future__ import annotations

import base64
import random

import yaml
from hypothesis import strategies as st

# ------------------------------------------------------------------------------------ words
#
# Specs and manifests are built by plain functions from a `random.Random` that Hypothesis seeds
# (st.randoms): a structured Hypothesis strategy costs ~10 ms an example to draw, these ~0.3 ms,
# which is what lets the suite try 10,000+ inputs in a few minutes. Derandomized settings make
# the seeds, and so the inputs, the same on every run; a failure prints the generated value.

SECRET_ENV = ("PORTWORX_AUTH_SYSTEM_KEY", "PORTWORX_AUTH_STORK_KEY", "PORTWORX_AUTH_SYSTEM_APPS_KEY",
              "PORTWORX_AUTH_JWT_SHAREDSECRET", "PX_SHARED_SECRET")
FLAG_TWINS = ("PORTWORX_AUTH_JWT_ISSUER", "PORTWORX_AUTH_JWT_RSA_PUBKEY", "PORTWORX_AUTH_JWT_ECDS_PUBKEY",
              "PORTWORX_AUTH_OIDC_ISSUER", "PORTWORX_AUTH_OIDC_CLIENTID", "PORTWORX_AUTH_OIDC_CUSTOM_NAMESPACE",
              "PORTWORX_AUTH_USERNAME_CLAIM")
OTHER_ENV = ("PX_TEMPLATE_VERSION", "NODE_NAME", "PX_NAMESPACE", "CSI_ENDPOINT", "PX_JWT_ISSUER", "AUTO_NODE_RECOVERY")
FLAGS = ("-jwt_issuer", "-jwt_rsa_pubkey_file", "-jwt_ecds_pubkey_file", "-oidc_issuer", "-oidc_client_id",
         "-oidc_custom_claim_namespace", "-username_claim", "-jwt_shared_secret", "-auth_system_key")
PLAIN_ARGS = ("-c", "px-cluster", "-a", "-b", "-x", "kubernetes", "-secret_type", "k8s", "-d", "eth0", "-A")

# A little of everything that makes YAML scalars interesting: quotes, colons, `#`, leading
# indicators, YAML 1.1 booleans and octals, times, unicode, control characters, long text.
TRICKY = ("", " ", "yes", "no", "on", "off", "true", "null", "~", "017", "0x1F", "1:20", "1e3", ".inf", "- a", "a: b",
          "#x", "'", '"', "|", ">", "&a", "*a", "!tag", "%", "@", "`", "{", "}", "[", "]", "a\nb", "tab\there",
          "\u00e9t\u00e9", "\u2028", "\U0001f600", "=", "-flag=x", "'quoted'", "\"dq\"", "a b  c", "\\", "x" * 300,
          "a\r\nb", "\x1b[31m", "\x00", "\ufeff", "---", "...", "- - -", "? x", "!!str", "<<")
_CHARS = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=, \t\n'\"#&*!|>%@`{}[]?~\\"
          "\u00e9\u00df\u4e2d\u2028\u0085\x1e\x7f\U0001f600")


def text(r: random.Random) -> str:
    if r.random() < 0.6:
        return r.choice(TRICKY)
    return "".join(r.choice(_CHARS) for _ in range(r.randint(0, 16)))


def dns(r: random.Random) -> str:
    if r.random() < 0.5:
        return r.choice(["portworx", "stork", "px-cluster", "kube-system", "a", "a-b", "x1"])
    core = "".join(r.choice("abcdefghijklmnopqrstuvwxyz0123456789-") for _ in range(r.randint(0, 12)))
    return "a" + core.strip("-") + "z" if core else "a"


def secret_key(r: random.Random) -> str:
    return r.choice(["system-secret", "stork-secret", "shared-secret", "apps-secret", "k1", "shared", "a.b_c-D"]) \
        if r.random() < 0.7 else "".join(r.choice("-._aZ09") for _ in range(r.randint(1, 12))).replace("..", "x") + "k"


def scalar(r: random.Random):
    return r.choice([text, text, lambda r: r.randint(-5, 10**6), lambda r: r.random() < 0.5, lambda r: None,
                     lambda r: r.uniform(-1e6, 1e6)])(r)


def chance(r: random.Random, p: float = 0.5) -> bool:
    return r.random() < p


# ------------------------------------------------------------------------------------ specs

def keyref(r: random.Random) -> dict:
    return {"secretName": dns(r), "key": secret_key(r)}


def valid_spec_body(r: random.Random) -> dict:
    """A `spec` mapping the schema accepts (every optional part on or off)."""
    body: dict = {}
    if chance(r):
        secret: dict = {}
        if chance(r):
            secret["name"] = r.choice(["px-system-secrets", "px-keys"]) if chance(r, 0.7) else dns(r)
        if chance(r):
            secret["create"] = chance(r)
        if chance(r):
            secret["keys"] = {k: secret_key(r) for k in ("system", "stork", "jwtSharedSecret") if chance(r)}
        body["secret"] = secret
    if chance(r):
        body["stork"] = {}
        if chance(r):
            body["stork"]["enabled"] = chance(r, 0.7)
        if chance(r):
            body["stork"]["issuer"] = r.choice(["stork.openstorage.io", "apps.portworx.io"])
    use_ss, use_oidc = r.choice([(True, False), (True, False), (False, True), (True, True)])
    if use_ss:
        ss: dict = {"issuer": r.choice(["openstorage.io", "px.example.com", "a:b", "x@y", "issuer_1"])}
        kinds = r.sample(["sharedSecret", "rsaPublicKey", "ecdsaPublicKey"], r.randint(1, 3))
        for k in kinds:
            ss[k] = True if k == "sharedSecret" else keyref(r)
        if "sharedSecret" not in kinds and chance(r):
            ss["sharedSecret"] = False
        body["selfSigned"] = ss
    if use_oidc:
        oidc = {"issuer": "https://" + r.choice(["idp.example.com", "a/b", "x.y:8443/realms/px"]),
                "clientId": r.choice(["px", "client-1", "a/b:c"])}
        if chance(r):
            oidc["customClaimNamespace"] = r.choice(["portworx", "px.io/claims", "ns_1"])
        body["oidc"] = oidc
    if chance(r):
        body["usernameClaim"] = r.choice(["sub", "email", "name"])
    if chance(r, 0.3):
        body["guestAccess"] = r.choice(["Enabled", "Disabled", "Managed"])
    if chance(r, 0.3):
        body["tokenLifetime"] = f"{r.randint(0, 9999)}{r.choice('smhdy')}"
    return body


def spec_doc(body: dict) -> dict:
    return {"apiVersion": "pxsec.io/v1alpha1", "kind": "PortworxSecurity", "metadata": {"name": "px-security"},
            "spec": body}


def mutate(r: random.Random, value, depth: int = 0):
    """`value` with one random edit somewhere: a key dropped, added or retyped, a value replaced."""
    if isinstance(value, dict) and value and depth < 5 and chance(r, 0.6):
        key = r.choice(sorted(value, key=str))
        return {**value, key: mutate(r, value[key], depth + 1)}
    if isinstance(value, list) and value and depth < 5 and chance(r, 0.6):
        out = list(value)
        i = r.randrange(len(out))
        out[i] = mutate(r, out[i], depth + 1)
        return out
    edit = r.choice(["replace", "drop", "add", "wrap"])
    if edit == "drop" and isinstance(value, dict) and value:
        out = dict(value)
        del out[r.choice(sorted(value, key=str))]
        return out
    if edit == "add" and isinstance(value, dict):
        key = r.choice([lambda r: r.choice(["extra", "enabled", "issuer", "spec", "keys"]), text, text,
                        lambda r: r.choice([None, 1, 2.5, True])])(r)  # non-string keys too
        return {**value, key: scalar(r)}
    if edit == "wrap":
        return r.choice([[value], {"x": value}, None])
    return r.choice([scalar, lambda r: [scalar(r) for _ in range(r.randint(0, 3))],
                     lambda r: {text(r): scalar(r) for _ in range(r.randint(0, 3))}])(r)


def gen_spec_doc(r: random.Random) -> dict:
    """Mostly valid (so the render runs), sometimes broken in one or two places."""
    doc = spec_doc(valid_spec_body(r))
    for _ in range(r.choice([0, 0, 0, 1, 2])):
        doc = mutate(r, doc)
    return doc


def create_secret_spec(body: dict) -> dict:
    body = dict(body)
    body["secret"] = {**body.get("secret", {}), "create": True}
    return spec_doc(body)


# ------------------------------------------------------------------------------------ manifests

def env_entry(r: random.Random):
    kind = r.random()
    if kind < 0.35:
        return {"name": r.choice(SECRET_ENV + FLAG_TWINS + OTHER_ENV), "value": text(r)}
    if kind < 0.7:
        return {"name": r.choice(SECRET_ENV + FLAG_TWINS),
                "valueFrom": {"secretKeyRef": {"name": dns(r), "key": secret_key(r)}}}
    if kind < 0.85:
        return {"name": r.choice(OTHER_ENV), "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}
    if kind < 0.95:
        return {"name": text(r), "value": scalar(r)}
    return r.choice([{"value": "no-name"}, scalar(r), {"name": scalar(r)}])


def env_list(r: random.Random) -> list:
    return [env_entry(r) for _ in range(r.randint(0, 6))]


def arg(r: random.Random):
    kind = r.random()
    if kind < 0.5:
        return r.choice(FLAGS + PLAIN_ARGS)
    if kind < 0.7:
        return f"{r.choice(FLAGS)}={text(r)}"
    if kind < 0.8:
        return "-" + r.choice(FLAGS)
    if kind < 0.95:
        return text(r)
    return scalar(r)


def args_list(r: random.Random) -> list:
    return [arg(r) for _ in range(r.randint(0, 10))]


def put(r: random.Random, d: dict, key: str, make, wrong=("oops", 3, {"a": 1})) -> None:
    """d[key]: absent, null, a wrong type, or a value (most often)."""
    how = r.choice(["absent", "null", "value", "value", "value", "value", "wrong"])
    if how == "absent":
        return
    d[key] = None if how == "null" else (r.choice(wrong) if how == "wrong" else make(r))


def named_list(r: random.Random, names, extra: dict) -> list:
    return [{"name": r.choice(names), **extra} for _ in range(r.randint(0, 3))]


def container(r: random.Random, role: str) -> dict:
    if role == "portworx":
        name = r.choice(["portworx", "portworx", "px", "oci"])
        image = r.choice(["portworx/oci-monitor:2.8.1.2", "docker.io/portworx/oci-monitor:3.1.0",
                          "portworx/oci-monitor@sha256:abc", "portworx/px-enterprise:2.8", "busybox"])
    elif role == "stork":
        name = r.choice(["stork", "stork", "stork-main"])
        image = r.choice(["openstorage/stork:2.6.0", "docker.io/openstorage/stork:23.1.0", "nginx"])
    else:
        name = r.choice(["csi-node-driver-registrar", "telemetry", "sidecar", "portworx-api"])
        image = r.choice(["quay.io/k8scsi/csi-node-driver-registrar:v1.1.0", "busybox", "nginx"])
    c: dict = {"name": name}
    if chance(r, 0.7):
        c["image"] = image
    put(r, c, "env", env_list)
    put(r, c, "args", args_list, wrong=("x", {"a": 1}))
    put(r, c, "volumeMounts", lambda r: named_list(r, ["etcpwx", "pxsec-jwt-rsa-pubkey", "pxsec-old", "dev"],
                                                   {"mountPath": r.choice(["/etc/pwx", "/dev"])}))
    return c


ANNOTATIONS = ("config.kubernetes.io/local-config", "postrenderer.helm.sh/postrender-filename", "helm.sh/hook",
               "note", "internal.config.kubernetes.io/path", "config.kubernetes.io/index")


def metadata(r: random.Random, names) -> dict:
    meta: dict = {"name": r.choice(names) if chance(r, 0.8) else dns(r)}
    if chance(r, 0.8):
        meta["namespace"] = r.choice(["kube-system", "portworx", "default"]) if chance(r, 0.8) else dns(r)
    if chance(r, 0.2):
        meta["annotations"] = {r.choice(ANNOTATIONS): r.choice(["true", "false", "x.yaml", "0"])
                               for _ in range(r.randint(0, 2))}
    return meta


def workload(r: random.Random, kind: str, role: str) -> dict:
    containers = [container(r, "other") for _ in range(r.randint(0, 2))]
    containers.insert(r.randint(0, len(containers)), container(r, role))
    if chance(r, 0.1):
        containers.append(container(r, role))  # two candidates: an error, never a crash
    pod: dict = {"containers": containers}
    put(r, pod, "volumes", lambda r: named_list(r, ["etcpwx", "pxsec-jwt-rsa-pubkey", "pxsec-old"],
                                                {"hostPath": {"path": "/etc/pwx"}}))
    obj = {"apiVersion": r.choice(["apps/v1", "apps/v1", "extensions/v1beta1"]), "kind": kind,
           "metadata": metadata(r, ["portworx", "stork", "px-node-pool"]),
           "spec": {"selector": {"matchLabels": {"name": role}},
                    "template": {"metadata": {"labels": {"name": role}}, "spec": pod}}}
    if chance(r, 0.07):  # a broken shape somewhere on the way to the pod
        bad = r.choice([None, "x", [], 3])
        where = r.choice(["spec", "template", "pod", "containers"])
        if where == "spec":
            obj["spec"] = bad
        elif where == "template":
            obj["spec"]["template"] = bad
        elif where == "pod":
            obj["spec"]["template"]["spec"] = bad
        else:
            pod["containers"] = bad
    return obj


def misc_args(r: random.Random) -> str:
    return " ".join(str(arg(r)) for _ in range(r.randint(0, 6)))


def storage_cluster(r: random.Random) -> dict:
    meta = metadata(r, ["px-cluster", "portworx"])
    if chance(r):
        ann = meta.setdefault("annotations", {})
        ann["portworx.io/misc-args"] = misc_args(r) if chance(r, 0.85) else scalar(r)
    spec: dict = {}
    if chance(r):
        spec["image"] = r.choice(["portworx/oci-monitor:2.5.0", "portworx/oci-monitor:2.13.3",
                                  "portworx/oci-monitor", "x:y:z"]) if chance(r, 0.8) else scalar(r)
    if chance(r, 0.3):
        spec["version"] = r.choice(["2.5.1", "v3.0", "x"]) if chance(r) else scalar(r)
    if chance(r):
        if chance(r, 0.9):
            sec: dict = {}
            if chance(r):
                sec["enabled"] = r.choice([True, False, "yes", None])
            if chance(r):
                if chance(r, 0.9):
                    auth: dict = {}
                    if chance(r):
                        auth["enabled"] = r.choice([True, False, None])
                    if chance(r, 0.3):
                        auth["guestAccess"] = r.choice(["Enabled", "Managed"])
                    if chance(r):
                        auth["selfSigned"] = {k: (text(r) if chance(r, 0.8) else scalar(r))
                                              for k in ("issuer", "sharedSecret", "tokenLifetime") if chance(r)} \
                            if chance(r, 0.9) else scalar(r)
                    sec["auth"] = auth
                else:
                    sec["auth"] = scalar(r)
            spec["security"] = sec
        else:
            spec["security"] = scalar(r)
    put(r, spec, "env", env_list, wrong=("x", {"a": 1}))
    if chance(r, 0.3):
        nodes = []
        for _ in range(r.randint(0, 3)):
            if chance(r, 0.9):
                node: dict = {"selector": {"nodeName": "n1"}}
                if chance(r):
                    node["env"] = env_list(r) if chance(r, 0.85) else scalar(r)
                if chance(r):
                    node["miscArgs"] = misc_args(r) if chance(r, 0.85) else scalar(r)
                nodes.append(node)
            else:
                nodes.append(scalar(r))
        spec["nodes"] = nodes
    put(r, spec, "volumes", lambda r: named_list(r, ["pxsec-jwt-rsa-pubkey", "pxsec-old", "data"], {"mountPath": "/x"}))
    if chance(r):
        stork: dict = {"enabled": r.choice([True, True, False])}
        if chance(r):
            stork["env"] = env_list(r) if chance(r, 0.85) else scalar(r)
        spec["stork"] = stork if chance(r, 0.9) else scalar(r)
    return {"apiVersion": r.choice(["core.libopenstorage.org/v1", "core.libopenstorage.org/v1alpha1"]),
            "kind": "StorageCluster", "metadata": meta, "spec": spec}


def existing_secret(r: random.Random) -> dict:
    meta: dict = {"name": "px-system-secrets"}
    if chance(r, 0.8):
        meta["namespace"] = r.choice(["kube-system", "portworx"])
    if chance(r):
        meta["annotations"] = {"pxsec.io/generated": "true"}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "Opaque",
            "data": {"system-secret": base64.b64encode(b"old").decode()}}


def other_object(r: random.Random):
    kind = r.random()
    if kind < 0.4:
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": dns(r)},
                "data": {dns(r): text(r) for _ in range(r.randint(0, 3))}}
    if kind < 0.6:
        return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": dns(r), "namespace": "kube-system"},
                "spec": {"ports": [{"port": 9001}]}}
    if kind < 0.8:
        return {text(r): scalar(r) for _ in range(r.randint(0, 3))}
    if kind < 0.9:
        return scalar(r)
    return [scalar(r) for _ in range(r.randint(0, 3))]


def px_object(r: random.Random) -> dict:
    kind = r.random()
    if kind < 0.35:
        return workload(r, "DaemonSet", "portworx")
    if kind < 0.6:
        return workload(r, "Deployment", "stork")
    if kind < 0.85:
        return storage_cluster(r)
    if kind < 0.93:
        return workload(r, "Deployment", "portworx")  # a Portworx container in a Deployment: not a target
    return workload(r, "DaemonSet", "stork")


def a_list(r: random.Random) -> dict:
    return {"apiVersion": "v1", "kind": r.choice(["List", "DaemonSetList", "ConfigMapList"]),
            "items": [px_object(r) if chance(r) else other_object(r) for _ in range(r.randint(0, 3))]}


def manifest_object(r: random.Random):
    kind = r.random()
    if kind < 0.65:
        return px_object(r)
    if kind < 0.82:
        return other_object(r)
    if kind < 0.92:
        return a_list(r)
    return existing_secret(r)


def manifest_objects(r: random.Random) -> list:
    return [manifest_object(r) for _ in range(r.randint(1, 5))]


def dump_stream(r: random.Random, objs: list) -> str:
    """A YAML stream of `objs` in a randomly chosen style, with optional Helm-style comments."""
    dumper = yaml.CSafeDumper if chance(r, 0.8) else yaml.SafeDumper
    kw = dict(default_flow_style=r.choice([False, False, None, True]), indent=r.choice([2, 2, 4]),
              width=r.choice([80, 1 << 16, 20]), allow_unicode=chance(r), sort_keys=chance(r),
              canonical=chance(r, 0.05))
    parts = []
    for i, obj in enumerate(objs):
        body = yaml.dump(obj, Dumper=dumper, **kw)
        head = r.choice(["---\n", "---\n", f"---\n# Source: chart/templates/t{i}.yaml\n", "--- # marker comment\n",
                         "" if i == 0 else "---\n"])
        parts.append(head + body)
    return "".join(parts)


def gen_manifest_text(r: random.Random) -> str:
    return dump_stream(r, manifest_objects(r))


seeds = st.randoms(use_true_random=True)
spec_docs = seeds.map(gen_spec_doc)
valid_spec_docs = seeds.map(lambda r: spec_doc(valid_spec_body(r)))
secret_create_spec_docs = seeds.map(lambda r: create_secret_spec(valid_spec_body(r)))
manifest_texts = seeds.map(gen_manifest_text)


# ------------------------------------------------------------------------------------ odd YAML

PX_DS = """\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: portworx
  namespace: kube-system
spec:
  template:
    spec:
      containers:
      - name: portworx
        image: portworx/oci-monitor:2.8.1.2
        args: ["-c", "px-cluster", "-x", "kubernetes"]
        env:
        - name: PX_TEMPLATE_VERSION
          value: "v4"
"""

STORK = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: stork, namespace: kube-system}
spec:
  template:
    spec:
      containers:
      - name: stork
        image: openstorage/stork:2.6.0
"""

ODD_FRAGMENTS = [
    # anchors, aliases and merge keys, inside a Portworx DaemonSet
    """\
apiVersion: apps/v1
kind: DaemonSet
metadata: &meta {name: portworx, namespace: kube-system}
spec:
  selector: {matchLabels: &labels {name: portworx}}
  template:
    metadata: {labels: *labels}
    spec:
      containers:
      - &px
        name: portworx
        image: portworx/oci-monitor:2.8.1.2
        env: &env
        - {name: A, value: "1"}
        args: &args ["-c", "x"]
      - name: sidecar
        env: *env
        args: *args
""",
    """\
base: &base {name: PX_TEMPLATE_VERSION, value: v4}
kind: DaemonSet
apiVersion: apps/v1
metadata: {name: portworx}
spec:
  template:
    spec:
      containers:
      - name: portworx
        env:
        - <<: *base
        - <<: *base
          name: OTHER
""",
    # tags
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: !!str 123}\ndata: {a: !!binary aGVsbG8=, b: !!str yes, c: !custom x}\n",
    "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: portworx}\nspec:\n  template:\n    spec:\n      containers:\n"
    "      - name: portworx\n        args: !!seq [-c, x]\n        env: !!seq []\n",
    "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: portworx, annotations: {when: 2001-12-14t21:59:43.10-05:00}}\n"
    "spec: {template: {spec: {containers: [{name: portworx, args: [1, 2.5, true, null, 2020-01-01]}]}}}\n",
    "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: portworx}\nspec: {template: {spec: {containers: [{name: portworx, args: !!set {a, b}}]}}}\n",
    "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: portworx}\nspec: {template: {spec: {containers: [{name: portworx, env: !!omap [a: 1]}]}}}\n",
    "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: portworx}\nspec: {template: {spec: {containers: [{name: portworx, env: !custom []}]}}}\n",
    "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: portworx}\nspec: {template: {spec: {containers: [{name: portworx, "
    "x: !!int x, y: !!timestamp y, z: !!bool z, w: !!float w}]}}}\n",
    "%YAML 1.1\n%TAG !e! tag:example.com,2000:\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: !e!x y}\n",
    # keys that are not strings, complex keys, duplicate keys
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n1: one\nnull: nothing\n? [a, b]\n: c\n",
    "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: portworx}\nspec: {template: {spec: {containers: [{name: portworx, ? [a]\n : b}]}}}\n",
    "apiVersion: apps/v1\nkind: DaemonSet\nkind: DaemonSet\nmetadata: {name: portworx}\nmetadata: {name: px2}\n"
    "spec: {template: {spec: {containers: [{name: portworx}, {name: portworx}]}}}\n",
    "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: portworx}\nspec: {template: {spec: {containers: [{name: portworx, 1: 2, env: [{name: 1, value: 2}]}]}}}\n",
    # document markers in odd places, end markers, scalars and lists as documents
    # (content after `---` on its line is `invalid Yaml document separator` for kubectl: it goes on the next line)
    "---\n|\n  a literal document\n---\n>\n  folded\n...\n---\n42\n---\n[a, b]\n---\n{kind: DaemonSet, apiVersion: apps/v1, metadata: {name: portworx}, "
    "spec: {template: {spec: {containers: [{name: portworx}]}}}}\n",
    "---\n!!map\nkind: Deployment\napiVersion: apps/v1\nmetadata: {name: stork}\nspec: {template: {spec: {containers: [{name: stork}]}}}\n...\n",
    "---# Source: px/templates/ds.yaml\n" + PX_DS,
    "# only a comment\n",
    "---\n---\n---\n",
    "...\n",
    "\n\n# c\n---\n# c2\n",
    "key: 'single ''quoted'' --- not a marker'\n",
    "text: |\n  ---\n  looks like a marker but is indented\n",
    "a: \"multi\n  line --- with marker-ish\n  text\"\n",
    # flow styles, nested
    "{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: portworx}, spec: {template: {spec: {containers: [{name: portworx, "
    "env: [{name: PORTWORX_AUTH_SYSTEM_KEY, value: literal-secret-value}], args: [-jwt_issuer=old, --jwt_issuer, x, -auth_system_key, k]}]}}}}\n",
    "apiVersion: v1\nkind: List\nitems:\n- " + "\n  ".join(PX_DS.splitlines()) + "\n- " + "\n  ".join(STORK.splitlines()) + "\n",
    "apiVersion: v1\nkind: List\nitems: &i []\nother: *i\n",
    "apiVersion: v1\nkind: List\nitems: [1, x, null, {kind: DaemonSet}]\n",
]


def huge_block(n: int) -> str:
    body = "\n".join(f"    line {i} " + "x" * (i % 70) for i in range(n))
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big}}\ndata:\n  big: |\n{body}\n"


def huge_in_candidate(n: int) -> str:
    body = "\n".join(f"      line {i}: " + "y" * (i % 50) for i in range(n))
    return PX_DS.replace("  namespace: kube-system\n", f"  namespace: kube-system\n  annotations:\n    blob: |\n{body}\n")


def nested(depth: int, flow: bool) -> str:
    if flow:
        return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: " + "[" * depth + "x" + "]" * depth + "\n"
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: deep}", "data:"]
    lines += ["  " * (i + 1) + f"k{i}:" for i in range(depth)]
    lines[-1] += " leaf"
    return "\n".join(lines) + "\n"


def nested_in_candidate(depth: int) -> str:
    return PX_DS + "      extra: " + "[" * depth + "]" * depth + "\n"


@st.composite
def odd_fragment(draw) -> str:
    kind = draw(st.sampled_from(["fixed", "fixed", "fixed", "px", "stork", "huge", "huge_px", "nested"]))
    if kind == "fixed":
        return draw(st.sampled_from(ODD_FRAGMENTS))
    if kind == "px":
        return PX_DS
    if kind == "stork":
        return STORK
    if kind == "huge":
        return huge_block(draw(st.integers(1, 20000)))
    if kind == "huge_px":
        return huge_in_candidate(draw(st.integers(1, 3000)))
    depth = draw(st.integers(1, 300))
    which = draw(st.sampled_from(["flow", "block", "px"]))
    return nested_in_candidate(depth) if which == "px" else nested(depth, which == "flow")


# separator lines kubectl accepts (apimachinery YAMLReader.Read: `---`, then nothing or a comment
# after Go's TrimSpace); YAML reads the last two as content, Kubernetes as separators
SEPARATORS = ["---\n", "--- \n", "---\t# c\n", "\n---\n", "---# c\n", "---\u00a0#: c\n"]


@st.composite
def odd_yaml_bytes(draw) -> bytes:
    """A stream of odd-but-valid YAML, then re-encoded: CRLF, BOMs, odd markers, sometimes non-UTF-8."""
    frags = draw(st.lists(odd_fragment(), min_size=1, max_size=4))
    text = ""
    for i, f in enumerate(frags):
        sep = "" if i == 0 and draw(st.booleans()) else draw(st.sampled_from(SEPARATORS))
        if f.startswith(("%", "---", "...")) and i > 0 and not text.endswith("\n...\n"):
            sep = "...\n" if f.startswith("%") else ""
        text += sep + f
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    if draw(st.integers(0, 3)) == 0:
        text = text.rstrip("\r\n")  # no final newline
    data = text.encode("utf-8")
    bom = draw(st.sampled_from(["none", "none", "none", "start", "middle", "utf16"]))
    if bom == "start":
        data = b"\xef\xbb\xbf" + data
    elif bom == "middle":
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + b"\xef\xbb\xbf" + data[cut:]
    elif bom == "utf16":
        data = text.encode("utf-16")
    if draw(st.integers(0, 9)) == 0:  # Latin-1 bytes: not UTF-8
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + "\u00e9t\u00e9".encode("latin-1") + data[cut:]
    return data


# ------------------------------------------------------------------------------------ malformed

BROKEN = [b"a: [1, 2", b"a: {b: c", b"a: 'unterminated", b'a: "unterminated', b"a:\n\tb: tab", b"- a\nb: c",
          b"a: b: c", b"&a", b"*unknown", b"a: *unknown", b"? ", b"!<!> x", b"%YAML 2.0\n---\na", b"%FOO\n",
          b"--- !!python/object:os.system x", b"a: !!binary '@@'", b"a: !!set [x]",
          b"a: !!int notanint", b"a: !!float x", b"a: !!bool x", b"a: !!timestamp x",
          b"\x00", b"a: \x07bell", b"key: |\n bad\n  indent\n x", b"[", b"]", b"{", b"}", b"@", b"`"]


@st.composite
def malformed_bytes(draw) -> bytes:
    how = draw(st.sampled_from(["random", "broken", "mutate", "mutate", "mutate", "truncate", "splice"]))
    if how == "random":
        return draw(st.binary(max_size=200))
    if how == "broken":
        base = draw(st.sampled_from([PX_DS, STORK, ""])).encode()
        return base + b"---\n" + draw(st.sampled_from(BROKEN)) + draw(st.sampled_from([b"", b"\n", b"\n---\n" + STORK.encode()]))
    base = draw(st.sampled_from([PX_DS, STORK, PX_DS + "---\n" + STORK, ODD_FRAGMENTS[0], ODD_FRAGMENTS[-4]])).encode()
    if how == "truncate":
        return base[:draw(st.integers(0, len(base)))]
    if how == "splice":
        cut = draw(st.integers(0, len(base)))
        return base[:cut] + draw(st.sampled_from(BROKEN) | st.binary(max_size=8)) + base[cut:]
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, max(0, len(data) - 1)))
        op = draw(st.sampled_from(["set", "insert", "delete"]))
        ch = draw(st.sampled_from(b":-[]{}'\"#&*!|>%@`\t\n ,?") | st.integers(0, 255))
        if op == "set" and data:
            data[i] = ch
        elif op == "insert":
            data.insert(i, ch)
        elif data:
            del data[i]
    return bytes(data)
