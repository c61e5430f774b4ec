"""The one executable behind every mode.

- no arguments and a pipe on stdin: a KRM function (kustomize `exec`, `kpt fn eval --exec`);
- one argument that is a file: a kustomize legacy exec plugin (argv[1] is the config file);
- anything else: the Typer CLI (`pxsec render|validate|check|token|keys ...`).

Errors never escape as tracebacks: a `PxsecError` prints one line on stderr and exits with
its code; anything unexpected prints its type only (set PXSEC_DEBUG=1 for the traceback),
since an exception message could carry input text. A failed write (a closed pipe, a full
disk) is an error like any other: exit 0 always means the whole output was written.
"""
from __future__ import annotations

import os
import sys

SUBCOMMANDS = {"render", "validate", "check", "token", "keys", "install", "patches", "init", "version", "schema",
               "last-error", "--help", "-h", "--version"}
RENDER_HINT = "to secure a manifest run `pxsec render --spec SPEC FILE` (or pipe a stream into it)"


def report_error(message: str) -> None:
    from .log import log_error

    log_error(message)


def _silence_stdout() -> None:
    """After a broken pipe: point fd 1 at /dev/null so the interpreter's final flush cannot
    fail again (it would print 'Exception ignored' and exit 120)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


OUT_OF_MEMORY = "out of memory while reading the input"
# Freed when memory runs out, so the error can still be written (and the log file appended).
_reserve: bytes | None = bytes(1 << 20)  # calloc: address space held, no page written (a bytearray wrote all 256)


def _guarded(fn, *args) -> int:
    """_run_guarded, and a MemoryError turned into a one-line error. It is caught here, outside
    the frames that raised it: once the except block is left, the traceback and with it every
    frame (the input, its documents) is released, so there is memory to report it with."""
    global _reserve
    try:
        return _run_guarded(fn, *args)
    except MemoryError:
        pass
    _reserve = None
    import gc

    gc.collect()
    try:
        report_error(OUT_OF_MEMORY)
    except MemoryError:  # still none: write the line without Python-level formatting
        try:
            os.write(2, b"pxsec: error: " + OUT_OF_MEMORY.encode() + b"\n")
        except OSError:
            pass
    return 1


def _run_guarded(fn, *args) -> int:
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
        report_error("<stdout>: the reader closed the pipe before the output was complete")
        _silence_stdout()
        return 1
    except OSError as e:  # a write the command did itself (print) failed: a full disk, a bad fd
        report_error(f"I/O error: {e.strerror or type(e).__name__}")
        return 1
    except RecursionError:
        report_error("input is nested too deeply")
        return 1
    except MemoryError:
        raise  # to _guarded, outside these frames
    except Exception as e:  # noqa: BLE001 - last line of defence: no traceback, no input text
        if os.environ.get("PXSEC_DEBUG"):
            raise
        report_error(f"internal error ({type(e).__name__}); set PXSEC_DEBUG=1 for details")
        return 1


def _isatty(stream) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _stdin_for(mode: str):
    """stdin's binary buffer for the KRM and legacy modes, or the one-line reason it is unusable."""
    from .errors import Location, PxsecError, UsageError

    if sys.stdin is None:
        raise PxsecError(f"stdin is closed: {mode}", Location(file="<stdin>"))
    if _isatty(sys.stdin):
        raise UsageError(f"stdin is a terminal: {mode}", Location(file="<stdin>"))
    return sys.stdin.buffer


def _krm() -> int:
    from .adapters import krm
    from .sources import binary_stdout

    return krm.run(_stdin_for("pxsec with no arguments is a KRM function and reads a ResourceList on stdin; "
                              + RENDER_HINT), binary_stdout())


def _legacy(config: str) -> int:
    from .adapters import legacy
    from .sources import binary_stdout

    return legacy.run(config, _stdin_for(f"`pxsec {config}` is the kustomize legacy exec plugin and reads "
                                         f"resources on stdin; {RENDER_HINT}"), binary_stdout())


def _missing_config(path: str) -> int:
    from .errors import Location, PxsecError

    raise PxsecError(f"no such file; `pxsec CONFIG` is the kustomize legacy exec plugin mode; {RENDER_HINT}",
                     Location(file=path))


def _looks_like_a_path(arg: str) -> bool:
    return (os.sep in arg or "/" in arg or arg.lower().endswith((".yaml", ".yml", ".json"))
            or os.path.exists(arg))


VERSION_ARGS = (["--version"], ["version"])


def _fast(argv: list[str]) -> int | None:
    """`render` and `check` without Typer: they run on every helm upgrade, Argo CD refresh and
    pull request, and importing Typer costs more than a small render. Each command's `parse`
    returns None for anything but a plain, well-formed invocation; Typer then handles it."""
    if argv and argv[0] == "check":
        from .commands import check

        opts = check.parse(argv)
        return None if opts is None else _guarded(check.run, opts)
    from .commands import render

    opts = render.parse(argv)
    return None if opts is None else _guarded(render.render, opts)


# The cyclic garbage collector's first generation is scanned every 700 allocations (CPython's
# default): 25 collections, about a seventh of a small render's own time, went to scanning the
# objects of imports and composed nodes, none of them garbage (pxsec's objects are trees; reference
# counting frees them). A pxsec process collects every GC_THRESHOLD allocations instead; cycles are
# still collected, and a long stream still runs in bounded memory (bench/issue23.py measures both).
GC_THRESHOLD = (50_000, 20, 20)


def main(argv: list[str] | None = None) -> int:
    import gc

    gc.set_threshold(*GC_THRESHOLD)
    argv = sys.argv[1:] if argv is None else argv
    if argv in VERSION_ARGS:  # the cheapest command: no Typer, YAML or Jinja2 import on this path
        from . import __version__

        return _guarded(lambda: print(__version__))
    from .kubeyaml.pyyaml import import_pyyaml

    import_pyyaml()  # every other command reads or writes YAML: PyYAML's unused patterns stay uncompiled
    completing = any(k.startswith("_PXSEC_COMPLETE") for k in os.environ)
    if not argv and not completing and not _isatty(sys.stdin):
        code = _guarded(_krm)
    elif len(argv) == 1 and argv[0] not in SUBCOMMANDS and not argv[0].startswith("-") and not completing:
        if os.path.isfile(argv[0]):
            code = _guarded(_legacy, argv[0])
        elif _looks_like_a_path(argv[0]):
            code = _guarded(_missing_config, argv[0])
        else:
            from .cli import run_cli

            code = _guarded(run_cli, argv)
    else:
        code = None if completing else _fast(argv)  # shell completion is Typer's
        if code is None:
            from .cli import run_cli

            code = _guarded(run_cli, argv)
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        report_error("<stdout>: the reader closed the pipe before the output was complete")
        _silence_stdout()
        code = code or 1
    except OSError as e:
        report_error(f"<stdout>: cannot write: {e.strerror}")
        code = code or 1
    return code


def run() -> None:
    """The `pxsec` console script and `python -m pxsec`: main(), then the process ends without
    tearing the interpreter down. Everything pxsec writes is written by then (main flushed
    stdout and reported a failed flush; files are written whole and closed, never left to
    finalizers; pxsec registers no atexit hook and starts no thread that must finish). Freeing
    every module and object one by one cost a small render more than a tenth of its time."""
    code = main()
    code = 0 if code is None else code
    try:
        if sys.stderr is not None:
            sys.stderr.flush()
    except OSError:
        pass
    os._exit(code if isinstance(code, int) and 0 <= code <= 255 else 1)


if __name__ == "__main__":
    run()
