"""Typer CLI: argument parsing only. Every command calls its function in pxsec.commands, which
calls into the core and prints its result.

Conventions, for every command: metavars are UPPERCASE nouns (FILE, PATH, DIR, FORMAT); every
help page ends with an example (EXAMPLES, applied to the whole command tree in `command()`);
usage errors exit 2, bad input exits 1. Command groups are registered once, statically.
"""
from __future__ import annotations

from typing import List, Optional

import typer

from . import __version__
from . import portworx as px
from .errors import PxsecError
from .commands.render import RenderOptions
from .spec import SPEC_ENV

TOP_HELP = f"""Turn on PX-Security (Portworx authorization) in Kubernetes manifests.

\b
Modes (one executable):
  pxsec render --spec FILE [PATH ...]   a stream filter (Helm 3/4 post-renderer, Argo CD, pipes)
  pxsec   (no arguments, stdin a KRM ResourceList)   a KRM function (kustomize, kpt)
  pxsec CONFIG   (resources on stdin)   a kustomize legacy exec plugin

\b
Environment:
  {SPEC_ENV}        the spec file when --spec is not given
  PXSEC_LOG_FILE    also append every error and warning, with a timestamp and the arguments
  PXSEC_DEBUG=1     show the traceback of an internal error
  PXSEC_NO_CACHE=1  always validate the spec (no cache in ~/.cache/pxsec)
  {px.SYSTEM_KEY}, {px.STORK_KEY}, {px.SHARED_KEY}
                    the key values, with secret.create: true (never on the command line)

\b
Exit codes: 0 success; 1 bad input, insecure manifests (check), or a failed write;
2 usage error. Errors are one line on stderr; secret values never appear in messages.
Under Helm 4 (which hides stderr) the last error is also kept: `pxsec last-error`."""

# The example closing each help page, by command path. Applied to every command, also to those
# of command groups that live in other modules, so no help page is left without one.
EXAMPLES = {
    "": "pxsec render --spec pxsec.yaml manifests/ -o secured.yaml",
    "render": "helm template px ./chart -n kube-system | pxsec render --spec pxsec.yaml",
    "validate": "pxsec validate pxsec.yaml",
    "init": "pxsec init --mode kustomize -o pxsec.yaml",
    "schema": "pxsec schema > portworxsecurity.schema.json   # or: pxsec schema --path",
    "version": "pxsec version      # or: pxsec --version",
    "last-error": "pxsec last-error   # after `helm upgrade ... --post-renderer pxsec` failed",
    "check": "kustomize build overlays/prod | pxsec check --strict --spec pxsec.yaml --ignore PXS021",
    "token": "pxsec token generate --spec pxsec.yaml --name admin --email admin@example.com -r system.admin",
    "token generate": f"{px.SHARED_KEY}=... pxsec token generate --spec pxsec.yaml "
                      "--name admin --email admin@example.com -r system.admin --lifetime 1d",
    "token verify": "pxsec token verify --spec pxsec.yaml admin.jwt   # a file, the token itself, or - (stdin)",
    "keys": "pxsec keys generate --spec pxsec.yaml -n kube-system -o px-keys.yaml",
    "keys generate": "pxsec keys generate --spec pxsec.yaml -n kube-system -o px-keys.yaml",
    "install": "pxsec install kustomize-plugin",
    "install kustomize-plugin": "pxsec install kustomize-plugin && kustomize build --enable-alpha-plugins .",
    "install helm-plugin": "pxsec install helm-plugin --helm helm4",
    "policy": "pxsec policy --spec pxsec.yaml --namespace-selector pxsec.io/enforce=true | kubectl apply -f -",
    "patches": "helm template px ./chart -n kube-system | pxsec patches --spec pxsec.yaml --for helmrelease",
}
GENERIC_EXAMPLE = "pxsec {path} --help"

PATHS_HELP = "Files or directories (a directory gives its *.yaml, *.yml and *.json files, sorted); '-' or nothing: stdin."


def _version(value: bool) -> None:
    if value:
        print(__version__)
        raise typer.Exit(0)


app = typer.Typer(
    name="pxsec",
    help=TOP_HELP,
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the pxsec version and exit."),
) -> None:
    pass


@app.command()
def render(
    paths: List[str] = typer.Argument(None, metavar="PATH", help=PATHS_HELP),
    spec: Optional[str] = typer.Option(None, "--spec", "-s", metavar="FILE",
                                       help=f"PortworxSecurity spec file (or env {SPEC_ENV})."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE",
                                         help="Write here (atomically; mode 0600 when it holds a Secret) "
                                              "instead of stdout."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Summarize what was changed on stderr (names only)."),
    allow_short_secrets: bool = typer.Option(
        False, "--allow-short-secrets", help="With secret.create: accept secret values shorter than 32 bytes."),
    diff: bool = typer.Option(False, "--diff", help="Print a unified diff of what render would change (secret "
                              "values hidden) instead of the output."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 when render would change anything."),
) -> None:
    """Secure the Portworx and Stork workloads in a manifest stream."""
    from .commands import render as command

    code = command.render(RenderOptions(spec=spec, output=output, verbose=verbose,
                                        allow_short_secrets=allow_short_secrets, paths=tuple(paths or ()),
                                        diff=diff, check=check))
    if code:
        raise typer.Exit(code)


@app.command()
def validate(spec: str = typer.Argument(..., metavar="FILE", help="PortworxSecurity spec file.")) -> None:
    """Check a spec and print every problem with its field path."""
    from .commands import validate as command

    code = command.validate(spec)
    if code:
        raise typer.Exit(code)


@app.command()
def version() -> None:
    """Print the pxsec version."""
    print(__version__)


@app.command("last-error")
def last_error(
    path: bool = typer.Option(False, "--path", help="Print where the last error is kept, not the error."),
) -> None:
    """Print the last error pxsec reported while run by Helm 4 (which hides a post-renderer's stderr)."""
    from .commands import last_error as command

    command.last_error(path)


@app.command()
def init(
    output: str = typer.Option("pxsec.yaml", "--output", "-o", metavar="FILE", help="Where to write the spec."),
    mode: str = typer.Option("standalone", "--mode", "-m", metavar="MODE",
                             help="helm, kustomize, kpt, argocd or standalone: what the printed snippet wires up."),
    force: bool = typer.Option(False, "--force", help="Overwrite FILE if it exists."),
) -> None:
    """Write a commented PortworxSecurity spec, and print how to use it with your tool."""
    from .commands import init as command

    command.init(output, mode, force)


@app.command()
def schema(
    path: bool = typer.Option(False, "--path", help="Print where the installed schema is, not the schema."),
) -> None:
    """Print the spec's JSON Schema (the one editors use through the `$schema=` line `pxsec init` writes)."""
    from .commands import schema as command

    command.schema(path)


def _register_subapps() -> None:
    from .commands import check, install, keys, patches, policy, tokens

    app.add_typer(tokens.app, name="token")
    app.add_typer(keys.app, name="keys")
    check.register(app)
    install.register(app)
    patches.register(app)
    policy.register(app)


_register_subapps()


def _no_type_label(ctx) -> None:
    return None


def _with_examples(cmd, path: str = "") -> None:
    for param in getattr(cmd, "params", ()):
        if getattr(param, "param_type_name", "") == "argument" and param.metavar:
            # Typer prints a Python type after an argument's metavar (`PATH <list[str]>`);
            # options with a metavar print none: make arguments read the same
            param.display_type_rich = _no_type_label
    if not getattr(cmd, "epilog", None):
        cmd.epilog = "\b\nExample:\n  " + EXAMPLES.get(path, GENERIC_EXAMPLE.format(path=path))
    if isinstance(getattr(cmd, "commands", None), dict):  # a group
        for name, sub in cmd.commands.items():
            _with_examples(sub, f"{path} {name}".strip())


_command = None


def command():
    """The click command tree (built once per process), every page with its example."""
    global _command
    if _command is None:
        _command = typer.main.get_command(app)
        _with_examples(_command)
    return _command


def run_cli(argv: list[str]) -> int:
    try:
        code = command().main(args=argv, prog_name="pxsec", standalone_mode=False)
    except PxsecError:
        raise
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 1
    except Exception as e:
        # click (vendored by recent typer) usage errors: print them the click way, exit 2
        if hasattr(e, "show") and hasattr(e, "exit_code"):
            e.show()
            from .log import record_error

            if type(e).__name__ != "NoArgsIsHelpError":  # the help page itself is no error to keep
                record_error(f"usage: {e.format_message()}" if hasattr(e, "format_message") else "usage error")
            return e.exit_code
        if type(e).__name__ == "Abort":
            return 1
        raise
    return code if isinstance(code, int) else 0
