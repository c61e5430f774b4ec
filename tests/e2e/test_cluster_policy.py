"""`pxsec policy` on the session's real kube-apiserver v1.34 (cluster.py): the API server is the judge.

The ValidatingAdmissionPolicy and its binding (admissionregistration.k8s.io/v1, GA since 1.30 and
served by default) are applied with kubectl, which also proves the server compiles every CEL
expression (pkg/apis/admissionregistration/validation `validateValidatingAdmissionPolicy` compiles
each with the server's CEL environment and refuses the object on an error). Then, in a namespace the
binding selects:

- unsecured objects (the bundled example's DaemonSet and Stork, the golden StorageCluster input)
  are denied, and the message names the `pxsec check` rule (PXSnnn name);
- what `pxsec render` makes of the same objects with the same spec is admitted (a real create);
- an update that removes a key from a secured DaemonSet is denied;
- objects that are not Portworx's, and Portworx objects in a namespace the binding does not select,
  are untouched.

The API server enforces a policy only once its policy source has loaded it, a moment after the
create: `_wait_enforced` retries a known-bad server-side dry run (bounded) before any assertion.
The binding selects only this module's namespaces, and both objects are deleted at the end, so
other tests in the session never meet the policy.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import yaml

from .support import REPO, run

pytestmark = pytest.mark.e2e

NAME = "pxsec-e2e-policy"
ON, OFF = "pxsec-policy-on", "pxsec-policy-off"
LABEL = "pxsec.io/enforce"
ENFORCE_DEADLINE = 60.0  # seconds for the server to start enforcing a new policy
PAD = int(os.environ.get("PXSEC_POLICY_PAD", "1000"))  # extra env vars and args in the large DaemonSet
SPEC = """\
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
metadata: {name: px-security}
spec:
  secret: {name: pxkeys}
  selfSigned:
    issuer: openstorage.io
    sharedSecret: true
    rsaPublicKey: {secretName: px-jwt-keys, key: rsa.pub}
  oidc: {issuer: "https://accounts.google.com", clientId: px-client}
  usernameClaim: email
  guestAccess: Disabled
  tokenLifetime: 7d
"""
PLAIN_DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": ON},
    "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "env": [{"name": "A", "value": "b"}]}]}}}}


def _docs(path, namespace: str) -> list[dict]:
    out = []
    for d in yaml.safe_load_all(path.read_text()):
        if d and d.get("kind") in ("DaemonSet", "Deployment", "StorageCluster"):
            d["metadata"]["namespace"] = namespace
            out.append(d)
    return out


def _stream(docs: list[dict]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False)


def _one(docs: list[dict], kind: str, name: str) -> dict:
    (found,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


@pytest.fixture(scope="module")
def enforced(cluster, tmp_path_factory):
    """(spec file, policy objects) with the policy bound to namespace ON and enforced."""
    from .cluster import CHART_CRD, require_shared

    cluster.install_crd(require_shared(CHART_CRD))
    tmp = tmp_path_factory.mktemp("policy")
    spec = tmp / "pxsec.yaml"
    spec.write_text(SPEC)
    for ns, labels in ((ON, {LABEL: "true"}), (OFF, {})):
        cluster.kubectl("apply", "-f", "-", input=json.dumps(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}}))
    text = run(["pxsec", "policy", "--spec", str(spec), "--name", NAME, "--namespace-selector", f"{LABEL}=true"],
               cluster.env({**_env(), "PXSEC_NO_CACHE": "1"})).stdout
    applied = cluster.kubectl("apply", "-f", "-", input=text, check=False)
    assert applied.returncode == 0, f"the API server refused the policy:\n{applied.stderr}"
    objects = list(yaml.safe_load_all(text))
    _wait_enforced(cluster)
    try:
        yield spec, objects
    finally:
        cluster.kubectl("delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", NAME,
                        "--ignore-not-found")


def _env() -> dict:
    import os

    return dict(os.environ, PYTHONPATH=str(REPO))


def _dry_run(cluster, docs: list[dict]):
    return cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=_stream(docs), check=False)


def _wait_enforced(cluster, name: str = NAME, namespace: str = ON) -> None:
    """Retry a server-side dry run of the unsecured example DaemonSet until `name` denies it."""
    ds = _one(_docs(REPO / "examples" / "portworx.yaml", namespace), "DaemonSet", "portworx")
    deadline = time.monotonic() + ENFORCE_DEADLINE
    while True:
        proc = _dry_run(cluster, [ds])
        if proc.returncode != 0 and f"ValidatingAdmissionPolicy '{name}'" in proc.stderr:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"the policy was not enforced after {ENFORCE_DEADLINE}s; last dry run: "
                        f"{proc.returncode} {proc.stderr}", pytrace=False)
        time.sleep(0.5)


def _messages(objects: list[dict]) -> list[str]:
    return [v["message"] for v in objects[0]["spec"]["validations"]]


def _render(spec, docs: list[dict]) -> list[dict]:
    out = run(["pxsec", "render", "--spec", str(spec)], _env(), input=_stream(docs)).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def _denied(proc, objects, rule: str) -> str:
    """The policy's message for `rule` that the server returned (asserting it did deny)."""
    assert proc.returncode != 0, f"admitted, expected a denial by {NAME}:\n{proc.stdout}"
    assert f"ValidatingAdmissionPolicy '{NAME}'" in proc.stderr, proc.stderr
    hits = [m for m in _messages(objects) if m.startswith(rule + " ") and m in proc.stderr]
    assert hits, f"no {rule} message of the policy in:\n{proc.stderr}"
    return hits[0]


def test_the_api_server_accepts_the_policy(cluster, enforced):
    """Created (so every expression compiled within the server's cost limits) and stored as generated."""
    _, objects = enforced
    stored = json.loads(cluster.kubectl("get", "validatingadmissionpolicy", NAME, "-o", "json").stdout)
    assert [v["message"] for v in stored["spec"]["validations"]] == _messages(objects)
    assert [v["name"] for v in stored["spec"]["variables"]] == [v["name"] for v in objects[0]["spec"]["variables"]]
    binding = json.loads(cluster.kubectl("get", "validatingadmissionpolicybinding", NAME, "-o", "json").stdout)
    assert binding["spec"]["validationActions"] == ["Deny"]


def test_unsecured_daemonset_and_stork_are_denied(cluster, enforced):
    _, objects = enforced
    docs = _docs(REPO / "examples" / "portworx.yaml", ON)
    msg = _denied(_dry_run(cluster, [_one(docs, "DaemonSet", "portworx")]), objects, "PXS001")
    assert "no issuer" in msg  # as `pxsec check` says of it (rules_workload.security_disabled)
    # Half secured (a key, no issuer): the first thing the spec asks for that is missing.
    half = _one(docs, "DaemonSet", "portworx")
    half["spec"]["template"]["spec"]["containers"][0]["env"].append(
        {"name": "PORTWORX_AUTH_STORK_KEY", "valueFrom": {"secretKeyRef": {"name": "pxkeys", "key": "stork-secret"}}})
    msg = _denied(_dry_run(cluster, [half]), objects, "PXS019")
    assert "PORTWORX_AUTH_SYSTEM_KEY from Secret pxkeys key system-secret" in msg
    _denied(_dry_run(cluster, [_one(docs, "Deployment", "stork")]), objects, "PXS004")


def test_unsecured_storagecluster_is_denied(cluster, enforced):
    _, objects = enforced
    docs = _docs(REPO / "tests" / "cases" / "storagecluster" / "input.yaml", ON)
    _denied(_dry_run(cluster, [_one(docs, "StorageCluster", "px-cluster")]), objects, "PXS001")


def test_render_output_is_admitted_and_removing_a_key_is_denied(cluster, enforced):
    spec, objects = enforced
    docs = _docs(REPO / "examples" / "portworx.yaml", ON) + [_one(_docs(
        REPO / "tests" / "cases" / "storagecluster" / "input.yaml", ON), "StorageCluster", "px-cluster")]
    rendered = _render(spec, docs)
    created = cluster.kubectl("apply", "-f", "-", input=_stream(rendered), check=False)
    assert created.returncode == 0, f"render's output was denied:\n{created.stderr}"
    for kind, name in (("daemonset", "portworx"), ("deployment", "stork"), ("storagecluster", "px-cluster")):
        cluster.kubectl("get", "-n", ON, kind, name)
    # An update that drops PORTWORX_AUTH_SYSTEM_KEY from the secured DaemonSet:
    ds = json.loads(cluster.kubectl("get", "-n", ON, "daemonset", "portworx", "-o", "json").stdout)
    env = ds["spec"]["template"]["spec"]["containers"][0]["env"]
    i = next(i for i, e in enumerate(env) if e["name"] == "PORTWORX_AUTH_SYSTEM_KEY")
    patch = json.dumps([{"op": "test", "path": f"/spec/template/spec/containers/0/env/{i}/name",
                         "value": "PORTWORX_AUTH_SYSTEM_KEY"},
                        {"op": "remove", "path": f"/spec/template/spec/containers/0/env/{i}"}])
    proc = cluster.kubectl("patch", "-n", ON, "daemonset", "portworx", "--type=json", "-p", patch, check=False)
    assert "PORTWORX_AUTH_SYSTEM_KEY" in _denied(proc, objects, "PXS019")
    # An optional reference (the variable is unset when the Secret is missing) is not a key either:
    patch = json.dumps([{"op": "add", "path": f"/spec/template/spec/containers/0/env/{i}/valueFrom/secretKeyRef/optional",
                         "value": True}])
    proc = cluster.kubectl("patch", "-n", ON, "daemonset", "portworx", "--type=json", "-p", patch, check=False)
    assert "PORTWORX_AUTH_SYSTEM_KEY" in _denied(proc, objects, "PXS019")
    # ... and the same on the StorageCluster: security off.
    proc = cluster.kubectl("patch", "-n", ON, "storagecluster", "px-cluster", "--type=merge",
                           "-p", '{"spec": {"security": {"enabled": false}}}', check=False)
    _denied(proc, objects, "PXS001")


def test_a_large_secured_daemonset_stays_within_the_cel_cost_budget(cluster, enforced):
    """The server evaluates a policy within a runtime CEL cost budget (k8s.io/apiserver
    pkg/apis/cel/config.go RuntimeCELCostBudget, 10^7 per binding, PerCallLimit 10^6 per
    expression) and, with failurePolicy Fail, denies when it runs out. A secured DaemonSet with
    1,000 more env vars, 1,000 more args and 50 more containers is still admitted."""
    spec, _ = enforced
    ds = _render(spec, [_one(_docs(REPO / "examples" / "portworx.yaml", ON), "DaemonSet", "portworx")])[0]
    ds["metadata"]["name"] = "portworx-large"
    pod = ds["spec"]["template"]["spec"]
    px = pod["containers"][0]
    px["env"] = [{"name": f"PAD_{i}", "value": "x" * 20} for i in range(PAD)] + px["env"]
    px["args"] = [f"-pad{i}=x" for i in range(PAD)] + px["args"]
    pod["containers"] += [{"name": f"side-{i}", "image": "busybox:1.36",
                           "env": [{"name": f"E{j}", "value": "v"} for j in range(20)]} for i in range(50)]
    proc = cluster.kubectl("create", "--dry-run=server", "-f", "-", input=json.dumps(ds), check=False)
    assert proc.returncode == 0, proc.stderr


def test_a_bare_pod_running_portworx_is_checked_and_a_controlled_one_is_left_to_its_controller(cluster, enforced):
    """Any pod template running the Portworx image is checked, a bare Pod too. A pod with a
    controller reference to a StorageCluster (the operator's: libopenstorage/operator
    pkg/controller/storagecluster storagecluster.go `syncNodes` creates them with
    NewControllerRef(cluster)) is checked through the StorageCluster instead."""
    _, objects = enforced
    cluster.kubectl("apply", "-f", "-", input=json.dumps(  # no controller manager makes it here
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ON}}))
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "px-by-hand", "namespace": ON},
           "spec": {"containers": [{"name": "px", "image": "docker.io/portworx/oci-monitor:3.2.0",
                                    "args": ["-c", "px-cluster"]}]}}
    _denied(cluster.kubectl("create", "--dry-run=server", "-f", "-", input=json.dumps(pod), check=False),
            objects, "PXS001")
    pod["metadata"]["ownerReferences"] = [{"apiVersion": "core.libopenstorage.org/v1", "kind": "StorageCluster",
                                           "name": "px-cluster", "uid": "6f1b2c3d-0000-4000-8000-000000000001",
                                           "controller": True, "blockOwnerDeletion": True}]
    proc = cluster.kubectl("create", "--dry-run=server", "-f", "-", input=json.dumps(pod), check=False)
    assert proc.returncode == 0, proc.stderr
    # A DaemonSet is never exempt, whatever controller it names.
    ds = _one(_docs(REPO / "examples" / "portworx.yaml", ON), "DaemonSet", "portworx")
    ds["metadata"]["ownerReferences"] = pod["metadata"]["ownerReferences"]
    _denied(_dry_run(cluster, [ds]), objects, "PXS001")


def test_objects_that_are_not_portworx_are_untouched(cluster, enforced):
    proc = _dry_run(cluster, [PLAIN_DEPLOYMENT])
    assert proc.returncode == 0, proc.stderr
    # Portworx outside the selected namespaces: the binding does not apply.
    off = _docs(REPO / "examples" / "portworx.yaml", OFF)
    proc = _dry_run(cluster, [_one(off, "DaemonSet", "portworx")])
    assert proc.returncode == 0, proc.stderr


GOLDEN = REPO / "tests" / "cases"
WORKLOADS = ("portworx", "stork", "storagecluster")


def _golden_workloads(case: Path, namespace: str) -> list[dict]:
    """The workloads of a golden case's want.yaml (render's output), moved into `namespace`."""
    from pxsec import portworx as pw
    from pxsec.render.stream import Stream

    out = []
    for doc in Stream.from_sources([(str(case / "want.yaml"), (case / "want.yaml").read_text())]).documents:
        if doc.index < 0 or doc.node is None:
            continue
        d = doc.construct()  # as Kubernetes decodes it (kyaml: merge keys, tags)
        items = d.get("items") if isinstance(d, dict) and isinstance(d.get("items"), list) else [d]
        for item in items:
            if pw.classify(item) in WORKLOADS and item.get("apiVersion") in ("apps/v1", "core.libopenstorage.org/v1"):
                item["metadata"]["namespace"] = namespace
                out.append(item)
    return out


def _with_selector(obj: dict) -> dict:
    """The golden outputs are minimal: an apps/v1 workload gets the selector and pod labels the API
    server requires (nothing PX-Security reads); unknown StorageCluster fields are pruned
    (`--validate=ignore`), as the API server prunes them before admission."""
    if obj.get("apiVersion") == "apps/v1":
        labels = {"pxsec-e2e": "golden"}
        obj["spec"]["selector"] = {"matchLabels": labels}
        meta = obj["spec"]["template"].setdefault("metadata", {}) or {}
        obj["spec"]["template"]["metadata"] = dict(meta, labels={**(meta.get("labels") or {}), **labels})
    return obj


CASES_WITH_WORKLOADS = sorted(p.parent for p in GOLDEN.glob("*/want.yaml")
                              if p.parent.name != "errors" and (p.parent / "spec.yaml").is_file()
                              and _golden_workloads(p.parent, "x"))


@pytest.mark.parametrize("case", CASES_WITH_WORKLOADS, ids=[c.name for c in CASES_WITH_WORKLOADS])
def test_every_golden_render_output_is_admitted_by_its_own_policy(cluster, enforced, tmp_path, case):
    """For each golden case, the policy made from its spec admits render's output of its input
    (tests/cases/<case>/want.yaml): the policy never refuses what render makes. Each case gets its
    own policy, bound to its own namespace, deleted at the end."""
    name, ns = f"pxsec-e2e-{case.name}", f"pxsec-case-{case.name}"
    cluster.kubectl("apply", "-f", "-", input=json.dumps(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"pxsec.io/case": case.name}}}))
    text = run(["pxsec", "policy", "--spec", str(case / "spec.yaml"), "--name", name,
                "--namespace-selector", f"pxsec.io/case={case.name}"], _env()).stdout
    cluster.kubectl("apply", "-f", "-", input=text)
    try:
        _wait_enforced(cluster, name, ns)
        admitted = 0
        for obj in _golden_workloads(case, ns):
            proc = cluster.kubectl("apply", "--dry-run=server", "--validate=ignore", "-f", "-",
                                   input=json.dumps(_with_selector(obj)), check=False)
            assert "ValidatingAdmissionPolicy" not in proc.stderr, (
                f"{obj['kind']} {obj['metadata']['name']} of {case.name}/want.yaml was denied:\n{proc.stderr}")
            admitted += proc.returncode == 0
        assert admitted, f"no workload of {case.name}/want.yaml reached admission"
    finally:
        cluster.kubectl("delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", name,
                        "--ignore-not-found")


def test_warn_action_admits_with_the_rule_as_a_warning(cluster, enforced):
    """--action Warn: the server admits and returns the message as a warning (kubectl prints
    `Warning: ...`); validationActions Warn, admissionregistration/v1 ValidationAction."""
    spec, _ = enforced
    name, ns = "pxsec-e2e-warn", "pxsec-policy-warn"
    cluster.kubectl("apply", "-f", "-", input=json.dumps(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {LABEL: "warn"}}}))
    text = run(["pxsec", "policy", "--spec", str(spec), "--name", name, "--action", "Warn",
                "--namespace-selector", f"{LABEL}=warn"], _env()).stdout
    cluster.kubectl("apply", "-f", "-", input=text)
    try:
        ds = _one(_docs(REPO / "examples" / "portworx.yaml", ns), "DaemonSet", "portworx")
        deadline = time.monotonic() + ENFORCE_DEADLINE
        while True:
            proc = _dry_run(cluster, [ds])
            assert proc.returncode == 0, proc.stderr
            if "Warning:" in proc.stderr and "PXS019 drift:" in proc.stderr:
                break
            if time.monotonic() > deadline:
                pytest.fail(f"no warning after {ENFORCE_DEADLINE}s: {proc.stderr}", pytrace=False)
            time.sleep(0.5)
    finally:
        cluster.kubectl("delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", name,
                        "--ignore-not-found")
