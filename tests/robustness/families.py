"""Generators of the YAML families where PyYAML's reading and Kubernetes' (go-yaml via
sigs.k8s.io/yaml) can differ, or where editing `args` alone misses what px-runc receives
(issue 9): merge keys, anchors/aliases shared across containers, tags (!!binary, !!str, !!int),
command/args splits (flags in `command`, `-flag=value`, `--flag`, shell wrappers), envFrom with
in-stream ConfigMaps/Secrets carrying PORTWORX_AUTH_* twins, ambiguous scalars (every YAML 1.1
bool/int/float/sexagesimal/null spelling and go-yaml's y/Y/n/N, 0o17, 0x1F, 1_000, .inf, ~) in
the manifest and in the spec, and control characters.

Texts are written by hand (a dumper cannot produce these constructs), from a `random.Random`
that Hypothesis seeds, so runs are reproducible. `case(r)` returns (spec document, stream text).
"""
from __future__ import annotations

import base64
import json
import random

from . import strategies as s

IMAGES = ("portworx/oci-monitor:3.1.0", "docker.io/portworx/oci-monitor:2.13.5", "portworx/oci-monitor@sha256:abc")
KEY_VARS = ("PORTWORX_AUTH_SYSTEM_KEY", "PORTWORX_AUTH_STORK_KEY", "PORTWORX_AUTH_SYSTEM_APPS_KEY",
            "PORTWORX_AUTH_JWT_SHAREDSECRET", "PX_SHARED_SECRET")
TWINS = ("PORTWORX_AUTH_JWT_ISSUER", "PORTWORX_AUTH_OIDC_ISSUER", "PORTWORX_AUTH_OIDC_CLIENTID",
         "PORTWORX_AUTH_OIDC_CUSTOM_NAMESPACE", "PORTWORX_AUTH_JWT_RSA_PUBKEY", "PORTWORX_AUTH_JWT_ECDS_PUBKEY",
         "PORTWORX_AUTH_USERNAME_CLAIM")
SEC_FLAGS = ("-jwt_issuer", "-oidc_issuer", "-oidc_client_id", "-oidc_custom_claim_namespace",
             "-jwt_rsa_pubkey_file", "-jwt_ecds_pubkey_file", "-username_claim", "-jwt_shared_secret",
             "-auth_system_key")
PLAIN = ("-c", "px-cluster", "-x", "kubernetes", "-a", "-b", "-secret_type", "k8s")
# YAML 1.1 (PyYAML) and go-yaml (YAML 1.1-ish, sigs.k8s.io/yaml) readings differ on many of these
AMBIGUOUS = ("y", "Y", "n", "N", "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False",
             "FALSE", "on", "On", "ON", "off", "Off", "OFF", "~", "null", "Null", "NULL", "", "0", "017", "0o17",
             "0x1F", "0b101", "1_000", "+12", "-0", "1e3", "1E3", "1.5", ".5", "1.", "+.inf", ".inf", "-.Inf", ".NaN",
             ".nan", "12:30", "1:20:30", "190:20:30.15", "-1:30", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
             "0.", "1_0.5", "0xFF_FF", "=", "<<", "!", "&a", "*a", "- a", "? a", "a: b", "#", "'", '"')
CONTROL = tuple(chr(c) for c in list(range(0, 32)) + [0x7f, 0x85, 0xa0, 0x2028, 0x2029, 0xfeff])


def q(value: str, r: random.Random) -> str:
    """`value` as a YAML scalar in a random style: plain (as typed), single or double quoted."""
    style = r.choice(["plain", "single", "double"])
    if style == "plain":
        return value if value else "''"
    if style == "single" and all(c >= " " and c != "\x7f" for c in value):
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value)  # JSON strings are YAML double-quoted scalars


def keys_env(r: random.Random, indent: str) -> list[str]:
    """Some env entries: key variables (refs or literals), twins, ordinary ones."""
    out = []
    for _ in range(r.randint(0, 4)):
        name = r.choice(KEY_VARS + TWINS + ("PX_TEMPLATE_VERSION", "NODE_NAME"))
        if s.chance(r, 0.5):
            out.append(f"{indent}- {{name: {name}, valueFrom: {{secretKeyRef: {{name: {s.dns(r)}, "
                       f"key: {s.secret_key(r)}}}}}}}")
        else:
            out.append(f"{indent}- {{name: {name}, value: {q(r.choice(AMBIGUOUS + ('https://evil.example.com',)), r)}}}")
    return out


def argv(r: random.Random) -> list[str]:
    out = []
    for _ in range(r.randint(0, 6)):
        k = r.random()
        if k < 0.4:
            out.append(r.choice(PLAIN))
        elif k < 0.7:
            out += [r.choice(SEC_FLAGS), r.choice(("https://evil.example.com", "openstorage.io", "x", "/etc/k"))]
        elif k < 0.85:
            out.append(f"{r.choice(SEC_FLAGS)}={r.choice(('evil', 'openstorage.io', ''))}")
        else:
            out += ["-" + r.choice(SEC_FLAGS), "evil"]
    return out


def flow(items: list[str], r: random.Random) -> str:
    return "[" + ", ".join(q(i, r) for i in items) + "]"


def container_lines(r: random.Random, name: str, image: str, extra: list[str] | None = None, anchor: str = "") -> list[str]:
    lines = [f"      - {anchor}name: {q(name, r)}", f"        image: {q(image, r)}"]
    if s.chance(r, 0.6):
        lines.append(f"        args: {flow(argv(r), r)}")
    env = keys_env(r, "        ")
    if env and s.chance(r, 0.5):
        lines += ["        env:"] + env
    return lines + (extra or [])


def daemonset(pod_lines: list[str], name: str = "portworx", kind: str = "DaemonSet", head: str = "") -> str:
    return (f"apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: kube-system\n{head}spec:\n"
            "  selector: {matchLabels: {name: portworx}}\n  template:\n    metadata: {labels: {name: portworx}}\n"
            "    spec:\n" + "\n".join(" " * 6 + ln for ln in pod_lines) + "\n")


def sidecar(r: random.Random) -> list[str]:
    return container_lines(r, r.choice(["sidecar", "csi-node-driver-registrar"]), "busybox")


# --- families ----------------------------------------------------------------------------------

def merge_keys(r: random.Random) -> str:
    image = r.choice(IMAGES)
    how = r.randrange(6)
    if how == 0:  # the whole identity in a merge
        px = [f"      - <<: {{name: portworx, image: {q(image, r)}}}", f"        args: {flow(argv(r), r)}"]
        return daemonset(["containers:"] + px + (sidecar(r) if s.chance(r) else []))
    if how == 1:  # inherited from an anchored sidecar
        base = container_lines(r, "sidecar", image if s.chance(r) else "busybox", anchor="&base ")
        px = ["      - <<: *base", f"        name: {q(r.choice(['portworx', 'px']), r)}"]
        return daemonset(["containers:"] + base + px)
    if how == 2:  # a merge list
        return daemonset(["containers:", f"      - <<: [{{name: portworx}}, {{image: {q(image, r)}}}]",
                          f"        env: [{{name: PX_A, value: {q(r.choice(AMBIGUOUS), r)}}}]"])
    if how == 3:  # an explicit key wins over the merged one (both directions)
        a, b = r.sample(["portworx", "sidecar"], 2)
        return daemonset(["containers:", f"      - <<: {{name: {a}, image: {q(image, r)}}}", f"        name: {b}"])
    if how == 4:  # merged pod spec
        return daemonset([f"<<: {{containers: [{{name: portworx, image: {q(image, r)}}}]}}"])
    env = f"{{name: PORTWORX_AUTH_SYSTEM_KEY, value: {q('literal-secret-value', r)}}}"
    return daemonset(["containers:", "      - name: portworx", f"        image: {q(image, r)}", "        env:",
                      f"        - <<: {env}"])


def anchors(r: random.Random) -> str:
    image = r.choice(IMAGES)
    field = r.choice(["env", "args", "volumeMounts", "envFrom", "container"])
    if field == "container":  # the same container twice (Kubernetes rejects the duplicate name; pxsec must not crash)
        px = container_lines(r, "portworx", image, anchor="&px ")
        return daemonset(["containers:"] + px + ["      - *px"])
    values = {"env": "[{name: PX_A, value: a}]", "args": flow(argv(r), r), "volumeMounts": "[{name: etcpwx, mountPath: /etc/pwx}]",
              "envFrom": "[{configMapRef: {name: px-env}}]"}[field]
    px = [f"      - name: portworx", f"        image: {q(image, r)}", f"        {field}: &shared {values}"]
    other = ["      - name: sidecar", "        image: busybox", f"        {field}: *shared"]
    if s.chance(r):
        other = ["      - name: sidecar", "        image: busybox", f"        {field}: &shared {values}"]
        px = [f"      - name: portworx", f"        image: {q(image, r)}", f"        {field}: *shared"]
    lines = ["containers:"] + (px + other if s.chance(r) else other + px)
    if s.chance(r, 0.3):  # and a shared env entry
        lines += ["      - name: telemetry", "        image: busybox", "        env: [&k {name: PX_B, value: b}]"]
    return daemonset(lines)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def tags(r: random.Random) -> str:
    image = r.choice(IMAGES)
    where = r.randrange(7)
    if where == 0:
        return daemonset(["containers:"] + container_lines(r, "portworx", image)).replace(
            "kind: DaemonSet", f"kind: !!binary {_b64('DaemonSet')}")
    if where == 1:
        return daemonset(["containers:", f"      - name: !!binary {_b64('portworx')}", "        image: busybox"])
    if where == 2:
        return daemonset(["containers:", "      - name: px", f"        image: !!binary {_b64(image)}"])
    if where == 3:  # a flag hidden in a !!binary arg
        return daemonset(["containers:", "      - name: portworx", f"        image: {q(image, r)}",
                          f"        args: [-c, px, !!binary {_b64(r.choice(SEC_FLAGS))}, evil]"])
    if where == 4:
        return daemonset(["containers:", "      - name: !!str portworx", f"        image: !!str {image}",
                          f"        env: [{{name: PX_A, value: !!str {r.choice(['12:30', '0o17', 'y', '1_000'])}}}]"])
    if where == 5:  # typed values where Kubernetes wants strings (the input's fault: pxsec must not crash)
        return daemonset(["containers:", "      - name: portworx", f"        image: {q(image, r)}",
                          f"        env: [{{name: PX_A, value: !!int {r.choice(['1', '0x1F', '017'])}}}]"])
    return daemonset(["containers:"] + container_lines(r, "portworx", image)).replace(
        "apiVersion: apps/v1", "apiVersion: !!str apps/v1").replace("kind: DaemonSet", "kind: !!str DaemonSet")


def command_args(r: random.Random) -> str:
    image = r.choice(IMAGES)
    full = argv(r) + argv(r)
    cut = r.randint(0, len(full))
    lines = ["containers:", "      - name: portworx", f"        image: {q(image, r)}"]
    cmd_kind = r.randrange(5)
    if cmd_kind == 0:
        lines.append(f"        command: {flow(['/px-oci-mon'] + full[:cut], r)}")
    elif cmd_kind == 1:
        lines.append(f"        command: {flow(full[:cut], r)}")
    elif cmd_kind == 2:  # a shell wrapper
        lines.append(f"        command: {flow([r.choice(['sh', '/bin/sh', 'bash']), '-c', 'exec /px-oci-mon ' + ' '.join(full[:cut])], r)}")
    else:
        cut = 0
    if s.chance(r, 0.8):
        block = s.chance(r)
        rest = full[cut:]
        lines += ["        args:"] + [f"        - {q(a, r)}" for a in rest] if block and rest else \
            [f"        args: {flow(rest, r)}"]
    return daemonset(lines + (sidecar(r) if s.chance(r, 0.3) else []))


def env_from(r: random.Random) -> str:
    image = r.choice(IMAGES)
    kind = r.choice(["ConfigMap", "Secret"])
    name = r.choice(["px-env", "px-extra"])
    prefix = r.choice(["", "", "PORTWORX_AUTH_", "X_"])
    keys = r.sample(TWINS + KEY_VARS + ("PX_OTHER",), r.randint(1, 3))
    if prefix == "PORTWORX_AUTH_":
        keys = [k.replace("PORTWORX_AUTH_", "") for k in keys]
    values = {k: r.choice(("https://evil.example.com", "evil", "openstorage.io")) for k in keys}
    if kind == "Secret" and s.chance(r):
        data = "data: {" + ", ".join(f"{k}: {_b64(v)}" for k, v in values.items()) + "}"
    else:
        data = ("stringData: {" if kind == "Secret" else "data: {") + ", ".join(
            f"{k}: {q(v, r)}" for k, v in values.items()) + "}"
    ns = r.choice(["kube-system", "kube-system", "other"])
    source = f"apiVersion: v1\nkind: {kind}\nmetadata: {{name: {name}, namespace: {ns}}}\n{data}\n"
    ref = "configMapRef" if kind == "ConfigMap" else "secretRef"
    pfx = f", prefix: {prefix}" if prefix else ""
    px = ["containers:", "      - name: portworx", f"        image: {q(image, r)}",
          f"        envFrom: [{{{ref}: {{name: {name}}}{pfx}}}]"]
    docs = [daemonset(px + (sidecar(r) if s.chance(r, 0.3) else []))]
    docs.insert(r.randint(0, 1), source) if s.chance(r, 0.85) else None
    return "---\n".join(docs)


def ambiguous(r: random.Random) -> str:
    image = r.choice(IMAGES)
    env = [f"        - {{name: PX_V{i}, value: {q(r.choice(AMBIGUOUS), r)}}}" for i in range(r.randint(1, 4))]
    lines = ["containers:", "      - name: portworx", f"        image: {q(image, r)}", "        env:"] + env
    if s.chance(r):
        lines.append(f"        args: {flow(['-c', r.choice(AMBIGUOUS)], r)}")
    head = f"  labels: {{v: {q(r.choice(AMBIGUOUS), r)}}}\n" if s.chance(r, 0.3) else ""
    return daemonset(lines, head=head)


def control(r: random.Random) -> str:
    image = r.choice(IMAGES)
    value = "".join(r.choice(CONTROL + ("a", "b", " ")) for _ in range(r.randint(1, 5)))
    where = r.randrange(3)
    if where == 0:
        lines = ["containers:", "      - name: portworx", f"        image: {q(image, r)}",
                 f"        env: [{{name: PX_C, value: {json.dumps(value)}}}]"]
        return daemonset(lines)
    if where == 1:
        return daemonset(["containers:", "      - name: portworx", f"        image: {q(image, r)}"],
                         head=f"  annotations: {{note: {json.dumps(value)}}}\n")
    return daemonset(["containers:", "      - name: portworx", f"        image: {q(image, r)}",
                      f"        args: [-c, {json.dumps(value)}]"])


# apimachinery's YAMLReader.Read (pkg/util/yaml/decoder.go): a line starting with `---` whose rest,
# strings.TrimSpace'd (Go's Unicode spaces), is empty or a comment separates documents; any other
# rest is `invalid Yaml document separator` for the whole stream. YAML reads `---#: x` as a key.
GO_SPACES = (" ", "\t", "\v", "\f", "\r", "\x85", "\xa0", "\u1680", "\u2002", "\u200a", "\u2028", "\u2029",
             "\u202f", "\u205f", "\u3000")
NOT_GO_SPACES = ("\x1c", "\x1f", "\u200b", "\ufeff")  # Python's str.strip() takes \x1c-\x1f; Go does not
SEPARATOR_RESTS = ("", "#", "#: x", "# Source: px/templates/ds.yaml", "#---", "# {a: b}", "#!!map")
BAD_RESTS = ("-", "x", " {a: b}", " !!map", " |", " >-", " a: b", " []", " ~", "...")


def separator(r: random.Random, bad: float = 0.0) -> str:
    """A separator line (newline included) as apimachinery reads it: mostly valid spellings,
    with probability `bad` one it refuses (content after `---`, or a non-Go space before a comment)."""
    pad = "".join(r.choice(GO_SPACES) for _ in range(r.randint(0, 2)))
    if s.chance(r, bad):
        if s.chance(r, 0.3):
            return "---" + r.choice(NOT_GO_SPACES) + r.choice(SEPARATOR_RESTS[1:]) + "\n"
        return "---" + pad + r.choice(BAD_RESTS) + "\n"
    tail = "".join(r.choice(GO_SPACES) for _ in range(r.randint(0, 1)))
    return "---" + pad + r.choice(SEPARATOR_RESTS) + tail + r.choice(("\n", "\r\n"))


def separators(r: random.Random) -> str:
    """An unsecured Portworx DaemonSet between other documents, joined by separator spellings
    YAML reads as content (`---#: x`, `---\u00a0#`, `---\x85`): Kubernetes sees every document."""
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: kube-system}\ndata: {a: b}\n"
    ds = daemonset(["containers:", "      - name: portworx", f"        image: {q(r.choice(IMAGES), r)}",
                    f"        args: {flow(argv(r), r)}"])
    docs = [cm % "before", ds, cm % "after"][r.randrange(2):]
    head = separator(r) if s.chance(r, 0.3) else ""
    return head + "".join(d + separator(r) for d in docs[:-1]) + docs[-1]


FAMILIES = {"merge_keys": merge_keys, "anchors": anchors, "tags": tags, "command_args": command_args,
            "env_from": env_from, "ambiguous": ambiguous, "control": control, "separators": separators}


def spec_doc(r: random.Random) -> dict:
    """A valid spec, sometimes with ambiguous or control-character strings where the schema allows them."""
    body = s.valid_spec_body(r)
    if s.chance(r, 0.4):
        odd = [v for v in AMBIGUOUS if v and v.strip() == v and " " not in v and not v.startswith("https")]
        pick = r.choice(odd)
        where = r.randrange(4)
        if where == 0:
            body["oidc"] = {"issuer": "https://idp.example.com", "clientId": pick}
            if s.chance(r):
                body["oidc"]["customClaimNamespace"] = r.choice(odd + ["a\x01b"])
        elif where == 1 and body.get("selfSigned"):
            body["selfSigned"]["issuer"] = pick
        elif where == 2:
            body.setdefault("secret", {})["keys"] = {"system": r.choice(["y", "n", "on", "0x1F", "1_000", "017", "1e3"])}
        else:
            body.setdefault("secret", {})["name"] = r.choice(["y", "n", "on", "off", "yes", "no", "null", "true", "0x1f", "1e3"])
    return s.spec_doc(body)


def case(r: random.Random) -> tuple[str, dict, str]:
    """(family, spec document, stream): one family's DaemonSet, sometimes with Stork and a second family."""
    family = r.choice(sorted(FAMILIES))
    docs = [FAMILIES[family](r)]
    if s.chance(r, 0.3):
        docs.append(s.STORK)
    if s.chance(r, 0.15):
        docs.append(FAMILIES[r.choice(sorted(FAMILIES))](r).replace("name: portworx\n  namespace", "name: px-pool\n  namespace"))
    if s.chance(r, 0.1):  # the same DaemonSet as a list item
        docs = ["apiVersion: v1\nkind: " + r.choice(["List", "DaemonSetList"]) + "\nitems:\n- "
                + docs[0].replace("\n", "\n  ").rstrip() + "\n"] + docs[1:]
    sep = separator(r) if s.chance(r, 0.3) else "---\n"
    return family, spec_doc(r), sep.join(docs)
