"""Tuning `pxsec check` as kube-linter and checkov users expect: ignore a rule (command line,
config file, annotation on the object), --min-severity, --quiet, clickable `file:line:col:`
text, and rule links in SARIF. The PXS021 reminder can be silenced every one of these ways."""
from __future__ import annotations

import json
import re

import pytest

from check.manifests import container, lit, portworx, stork, storagecluster, text
from conftest import ROOT, run_pxsec
from pxsec import audit
from pxsec.audit import RULES, format_sarif, format_text

SECRET_VALUE = "tuning-literal-secret-never-printed"


def annotated(obj: dict, value: str) -> dict:
    obj["metadata"].setdefault("annotations", {})
    obj["metadata"]["annotations"] = {"pxsec.io/ignore": value}
    return obj


@pytest.fixture
def clean(tmp_path):
    """A secured install: its only finding is the PXS021 note."""
    path = tmp_path / "clean.yaml"
    path.write_text(text(portworx(), stork()))
    return path


@pytest.fixture
def mixed(tmp_path):
    """One error (PXS008, a literal key), one warning (PXS016), notes (PXS021)."""
    ds = portworx()
    container(ds)["env"][2] = lit("PORTWORX_AUTH_SYSTEM_KEY", SECRET_VALUE)
    sc = storagecluster(security={"enabled": True, "auth": {"guestAccess": "Enabled"}})
    path = tmp_path / "mixed.yaml"
    path.write_text(text(ds, stork(), sc))
    return path


def rule_ids(r) -> list[str]:
    return sorted({f["rule_id"] for f in json.loads(r.stdout)["findings"]})


# ---------------------------------------------------------------------------- --ignore

@pytest.mark.parametrize("args", [
    ["--ignore", "PXS021"],
    ["--ignore", "pxs021"],
    ["--ignore", "token-reset-reminder"],
    ["-i", "PXS016,PXS021"],
    ["--ignore", "PXS016", "--ignore", "PXS021"],
])
def test_ignore_on_the_command_line(clean, args):
    assert b"PXS021" in run_pxsec(["check", str(clean)]).stdout
    r = run_pxsec(["check", *args, str(clean)])
    assert r.returncode == 0, r.stderr
    assert b"PXS021" not in r.stdout
    assert r.stdout.decode().strip() == "no findings (not shown: 1 ignored)"


def test_ignored_errors_no_longer_fail_and_are_counted(mixed):
    r = run_pxsec(["check", "--format", "json", "--ignore", "PXS008", str(mixed)])
    assert r.returncode == 0, r.stdout
    doc = json.loads(r.stdout)
    assert "PXS008" not in rule_ids(r)
    assert doc["summary"]["ignored"] == 1 and doc["summary"]["error"] == 0


@pytest.mark.parametrize("bad, hint", [("PXS99", "did you mean PXS039?"), ("token-reset", "token-reset-reminder"),
                                       ("PXS021,nope", "'nope'")])
def test_unknown_rules_are_usage_errors_with_a_hint(clean, bad, hint):
    r = run_pxsec(["check", "--ignore", bad, str(clean)])
    assert r.returncode == 2 and r.stdout == b""
    assert hint in r.stderr.decode() and len(r.stderr.decode().strip().splitlines()) == 1


# ---------------------------------------------------------------------------- annotation

def test_annotation_ignores_rules_on_that_object_only(tmp_path):
    a = annotated(storagecluster(security={"enabled": True, "auth": {"guestAccess": "Enabled"}}),
                  "PXS016, token-reset-reminder")
    b = storagecluster(ns="other", security={"enabled": True, "auth": {"guestAccess": "Enabled"}})
    src = text(a, b)
    report = audit.check([("sc.yaml", src)])
    assert sorted((f.rule_id, f.namespace) for f in report.findings) == [("PXS016", "other"), ("PXS021", "other")]
    assert report.ignored == 2
    unannotated = audit.check([("sc.yaml", text(storagecluster(security={"enabled": True, "auth": {
        "guestAccess": "Enabled"}}), b))])
    assert unannotated.ignored == 0 and len(unannotated.findings) == 4


def test_annotation_on_an_item_of_a_list_and_on_a_pairing_object(tmp_path):
    ds = annotated(portworx(), "PXS021")
    items = {"apiVersion": "v1", "kind": "List", "items": [ds, stork()]}
    pair = annotated({"apiVersion": "stork.libopenstorage.org/v1alpha1", "kind": "ClusterPair",
                      "metadata": {"name": "remote", "namespace": "kube-system"}, "spec": {}}, "PXS021")
    report = audit.check([("l.yaml", text(items, pair))])
    assert report.findings == [] and report.ignored == 2


def test_an_annotation_naming_an_unknown_rule_is_reported_and_ignores_nothing(clean, tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text(text(annotated(portworx(), "PXS21"), stork()))
    r = run_pxsec(["check", str(path)])
    assert r.returncode == 0 and b"PXS021" in r.stdout
    err = r.stderr.decode()
    assert "pxsec: warning: " in err and "unknown rule 'PXS21'; did you mean PXS021?" in err
    assert 'metadata.annotations["pxsec.io/ignore"]' in err and "DaemonSet/portworx" in err


# ---------------------------------------------------------------------------- config file

def test_config_file_in_the_working_directory(tmp_path, clean, mixed):
    (tmp_path / ".pxsec-check.yaml").write_text("ignore: [PXS021]\nstrict: true\n")
    r = run_pxsec(["check", "clean.yaml"], cwd=tmp_path)
    assert r.returncode == 0 and b"PXS021" not in r.stdout, r.stdout
    r = run_pxsec(["check", "--ignore", "PXS008", "mixed.yaml"], cwd=tmp_path)  # strict: the warning fails
    assert r.returncode == 1 and b"PXS016" in r.stdout and b"PXS008" not in r.stdout
    elsewhere = run_pxsec(["check", str(clean)])  # another directory: no config
    assert b"PXS021" in elsewhere.stdout


def test_config_file_given_with_config_and_min_severity(tmp_path, mixed):
    conf = tmp_path / "conf" / "pxsec.yaml"
    conf.parent.mkdir()
    conf.write_text("# the team's settings\nminSeverity: warning\nignore: guest-access-enabled\n")
    r = run_pxsec(["check", "--format", "json", "--config", str(conf), str(mixed)])
    assert rule_ids(r) == ["PXS008"]
    summary = json.loads(r.stdout)["summary"]
    assert summary["ignored"] == 1 and summary["belowMinSeverity"] >= 1
    r = run_pxsec(["check", "--format", "json", "--config", str(conf), "--min-severity", "note", str(mixed)])
    assert "PXS021" in rule_ids(r)  # the command line wins


@pytest.mark.parametrize("content, message", [
    ("ignroe: [PXS021]\n", "unknown key 'ignroe'; did you mean ignore?"),
    ("ignore: [PXS0211]\n", "ignore[0]: unknown rule 'PXS0211'"),
    ("minSeverity: info\n", "minSeverity: must be one of note, warning, error"),
    ("strict: yes please\n", "strict: must be true or false"),
    ("- PXS021\n", "must be a mapping"),
    ("ignore: [\n", "not valid YAML"),
])
def test_a_bad_config_file_is_a_usage_error(tmp_path, clean, content, message):
    (tmp_path / ".pxsec-check.yaml").write_text(content)
    r = run_pxsec(["check", "clean.yaml"], cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == b""
    err = r.stderr.decode()
    assert err.startswith("pxsec: error: .pxsec-check.yaml") and message in err, err
    missing = run_pxsec(["check", "--config", str(tmp_path / "none.yaml"), str(clean)])
    assert missing.returncode == 2 and b"none.yaml" in missing.stderr


# ---------------------------------------------------------------------------- severity, quiet

def test_min_severity_leaves_out_less_severe_findings(mixed):
    r = run_pxsec(["check", "--min-severity", "warning", str(mixed)])
    out = r.stdout.decode()
    assert r.returncode == 1 and "PXS008" in out and "PXS016" in out and "PXS021" not in out
    assert out.splitlines()[-1] == "1 error, 1 warning, 0 notes (not shown: 2 below --min-severity)"
    r = run_pxsec(["check", "--min-severity", "error", "--strict", str(mixed)])
    assert "PXS016" not in r.stdout.decode() and r.returncode == 1


def test_quiet_shows_only_what_fails(mixed, clean):
    r = run_pxsec(["check", "--quiet", str(mixed)])
    lines = r.stdout.decode().splitlines()
    assert r.returncode == 1 and len(lines) == 1 and " error PXS008 " in lines[0]
    strict = run_pxsec(["check", "-q", "--strict", str(mixed)]).stdout.decode()
    assert "PXS016" in strict and "PXS021" not in strict
    assert all(re.search(r":\d+:\d+: (error|warning) PXS", ln) for ln in strict.splitlines())  # no summary
    passing = run_pxsec(["check", "-q", str(clean)])
    assert passing.returncode == 0 and passing.stdout == b"" and passing.stderr == b""


# ---------------------------------------------------------------------------- text, SARIF

def test_text_lines_are_file_line_col_and_point_at_the_field(tmp_path):
    src = text(portworx(extra_args=["-username_claim", "uid"]))
    (tmp_path / "m.yaml").write_text(src)
    r = run_pxsec(["check", "m.yaml"], cwd=tmp_path)
    pattern = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning|note) "
                         r"(?P<rule>PXS\d{3}) (?P<rest>.+)$")
    lines = r.stdout.decode().splitlines()
    found = [pattern.match(ln) for ln in lines[:-1]]
    assert all(found), lines
    [m] = [m for m in found if m["rule"] == "PXS013"]
    assert m["file"] == "m.yaml" and m["sev"] == "error"
    assert m["rest"].startswith("DaemonSet kube-system/portworx spec.template.spec.containers[0].args[")
    line = src.splitlines()[int(m["line"]) - 1]
    assert line[int(m["col"]) - 1:] == "-username_claim"
    assert lines[-1] == "1 error, 0 warnings, 1 note"


def test_text_for_stdin_and_for_a_file_without_line(tmp_path):
    f = audit.Finding("PXS019", "error", "Secret x is missing", file="a.yaml")
    assert format_text.line(f) == "a.yaml: error PXS019 Secret x is missing"
    r = run_pxsec(["check"], stdin=text(portworx(issuer=None, env=[])).encode())
    assert r.stdout.decode().startswith("<stdin>:16:")


def test_text_escapes_control_characters_so_a_finding_stays_one_line():
    ds = portworx(name="evil\nname\x1b[2J")
    report = audit.check([("x.yaml", text(ds))])
    out = format_text.render(report)
    assert "\x1b" not in out and all(ln.startswith(("x.yaml:", "0 errors")) for ln in out.splitlines())


def test_sarif_links_every_rule_to_its_anchor_in_the_docs():
    sarif = format_sarif.to_dict(audit.check([]))
    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver["informationUri"].startswith("https://")
    docs = (ROOT / "docs" / "check.md").read_text()
    for rule in driver["rules"]:
        base, anchor = rule["helpUri"].split("#")
        assert base.startswith(driver["informationUri"]) and base.endswith("/docs/check.md")
        assert f'<a id="{anchor}"></a>{rule["id"]}' in docs
    assert len({r["helpUri"] for r in driver["rules"]}) == len(RULES)


def test_sarif_leaves_out_ignored_findings_and_has_columns(mixed):
    r = run_pxsec(["check", "--format", "sarif", "--ignore", "PXS021", str(mixed)])
    results = json.loads(r.stdout)["runs"][0]["results"]
    assert {res["ruleId"] for res in results} == {"PXS008", "PXS016"}
    assert all(res["locations"][0]["physicalLocation"]["region"]["startColumn"] >= 1 for res in results)
    assert SECRET_VALUE.encode() not in r.stdout + r.stderr


def test_config_accepts_a_list_or_a_string_of_rules():
    from pxsec.audit import config

    assert config.parse("ignore: PXS021 guest-access-enabled,PXS008\n", "c").ignore == {"PXS021", "PXS016", "PXS008"}
    assert config.parse("ignore: [pxs021]\nminSeverity: error\n", "c") == config.Config("c", frozenset({"PXS021"}),
                                                                                         "error", False)
    assert config.parse("# nothing yet\n", "c") == config.Config("c")


def test_kube_linter_style_annotation_with_a_reason():
    sc = storagecluster(security={"enabled": True, "auth": {"guestAccess": "Enabled"}})
    sc["metadata"]["annotations"] = {"ignore-check.pxsec.io/guest-access-enabled": "until every client has a token",
                                     "ignore-check.pxsec.io/PXS21": "typo"}
    report = audit.check([("sc.yaml", text(sc))])
    assert [f.rule_id for f in report.findings] == ["PXS021"] and report.ignored == 1
    assert report.notices == ['sc.yaml: document 1 (StorageCluster/px-cluster): metadata.annotations['
                              '"ignore-check.pxsec.io/PXS21"]: unknown rule \'PXS21\'; did you mean PXS021? '
                              '(not ignored)']
