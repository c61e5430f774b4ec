"""`pxsec check`: argument parsing and output only; the audit is in pxsec.audit.

Exit status: 0 no error finding (warnings too with --strict), 1 findings that fail the check,
2 usage errors (bad option, unreadable input path, invalid spec, config or baseline file): a
gate can tell "insecure" from "could not check". With --strict or --require-workload, an input
without any Portworx, Stork or autopilot workload fails (exit 1): a kustomize build that
skipped the function is not "secure".

Reports: `--format FORMAT` or `--format FORMAT=FILE`, repeatable (at most one to stdout);
`--output FILE` is the file of the one `--format` without `=FILE`. A fleet audit
(`--cluster NAME=PATH`, repeatable) checks each cluster's input on its own and names the
cluster in every finding. `--baseline FILE` leaves out the findings the file records
(`--create-baseline FILE` writes it), so only new findings fail.

A gate runs `check` on every pull request: plain, well-formed invocations take a Typer-free path
(`parse`, like commands/render.py's), since importing Typer costs about a fifth of a check of
6,000 documents. Anything else (help, an unknown or malformed option) goes to the Typer command,
with its usage errors. Both paths call the same `run_check`; `tests/test_fastpath.py` checks
that the option tables here match the Typer command's.
"""
from __future__ import annotations

import os
import sys
import re
from enum import Enum

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here (the Typer command's use builtins)
    from typing import List, Optional, Tuple

from ..spec import SPEC_ENV
from . import read_options


FORMATS = ("text", "json", "sarif", "junit", "github")


class Level(str, Enum):
    note = "note"
    warning = "warning"
    error = "error"


LEVELS = tuple(level.value for level in Level)
VALUE_OPTIONS = {"--spec": "spec", "-s": "spec", "--output": "output", "-o": "output", "--config": "config",
                 "-c": "config", "--baseline": "baseline", "--create-baseline": "create_baseline",
                 "--min-severity": "min_severity"}
LIST_OPTIONS = {"--format": "formats", "-f": "formats", "--ignore": "ignore", "-i": "ignore",
                "--cluster": "fleet"}
FLAG_OPTIONS = {"--strict": "strict", "--require-workload": "require_workload", "--quiet": "quiet", "-q": "quiet"}


def parse(argv: List[str]) -> Optional[dict]:
    """run_check's keyword arguments for a plain, well-formed `check` invocation; None for
    anything the Typer command should handle (help, unknown or malformed options, a level
    Typer would refuse)."""
    if not argv or argv[0] != "check":
        return None
    opts = read_options(argv[1:], VALUE_OPTIONS, FLAG_OPTIONS, LIST_OPTIONS)
    if opts is None:
        return None
    if opts.get("min_severity", LEVELS[0]) not in LEVELS:
        return None
    return opts


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


def targets(formats: List[str], output: Optional[str]) -> List[Tuple[str, Optional[str]]]:
    """(format, file) for each report; file None is stdout. Usage errors: an unknown format, two
    reports on stdout or in one file, --output with no or several --format without =FILE."""
    from ..errors import UsageError

    stdout = output in (None, "-")
    parsed: List[Tuple[str, Optional[str], bool]] = []  # (format, file, file given with =)
    for value in formats or ["text"]:
        name, eq, path = value.partition("=")
        name = name.strip().lower()
        if name not in FORMATS:
            raise UsageError(f"--format: unknown format {name!r} in {value!r} (one of {', '.join(FORMATS)}, "
                             "optionally =FILE)")
        if eq and not path:
            raise UsageError(f"--format {value}: no file after '=' (FORMAT=FILE, or FORMAT=- for stdout)")
        parsed.append((name, None if path in ("", "-") else path, bool(eq)))
    bare = [i for i, (_, _, named) in enumerate(parsed) if not named]
    if output is not None:
        if len(bare) != 1:
            raise UsageError("--output is the file of a single --format without =FILE; "
                             + ("every --format here names its file" if not bare else
                                "give each --format its own file (--format FORMAT=FILE)"))
        i = bare[0]
        parsed[i] = (parsed[i][0], None if stdout else output, False)
    out = [(name, path) for name, path, _ in parsed]
    on_stdout = [name for name, path in out if path is None]
    if len(on_stdout) > 1:
        raise UsageError(f"--format: {' and '.join(on_stdout)} would both go to stdout; "
                         "give all but one a file (--format FORMAT=FILE)")
    files = [path for _, path in out if path is not None]
    dup = next((p for p in files if files.count(p) > 1), None)
    if dup is not None:
        raise UsageError(f"--format: two reports would be written to {dup}")
    return out


_CLUSTER_NAME = re.compile(r"[^\s=]{1,253}")


def clusters(values: List[str]) -> dict:
    """{cluster name: [paths]} from `--cluster NAME=PATH` / `--cluster PATH` (named after the
    file: prod.yaml is `prod`); a name given twice collects its paths."""
    from ..errors import UsageError

    out: dict = {}
    for value in values:
        name, eq, path = value.partition("=")
        if not eq:
            path = value
            base = os.path.basename(path.rstrip("/\\"))
            name = re.sub(r"\.(ya?ml|json)$", "", base, flags=re.I)
            if path == "-" or not name:
                raise UsageError(f"--cluster {value}: name the cluster (--cluster NAME=PATH)")
        if not path:
            raise UsageError(f"--cluster {value}: no path after '=' (--cluster NAME=PATH, PATH '-' for stdin)")
        if not _CLUSTER_NAME.fullmatch(name) or not name.isprintable():
            raise UsageError(f"--cluster {value}: a cluster name is 1 to 253 printable characters "
                             "without spaces or '='")
        out.setdefault(name, []).append(path)
    if sum(p == "-" for paths in out.values() for p in paths) > 1:
        raise UsageError("--cluster: stdin ('-') can be the input of one cluster only")
    return out


def _render(fmt: str, report, path: Optional[str], quiet: bool, strict: bool, ignored: frozenset) -> str:
    """The report in one format; only that format's module is imported (junit's XML writer
    alone costs more than a small check)."""
    if fmt == "json":
        from ..audit import format_json

        return format_json.render(report)
    if fmt == "sarif":
        from ..audit import format_sarif

        return format_sarif.render(report)
    if fmt == "junit":
        from ..audit import format_junit

        return format_junit.render(report, strict=strict, ignored_rules=ignored)
    if fmt == "github":
        from ..audit import format_github

        return format_github.render(report)
    from ..audit import format_text

    return format_text.render(report, colour=_colour(path), quiet=quiet)


def run_check(paths: List[str], spec: Optional[str] = None, formats: Optional[List[str]] = None,
              output: Optional[str] = None, strict: bool = False,
              ignore: Optional[List[str]] = None, min_severity: Optional[str] = None, quiet: bool = False,
              config: Optional[str] = None, require_workload: bool = False, fleet: Optional[List[str]] = None,
              baseline: Optional[str] = None, create_baseline: Optional[str] = None) -> int:
    from .. import audit, sources
    from .. import spec as specmod
    from ..audit import config as configmod
    from ..audit.model import SEVERITIES, fleet as fleet_report
    from ..errors import PxsecError, UsageError
    from ..log import log_error, log_info, log_warning

    outputs = targets(formats or [], output)
    if baseline or create_baseline:
        from ..audit import baseline as baselinemod
    named = clusters(fleet or [])
    if named and paths:
        raise UsageError(f"give the inputs either as PATH arguments or with --cluster, not both ({paths[0]!r})")
    try:
        conf_path = config or configmod.find()
        conf = configmod.load(conf_path) if conf_path else configmod.Config()
        ignored = conf.ignore | _ignored(ignore or [])
        loaded = specmod.resolve_spec(spec, required=False)
        known = baselinemod.load(baseline) if baseline and not create_baseline else None
        inputs = {name: sources.read_inputs(p) for name, p in named.items()} if named else \
            sources.read_inputs(paths or ["-"])
    except UsageError:
        raise
    except PxsecError as e:
        raise UsageError(e.message, e.location) from None
    strict = strict or conf.strict
    if named:
        report = fleet_report({name: audit.check(srcs, loaded, ignore=ignored) for name, srcs in inputs.items()})
    else:
        report = audit.check(inputs, loaded, ignore=ignored)
    for notice in report.notices:
        log_warning(notice)
    if create_baseline:
        text = baselinemod.render(report)
        sources.write_output(text, create_baseline)
        log_info(f"check: baseline of {len(report.findings)} finding(s) written to {create_baseline}")
        known = baselinemod.parse(text, create_baseline)
    if known is not None:
        report = baselinemod.apply(report, known)
    floor = getattr(min_severity, "value", min_severity) or conf.min_severity or "note"
    if quiet:  # only what fails the check
        floor = min(floor, "warning" if strict else "error", key=SEVERITIES.index)
    report = report.at_least(floor)
    for fmt, path in outputs:
        text = _render(fmt, report, path, quiet, strict, ignored)
        if text or path:
            sources.write_output(text, path)
    files = [path for _, path in outputs if path]
    if files and not quiet:
        from ..audit import format_text

        where = f"report in {files[0]}" if len(files) == 1 else f"reports in {', '.join(files)}"
        log_info(f"check: {format_text.summary(report)} ({where})")
    empty = [name for name, part in report.clusters.items() if not part.checked] if named else \
        ([] if report.checked else ["<input>"])
    if (strict or require_workload) and empty:
        # an empty stream, or a kustomize build that skipped the function: nothing to secure is
        # not "secure" for a gate that expects Portworx in it
        where = f" of cluster {', '.join(empty)}" if named else ""
        log_error(f"no Portworx, Stork or autopilot workload in the input{where}; --strict and --require-workload "
                  "expect at least one (is this the right input?)")
        return 1
    return 1 if report.failed(strict) else 0


def run(opts: dict) -> int:
    """The Typer-free path: run_check with what parse() read."""
    return run_check(**opts)


def register(app: "typer.Typer") -> None:
    import typer

    @app.command()
    def check(
        paths: list[str] = typer.Argument(
            None, metavar="PATH",
            help="Files or directories (a directory gives its *.yaml, *.yml and *.json files, sorted); "
                 "'-' or nothing: stdin."),
        spec: str | None = typer.Option(
            None, "--spec", "-s", metavar="FILE",
            help=f"PortworxSecurity spec (or env {SPEC_ENV}): also report any drift from `pxsec render`."),
        fmt: list[str] | None = typer.Option(
            None, "--format", "-f", metavar="FORMAT[=FILE]",
            help="text (file:line:col: lines, the default), json, sarif, junit or github (workflow commands); "
                 "=FILE writes that report to FILE. Repeatable; at most one report on stdout."),
        output: str | None = typer.Option(None, "--output", "-o", metavar="FILE",
                                             help="Write the report (of the one --format without =FILE) here."),
        strict: bool = typer.Option(False, "--strict",
                                    help="Fail (exit 1) on warnings too, and when the input has no Portworx "
                                         "workload at all (implies --require-workload)."),
        require_workload: bool = typer.Option(
            False, "--require-workload",
            help="Fail (exit 1) when the input has no Portworx, Stork or autopilot workload."),
        ignore: list[str] | None = typer.Option(
            None, "--ignore", "-i", metavar="RULES",
            help="Leave out these rules (ids or names, comma-separated; repeatable), e.g. --ignore PXS021."),
        min_severity: Level | None = typer.Option(
            None, "--min-severity", metavar="LEVEL", help="Leave out findings less severe than this (note, warning, error)."),
        quiet: bool = typer.Option(
            False, "--quiet", "-q", help="Only the findings that fail the check, and no summary line."),
        config: str | None = typer.Option(
            None, "--config", "-c", metavar="FILE",
            help="Config file (ignore, minSeverity, strict); default: ./.pxsec-check.yaml if present."),
        cluster: list[str] | None = typer.Option(
            None, "--cluster", metavar="NAME=PATH",
            help="Fleet audit: PATH (e.g. `kubectl get -o yaml` output) is cluster NAME's input, checked on its "
                 "own; repeatable. `--cluster prod.yaml` names the cluster after the file (prod)."),
        baseline: str | None = typer.Option(
            None, "--baseline", metavar="FILE",
            help="Leave out the findings this baseline records: only new findings are reported and fail."),
        create_baseline: str | None = typer.Option(
            None, "--create-baseline", metavar="FILE",
            help="Write the current findings' fingerprints to FILE (no values), then report as --baseline FILE."),
    ) -> None:
        """Audit manifests: report what would leave a cluster without (full) PX-Security."""
        code = run_check(paths, spec, fmt or [], output, strict, ignore, min_severity, quiet, config,
                         require_workload, cluster, baseline, create_baseline)
        if code:
            raise typer.Exit(code)
