"""`pxsec install kustomize-plugin`: make pxsec a kustomize legacy exec plugin.

kustomize looks for the transformer of a `pxsec.io/v1alpha1` `PortworxSecurity` config at
`<plugin home>/pxsec.io/v1alpha1/portworxsecurity/PortworxSecurity`, where the plugin home is
the first that exists of $KUSTOMIZE_PLUGIN_HOME, $XDG_CONFIG_HOME/kustomize/plugin,
$HOME/.config/kustomize/plugin (and $HOME/kustomize/plugin). The file installed there is a tiny
sh wrapper that execs this very pxsec (its absolute path, or `python -m renderer` of this
interpreter), so upgrading pxsec in place upgrades the plugin; reinstall after moving pxsec.
"""
from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Optional

import typer

from .. import __version__
from ..sources import write_atomic
from ..spec import API_VERSION, KIND

app = typer.Typer(
    help="Install pxsec as a plugin of other tools.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def plugin_home(environ=os.environ) -> Path:
    """Where kustomize will look first, following its own order."""
    if environ.get("KUSTOMIZE_PLUGIN_HOME"):
        return Path(environ["KUSTOMIZE_PLUGIN_HOME"])
    if environ.get("XDG_CONFIG_HOME"):
        return Path(environ["XDG_CONFIG_HOME"]) / "kustomize" / "plugin"
    return Path.home() / ".config" / "kustomize" / "plugin"


def plugin_relpath() -> Path:
    group, version = API_VERSION.split("/")
    return Path(group) / version / KIND.lower() / KIND


def current_command() -> list[str]:
    """argv prefix that runs this pxsec again, independent of PATH and of the working directory."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == "pxsec":
        found = argv0 if argv0.is_file() else None
        if found is None and os.sep not in sys.argv[0]:
            import shutil

            which = shutil.which(sys.argv[0])
            found = Path(which) if which else None
        if found is not None and os.access(found, os.X_OK):
            return [os.path.abspath(found)]
    # not resolved: a venv's python is a symlink to the base interpreter, which lacks the venv
    return [os.path.abspath(sys.executable), "-m", "renderer"]


def wrapper_script(command: list[str]) -> str:
    lines = ["#!/bin/sh",
             f"# kustomize exec plugin for {API_VERSION} {KIND}; written by `pxsec install kustomize-plugin`",
             f"# (pxsec {__version__}). argv[1] is the transformer config, stdin/stdout the resources."]
    if command[1:3] == ["-m", "renderer"]:
        # python -m renderer: make the package importable even when it only is in a checkout
        package_root = str(Path(__file__).resolve().parents[2])
        lines.append(f'PYTHONPATH={shlex.quote(package_root)}${{PYTHONPATH:+:$PYTHONPATH}}')
        lines.append("export PYTHONPATH")
    lines.append("exec " + " ".join(shlex.quote(c) for c in command) + ' "$@"')
    return "\n".join(lines) + "\n"


@app.command("kustomize-plugin")
def kustomize_plugin(
    directory: Optional[str] = typer.Option(
        None, "--dir", "-d", metavar="DIR",
        help="kustomize plugin home (default: $KUSTOMIZE_PLUGIN_HOME, else $XDG_CONFIG_HOME/kustomize/plugin, "
             "else ~/.config/kustomize/plugin)."),
) -> None:
    """Install the legacy exec plugin wrapper for `kustomize build --enable-alpha-plugins`."""
    home = Path(directory) if directory else plugin_home()
    target = (home / plugin_relpath()).absolute()
    write_atomic(target, wrapper_script(current_command()).encode("utf-8"), mode=0o755)
    print(target)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="install")
