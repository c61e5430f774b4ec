"""SARIF 2.1.0 report, for code-scanning UIs (GitHub, GitLab, Azure DevOps).

One run; every rule of the catalogue as a reportingDescriptor (so ids resolve even when a
rule did not fire); one result per finding with the file as a repository-relative URI
(`%SRCROOT%` = the current directory) and `region.startLine` from the YAML node marks.
Findings without a file (stdin) keep only their logical location (Kind namespace/name).
`partialFingerprints` identify a finding by rule, file, object and field, not by line, so a
result survives edits above it. Each rule's `helpUri` is its anchor in docs/check.md; the
driver's `informationUri` is the project. Ignored findings (--ignore, config, annotation) and
findings below --min-severity are left out, as kube-linter and checkov do: code-scanning UIs
do not all honour SARIF `suppressions`, and would show them as open alerts. A fleet audit stays
one run (GitHub code scanning takes one run per tool and category): each result names its
cluster in `properties.cluster`, in its message (`[prod] ...`) and in its fingerprint.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from urllib.parse import quote

from .. import __version__
from .model import PROJECT_URL, RULES, Finding, Report

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SECURITY_SEVERITY = {"error": "8.0", "warning": "5.0", "note": "2.0"}


def _rule(rule) -> dict:
    return {
        "id": rule.id,
        "name": "".join(w.capitalize() for w in rule.name.split("-")),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.why},
        "help": {"text": f"{rule.summary}. {rule.why}",
                 "markdown": f"**{rule.id} {rule.name}**: {rule.summary}.\n\n{rule.why}"},
        "helpUri": rule.help_uri,
        "defaultConfiguration": {"level": rule.severity},
        "properties": {"tags": ["security", "portworx", "kubernetes"],
                       "security-severity": SECURITY_SEVERITY[rule.severity]},
    }


def artifact_uri(file: str | None, root: Path) -> tuple[str, str | None] | None:
    """(uri, uriBaseId) for a file: relative to `root` when inside it, else an absolute file URI."""
    if not file or file.startswith("<") or file == "-":
        return None
    p = Path(file)
    absolute = p if p.is_absolute() else (root / p)
    try:
        rel = Path(os.path.normpath(absolute)).relative_to(root)
        return quote(rel.as_posix()), "%SRCROOT%"
    except ValueError:
        return Path(os.path.normpath(absolute)).as_uri(), None


def _fingerprint(f: Finding) -> str:
    where = (f.rule_id, f.file, f.kind, f.namespace, f.name, f.field, f.message)
    key = "\0".join(str(x) for x in (where + (f.cluster,) if f.cluster else where))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _result(f: Finding, index: dict[str, int], root: Path) -> dict:
    text = f"{f.field}: {f.tagged_message}" if f.field else f.tagged_message
    location: dict = {}
    where = artifact_uri(f.file, root)
    if where is not None:
        art = {"uri": where[0]}
        if where[1]:
            art["uriBaseId"] = where[1]
        phys: dict = {"artifactLocation": art}
        if f.line:
            phys["region"] = {"startLine": f.line, **({"startColumn": f.column} if f.column else {})}
        location["physicalLocation"] = phys
    if f.kind or f.name:
        fqn = "/".join(x for x in (f.namespace, f.kind, f.name) if x)
        location["logicalLocations"] = [{"name": f.name or f.kind, "fullyQualifiedName": fqn, "kind": "resource"}]
    result = {
        "ruleId": f.rule_id,
        "ruleIndex": index[f.rule_id],
        "level": f.severity,
        "message": {"text": text},
        "partialFingerprints": {"pxsecFinding/v1": _fingerprint(f)},
    }
    if location:
        result["locations"] = [location]
    props = {k: v for k, v in (("documentIndex", f.index), ("field", f.field), ("cluster", f.cluster))
             if v is not None}
    if props:
        result["properties"] = props
    return result


def to_dict(report: Report, root: Path | None = None) -> dict:
    root = Path(os.path.normpath((root or Path.cwd()).absolute()))
    rules = list(RULES.values())
    index = {r.id: i for i, r in enumerate(rules)}
    run = {
        "tool": {"driver": {"name": "pxsec", "version": __version__, "semanticVersion": __version__,
                            "informationUri": PROJECT_URL, "rules": [_rule(r) for r in rules]}},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": root.as_uri() + "/"}},
        "results": [_result(f, index, root) for f in report.findings],
        "columnKind": "unicodeCodePoints",
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(report: Report, root: Path | None = None) -> str:
    return json.dumps(to_dict(report, root), indent=2, ensure_ascii=False) + "\n"
