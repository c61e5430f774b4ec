"""`pxsec install kustomize-plugin` / `helm-plugin`: make pxsec a kustomize legacy exec plugin, or a
Helm 4 post-renderer plugin (see the Helm 4 section below).

kustomize looks for the transformer of a `pxsec.io/v1alpha1` `PortworxSecurity` config at
`<plugin home>/pxsec.io/v1alpha1/portworxsecurity/PortworxSecurity`, where the plugin home is
the first that exists of $KUSTOMIZE_PLUGIN_HOME, $XDG_CONFIG_HOME/kustomize/plugin,
$HOME/.config/kustomize/plugin (and $HOME/kustomize/plugin). The file installed there is a tiny
sh wrapper that execs this very pxsec (its absolute path, or `python -m pxsec` of this
interpreter), so upgrading pxsec in place upgrades the plugin; reinstall after moving pxsec.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

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
    return [os.path.abspath(sys.executable), "-m", "pxsec"]


def wrapper_script(command: list[str], header: tuple[str, ...] = ()) -> str:
    lines = ["#!/bin/sh", *(header or (
        f"# kustomize exec plugin for {API_VERSION} {KIND}; written by `pxsec install kustomize-plugin`",
        f"# (pxsec {__version__}). argv[1] is the transformer config, stdin/stdout the resources."))]
    if command[1:3] == ["-m", "pxsec"]:
        # python -m pxsec: also find a checkout's sources on PYTHONPATH (harmless for an install)
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


# --- Helm 4 post-renderer plugin -----------------------------------------------------------------
# Helm 3 and Helm 4 read the same plugins dir by default (~/.local/share/helm/plugins), and Helm 3
# stops loading *every* plugin at a v1 plugin.yaml (json: unknown field "apiVersion"). So the
# plugin goes only into a dir that Helm 4 reads and no Helm 3 binary on PATH (or --helm3) reads.
_HELM_NAME = re.compile(r"\Ahelm(?:[-_]?v?[34](?:\.\d+)*)?\Z")


def _helm(binary: str, *args: str) -> str:
    from ..errors import PxsecError

    try:
        proc = subprocess.run([binary, *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        raise PxsecError(f"cannot run {binary} {' '.join(args)}: {type(e).__name__}") from None
    if proc.returncode != 0:
        raise PxsecError(f"{binary} {' '.join(args)} exited {proc.returncode}")
    return proc.stdout.strip()


def helm_major(binary: str) -> str:
    """`v3` or `v4` (Go builds without ldflags print `v4.2`, releases `v4.2.4+g...`)."""
    return _helm(binary, "version", "--short")[:2]


def helm_binaries(environ=os.environ) -> list[str]:
    """Every helm-looking executable on PATH (helm, helm3, helm4, helm-v3...), resolved, once."""
    seen, out = set(), []
    for d in environ.get("PATH", "").split(os.pathsep):
        try:
            names = sorted(os.listdir(d or "."))
        except OSError:
            continue
        for name in names:
            path = os.path.join(d or ".", name)
            if _HELM_NAME.match(name) and os.path.isfile(path) and os.access(path, os.X_OK):
                real = os.path.realpath(path)
                if real not in seen:
                    seen.add(real)
                    out.append(os.path.abspath(path))
    return out


def plugin_dirs(binary: str) -> list[str]:
    return [os.path.realpath(p) for p in _helm(binary, "env", "HELM_PLUGINS").split(os.pathsep) if p]


def helm_plugin_yaml(command: str) -> str:
    return (f"# Helm 4 post-renderer plugin, written by `pxsec install helm-plugin` (pxsec {__version__}).\n"
            "# Helm 4 only: a Helm 3 reading this dir stops loading all its plugins. Remove with\n"
            "# `helm plugin uninstall pxsec` (Helm 4) or by deleting this directory.\n"
            "apiVersion: v1\ntype: postrenderer/v1\nname: pxsec\n"
            f"version: {__version__}\nruntime: subprocess\nruntimeConfig:\n"
            f"  platformCommand:\n    - command: {json.dumps(command)}\n")


def install_helm_plugin(helm: Optional[str], directory: Optional[str], helm3: list[str]) -> Path:
    from ..errors import PxsecError

    if helm or not directory:
        candidates = [helm] if helm else [b for b in helm_binaries() if Path(b).name in ("helm4", "helm")]
        majors = {b: helm_major(b) for b in candidates}
        found = [b for b in candidates if majors[b] == "v4"]
        if not found:
            if helm:
                raise PxsecError(f"{helm} is Helm {majors[helm][1:] or '?'}, not Helm 4; Helm 3 needs no plugin "
                                 f"(--post-renderer pxsec runs the executable)")
            raise PxsecError("no Helm 4 on PATH (helm4 or helm): pass --helm PATH or --dir DIR")
        helm = found[0]
    dirs = [os.path.realpath(directory)] if directory else plugin_dirs(helm)
    if not dirs:
        raise PxsecError(f"{helm} env HELM_PLUGINS is empty: pass --dir DIR")
    target = Path(dirs[0])
    for other in dict.fromkeys([b for b in helm_binaries() if b != helm] + list(helm3)):
        if helm_major(other) == "v3" and str(target) in plugin_dirs(other):
            raise PxsecError(f"{target} is also the plugins dir of Helm 3 ({other}), which would then load none "
                             f"of its plugins; give Helm 4 its own (HELM_PLUGINS=DIR for helm4 only) and pass --dir DIR")
    home = target / "pxsec"
    if home.is_symlink() or (home.exists() and not (home / "plugin.yaml").is_file()):
        raise PxsecError(f"{home} exists and was not written by this command (a `helm plugin install` "
                         f"of a checkout?): run `helm plugin uninstall pxsec` first")
    wrapper = home / "pxsec"
    if any(c.isspace() for c in str(wrapper)):
        raise PxsecError(f"{target}: Helm splits plugin commands on spaces; choose a dir without spaces")
    header = (f"# Helm 4 post-renderer command; written by `pxsec install helm-plugin` (pxsec {__version__}).",
              "# The arguments are the --post-renderer-args; stdin/stdout the manifests.")
    write_atomic(wrapper, wrapper_script(current_command(), header).encode("utf-8"), mode=0o755)
    write_atomic(home / "plugin.yaml", helm_plugin_yaml(str(wrapper)).encode("utf-8"), mode=0o644)
    return home


@app.command("helm-plugin")
def helm_plugin(
    helm: Optional[str] = typer.Option(None, "--helm", metavar="PATH",
                                       help="The Helm 4 binary (default: helm4 or helm on PATH, whichever is Helm 4)."),
    directory: Optional[str] = typer.Option(None, "--dir", "-d", metavar="DIR",
                                            help="Plugins dir (default: what `helm env HELM_PLUGINS` prints)."),
    helm3: List[str] = typer.Option([], "--helm3", metavar="PATH",
                                    help="Another Helm 3 binary whose plugins dir must not be used (PATH is searched too)."),
) -> None:
    """Install the Helm 4 post-renderer plugin `pxsec` (Helm 3 needs none).

    Refuses a plugins dir that a Helm 3 binary also reads. Example: pxsec install helm-plugin --helm $(command -v helm4)
    """
    print(install_helm_plugin(helm, directory, helm3))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="install")
