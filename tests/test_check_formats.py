"""`pxsec check --format junit` and `--format github`, and several reports in one run.

JUnit output is validated against the Jenkins xUnit plugin's JUnit schema
(tests/fixtures/junit/junit-10.xsd, provenance in the file) with the `xmlschema` test
dependency. GitHub output is checked against the documented workflow-command syntax: the
escaping of actions/toolkit packages/core/src/command.ts (`escapeData`, `escapeProperty`, with
the cases of its __tests__/command.test.ts) and the runner's parser, actions/runner
src/Runner.Common/ActionCommand.cs `TryParseV2` / `UnescapeProperty` / `UnescapeData`, ported
below: what pxsec writes parses back to the finding.
"""
from __future__ import annotations

import copy
import json
import os
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from check.manifests import container, lit, portworx, stork, storagecluster, text
from conftest import ROOT, run_pxsec
from pxsec import audit
from pxsec.audit import RULES, Finding, format_github, format_junit

SECRET_VALUE = "formats-literal-secret-never-printed"
XSD = ROOT / "tests" / "fixtures" / "junit" / "junit-10.xsd"


@lru_cache(maxsize=1)
def schema():
    try:
        import xmlschema
    except ModuleNotFoundError:
        if os.environ.get("CI"):
            pytest.fail("xmlschema (a test dependency) is not installed; CI installs '.[test]'")
        pytest.skip("xmlschema not installed: pip install '.[test]' to validate JUnit output")
    return xmlschema.XMLSchema(str(XSD))


def junit_errors(xml: str) -> list[str]:
    return [str(e.reason) for e in schema().iter_errors(xml)]


@pytest.fixture
def files(tmp_path):
    insecure = tmp_path / "insecure.yaml"
    insecure.write_text(text(portworx(issuer=None, env=[]), stork(env=[])))
    warn = tmp_path / "warn.yaml"
    warn.write_text(text(storagecluster(security={"enabled": True, "auth": {"guestAccess": "Enabled"}})))
    leak = tmp_path / "leak.yaml"
    ds = portworx(ns="leaky")  # not in the insecure install's namespace: not one mixed cluster
    container(ds)["env"][2] = lit("PORTWORX_AUTH_SYSTEM_KEY", SECRET_VALUE)
    leak.write_text(text(ds))
    return tmp_path


# ---------------------------------------------------------------------------- JUnit

def test_junit_is_valid_against_the_jenkins_schema_and_counts_add_up(files):
    r = run_pxsec(["check", "--format", "junit", "insecure.yaml", "warn.yaml", "leak.yaml"], cwd=files)
    assert r.returncode == 1, r.stderr
    xml = r.stdout.decode()
    assert junit_errors(xml) == []
    root = ET.fromstring(xml)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [f"{r.id} {r.name}" for r in RULES.values()]
    for s in suites:
        cases = s.findall("testcase")
        assert int(s.get("tests")) == len(cases) >= 1
        assert int(s.get("failures")) == sum(len(c.findall("failure")) for c in cases)
        assert int(s.get("skipped")) == sum(len(c.findall("skipped")) for c in cases)
    assert int(root.get("tests")) == sum(int(s.get("tests")) for s in suites)
    assert int(root.get("failures")) == 3  # PXS001, PXS004, PXS008; the warning is not a failure
    failed = {s.get("name").split()[0]: s.find("testcase") for s in suites if s.get("failures") != "0"}
    assert set(failed) == {"PXS001", "PXS004", "PXS008"}
    case = failed["PXS001"]
    assert case.get("classname") == "pxsec.PXS001"
    assert case.get("name") == "insecure.yaml DaemonSet kube-system/portworx spec.template.spec.containers[0]"
    failure = case.find("failure")
    assert failure.get("type") == "PXS001" and failure.get("message").startswith("PX-Security is off")
    assert failure.text.startswith("insecure.yaml:16:9: error PXS001 ") and "#pxs001" in failure.text
    # the warning passes (no --strict), visible in system-out; with --strict it fails
    [guest] = [s for s in suites if s.get("name").startswith("PXS016")]
    assert guest.get("failures") == "0" and "warning PXS016" in guest.find("testcase/system-out").text
    strict = ET.fromstring(run_pxsec(["check", "-f", "junit", "--strict", "warn.yaml"], cwd=files).stdout)
    [guest] = [s for s in strict.findall("testsuite") if s.get("name").startswith("PXS016")]
    assert guest.get("failures") == "1" and guest.find("testcase/failure").get("type") == "PXS016"
    assert SECRET_VALUE not in xml


def test_junit_skips_rules_that_did_not_run_and_passes_a_clean_input(tmp_path):
    src = text(portworx(), stork())
    report = audit.check([("clean.yaml", src)], ignore=frozenset({"PXS021"}))
    xml = format_junit.render(report, ignored_rules=frozenset({"PXS021"}))
    assert junit_errors(xml) == []
    root = ET.fromstring(xml)
    assert root.get("failures") == "0" and root.get("tests") == str(len(RULES))
    skipped = {s.get("name").split()[0]: s.find("testcase/skipped").get("message")
               for s in root.findall("testsuite") if s.get("skipped") != "0"}
    assert skipped == {"PXS019": "not checked: drift needs --spec", "PXS020": "not checked: drift needs --spec",
                       "PXS021": "ignored for this run (--ignore or the config file)"}


def test_junit_carries_control_characters_as_valid_xml_and_is_deterministic():
    ds = portworx(name="evil\x1bname\x00<&>\"", issuer=None, env=[])
    report = audit.check([("x.yaml", text(ds))])
    xml = format_junit.render(report)
    assert junit_errors(xml) == [] and "\x1b" not in xml and "\x00" not in xml
    assert xml == format_junit.render(audit.check([("x.yaml", text(ds))]))
    [case] = ET.fromstring(xml).findall("testsuite/testcase[failure]")
    assert "evil\\x1bname\\x00<&>\"" in case.get("name")


def test_duplicate_case_names_are_numbered():
    a = Finding("PXS008", "error", "one", file="f.yaml", kind="DaemonSet", name="px", field="env")
    b = Finding("PXS008", "error", "two", file="f.yaml", kind="DaemonSet", name="px", field="env")
    root = format_junit.to_element(audit.Report([a, b], checked=1))
    [suite] = [s for s in root.findall("testsuite") if s.get("name").startswith("PXS008")]
    assert [c.get("name") for c in suite.findall("testcase")] == ["f.yaml DaemonSet px env", "f.yaml DaemonSet px env #2"]


@pytest.mark.parametrize("break_it", [
    lambda r: r.find("testsuite/testcase").attrib.pop("name"),
    lambda r: r.find("testsuite").attrib.pop("failures"),
    lambda r: r.find("testsuite").attrib.pop("tests"),
    lambda r: r.find("testsuite").set("time", "soon"),
    lambda r: r.append(ET.Element("testcase", name="outside a suite")),
    lambda r: r.find("testsuite/testcase").append(ET.Element("finding")),
    lambda r: r.find("testsuite/testcase").append(ET.Element("property", name="x")),
])
def test_the_schema_rejects_broken_junit(break_it):
    """The validation is not vacuous: the schema refuses what Jenkins would."""
    root = format_junit.to_element(audit.check([("x.yaml", text(portworx(issuer=None, env=[])))]))
    assert junit_errors(ET.tostring(root, encoding="unicode")) == []
    broken = copy.deepcopy(root)
    break_it(broken)
    assert junit_errors(ET.tostring(broken, encoding="unicode")) != []


# ---------------------------------------------------------------------------- GitHub

_DATA = [("\r", "%0D"), ("\n", "%0A"), ("%", "%25")]  # ActionCommand._escapeDataMappings
_PROPERTY = [("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C"), ("%", "%25")]  # _escapePropertyMappings


def _unescape(text: str, mappings) -> str:
    for token, replacement in mappings:
        text = text.replace(replacement, token)
    return text


def runner_parse(line: str) -> tuple[str, dict, str] | None:
    """actions/runner ActionCommand.TryParseV2: (command, properties, data), or None."""
    line = line.lstrip()
    if not line.startswith("::"):
        return None
    end = line.find("::", 2)
    if end < 0:
        return None
    info = line[2:end]
    name, _, props = info.partition(" ")
    properties = {}
    for prop in (p for p in props.strip().split(",") if p):
        pair = [x for x in prop.split("=", 1) if x]
        if len(pair) == 2:
            properties[pair[0]] = _unescape(pair[1], _PROPERTY)
    return name, properties, _unescape(line[end + 2:], _DATA)


def test_escaping_matches_actions_toolkit():
    """The cases of actions/toolkit packages/core/__tests__/command.test.ts."""
    assert format_github.command("some-command", {}, "percent % percent % cr \r cr \r lf \n lf \n") == \
        "::some-command::percent %25 percent %25 cr %0D cr %0D lf %0A lf %0A"
    assert format_github.command("some-command", {}, "%25 %25 %0D %0D %0A %0A") == \
        "::some-command::%2525 %2525 %250D %250D %250A %250A"
    assert format_github.command(
        "some-command", {"name": "percent % percent % cr \r cr \r lf \n lf \n colon : colon : comma , comma ,"}, "") == \
        ("::some-command name=percent %25 percent %25 cr %0D cr %0D lf %0A lf %0A colon %3A colon %3A "
         "comma %2C comma %2C::")
    assert format_github.command("some-command", {"prop1": "value 1", "prop2": "value 2"}, "some message") == \
        "::some-command prop1=value 1,prop2=value 2::some message"
    assert format_github.command("some-command", {"name": "", "line": None}, "m") == "::some-command::m"


def test_github_annotations_point_at_the_finding_and_parse_back(files):
    r = run_pxsec(["check", "--format", "github", "insecure.yaml", "warn.yaml", "leak.yaml"], cwd=files)
    assert r.returncode == 1, r.stderr
    lines = r.stdout.decode().splitlines()
    report = audit.check([(n, (files / n).read_text()) for n in ("insecure.yaml", "warn.yaml", "leak.yaml")])
    assert len(lines) == len(report.findings)
    for line, f in zip(lines, report.findings):
        name, props, data = runner_parse(line)
        assert name == {"error": "error", "warning": "warning", "note": "notice"}[f.severity]
        assert props == {"file": f.file, "line": str(f.line), "col": str(f.column),
                         "title": f"{f.rule_id} {RULES[f.rule_id].name}"}
        assert data == f"{f.workload} {f.field}: {f.message}\nSee {RULES[f.rule_id].help_uri}"
    assert {runner_parse(ln)[0] for ln in lines} == {"error", "warning", "notice"}
    assert SECRET_VALUE not in r.stdout.decode()


@settings(max_examples=200, deadline=None)
@given(name=st.text(min_size=1, max_size=30), file=st.text(min_size=1, max_size=20), field=st.text(max_size=20))
def test_any_text_stays_one_command_and_parses_back(name, file, field):
    """Whatever a manifest names an object or a file, the annotation is one line the runner
    parses back to the same file, title and message: nothing can start another command."""
    f = Finding("PXS001", "error", "msg: 50% off, now", file="d/" + file, kind="DaemonSet", name=name,
                namespace="ns", field=field or None, line=3, column=7, cluster="prod,1:x")
    line = format_github.annotation(f)
    assert "\n" not in line and "\r" not in line
    parsed = runner_parse(line)
    assert parsed is not None
    cmd, props, data = parsed
    assert cmd == "error" and props["line"] == "3" and props["col"] == "7"
    assert props["file"] == format_github.repo_path("d/" + file)
    subject = f"DaemonSet ns/{name} {field}".strip() if field else f"DaemonSet ns/{name}"
    assert data == f"{subject}: [prod,1:x] msg: 50% off, now\nSee {RULES['PXS001'].help_uri}"


def test_github_paths_are_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert format_github.repo_path(str(tmp_path / "deploy" / "px.yaml")) == "deploy/px.yaml"
    assert format_github.repo_path("./deploy/../deploy/px.yaml") == "deploy/px.yaml"
    assert format_github.repo_path("<stdin>") is None
    outside = str(tmp_path.parent / "elsewhere.yaml")
    assert format_github.repo_path(outside) == outside
    line = format_github.annotation(Finding("PXS001", "error", "m", file="<stdin>", kind="DaemonSet", name="p"))
    assert line.startswith("::error title=PXS001 security-disabled::")


# ---------------------------------------------------------------------------- several reports

def test_several_reports_in_one_run(files):
    r = run_pxsec(["check", "--format", "sarif=out/pxsec.sarif", "--format", "junit=out/junit.xml",
                   "--format", "github=gh.txt", "--format", "text", "insecure.yaml"], cwd=files)
    assert r.returncode == 1, r.stderr
    assert r.stdout.decode().splitlines()[-1] == "2 errors, 0 warnings, 0 notes"
    assert json.loads((files / "out" / "pxsec.sarif").read_text())["version"] == "2.1.0"
    assert junit_errors((files / "out" / "junit.xml").read_text()) == []
    assert (files / "gh.txt").read_text().startswith("::error file=insecure.yaml,line=16,col=9,")
    assert r.stderr.decode().strip() == ("pxsec: check: 2 errors, 0 warnings, 0 notes "
                                         "(reports in out/pxsec.sarif, out/junit.xml, gh.txt)")


def test_output_still_applies_to_a_single_format(files):
    r = run_pxsec(["check", "-f", "junit", "-o", "r.xml", "--format", "json=r.json", "insecure.yaml"], cwd=files)
    assert r.returncode == 1 and r.stdout == b""
    assert ET.parse(files / "r.xml").getroot().tag == "testsuites"
    assert json.loads((files / "r.json").read_text())["summary"]["error"] == 2
    r = run_pxsec(["check", "-o", "default.txt", "insecure.yaml"], cwd=files)  # no --format: text
    assert r.returncode == 1 and (files / "default.txt").read_text().endswith("2 errors, 0 warnings, 0 notes\n")
    r = run_pxsec(["check", "--format", "json=-", "insecure.yaml"], cwd=files)
    assert json.loads(r.stdout)["summary"]["error"] == 2


@pytest.mark.parametrize("args, message", [
    (["-f", "json", "-f", "sarif"], "json and sarif would both go to stdout"),
    (["-f", "json", "-f", "text=-"], "json and text would both go to stdout"),
    (["-f", "json", "-f", "sarif", "-o", "x"], "--output is the file of a single --format without =FILE"),
    (["-f", "json=a", "-o", "x"], "every --format here names its file"),
    (["-f", "json=a", "-f", "sarif=a"], "two reports would be written to a"),
    (["-f", "xml"], "unknown format 'xml'"),
    (["-f", "junit="], "no file after '='"),
])
def test_bad_format_combinations_are_usage_errors(files, args, message):
    r = run_pxsec(["check", *args, "insecure.yaml"], cwd=files)
    assert r.returncode == 2 and r.stdout == b"", r.stdout
    err = r.stderr.decode()
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (files / "a").exists() and not (files / "x").exists()


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "github"])
def test_secret_values_never_reach_any_format(files, fmt):
    r = run_pxsec(["check", "--format", f"{fmt}=report.out", "--format", fmt if fmt != "text" else "json",
                   "leak.yaml"], cwd=files)
    assert r.returncode == 1, r.stderr
    report = (files / "report.out").read_bytes()
    assert SECRET_VALUE.encode() not in report + r.stdout + r.stderr
    assert b"PORTWORX_AUTH_SYSTEM_KEY" in report


def test_every_format_is_documented_with_an_example():
    from pxsec.commands.check import FORMATS

    docs = (ROOT / "docs" / "check.md").read_text()
    readme = (ROOT / "README.md").read_text()
    readme_check = readme[readme.index("## Audit: `pxsec check`"):readme.index("### Audit a running cluster")]
    for fmt in FORMATS:
        if fmt == "text":
            continue
        assert f"`--format {fmt}`" in docs or f"`--format {fmt}" in docs, fmt
        assert f"--format {fmt}" in readme_check, fmt
    for option in ("--baseline", "--create-baseline", "--cluster"):
        assert f"`{option}" in docs and option in readme, option


@settings(max_examples=60, deadline=None)
@given(name=st.text(max_size=30), message=st.text(max_size=40), cluster=st.text(min_size=1, max_size=10))
def test_any_text_makes_valid_junit(name, message, cluster):
    """Names and messages come from manifests: whatever they hold, the XML is well formed and valid."""
    f = Finding("PXS001", "error", message, file="f.yaml", kind="DaemonSet", name=name or None, line=1)
    report = audit.Report([f], checked=1)
    fleet_report = audit.model.fleet({cluster: report})
    for r in (report, fleet_report):
        xml = format_junit.render(r)
        assert junit_errors(xml) == []
        [failure] = ET.fromstring(xml).findall("testsuite/testcase/failure")
        assert failure.get("type") == "PXS001"
