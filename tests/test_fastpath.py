"""The Typer-free `render` path must accept exactly what the Typer command accepts."""
from __future__ import annotations


import pytest
import typer

from clirunner import fast_and_typer, run_python
from conftest import ROOT, clean_env
from pxsec import cli
from pxsec.commands import render as fastpath

SPEC = str(ROOT / "examples" / "spec.yaml")
EXAMPLE = str(ROOT / "examples" / "portworx.yaml")


def test_option_tables_match_the_typer_command():
    command = typer.main.get_command(cli.app).commands["render"]
    typer_opts = {o for p in command.params for o in p.opts if o.startswith("-")}
    fast_opts = set(fastpath.VALUE_OPTIONS) | set(fastpath.FLAG_OPTIONS)
    assert typer_opts - {"-h", "--help"} == fast_opts


@pytest.mark.parametrize("argv", [
    ["render", "-s", SPEC, EXAMPLE],
    ["render", f"--spec={SPEC}", "-v", EXAMPLE],
    ["render", EXAMPLE, "--spec", SPEC, "--allow-short-secrets"],
    ["render", "-s", SPEC, "--", EXAMPLE],
])
def test_fast_and_typer_paths_agree(argv):
    assert fastpath.parse(argv) is not None

    fast, slow = fast_and_typer(argv)
    assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)
    assert fast.returncode == 0 and b"PORTWORX_AUTH_SYSTEM_KEY" in fast.stdout


@pytest.mark.parametrize("argv", [["render", "--help"], ["render", "-s"], ["render", "--bogus"], ["validate", SPEC]])
def test_anything_else_goes_to_typer(argv):
    assert fastpath.parse(argv) is None


def test_render_imports_neither_typer_nor_jsonschema_once_the_spec_is_cached(tmp_path):
    """Start-up stays cheap: `render` runs on every helm upgrade and Argo CD refresh."""
    code = ("import sys; from pxsec.main import main; rc = main(['render', '-s', %r, %r]); "
            "print(sorted(m for m in ('typer', 'click', 'jsonschema') if m in sys.modules), file=sys.stderr); "
            "sys.exit(rc)" % (SPEC, EXAMPLE))
    env = clean_env({"PXSEC_CACHE_DIR": str(tmp_path)})
    first = run_python(code, env)
    assert first.returncode == 0 and first.stderr.strip().endswith(b"['jsonschema']"), first.stderr
    again = run_python(code, env)
    assert again.returncode == 0 and again.stderr.strip().endswith(b"[]"), again.stderr
