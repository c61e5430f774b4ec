"""GitHub Actions workflow commands: one annotation per finding, shown on the pull request's diff
at the finding's line (and in the run's summary), without uploading anything.

    ::error file=deploy/px.yaml,line=16,col=9,title=PXS001 security-disabled::DaemonSet kube-system/portworx ...

Syntax and escaping are the runner's (docs: "Workflow commands for GitHub Actions", setting an
error/warning/notice message; actions/toolkit packages/core/src/command.ts `Command.toString`,
`escapeData`, `escapeProperty`): `::command key=value,key=value::message`, properties escaped
`%` -> `%25`, CR -> `%0D`, LF -> `%0A`, `:` -> `%3A`, `,` -> `%2C`; the message the same without
the last two. So a finding is always one line, and nothing in a manifest (an object named
`x\n::add-mask::...`) can start another command. Severities: error -> `::error`, warning ->
`::warning`, note -> `::notice`. `file` is relative to the current directory (run from the
repository root, as for SARIF); a finding from stdin has no `file`. In a fleet audit the message
starts with `[cluster]`.
"""
from __future__ import annotations

import os

from .model import Finding, Report

COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: dict, message: str) -> str:
    """`Command.toString` of actions/toolkit: properties without a value are left out."""
    props = ",".join(f"{k}={escape_property(str(v))}" for k, v in properties.items() if v)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def repo_path(file: str | None) -> str | None:
    """`file` relative to the current directory when inside it (POSIX separators), else as given;
    None for stdin."""
    if not file or file.startswith("<") or file == "-":
        return None
    absolute = os.path.normpath(os.path.abspath(file))
    rel = os.path.relpath(absolute)
    path = file if rel.startswith("..") else rel
    return path.replace(os.sep, "/")


def annotation(f: Finding) -> str:
    subject = f.workload if (f.kind or f.name) else ""
    if f.field:
        subject = f"{subject} {f.field}".strip()
    text = f"{subject}: {f.tagged_message}" if subject else f.tagged_message
    props = {"file": repo_path(f.file), "line": f.line, "col": f.column if f.line else None,
             "title": f"{f.rule_id} {f.rule.name}"}
    return command(COMMAND[f.severity], props, f"{text}\nSee {f.rule.help_uri}")


def render(report: Report) -> str:
    return "".join(annotation(f) + "\n" for f in report.findings)
