"""The one executable behind every mode.

- no arguments and a pipe on stdin: a KRM function (kustomize `exec`, `kpt fn eval --exec`);
- one argument that is a file: a kustomize legacy exec plugin (argv[1] is the config file);
- anything else: the Typer CLI (`pxsec render|validate|check|token|keys ...`).

Errors never escape as tracebacks: a `PxsecError` prints one line on stderr and exits with
its code; anything unexpected prints its type only (set PXSEC_DEBUG=1 for the traceback),
since an exception message could carry input text.
"""
from __future__ import annotations

import os
import sys

SUBCOMMANDS = {"render", "validate", "check", "token", "keys", "install", "patches", "version", "--help", "-h", "--version"}


def report_error(message: str) -> None:
    from .log import log_error

    log_error(message)


def _guarded(fn, *args) -> int:
    from .errors import PxsecError

    try:
        return fn(*args) or 0
    except PxsecError as e:
        report_error(str(e))
        return e.exit_code
    except KeyboardInterrupt:
        report_error("interrupted")
        return 130
    except BrokenPipeError:
        return 1
    except RecursionError:
        report_error("input is nested too deeply")
        return 1
    except MemoryError:
        report_error("out of memory while reading the input")
        return 1
    except Exception as e:  # noqa: BLE001 - last line of defence: no traceback, no input text
        if os.environ.get("PXSEC_DEBUG"):
            raise
        report_error(f"internal error ({type(e).__name__}); set PXSEC_DEBUG=1 for details")
        return 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv and not sys.stdin.isatty():
        from .adapters import krm

        code = _guarded(krm.run, sys.stdin.buffer, sys.stdout.buffer)
    elif len(argv) == 1 and argv[0] not in SUBCOMMANDS and os.path.isfile(argv[0]):
        from .adapters import legacy

        code = _guarded(legacy.run, argv[0], sys.stdin.buffer, sys.stdout.buffer)
    else:
        from . import fastpath

        opts = fastpath.parse(argv)
        if opts is not None:
            code = _guarded(fastpath.render, opts)
        else:
            from .cli import run_cli

            code = _guarded(run_cli, argv)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = code or 1
    return code


if __name__ == "__main__":
    sys.exit(main())
