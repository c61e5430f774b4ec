"""The invariant hook of the robustness suite: every output a property test accepted (exit 0) is
recorded here with its input and spec, and checked at the end of the session through Kubernetes'
own reader (k8sread, in batch) against tests/invariants.py.

Checked per accepted output, on Kubernetes' view:
- the security invariants (every Portworx container secured, nothing leaked to other
  containers, every env value a string; for other containers and env value types, only what
  the input's own view did not already have: pxsec passes documents it does not own through);
- no canary secret value in the output, except base64 in a Secret pxsec generated;
- an input Kubernetes reads without error gives an output Kubernetes reads without error.

Failures are grouped by kind (names and values stripped) and each group shows its shortest
input, a minimal reproducer to start from.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import yaml

import invariants as inv
import kubelet_oracle
from k8s_view import K8sReadError, read_many

from .harness import CANARIES


@dataclass
class Accepted:
    test: str
    spec_text: str
    stdin: bytes
    stdout: bytes
    krm: bool = False
    family: str = ""


RECORDED: dict[str, list[Accepted]] = defaultdict(list)
GROUP_OF = {"render_malformed": "render", "render_odd": "render", "render_manifests": "render",
            "render_specs": "render", "render_secret_create": "render", "krm_lists": "krm", "krm_raw": "krm",
            "legacy_resources": "legacy", "legacy_raw": "legacy"}


def record(test: str, spec_text: str | bytes, stdin: bytes, stdout: bytes, krm: bool = False,
           family: str = "") -> None:
    if isinstance(spec_text, bytes):
        spec_text = spec_text.decode("utf-8", "replace")
    RECORDED[GROUP_OF.get(test, test)].append(Accepted(test, spec_text, stdin, stdout, krm, family))


def _spec(a: Accepted) -> dict:
    text = a.spec_text.lstrip("\ufeff")
    if a.krm:
        root = yaml.safe_load(a.stdin.decode("utf-8"))
        return root["functionConfig"]
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    return docs[0]


def _docs(result):
    return result.docs if isinstance(result, K8sReadError) else result


def problems(a: Accepted, out, before) -> list[str]:
    if a.test == "check_zero":  # check passed this input: the kubelet's model of it must find nothing
        if isinstance(out, K8sReadError):
            return []  # kubectl refuses it whole: nothing runs
        return kubelet_oracle.violations(_docs(out))
    bad = []
    if isinstance(out, K8sReadError) and not isinstance(before, K8sReadError):
        bad.append(f"Kubernetes reads the input but not the output: {out}")
    try:
        spec = _spec(a)
        bad += inv.violations(_docs(out), spec, baseline=_docs(before), krm=a.krm)
    except Exception as e:  # noqa: BLE001 - a checker that cannot read a spec pxsec accepted is a finding
        bad.append(f"the checker could not apply the spec ({type(e).__name__}: {e})")
    try:
        inv.assert_no_secret_values(a.stdout.decode("utf-8", "replace"), CANARIES.values(), _docs(out))
    except AssertionError as e:
        bad.append(str(e))
    return bad


_NAMES = re.compile(r"^\S+ \S+ (container|initContainer|ephemeralContainer) \S+: |^\S+ \S+: ")


def category(message: str) -> str:
    """A violation without the object/container names and values: failures of one kind group."""
    text = _NAMES.sub("", message)
    text = re.sub(r"\(envFrom (ConfigMap|Secret) [^)]*\)", r"(envFrom \1)", text)
    text = re.sub(r"found \d+ value", "found N value", text)
    text = re.sub(r"env \S+ value is", "env X value is", text)
    text = re.sub(r"document \d+", "document N", text)
    text = re.sub(r"secretKeyRef to \S+ ", "secretKeyRef to S/K ", text)
    return text[:160]


_AMBIGUOUS = r"(y|n|yes|no|on|off|true|false|null|~|[-+]?\.?[0-9][0-9_.ex:+-]*|0[ob][0-9a-f_]+|[-+]?\.(inf|nan))"
# ... or a string field of the spec
_SPEC_AMBIGUOUS = re.compile(r"(?mi)^\s*(name|key|secretName|system|stork|jwtSharedSecret|clientId|"
                             r"customClaimNamespace|issuer): ['\"]?" + _AMBIGUOUS + r"['\"]?$")
# What in an input points at one of issue 9's listed defects (a heuristic for the report: a
# failure kind whose shortest input matches none of these is a new finding).
SUSPECTS = (
    (1, re.compile(r"<<:")),
    (2, re.compile(r"!!binary")),
    (3, re.compile(r"config\.kubernetes\.io/local-config['\"]?: ['\"]?true")),
    (4, re.compile(r"command:")),
    (5, re.compile(r"envFrom")),
    (6, re.compile(r"command: .*\b(sh|bash)\b")),
    (7, re.compile(r"(?s)&[-\w]+.*\*[-\w]+")),
    # a string that go-yaml reads as another type, quoted in the input
    (8, re.compile(r"""(?i)(['"]|!!str )""" + _AMBIGUOUS + r"""(['"]|[],}\s])""")),
    (18, re.compile(r"initContainers|kind: \w+List|kind: List")),
)


def suspects(a: Accepted) -> list[int]:
    text = a.stdin.decode("utf-8", "replace")
    return [n for n, pattern in SUSPECTS if pattern.search(text) or (n == 8 and _SPEC_AMBIGUOUS.search(a.spec_text))]


def check(group: str) -> tuple[int, dict[str, tuple[int, Accepted, list[str]]]]:
    """(outputs checked, category -> (count, shortest failing case, its violations))."""
    cases = RECORDED.get(group, [])
    views = read_many([t for a in cases for t in (a.stdout, a.stdin)]) if cases else []
    failures: dict[str, tuple[int, Accepted, list[str]]] = {}
    for i, a in enumerate(cases):
        bad = problems(a, views[2 * i], views[2 * i + 1])
        for cat in {(f"[{a.family}] " if a.family else "") + category(b) for b in bad}:
            n, best, msgs = failures.get(cat, (0, a, bad))
            if len(a.stdin) + len(a.spec_text) < len(best.stdin) + len(best.spec_text):
                best, msgs = a, bad
            failures[cat] = (n + 1, best, msgs)
    return len(cases), failures


def report(group: str, checked: int, failures: dict) -> str:
    lines = [f"{sum(n for n, _, _ in failures.values())} violation(s) in {checked} accepted {group} outputs, "
             f"{len(failures)} kind(s); the shortest input of each kind:"]
    for cat, (n, a, msgs) in sorted(failures.items(), key=lambda kv: -kv[1][0]):
        lines += [f"\n=== {n}x {cat}", f"test: {a.test} {a.family}".rstrip(),
                  f"issue 9 defects its input may hit: {suspects(a) or 'none (a new finding?)'}", "spec:", a.spec_text.rstrip(), "input:",
                  a.stdin.decode("utf-8", "replace")[:3000].rstrip(), "violations: " + "; ".join(msgs[:6])]
    return "\n".join(lines)
