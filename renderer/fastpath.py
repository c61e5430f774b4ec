"""`pxsec render` without importing Typer: it runs on every helm upgrade and Argo CD refresh,
and Typer (with its optional pydantic) costs more start-up than the render itself.

Only plain, well-formed `render` invocations take this path; anything else (help, unknown or
malformed options) returns None and the Typer CLI handles it, with its usage errors. Both
paths build the same `RenderOptions` and call the same `render`.
`tests/test_fastpath.py` checks that this table matches the Typer command's options.
"""
from __future__ import annotations

import os
from collections import namedtuple

VALUE_OPTIONS = {"--spec": "spec", "-s": "spec", "--output": "output", "-o": "output"}
FLAG_OPTIONS = {"--verbose": "verbose", "-v": "verbose", "--allow-short-secrets": "allow_short_secrets"}


class RenderOptions(namedtuple("RenderOptions", "spec output verbose allow_short_secrets paths",
                               defaults=(None, None, False, False, ()))):
    """What `pxsec render` was asked to do: spec (path or None: $PXSEC_SPEC), output (path or
    None: stdout), verbose, allow_short_secrets, paths (tuple; empty: stdin)."""

    __slots__ = ()


def parse(argv: list[str]) -> RenderOptions | None:
    if not argv or argv[0] != "render":
        return None
    opts: dict = {"paths": []}
    args = argv[1:]
    i = 0
    only_paths = False
    while i < len(args):
        a = args[i]
        if only_paths or a == "-" or not a.startswith("-"):
            opts["paths"].append(a)
        elif a == "--":
            only_paths = True
        elif a in FLAG_OPTIONS:
            opts[FLAG_OPTIONS[a]] = True
        elif a in VALUE_OPTIONS:
            if i + 1 >= len(args):
                return None
            opts[VALUE_OPTIONS[a]] = args[i + 1]
            i += 1
        elif a.startswith("--") and "=" in a and a.split("=", 1)[0] in VALUE_OPTIONS:
            name, value = a.split("=", 1)
            opts[VALUE_OPTIONS[name]] = value
        else:
            return None
        i += 1
    opts["paths"] = tuple(opts["paths"])
    return RenderOptions(**opts)


def render(opts: RenderOptions) -> int:
    from . import pipeline, sources, spec as specmod
    from .log import log_info, log_warning

    loaded = specmod.resolve_spec(opts.spec)
    inputs = sources.read_inputs(list(opts.paths) or ["-"])
    result = pipeline.render(inputs, loaded, environ=os.environ, allow_short_secrets=opts.allow_short_secrets)
    for w in result.warnings:
        log_warning(w)
    if opts.verbose:
        for line in result.summary():
            log_info(line)
    sources.write_output(result.text, opts.output)
    return 0
