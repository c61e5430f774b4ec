"""The process model (renderer/process.py) and its judgments (renderer/proof.py), rule by rule,
each test naming the upstream function it encodes (../shared/docs/kubelet-and-stream-facts.md).

Unit tests of the model first; then issue 20's examples, each run as a user would (`pxsec render`,
`pxsec check`): every one of them exited 0 on the previous main.
"""
from __future__ import annotations

import copy
import json
import re

import pytest
from hypothesis import given, settings, strategies as st
import yaml

from pxsec import portworx as px, process, proof
from pxsec.process import SECRET, UNKNOWN

from conftest import ROOT, run_pxsec

SPEC = (ROOT / "examples" / "spec.yaml").read_text().split("  storageClasses:")[0]


def ds(container: dict, annotations: dict | None = None, extra: list | None = None) -> dict:
    pod_meta = {"labels": {"name": "portworx"}}
    if annotations:
        pod_meta["annotations"] = annotations
    ct = {"name": "portworx", "image": "portworx/oci-monitor:2.13.5", "args": ["-c", "px-cluster", "-x", "kubernetes"]}
    ct.update(container)
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "portworx", "namespace": "kube-system"},
            "spec": {"selector": {"matchLabels": {"name": "portworx"}},
                     "template": {"metadata": pod_meta, "spec": {"containers": [ct] + (extra or [])}}}}


def procs(obj: dict, *others: dict) -> list[process.Process]:
    return list(process.processes(obj, process.sources_of(others)))


def portworx(obj: dict, *others: dict) -> process.Process:
    return next(p for p in procs(obj, *others) if p.role == px.PORTWORX)


# --- expansion.Expand (third_party/forked/golang/expansion/expand.go) -----------------------------
@pytest.mark.parametrize("text, want", [
    ("$(A)", "1"), ("x$(A)y", "x1y"), ("$$(A)", "$(A)"), ("$$$(A)", "$1"), ("$(B)", "$(B)"),
    ("$(A", "$(A"), ("$", "$"), ("$x", "$x"), ("a$", "a$"), ("$()", "$()"), ("$(A)$(A)", "11"),
])
def test_expand_is_the_kubelets(text, want):
    """Expand: `$$` escapes, an undefined or unterminated reference stays as written."""
    assert process.expand(text, {"A": "1"}.get)[0] == want


# --- makeEnvironmentVariables (pkg/kubelet/kubelet_pods.go) ----------------------------------------
def test_env_expands_only_from_what_is_defined_before():
    """makeEnvironmentVariables: a value expands with the variables defined so far (tmpEnv)."""
    p = portworx(ds({"env": [{"name": "B", "value": "$(A)"}, {"name": "A", "value": "1"},
                             {"name": "C", "value": "$(A)"}]}))
    assert p.env["B"].value == "$(A)" and p.env["C"].value == "1"


def test_envfrom_first_then_env_wins_and_prefix():
    """makeEnvironmentVariables: envFrom (in order, prefix prepended, later wins), then env wins."""
    cm1 = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "one", "namespace": "kube-system"},
           "data": {"X": "1", "Y": "1"}}
    cm2 = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "two", "namespace": "kube-system"},
           "data": {"X": "2", "bad name": "z"}}
    p = portworx(ds({"envFrom": [{"configMapRef": {"name": "one"}}, {"configMapRef": {"name": "two"}},
                                 {"prefix": "P_", "configMapRef": {"name": "one"}}],
                     "env": [{"name": "Y", "value": "env"}]}), cm1, cm2)
    assert (p.env["X"].value, p.env["Y"].value, p.env["P_X"].value) == ("2", "env", "1")
    assert "bad name" not in p.env  # IsEnvVarName: the kubelet skips it


def test_secret_keys_are_data_and_stringdata_never_values():
    """Secret strategy: stringData merges into data; pxsec keeps key names only, never values."""
    sec = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "kube-system"},
           "data": {"A": "c2VjcmV0"}, "stringData": {"B": "plain-secret"}}
    p = portworx(ds({"envFrom": [{"secretRef": {"name": "s"}}]}), sec)
    assert p.env["A"].value == SECRET and p.env["B"].value == SECRET
    assert p.env["B"].ref == ("s", "B")


def test_envfrom_not_in_the_stream_may_define_names_under_its_prefix():
    p = portworx(ds({"envFrom": [{"prefix": "PORTWORX_AUTH_", "configMapRef": {"name": "elsewhere"}}],
                     "args": ["$(PORTWORX_AUTH_JWT_ISSUER)"]}))
    assert p.argv[0].text == UNKNOWN and p.may_define("PORTWORX_AUTH_JWT_ISSUER")


def test_fieldref_reads_the_pods_annotations_in_clear_text():
    """makeEnvironmentVariables -> podFieldSelectorRuntimeValue: metadata.annotations['k']."""
    obj = ds({"env": [{"name": px.SYSTEM_KEY, "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['k']"}}}]},
             annotations={"k": "clear"})
    p = portworx(obj)
    assert p.env[px.SYSTEM_KEY].source == process.FROM_FIELD and p.env[px.SYSTEM_KEY].value == "clear"
    problems = proof.judge(obj, procs(obj))
    assert any(pr.rule == proof.PROCESS and "not from a Secret" in pr.message for pr in problems)


# --- ExpandContainerCommandAndArgs (pkg/kubelet/container/helpers.go) ------------------------------
def test_args_expand_from_the_final_environment():
    """ExpandContainerCommandAndArgs: command and args use the container's final env."""
    p = portworx(ds({"command": ["/px-oci-mon", "$(F)"], "args": ["$(V)"],
                     "env": [{"name": "F", "value": "-jwt_issuer"}, {"name": "V", "value": "rogue"}]}))
    flags, end = p.flags(px.OWNED_FLAGS)
    assert [(f.flag, f.value) for f in flags] == [("-jwt_issuer", "rogue")] and end is None


def test_flags_after_terminator_are_not_px_runc_flags():
    flags, end = px.scan_flags(["-a", "--", "-jwt_issuer", "x"], px.OWNED_FLAGS)
    assert flags == [] and end == 1


# --- the operator's container (deployment.go getEnvList; util.go MiscArgs) --------------------------
def storagecluster(misc: str, env: list | None = None, nodes: list | None = None) -> dict:
    return {"apiVersion": "core.libopenstorage.org/v1", "kind": "StorageCluster",
            "metadata": {"name": "px", "namespace": "kube-system", "annotations": {px.MISC_ARGS: misc}},
            "spec": {"image": "portworx/oci-monitor:3.1.0", "security": {"enabled": True},
                     **({"env": env} if env else {}), **({"nodes": nodes} if nodes else {})}}


def test_storagecluster_misc_args_expand_from_the_operators_env():
    """getEnvList sets PORTWORX_AUTH_SYSTEM_KEY from px-system-secrets; the kubelet expands misc-args."""
    obj = storagecluster("-x $(PORTWORX_AUTH_SYSTEM_KEY)")
    p = next(iter(procs(obj)))
    assert p.operator and p.argv[1].secret
    assert any("secret on the command line" in pr.message for pr in proof.judge(obj, procs(obj)))


def test_storagecluster_node_group_env_overrides_cluster_env():
    """overwriteClusterSpecWithNodeSpec: a node group's env wins over spec.env by name."""
    obj = storagecluster("$(X)", env=[{"name": "X", "value": "-a"}],
                         nodes=[{"selector": {}, "env": [{"name": "X", "value": "-jwt_issuer=rogue"}]}])
    groups = procs(obj)
    assert [p.argv[0].text for p in groups] == ["-a", "-jwt_issuer=rogue"]
    assert any("expands into px-runc's -jwt_issuer" in pr.message for pr in proof.judge(obj, groups))


# --- which objects run Portworx (kubelet-and-stream-facts.md "Objects that carry a pod template") --
def test_a_kind_pxsec_never_heard_of_running_portworx_is_classified_and_refused():
    obj = ds({})
    obj.update(apiVersion="example.com/v1", kind="NodeAgentSet")
    assert px.classify(obj) == px.PORTWORX
    assert [pr.rule for pr in proof.judge(obj, procs(obj))] == [proof.REFUSED]


# --- issue 20's examples, as users run them -----------------------------------------------------------
def write(tmp_path, docs: list[dict]) -> str:
    path = tmp_path / "in.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    (tmp_path / "spec.yaml").write_text(SPEC)
    return str(path)


def render(tmp_path, docs):
    return run_pxsec(["render", "--spec", str(tmp_path / "spec.yaml"), write(tmp_path, docs)])


def check(tmp_path, docs, *args):
    return run_pxsec(["check", "--format", "json", *args, write(tmp_path, docs)])


def rule_ids(result) -> set[str]:
    return {f["rule_id"] for f in json.loads(result.stdout)["findings"]}


REFUSED_BY_RENDER = {
    "flag after --": [ds({"args": ["-c", "px-cluster", "--", "-jwt_issuer", "rogue"]})],
    "$(VAR) smuggles a flag": [ds({"args": ["-c", "px-cluster", "$(X)"], "env": [{"name": "X", "value": "-jwt_issuer=rogue"}]})],
    "key on the command line": [ds({"args": ["-c", "px-cluster", "$(PORTWORX_AUTH_SYSTEM_KEY)"], "env": [
        {"name": px.SYSTEM_KEY, "valueFrom": {"secretKeyRef": {"name": "px-system-secrets", "key": "system-secret"}}}]})],
    "misc-args put a key on the command line": [storagecluster("-c px $(PORTWORX_AUTH_SYSTEM_KEY)")],
    "misc-args smuggle a flag": [storagecluster("$(X) rogue", env=[{"name": "X", "value": "-jwt_issuer"}])],
    "flags from an unseen envFrom source": [ds({"args": ["-c", "px", "$(PORTWORX_AUTH_JWT_ISSUER)"],
                                               "envFrom": [{"prefix": "PORTWORX_AUTH_", "configMapRef": {"name": "x"}}]})],
    "two Portworx containers": [ds({}, extra=[{"name": "px2", "image": "portworx/oci-monitor:2.13.5"}])],
}


@pytest.mark.parametrize("case", sorted(REFUSED_BY_RENDER))
def test_render_refuses_what_would_run_unsecured(tmp_path, case):
    """render proves its output (selfcheck.prove): one line on stderr, nothing on stdout, exit 1."""
    r = render(tmp_path, copy.deepcopy(REFUSED_BY_RENDER[case]))
    assert (r.returncode, r.stdout) == (1, b""), r.stderr.decode()
    assert r.stderr.decode().count("\n") == 1 and "error:" in r.stderr.decode()


@pytest.mark.parametrize("case", sorted(REFUSED_BY_RENDER))
def test_check_reports_an_error_where_render_refuses(tmp_path, case):
    r = check(tmp_path, copy.deepcopy(REFUSED_BY_RENDER[case]))
    assert r.returncode == 1, r.stdout.decode()
    assert rule_ids(r) & {"PXS037", "PXS023"}, rule_ids(r)


def test_a_key_read_from_a_pod_annotation(tmp_path):
    """fieldRef metadata.annotations: render replaces the variable and warns that the annotation
    still holds the key; check reports the input."""
    obj = ds({"env": [{"name": px.SYSTEM_KEY, "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['k']"}}}]},
             annotations={"k": "clear-text-key-value"})
    r = render(tmp_path, [obj])
    assert r.returncode == 0 and "in clear text" in r.stderr.decode()
    assert "clear-text-key-value" not in r.stderr.decode()
    assert "PXS037" in rule_ids(check(tmp_path, [obj]))


def test_a_flag_value_from_a_variable(tmp_path):
    """render writes the spec's value in place of `$(X)`; check reports the input."""
    obj = ds({"args": ["-jwt_issuer", "$(X)"], "env": [{"name": "X", "value": "rogue"}]})
    r = render(tmp_path, [obj])
    assert r.returncode == 0, r.stderr.decode()
    flags, _ = portworx(yaml.safe_load(r.stdout)).flags(px.OWNED_FLAGS)
    assert [f.value for f in flags if f.flag == "-jwt_issuer"] == ["openstorage.io"]
    assert "PXS037" in rule_ids(check(tmp_path, [obj]))


def test_a_sidecar_with_a_portworx_key_is_named(tmp_path):
    side = {"name": "helper", "image": "busybox", "env": [{"name": px.SYSTEM_KEY, "valueFrom": {
        "secretKeyRef": {"name": "px-system-secrets", "key": "system-secret"}}}]}
    r = render(tmp_path, [ds({}, extra=[side])])
    assert r.returncode == 0 and "container helper carries PORTWORX_AUTH_SYSTEM_KEY" in r.stderr.decode()
    assert "PXS039" in rule_ids(check(tmp_path, [ds({}, extra=[side])]))


def test_a_setting_twin_through_secret_stringdata_is_removed(tmp_path):
    """Secret strategy: stringData keys are keys of the Secret; envFrom reads them."""
    twin = px.SETTINGS["oidc_client_id"][1]
    sec = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "kube-system"},
           "stringData": {twin: "rogue-client"}}
    obj = ds({"envFrom": [{"secretRef": {"name": "s"}}]})
    r = render(tmp_path, [obj, sec])
    assert r.returncode == 0, r.stderr.decode()
    out = list(yaml.safe_load_all(r.stdout))
    secured = portworx(out[0], out[1])
    assert twin not in secured.env
    assert check(tmp_path, [obj, sec]).returncode == 1


def test_check_spec_never_shows_a_key_from_the_helm_vars_annotation(tmp_path):
    obj = ds({})
    obj["metadata"]["annotations"] = {"portworx.com/helm-vars": "envVars=PORTWORX_AUTH_SYSTEM_KEY=hunter2-key-value;A=1"}
    for fmt in ("text", "json", "sarif"):
        r = run_pxsec(["check", "--spec", str(tmp_path / "spec.yaml"), "--format", fmt, write(tmp_path, [obj])])
        assert r.returncode == 1 and b"hunter2-key-value" not in r.stdout + r.stderr, fmt


def test_render_output_renders_to_itself_and_passes_check(tmp_path):
    """The bundled example: render's output is proven, idempotent, and passes check --strict --spec."""
    (tmp_path / "spec.yaml").write_text((ROOT / "examples" / "spec.yaml").read_text())
    first = run_pxsec(["render", "--spec", str(tmp_path / "spec.yaml"), str(ROOT / "examples" / "portworx.yaml")])
    assert first.returncode == 0, first.stderr.decode()
    again = run_pxsec(["render", "--spec", str(tmp_path / "spec.yaml"), "-"], stdin=first.stdout)
    assert again.stdout == first.stdout
    gate = run_pxsec(["check", "--strict", "--spec", str(tmp_path / "spec.yaml"), "-"], stdin=first.stdout)
    assert gate.returncode == 0, gate.stdout.decode()


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(["metadata.", "annotations", "labels", "[", "]", "'", '"', "\n", "a", ".", "x/y"]),
                max_size=8).map("".join))
def test_field_key_reads_a_field_as_its_pattern_does(field):
    """process.field_key against the pattern it replaced (re.match with FIELD_KEY)."""
    m = re.match(process.FIELD_KEY, field)
    assert process.field_key(field) == (m.groups() if m else None)
    prefixed = "metadata.labels[" + field + "]"
    m = re.match(process.FIELD_KEY, prefixed)
    assert process.field_key(prefixed) == (m.groups() if m else None)
