"""`pxsec check`: argument parsing and output only; the audit is in renderer.audit.

Exit status: 0 no error finding (warnings too with --strict), 1 findings that fail the check,
2 usage errors (bad option, unreadable input path, invalid spec): a gate can tell "insecure"
from "could not check".
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


def _colour(output: Optional[str]) -> bool:
    if output and output != "-":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _as_usage(e):
    from ..errors import UsageError

    err = UsageError(e.message, e.location)
    return err


def run_check(paths: List[str], spec: Optional[str], fmt: Format, output: Optional[str], strict: bool,
              require_workload: bool = False) -> int:
    from .. import audit, sources
    from .. import spec as specmod
    from ..audit import format_json, format_sarif, format_text
    from ..errors import PxsecError
    from ..log import log_error, log_info

    try:
        loaded = specmod.resolve_spec(spec, required=False)
        inputs = sources.read_inputs(paths or ["-"])
    except PxsecError as e:
        raise _as_usage(e) from None
    report = audit.check(inputs, loaded)
    if fmt is Format.json:
        text = format_json.render(report)
    elif fmt is Format.sarif:
        text = format_sarif.render(report)
    else:
        text = format_text.render(report, colour=_colour(output))
    sources.write_output(text, output)
    if output and output != "-":
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
                                   help="text (grouped by workload), json or sarif."),
        output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE",
                                             help="Write the report here instead of stdout."),
        strict: bool = typer.Option(False, "--strict",
                                    help="Fail (exit 1) on warnings too, and when the input has no Portworx "
                                         "workload at all (implies --require-workload)."),
        require_workload: bool = typer.Option(
            False, "--require-workload",
            help="Fail (exit 1) when the input has no Portworx, Stork or autopilot workload."),
    ) -> None:
        """Audit manifests: report what would leave a cluster without (full) PX-Security."""
        code = run_check(paths, spec, fmt, output, strict, require_workload)
        if code:
            raise typer.Exit(code)
