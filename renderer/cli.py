"""Typer CLI: argument parsing only. Every command calls into the core and prints its result."""
from __future__ import annotations

from typing import List, Optional

import typer

from . import __version__
from .errors import PxsecError

app = typer.Typer(
    name="pxsec",
    help="Turn on PX-Security (Portworx authorization) in Kubernetes manifests.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

SPEC_ENV = "PXSEC_SPEC"


@app.command()
def render(
    paths: List[str] = typer.Argument(None, help="Files or directories (*.yaml, *.yml, sorted); '-' or nothing reads stdin."),
    spec: Optional[str] = typer.Option(None, "--spec", "-s", help=f"PortworxSecurity spec file (or env {SPEC_ENV})."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write here (atomically) instead of stdout."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Summarize what was changed on stderr (names only)."),
    allow_short_secrets: bool = typer.Option(
        False, "--allow-short-secrets", help="With secret.create: accept secret values shorter than 32 bytes."),
    diff: bool = typer.Option(False, "--diff", help="Print a unified diff of what render would change (secret "
                              "values hidden) instead of the output."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 when render would change anything."),
) -> None:
    """Secure the Portworx and Stork workloads in a manifest stream."""
    from . import fastpath

    code = fastpath.render({"spec": spec, "output": output, "verbose": verbose,
                            "allow_short_secrets": allow_short_secrets, "diff": diff, "check": check,
                            "paths": paths or []})
    if code:
        raise typer.Exit(code)


@app.command()
def validate(spec: str = typer.Argument(..., help="PortworxSecurity spec file.")) -> None:
    """Check a spec and print every problem with its field path."""
    from . import spec as specmod

    found = specmod.load_problems(spec)
    if not found:
        print(f"{spec}: valid")
        return
    from .log import log_error

    for p in found:
        log_error(f"{spec}: {p}")
    raise typer.Exit(1)


@app.command()
def version() -> None:
    """Print the pxsec version."""
    print(__version__)


_registered = False


def _register_subapps() -> None:
    # Each command group lives in its own module under renderer/commands/; registered once per
    # process (run_cli may be called many times, by tests or a library user).
    global _registered
    if _registered:
        return
    _registered = True
    import importlib

    for module, name in (("tokens", "token"), ("keys", "keys"), ("check", None), ("install", None),
                         ("patches", None)):
        try:
            mod = importlib.import_module(f".commands.{module}", __package__)
        except ModuleNotFoundError as e:
            if e.name and e.name.endswith(f"commands.{module}"):
                continue
            raise
        if name:
            app.add_typer(mod.app, name=name)
        else:
            mod.register(app)


def run_cli(argv: list[str]) -> int:
    if not argv or argv[0] not in ("render", "validate", "version"):
        _register_subapps()
    try:
        code = app(args=argv, prog_name="pxsec", standalone_mode=False)
    except PxsecError:
        raise
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 1
    except Exception as e:
        # click (vendored by recent typer) usage errors: print them the click way, exit 2
        if hasattr(e, "show") and hasattr(e, "exit_code"):
            e.show()
            return e.exit_code
        if type(e).__name__ == "Abort":
            return 1
        raise
    return code if isinstance(code, int) else 0
