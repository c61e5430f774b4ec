"""Readable report: one line per finding, in the `file:line:col: ...` form that editors and
terminals make clickable (vim's quickfix, Emacs' compilation mode, VS Code's problem matchers),
then a summary line.

    deploy/px.yaml:16:11: error PXS001 DaemonSet kube-system/portworx spec.template.spec.containers[0]: PX-Security is off: ...
    deploy/px.yaml:16:11: note PXS021 DaemonSet kube-system/portworx spec.template.spec.containers[0]: if this ...
    1 error, 0 warnings, 1 note

Findings come in file and line order. A finding without a line (stdin, a missing object)
names the file alone. Colour (ANSI) only when asked for: the CLI asks when stdout is a
terminal and NO_COLOR is unset. Control characters from the input are escaped, so a finding
stays one line.
"""
from __future__ import annotations

from .model import SEVERITIES, Finding, Report

_COLOURS = {"error": "31", "warning": "33", "note": "36", "head": "1", "dim": "2"}


def _paint(text: str, what: str, colour: bool) -> str:
    return f"\033[{_COLOURS[what]}m{text}\033[0m" if colour else text


def _printable(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"
                   for c in text)


def location(f: Finding) -> str:
    """`file:line:col`, `file:line` or `file`."""
    where = f.file or "<input>"
    if f.line:
        where += f":{f.line}"
        if f.column:
            where += f":{f.column}"
    return where


def line(f: Finding, colour: bool = False) -> str:
    subject = f.workload if (f.kind or f.name) else ""
    if f.field:
        subject = f"{subject} {f.field}".strip()
    if subject:
        subject = _paint(_printable(subject), "dim", colour) + ": "
    sev = _paint(f.severity, f.severity, colour)
    where = _paint(_printable(location(f)), "head", colour)
    cluster = _paint(_printable(f"[{f.cluster}]"), "head", colour) + " " if f.cluster else ""
    return f"{where}: {sev} {f.rule_id} {cluster}{subject}{_printable(f.message)}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(report: Report) -> str:
    if not report.findings:
        what = "no findings" if report.checked else "no findings (no Portworx or Stork workload in the input)"
        what += "; no drift from render" if report.drift_checked else ""
    else:
        what = ", ".join(_plural(report.count(s), s) for s in SEVERITIES)
    left_out = []
    if report.ignored:
        left_out.append(f"{report.ignored} ignored")
    if report.hidden:
        left_out.append(f"{report.hidden} below --min-severity")
    if report.baselined:
        left_out.append(f"{report.baselined} in the baseline")
    return what + (f" (not shown: {', '.join(left_out)})" if left_out else "")


def _lines(report: Report, colour: bool) -> list[str]:
    order = sorted(report.findings, key=lambda f: (f.file or "", f.index if f.index is not None else -1,
                                                   f.line or 0, f.column or 0, f.rule_id, f.field or ""))
    return [line(f, colour) for f in order]


def render(report: Report, colour: bool = False, quiet: bool = False) -> str:
    """Every finding, then the summary (left out with `quiet`). A fleet audit: each cluster's
    findings and its own summary line (`cluster prod: ...`), in command-line order, then the total."""
    if not report.clusters:
        lines = _lines(report, colour)
        if not quiet:
            lines.append(summary(report))
        return "".join(ln + "\n" for ln in lines)
    lines = []
    for name, part in report.clusters.items():
        lines += _lines(part, colour)
        if not quiet:
            lines.append(f"cluster {_printable(name)}: {summary(part)}")
    if not quiet:
        lines.append(f"{_plural(len(report.clusters), 'cluster')}: {summary(report)}")
    return "".join(ln + "\n" for ln in lines)
