"""JUnit XML report, for the test-report views of GitLab (`artifacts:reports:junit`), Jenkins
(`junit` step) and Azure Pipelines (`PublishTestResults`, format JUnit).

One `<testsuite>` per rule of the catalogue (per cluster and rule in a fleet audit), so a
report lists every rule as a test, and a clean run shows them passing rather than "no tests":

- a finding that fails the check (an error; with --strict, a warning too) is a `<testcase>` with
  a `<failure type="PXS001" message="...">` whose text is the finding's `file:line:col:` line,
  why the rule matters and its link;
- a finding that does not fail the check (a note; a warning without --strict) is a passing
  `<testcase>` whose `<system-out>` holds that line, so it is seen but fails nothing;
- a rule without findings is one passing `<testcase>` named after the rule;
- a rule that did not run is `<skipped>`: PXS019/PXS020 without --spec, and rules ignored for the
  run (--ignore, the config file).

A test case is named by file, object and field, not by line (`classname` `pxsec.PXS001`), so CI
history follows a finding across edits. No timestamps and `time="0"`: the output is
deterministic. Text is XML-escaped by ElementTree; characters XML 1.0 cannot carry (control
characters from the input) are written as `\\xNN`. Validated against Jenkins' JUnit schema
(tests/fixtures/junit-10.xsd) in tests/test_check_formats.py.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from . import format_text
from .model import RULES, Finding, Report

DRIFT_RULES = ("PXS019", "PXS020")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """`text` with the characters XML 1.0 does not allow written as `\\xNN` / `\\uNNNN`."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


def _case_name(f: Finding) -> str:
    parts = [f.file or "<input>"]
    if f.kind or f.name:
        parts.append(f.workload)
    if f.field:
        parts.append(f.field)
    return " ".join(parts)


def _suite(rule, findings: list[Finding], report: Report, strict: bool, skipped_rules: frozenset[str],
           cluster: str | None) -> ET.Element:
    prefix = f"[{cluster}] " if cluster else ""
    suite = ET.Element("testsuite", name=xml_text(f"{prefix}{rule.id} {rule.name}"))
    if cluster:
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="cluster", value=xml_text(cluster))
    classname = f"pxsec.{rule.id}"
    failures = skipped = 0
    seen: dict[str, int] = {}
    for f in findings:
        name = prefix + _case_name(f)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name += f" #{seen[name]}"
        case = ET.SubElement(suite, "testcase", name=xml_text(name), classname=classname, time="0")
        line = format_text.line(f)
        if f.severity == "error" or (strict and f.severity == "warning"):
            failures += 1
            failure = ET.SubElement(case, "failure", type=rule.id, message=xml_text(f.tagged_message))
            failure.text = xml_text(f"{line}\n\n{rule.summary}. {rule.why}\n{rule.help_uri}\n")
        else:
            ET.SubElement(case, "system-out").text = xml_text(f"{line}\n")
    if not findings:
        case = ET.SubElement(suite, "testcase", name=xml_text(f"{prefix}{rule.id} {rule.name}"),
                             classname=classname, time="0")
        reason = None
        if rule.id in skipped_rules:
            reason = "ignored for this run (--ignore or the config file)"
        elif rule.id in DRIFT_RULES and not report.drift_checked:
            reason = "not checked: drift needs --spec"
        if reason:
            skipped += 1
            ET.SubElement(case, "skipped", message=reason)
    tests = max(len(findings), 1)
    suite.attrib.update(tests=str(tests), failures=str(failures), errors="0", skipped=str(skipped), time="0")
    return suite


def _suites(report: Report, strict: bool, skipped_rules: frozenset[str], cluster: str | None) -> list[ET.Element]:
    by_rule: dict[str, list[Finding]] = {rid: [] for rid in RULES}
    for f in report.findings:
        by_rule[f.rule_id].append(f)
    return [_suite(rule, by_rule[rule.id], report, strict, skipped_rules, cluster) for rule in RULES.values()]


def to_element(report: Report, strict: bool = False, ignored_rules: frozenset[str] = frozenset()) -> ET.Element:
    parts = report.clusters.items() if report.clusters else [(None, report)]
    suites = [s for name, part in parts for s in _suites(part, strict, ignored_rules, name)]
    root = ET.Element("testsuites", name="pxsec check")
    total = {k: sum(int(s.get(k)) for s in suites) for k in ("tests", "failures", "errors")}
    root.attrib.update({k: str(v) for k, v in total.items()}, time="0")
    root.extend(suites)
    return root


def render(report: Report, strict: bool = False, ignored_rules: frozenset[str] = frozenset()) -> str:
    root = to_element(report, strict, ignored_rules)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
