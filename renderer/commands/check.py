"""`pxsec check`: argument parsing and output only; the audit is in pxsec.audit.

Exit status: 0 no error finding (warnings too with --strict), 1 findings that fail the check,
2 usage errors (bad option, unreadable input path, invalid spec or config file): a gate can
tell "insecure" from "could not check". With --strict or --require-workload, an input without
any Portworx, Stork or autopilot workload fails (exit 1): a kustomize build that skipped the
function is not "secure".
"""
from __future__ import annotations

import os
import sys
from enum import Enum
from typing import List, Optional

import typer

from ..spec import SPEC_ENV


class Format(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"


class Level(str, Enum):
    note = "note"
    warning = "warning"
    error = "error"


def _colour(output: Optional[str]) -> bool:
    if output and output != "-":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _ignored(values: List[str]) -> frozenset:
    from ..audit import ignore as ignoremod
    from ..audit.model import suggest
    from ..errors import UsageError

    ids: set = set()
    for value in values:
        found, unknown = ignoremod.parse_rules(value)
        if unknown:
            raise UsageError(f"--ignore: unknown rule {unknown[0]!r}{suggest(unknown[0])} "
                             f"(a rule id such as PXS021, or its name: see docs/check.md)")
        ids |= found
    return frozenset(ids)


def run_check(paths: List[str], spec: Optional[str], fmt: Format, output: Optional[str], strict: bool,
              ignore: Optional[List[str]] = None, min_severity: Optional[Level] = None, quiet: bool = False,
              config: Optional[str] = None, require_workload: bool = False) -> int:
    from .. import audit, sources
    from .. import spec as specmod
    from ..audit import config as configmod, format_json, format_sarif, format_text
    from ..audit.model import SEVERITIES
    from ..errors import PxsecError, UsageError
    from ..log import log_error, log_info, log_warning

    try:
        conf_path = config or configmod.find()
        conf = configmod.load(conf_path) if conf_path else configmod.Config()
        ignored = conf.ignore | _ignored(ignore or [])
        loaded = specmod.resolve_spec(spec, required=False)
        inputs = sources.read_inputs(paths or ["-"])
    except UsageError:
        raise
    except PxsecError as e:
        raise UsageError(e.message, e.location) from None
    strict = strict or conf.strict
    report = audit.check(inputs, loaded, ignore=ignored)
    for notice in report.notices:
        log_warning(notice)
    floor = min_severity.value if min_severity else (conf.min_severity or "note")
    if quiet:  # only what fails the check
        floor = min(floor, "warning" if strict else "error", key=SEVERITIES.index)
    report = report.at_least(floor)
    if fmt is Format.json:
        text = format_json.render(report)
    elif fmt is Format.sarif:
        text = format_sarif.render(report)
    else:
        text = format_text.render(report, colour=_colour(output), quiet=quiet)
    if text or output:
        sources.write_output(text, output)
    if output and output != "-" and not quiet:
        log_info(f"check: {format_text.summary(report)} (report in {output})")
    if (strict or require_workload) and not report.checked:
        # an empty stream, or a kustomize build that skipped the function: nothing to secure is
        # not "secure" for a gate that expects Portworx in it
        log_error("no Portworx, Stork or autopilot workload in the input; --strict and --require-workload "
                  "expect at least one (is this the right input?)")
        return 1
    return 1 if report.failed(strict) else 0


def register(app: typer.Typer) -> None:
    @app.command()
    def check(
        paths: List[str] = typer.Argument(
            None, metavar="PATH",
            help="Files or directories (a directory gives its *.yaml, *.yml and *.json files, sorted); "
                 "'-' or nothing: stdin."),
        spec: Optional[str] = typer.Option(
            None, "--spec", "-s", metavar="FILE",
            help=f"PortworxSecurity spec (or env {SPEC_ENV}): also report any drift from `pxsec render`."),
        fmt: Format = typer.Option(Format.text, "--format", "-f", metavar="FORMAT",
                                   help="text (file:line:col: lines), json or sarif."),
        output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE",
                                             help="Write the report here instead of stdout."),
        strict: bool = typer.Option(False, "--strict",
                                    help="Fail (exit 1) on warnings too, and when the input has no Portworx "
                                         "workload at all (implies --require-workload)."),
        require_workload: bool = typer.Option(
            False, "--require-workload",
            help="Fail (exit 1) when the input has no Portworx, Stork or autopilot workload."),
        ignore: Optional[List[str]] = typer.Option(
            None, "--ignore", "-i", metavar="RULES",
            help="Leave out these rules (ids or names, comma-separated; repeatable), e.g. --ignore PXS021."),
        min_severity: Optional[Level] = typer.Option(
            None, "--min-severity", metavar="LEVEL", help="Leave out findings less severe than this (note, warning, error)."),
        quiet: bool = typer.Option(
            False, "--quiet", "-q", help="Only the findings that fail the check, and no summary line."),
        config: Optional[str] = typer.Option(
            None, "--config", "-c", metavar="FILE",
            help="Config file (ignore, minSeverity, strict); default: ./.pxsec-check.yaml if present."),
    ) -> None:
        """Audit manifests: report what would leave a cluster without (full) PX-Security."""
        code = run_check(paths, spec, fmt, output, strict, ignore, min_severity, quiet, config, require_workload)
        if code:
            raise typer.Exit(code)
