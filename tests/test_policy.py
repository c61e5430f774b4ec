"""`pxsec policy`: the shape of the ValidatingAdmissionPolicy and its binding, the CLI contract,
and that what the policy asks for is what `pxsec render` writes.

Nothing here evaluates CEL: the real kube-apiserver judges the expressions
(tests/e2e/test_cluster_policy.py). The shape follows admissionregistration.k8s.io/v1
(k8s.io/api/admissionregistration/v1 types.go: ValidatingAdmissionPolicySpec,
ValidatingAdmissionPolicyBindingSpec; Deny and Warn together are refused by
pkg/apis/admissionregistration/validation `validateValidationActions`).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, run_pxsec
from pxsec.render import pipeline
from pxsec import policy, policy_cel, policy_expected, spec as specmod
from pxsec.audit.model import RULES
from pxsec.errors import UsageError

SPECS = sorted(p for p in (ROOT / "tests" / "cases").glob("*/spec.yaml") if p.parent.name != "errors")
EXAMPLE = ROOT / "examples" / "portworx.yaml"
MESSAGE = re.compile(r"^(PXS\d{3}) ([a-z-]+): \S")


def _ids(paths):
    return [p.parent.name for p in paths]


@pytest.mark.parametrize("path", SPECS, ids=_ids(SPECS))
def test_policy_and_binding_shape(path: Path):
    spec = specmod.load(str(path))
    vap, binding = policy.build(spec)
    assert (vap["apiVersion"], vap["kind"]) == ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy")
    assert (binding["apiVersion"], binding["kind"]) == ("admissionregistration.k8s.io/v1",
                                                        "ValidatingAdmissionPolicyBinding")
    assert binding["spec"]["policyName"] == vap["metadata"]["name"]
    assert binding["spec"]["validationActions"] == ["Deny"] and "matchResources" not in binding["spec"]
    s = vap["spec"]
    assert s["failurePolicy"] == "Fail"  # a CEL error (or cost exhaustion) denies, never admits
    for rule in s["matchConstraints"]["resourceRules"]:
        assert rule["operations"] == ["CREATE", "UPDATE"]
    assert {r for rule in s["matchConstraints"]["resourceRules"] for r in rule["resources"]} >= {
        "daemonsets", "deployments", "pods", "storageclusters"}
    names = [v["name"] for v in s["variables"]]
    assert len(names) == len(set(names))
    for v in s["validations"]:
        assert set(v) == {"expression", "message", "reason"} and v["reason"] == "Invalid"
        m = MESSAGE.match(v["message"])
        assert m, v["message"]
        assert RULES[m.group(1)].name == m.group(2)  # the check rule, by id and name
        assert "\n" not in v["message"]


@pytest.mark.parametrize("path", SPECS, ids=_ids(SPECS))
def test_yaml_reads_back_as_built_and_is_deterministic(path: Path):
    spec = specmod.load(str(path))
    text = policy.to_yaml(policy.build(spec))
    assert list(yaml.safe_load_all(text)) == policy.build(spec)
    assert text == policy.to_yaml(policy.build(specmod.load(str(path))))


def test_values_enter_cel_as_escaped_string_literals():
    """special-characters' clientId holds quotes, a backtick and $(...): it appears only escaped."""
    spec = specmod.load(str(ROOT / "tests" / "cases" / "special-characters" / "spec.yaml"))
    exprs = [v["expression"] for v in policy.build(spec)[0]["spec"]["validations"]]
    client = spec.oidc.client_id
    assert any(policy_cel.lit(client) in e for e in exprs)
    for e in exprs:
        assert client not in e.replace(policy_cel.lit(client), "")  # never raw


def _rendered_portworx(spec) -> dict:
    out = pipeline.render([(str(EXAMPLE), EXAMPLE.read_text())], spec, environ={
        v: "x" * 40 for v in ("PORTWORX_AUTH_SYSTEM_KEY", "PORTWORX_AUTH_STORK_KEY", "PORTWORX_AUTH_JWT_SHAREDSECRET")},
        allow_short_secrets=True).text
    (ds,) = [d for d in yaml.safe_load_all(out) if d and d["kind"] == "DaemonSet"]
    return ds["spec"]["template"]["spec"]["containers"][0]


@pytest.mark.parametrize("path", [p for p in SPECS if "stork: {enabled: false}" not in p.read_text()
                                  and "enabled: false" not in p.read_text()], ids=lambda p: p.parent.name)
def test_what_the_policy_asks_of_portworx_is_what_render_writes(path: Path):
    """The expectations come from render's filters on a probe; render over a whole stream agrees."""
    spec = specmod.load(str(path))
    want = policy_expected.portworx_container(spec)
    ct = _rendered_portworx(spec)
    env = {e["name"]: e for e in ct["env"]}
    for name, secret, key in want.env:
        assert env[name]["valueFrom"]["secretKeyRef"] == {"name": secret, "key": key}
    assert not set(want.forbidden_env) & set(env)
    args = ct["args"]
    for flag, value in want.flags:
        assert args.count(flag) == 1 and args[args.index(flag) + 1] == value
    assert not set(want.forbidden_flags) & set(args)
    mounts = {m["name"]: m["mountPath"] for m in ct.get("volumeMounts") or []}
    for volume, mount_path, _, _ in want.mounts:
        assert mounts[volume] == mount_path


def test_stork_disabled_refuses_stork_deployments():
    spec = specmod.load(str(ROOT / "tests" / "cases" / "special-characters" / "spec.yaml"))
    msgs = [v["message"] for v in policy.build(spec)[0]["spec"]["validations"]]
    assert any(m.startswith("PXS020 render-refused: a Stork Deployment runs but spec.stork.enabled is false") for m in msgs)
    assert not any(m.startswith("PXS004") for m in msgs)


@pytest.mark.parametrize("actions,want", [(None, ["Deny"]), (["Warn", "Audit"], ["Warn", "Audit"]),
                                          (["Audit", "Audit"], ["Audit"]), (["Deny", "Audit"], ["Deny", "Audit"])])
def test_actions(actions, want):
    assert policy.check_actions(actions) == want


@pytest.mark.parametrize("actions", [["Deny", "Warn"], ["deny"], ["Block"]])
def test_bad_actions_are_usage_errors(actions):
    with pytest.raises(UsageError):
        policy.check_actions(actions)


def test_namespace_selector():
    assert policy.parse_selector(["pxsec.io/enforce=true", "env=prod"]) == {"pxsec.io/enforce": "true", "env": "prod"}
    for bad in ("noequals", "=v", "k=v v", "-k=v", "k=" + "v" * 64):
        with pytest.raises(UsageError):
            policy.parse_selector([bad])


SPEC = str(ROOT / "examples" / "spec.yaml")


def test_cli_prints_policy_and_binding(tmp_path):
    r = run_pxsec(["policy", "--spec", SPEC, "--action", "Warn", "--action", "Audit",
                   "--namespace-selector", "pxsec.io/enforce=true", "--name", "px-sec"])
    assert r.returncode == 0, r.stderr
    vap, binding = yaml.safe_load_all(r.stdout)
    assert vap["metadata"]["name"] == binding["metadata"]["name"] == binding["spec"]["policyName"] == "px-sec"
    assert binding["spec"]["validationActions"] == ["Warn", "Audit"]
    assert binding["spec"]["matchResources"] == {"namespaceSelector": {"matchLabels": {"pxsec.io/enforce": "true"}}}
    out = tmp_path / "policy.yaml"
    r2 = run_pxsec(["policy", "--spec", SPEC, "-o", str(out), "--action", "Warn", "--action", "Audit",
                    "--namespace-selector", "pxsec.io/enforce=true", "--name", "px-sec"])
    assert r2.returncode == 0 and r2.stdout == b"" and out.read_bytes() == r.stdout


@pytest.mark.parametrize("args,needle", [
    (["--action", "Deny", "--action", "Warn"], "Deny and Warn cannot be combined"),
    (["--action", "Block"], "--action 'Block'"),
    (["--namespace-selector", "a b"], "--namespace-selector 'a b'"),
])
def test_cli_usage_errors(args, needle):
    r = run_pxsec(["policy", "--spec", SPEC, *args])
    assert r.returncode == 2 and r.stdout == b""
    err = r.stderr.decode()
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err


def test_cli_without_spec_and_with_a_bad_spec(tmp_path):
    r = run_pxsec(["policy"])
    assert r.returncode == 2 and r.stdout == b"" and "no spec" in r.stderr.decode()
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: pxsec.io/v1alpha1\nkind: PortworxSecurity\nmetadata: {name: x}\n"
                   "spec: {oidc: {issuer: 'http://idp', clientId: c}}\n")
    r = run_pxsec(["policy", "--spec", str(bad)])
    assert r.returncode == 1 and r.stdout == b""
    assert "spec.oidc.issuer" in r.stderr.decode() and r.stderr.decode().count("\n") == 1
