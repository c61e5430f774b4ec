"""`pxsec check --create-baseline FILE` / `--baseline FILE`: only new findings are reported and
fail; the baseline survives moved lines, reordered documents and list items, holds no value,
and a bad baseline file is a usage error (exit 2)."""
from __future__ import annotations

import json

import pytest

from check.manifests import container, lit, portworx, stork, text
from conftest import run_pxsec
from pxsec import audit
from pxsec.audit import baseline

SECRET_VALUE = "baseline-literal-secret-never-written"


def leaky(second: bool = False) -> dict:
    """A secured DaemonSet with its system key (and, with `second`, its Stork key) as literals."""
    ds = portworx()
    container(ds)["env"][2] = lit("PORTWORX_AUTH_SYSTEM_KEY", SECRET_VALUE)
    if second:
        container(ds)["env"][3] = lit("PORTWORX_AUTH_STORK_KEY", SECRET_VALUE + "-stork")
    return ds


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "px.yaml").write_text(text(leaky(), stork()))
    return tmp_path


def check(repo, *args):
    return run_pxsec(["check", *args], cwd=repo)


def test_create_then_only_new_findings_fail(repo):
    before = check(repo, "px.yaml")
    assert before.returncode == 1 and b"PXS008" in before.stdout
    created = check(repo, "--create-baseline", "pxsec-baseline.json", "px.yaml")
    assert created.returncode == 0, created.stdout
    assert created.stdout.decode().splitlines()[-1] == "no findings (not shown: 2 in the baseline)"
    assert "baseline of 2 finding(s) written to pxsec-baseline.json" in created.stderr.decode()
    same = check(repo, "--baseline", "pxsec-baseline.json", "px.yaml")
    assert same.returncode == 0 and same.stdout == created.stdout
    # a new problem: a second Portworx without security, in another namespace
    (repo / "new.yaml").write_text(text(portworx(ns="other", issuer=None, env=[])))
    new = check(repo, "--baseline", "pxsec-baseline.json", "--format", "json", "px.yaml", "new.yaml")
    assert new.returncode == 1
    doc = json.loads(new.stdout)
    assert [(f["rule_id"], f["file"]) for f in doc["findings"] if f["severity"] == "error"] == [("PXS001", "new.yaml")]
    assert doc["summary"]["baselined"] == 2
    # a fixed finding leaves the baseline stale, never failing; re-creating it prunes it
    (repo / "px.yaml").write_text(text(portworx(), stork()))
    assert check(repo, "--baseline", "pxsec-baseline.json", "px.yaml").returncode == 0


def test_the_baseline_survives_moved_lines_and_reordered_documents_and_lists(repo):
    assert check(repo, "--create-baseline", "b.json", "px.yaml").returncode == 0
    ds = leaky()
    container(ds)["env"].reverse()  # env[2] is now env[1]
    (repo / "px.yaml").write_text("# a comment\n# and another\n" + text(stork(), ds))
    r = check(repo, "--baseline", "b.json", "--format", "json", "px.yaml")
    assert r.returncode == 0, r.stdout
    assert json.loads(r.stdout)["summary"]["baselined"] == 2


def test_findings_with_one_fingerprint_are_counted(repo):
    assert check(repo, "--create-baseline", "b.json", "px.yaml").returncode == 0
    (repo / "px.yaml").write_text(text(leaky(second=True), stork()))  # a second literal key in that env list
    r = check(repo, "--baseline", "b.json", "--format", "json", "px.yaml")
    doc = json.loads(r.stdout)
    assert r.returncode == 1 and [f["rule_id"] for f in doc["findings"]] == ["PXS008"]
    assert doc["summary"]["baselined"] == 2


def test_the_baseline_file_is_deterministic_and_holds_no_value(repo):
    assert check(repo, "--create-baseline", "a.json", "px.yaml").returncode == 0
    assert check(repo, "--create-baseline", "b.json", "px.yaml").returncode == 0
    a = (repo / "a.json").read_text()
    assert a == (repo / "b.json").read_text()
    doc = json.loads(a)
    assert doc["kind"] == "PxsecCheckBaseline" and doc["version"] == 1
    assert {e["rule"] for e in doc["findings"]} == {"PXS008", "PXS021"}
    assert all(set(e) == {"fingerprint", "rule", "where", "object", "field"} for e in doc["findings"])
    assert SECRET_VALUE not in a and "PORTWORX_AUTH_SYSTEM_KEY" not in a  # no message either
    [leak] = [e for e in doc["findings"] if e["rule"] == "PXS008"]
    assert leak["where"] == "px.yaml" and leak["object"] == "DaemonSet kube-system/portworx"
    assert leak["field"] == "spec.template.spec.containers[].env[]"


def test_fingerprints_ignore_lines_indexes_and_messages_but_not_identity():
    f = audit.Finding("PXS008", "error", "m1", file="a.yaml", index=0, kind="DaemonSet", name="px",
                      namespace="ns", field="spec.containers[0].env[2]", line=5, column=3)
    same = [f.replace(index=4, line=90, column=1, field="spec.containers[0].env[7]", message="m2"),
            f.replace(file="./a.yaml")]
    assert {baseline.fingerprint(g) for g in same} == {baseline.fingerprint(f)}
    other = [f.replace(rule_id="PXS001"), f.replace(file="b.yaml"), f.replace(name="px2"),
             f.replace(namespace="ns2"), f.replace(kind="Deployment"), f.replace(field="spec.containers[0].args"),
             f.replace(cluster="prod")]
    assert len({baseline.fingerprint(g) for g in other} | {baseline.fingerprint(f)}) == len(other) + 1


def test_with_quiet_and_min_severity_the_baseline_still_records_every_finding(repo):
    r = check(repo, "--create-baseline", "b.json", "--quiet", "px.yaml")
    assert r.returncode == 0 and r.stdout == b""
    assert {e["rule"] for e in json.loads((repo / "b.json").read_text())["findings"]} == {"PXS008", "PXS021"}


def test_updating_a_baseline_in_place(repo):
    assert check(repo, "--create-baseline", "b.json", "px.yaml").returncode == 0
    (repo / "px.yaml").write_text(text(portworx(), stork()))  # the leak is fixed
    r = check(repo, "--baseline", "b.json", "--create-baseline", "b.json", "px.yaml")
    assert r.returncode == 0
    assert [e["rule"] for e in json.loads((repo / "b.json").read_text())["findings"]] == ["PXS021"]


@pytest.mark.parametrize("content, message", [
    ("not json", "b.json: not a pxsec baseline (not valid JSON"),
    ('{"kind": "Other", "version": 1, "findings": []}', "b.json: kind: not a pxsec baseline"),
    ('{"kind": "PxsecCheckBaseline", "version": 9, "findings": []}', "b.json: version: unsupported baseline version 9"),
    ('{"kind": "PxsecCheckBaseline", "version": 1, "findings": {}}', "b.json: findings: must be a list"),
    ('{"kind": "PxsecCheckBaseline", "version": 1, "findings": [{"fingerprint": "x"}]}',
     "b.json: findings[0]: must have a 32-hex-digit fingerprint"),
])
def test_a_bad_baseline_is_a_usage_error(repo, content, message):
    (repo / "b.json").write_text(content)
    r = check(repo, "--baseline", "b.json", "px.yaml")
    assert r.returncode == 2 and r.stdout == b""
    err = r.stderr.decode()
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_missing_baseline_is_a_usage_error(repo):
    r = check(repo, "--baseline", "missing.json", "px.yaml")
    assert r.returncode == 2 and r.stdout == b"" and b"missing.json" in r.stderr
