"""`pxsec check` as users run it: exit codes, formats, inputs, colour, the pre-commit hook
entry, and secret values that never reach any output."""
from __future__ import annotations

import json

import pytest
import yaml

from clirunner import on_a_terminal
from check.manifests import container, lit, portworx, stork, storagecluster, text
from conftest import ROOT, clean_env, run_pxsec
from pxsec import audit
from pxsec.audit import format_text

SPEC = str(ROOT / "examples" / "spec.yaml")
SECRET_VALUE = "cli-literal-secret-value-never-printed"


@pytest.fixture
def files(tmp_path):
    insecure = tmp_path / "insecure.yaml"
    insecure.write_text(text(portworx(issuer=None, env=[])))
    warn = tmp_path / "warn.yaml"
    warn.write_text(text(storagecluster(security={"enabled": True, "auth": {"guestAccess": "Enabled"}})))
    clean = tmp_path / "clean.yaml"
    clean.write_text(text(portworx(), stork()))
    leak = tmp_path / "leak.yaml"
    ds = portworx()
    container(ds)["env"][2] = lit("PORTWORX_AUTH_SYSTEM_KEY", SECRET_VALUE)
    leak.write_text(text(ds))
    return {"insecure": insecure, "warn": warn, "clean": clean, "leak": leak, "dir": tmp_path}


def test_exit_0_without_errors_and_1_with_errors(files):
    ok = run_pxsec(["check", str(files["clean"])])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert b"PXS021" in ok.stdout  # notes are shown but never fail
    bad = run_pxsec(["check", str(files["insecure"])])
    assert bad.returncode == 1 and b"PXS001" in bad.stdout


def test_strict_fails_on_warnings(files):
    assert run_pxsec(["check", str(files["warn"])]).returncode == 0
    r = run_pxsec(["check", "--strict", str(files["warn"])])
    assert r.returncode == 1 and b"PXS016" in r.stdout
    assert run_pxsec(["check", "--strict", str(files["clean"])]).returncode == 0


@pytest.mark.parametrize("args", [
    ["check", "--format", "xml"],
    ["check", "--nope"],
    ["check", "does-not-exist.yaml"],
    ["check", "--spec", "missing-spec.yaml", "-"],
])
def test_usage_errors_exit_2(args):
    r = run_pxsec(args, stdin=b"")
    assert r.returncode == 2 and r.stdout == b"" and b"Traceback" not in r.stderr


def test_invalid_spec_is_a_usage_error(tmp_path):
    bad = tmp_path / "spec.yaml"
    bad.write_text("apiVersion: pxsec.io/v1alpha1\nkind: PortworxSecurity\nspec: {}\n")
    r = run_pxsec(["check", "--spec", str(bad)], stdin=b"")
    assert r.returncode == 2 and b"spec" in r.stderr


def test_invalid_yaml_input_is_a_finding_not_a_crash(tmp_path):
    (tmp_path / "broken.yaml").write_text("kind: [\n")
    r = run_pxsec(["check", "--format", "json", str(tmp_path)])
    assert r.returncode == 1
    assert [f["rule_id"] for f in json.loads(r.stdout)["findings"]] == ["PXS000"]


def test_json_output(files):
    r = run_pxsec(["check", "--format", "json", str(files["insecure"]), str(files["warn"])])
    doc = json.loads(r.stdout)
    assert r.returncode == 1
    assert doc["summary"] == {"error": 1, "warning": 1, "note": 1, "driftChecked": False, "workloads": 2,
                              "ignored": 0, "belowMinSeverity": 0, "baselined": 0}
    assert doc["clusters"] == []  # a fleet audit (--cluster) lists each cluster here
    [f] = [f for f in doc["findings"] if f["rule_id"] == "PXS001"]
    assert f == {"rule_id": "PXS001", "severity": "error",
                 "message": f["message"], "file": str(files["insecure"]), "index": 0, "kind": "DaemonSet",
                 "name": "portworx", "namespace": "kube-system", "field": "spec.template.spec.containers[0]",
                 "line": 16, "column": 9, "cluster": None}
    assert files["insecure"].read_text().splitlines()[15].strip() == "- name: portworx"


def test_text_output_is_one_clickable_line_per_finding_and_plain_off_a_terminal(files):
    r = run_pxsec(["check", str(files["insecure"]), str(files["warn"])])
    out = r.stdout.decode()
    assert "\033[" not in out
    assert [ln.split(" ", 3)[:3] for ln in out.splitlines()[:-1]] == [
        [f"{files['insecure']}:16:9:", "error", "PXS001"],
        [f"{files['warn']}:11:3:", "note", "PXS021"],  # spec.security
        [f"{files['warn']}:14:7:", "warning", "PXS016"]]  # spec.security.auth.guestAccess
    assert out.splitlines()[-1] == "1 error, 1 warning, 1 note"


def test_colour_only_on_a_terminal_and_never_with_no_color(files):
    env = clean_env()
    env.pop("NO_COLOR", None)
    code, out = on_a_terminal(["check", str(files["insecure"])], env)
    assert code == 1 and "\033[31m" in out
    code, out = on_a_terminal(["check", str(files["insecure"])], {**env, "NO_COLOR": "1"})
    assert code == 1 and "\033[" not in out and "PXS001" in out


def test_stdin_and_directories(files):
    r = run_pxsec(["check"], stdin=files["insecure"].read_bytes())
    assert r.returncode == 1 and b"<stdin>:16:9: error PXS001 DaemonSet kube-system/portworx" in r.stdout
    r = run_pxsec(["check", "--format", "json", str(files["dir"])])
    names = {f["file"] for f in json.loads(r.stdout)["findings"]}
    assert names == {str(files[k]) for k in ("insecure", "warn", "clean", "leak")}


def test_output_file_and_summary_on_stderr(files, tmp_path):
    out = tmp_path / "report.sarif"
    r = run_pxsec(["check", "-f", "sarif", "-o", str(out), str(files["insecure"])])
    assert r.returncode == 1 and r.stdout == b""
    assert json.loads(out.read_text())["version"] == "2.1.0"
    assert r.stderr.decode().strip() == f"pxsec: check: 1 error, 0 warnings, 0 notes (report in {out})"


def test_secret_values_never_reach_any_output(files):
    for fmt in ("text", "json", "sarif", "junit", "github"):
        r = run_pxsec(["check", "--format", fmt, str(files["leak"])])
        assert r.returncode == 1
        assert SECRET_VALUE.encode() not in r.stdout + r.stderr
        assert b"PORTWORX_AUTH_SYSTEM_KEY" in r.stdout


def test_spec_enables_drift_and_render_output_passes(files, tmp_path):
    drift = run_pxsec(["check", "--spec", SPEC, str(files["clean"])])
    assert drift.returncode == 1 and b"PXS019" in drift.stdout
    rendered = run_pxsec(["render", "--spec", SPEC, str(files["insecure"])])
    assert rendered.returncode == 0
    out = tmp_path / "rendered.yaml"
    out.write_bytes(rendered.stdout)
    r = run_pxsec(["check", "--spec", SPEC, str(out)])
    assert r.returncode == 0, r.stdout.decode()
    assert b"PXS019" not in r.stdout
    via_env = run_pxsec(["check", str(files["clean"])], env={"PXSEC_SPEC": SPEC})
    assert b"PXS019" in via_env.stdout


def test_secret_create_drift_needs_no_secret_values(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"apiVersion": "pxsec.io/v1alpha1", "kind": "PortworxSecurity", "spec": {
        "secret": {"name": "pxkeys", "create": True}, "selfSigned": {"issuer": "openstorage.io",
                                                                     "sharedSecret": True}}}))
    values = {"PORTWORX_AUTH_SYSTEM_KEY": "A" * 40 + "-system", "PORTWORX_AUTH_STORK_KEY": "B" * 40 + "-stork",
              "PORTWORX_AUTH_JWT_SHAREDSECRET": "C" * 40 + "-shared"}
    src = tmp_path / "in.yaml"
    src.write_text(text(portworx(issuer=None, env=[]), stork(env=[])))
    rendered = run_pxsec(["render", "--spec", str(spec), str(src)], env=values)
    assert rendered.returncode == 0, rendered.stderr
    out = tmp_path / "out.yaml"
    out.write_bytes(rendered.stdout)
    r = run_pxsec(["check", "--spec", str(spec), "--format", "json", str(out)])  # no key variables set
    assert r.returncode == 0, r.stdout.decode()
    assert [f["rule_id"] for f in json.loads(r.stdout)["findings"] if f["rule_id"] == "PXS019"] == []
    # a generated Secret that lost a key is drift, reported without any value
    docs = list(yaml.safe_load_all(out.read_text()))
    secret = next(d for d in docs if d and d.get("kind") == "Secret")
    del secret["data"]["system-secret"]
    out.write_text("---\n".join(yaml.safe_dump(d) for d in docs))
    r = run_pxsec(["check", "--spec", str(spec), str(out)])
    assert r.returncode == 1 and b"PXS019" in r.stdout and b"system-secret" in r.stdout
    import base64
    for v in values.values():
        assert v.encode() not in r.stdout and base64.b64encode(v.encode()) not in r.stdout


def test_text_summary_wording():
    assert format_text.summary(audit.check([])) == "no findings (no Portworx or Stork workload in the input)"
    assert format_text.summary(audit.Report([], checked=1, drift_checked=True)) == "no findings; no drift from render"


def test_pre_commit_hook_entry():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    [hook] = [h for h in hooks if h["id"] == "pxsec-check"]
    assert hook["entry"] == "pxsec check" and hook["language"] == "python"
    assert hook["require_serial"] is True and hook["pass_filenames"] is True
    assert "yaml" in hook["types"]


def test_docs_rule_table_matches_the_catalogue():
    import re

    from pxsec.audit import RULES

    rows = re.findall(r"^\| <a id=\"(pxs\d{3})\"></a>(PXS\d{3}) \| ([a-z-]+) \| (error|warning|note) \|",
                      (ROOT / "docs" / "check.md").read_text(), re.M)
    assert [(a.upper(), i, n, s) for a, i, n, s in rows] == [(r.id, r.id, r.name, r.severity)
                                                            for r in RULES.values()]
