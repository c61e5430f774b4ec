"""`pxsec render` without importing Typer: it runs on every helm upgrade and Argo CD refresh,
and Typer (with its optional pydantic) costs more start-up than the render itself.

Only plain, well-formed `render` invocations take this path; anything else (help, unknown or
malformed options) returns None and the Typer CLI handles it, with its usage errors. Both
paths build the same `RenderOptions` and call the same `render`.
`tests/test_fastpath.py` checks that this table matches the Typer command's options.
"""
from __future__ import annotations

import os

from . import read_options
from ..records import Record

VALUE_OPTIONS = {"--spec": "spec", "-s": "spec", "--output": "output", "-o": "output"}
FLAG_OPTIONS = {"--verbose": "verbose", "-v": "verbose", "--allow-short-secrets": "allow_short_secrets",
                "--diff": "diff", "--check": "check"}


class RenderOptions(Record, fields="spec output verbose allow_short_secrets paths diff check",
                    defaults=(None, None, False, False, (), False, False)):
    """What `pxsec render` was asked to do: spec (path or None: $PXSEC_SPEC), output (path or
    None: stdout), verbose, allow_short_secrets, paths (tuple; empty: stdin), diff (print a
    unified diff instead of the stream), check (exit 1 when render would change anything)."""

    __slots__ = ()


def parse(argv: list[str]) -> RenderOptions | None:
    if not argv or argv[0] != "render":
        return None
    opts = read_options(argv[1:], VALUE_OPTIONS, FLAG_OPTIONS)
    if opts is None:
        return None
    opts["paths"] = tuple(opts["paths"])
    return RenderOptions(**opts)


def render(opts: RenderOptions) -> int:
    from ..render import pipeline
    from .. import sources, spec as specmod
    from ..log import log_info, log_warning

    if opts.output and (opts.diff or opts.check):
        from ..errors import UsageError

        raise UsageError("--diff and --check write no output stream; leave out --output")
    loaded = specmod.resolve_spec(opts.spec)
    inputs = sources.read_inputs(list(opts.paths) or ["-"])
    result = pipeline.render(inputs, loaded, environ=os.environ, allow_short_secrets=opts.allow_short_secrets)
    from ..wording import short

    for w in result.warnings:  # one short line each; the whole text with -v
        log_warning(w if opts.verbose else short(w))
    if opts.verbose:
        for line in result.summary():
            log_info(line)
    if opts.diff or opts.check:
        return _show_changes(result, opts)
    sources.write_pieces(result.pieces(), opts.output)
    return 0


def _show_changes(result, opts: RenderOptions) -> int:
    """--diff: the unified diff on stdout (coloured on a terminal unless NO_COLOR); --check: exit 1
    when render would change anything. Neither writes the rendered stream."""
    import sys

    from ..render import diff
    from .. import sources
    from ..log import log_info

    if opts.diff:
        text = diff.unified(result.documents)
        if text and sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
            text = diff.colourize(text)
        sources.write_output(text, None)
    changes = diff.changed(result.documents)
    if opts.check and changes:
        more = f"; and {len(changes) - 5} more" if len(changes) > 5 else ""
        log_info(f"render would change {len(changes)} document(s): {'; '.join(changes[:5])}{more}")
        return 1
    return 0
