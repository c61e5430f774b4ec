"""Readable report: findings grouped by workload, in line order within a group.

    manifests/px.yaml: DaemonSet kube-system/portworx (document 5)
      342  error    PXS001  spec.template.spec.containers[0]
           PX-Security is off: ...
    3 errors, 1 warning, 2 notes

Colour (ANSI) only when asked for: the CLI asks when stdout is a terminal and NO_COLOR is unset.
"""
from __future__ import annotations

from .model import SEVERITIES, Finding, Report

_COLOURS = {"error": "31", "warning": "33", "note": "36", "head": "1", "dim": "2"}


def _paint(text: str, what: str, colour: bool) -> str:
    return f"\033[{_COLOURS[what]}m{text}\033[0m" if colour else text


def _group_key(f: Finding) -> tuple:
    return (f.file or "", f.index if f.index is not None else -1, f.kind or "", f.namespace or "", f.name or "")


def _heading(f: Finding) -> str:
    where = f.file or "<input>"
    if f.kind is None and f.name is None:
        return where if f.index is None else f"{where} (document {f.index})"
    doc = f" (document {f.index})" if f.index is not None else ""
    return f"{where}: {f.workload}{doc}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(report: Report) -> str:
    if not report.findings:
        what = "no findings" if report.checked else "no findings (no Portworx or Stork workload in the input)"
        return what + ("; no drift from render" if report.drift_checked else "")
    return ", ".join(_plural(report.count(s), s) for s in SEVERITIES)


def render(report: Report, colour: bool = False) -> str:
    groups: dict[tuple, list[Finding]] = {}
    for f in report.findings:
        groups.setdefault(_group_key(f), []).append(f)
    width = max((len(str(f.line)) for f in report.findings if f.line), default=1)
    lines: list[str] = []
    for key in sorted(groups):
        items = sorted(groups[key], key=lambda f: (f.line or 0, SEVERITIES.index(f.severity), f.rule_id))
        lines.append(_paint(_heading(items[0]), "head", colour))
        for f in items:
            line = str(f.line) if f.line else "-"
            sev = _paint(f"{f.severity:<7}", f.severity, colour)
            field = f"  {_paint(f.field, 'dim', colour)}" if f.field else ""
            lines.append(f"  {line:>{width}}  {sev}  {f.rule_id}{field}")
            lines.append(f"  {'':>{width}}  {f.message}")
        lines.append("")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"
