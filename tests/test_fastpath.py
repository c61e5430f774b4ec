"""The Typer-free `render` path must accept exactly what the Typer command accepts."""
from __future__ import annotations


import pytest
from hypothesis import given, settings, strategies as st
import typer

from clirunner import fast_and_typer, run_python
from conftest import ROOT, clean_env
from pxsec import cli
from pxsec.commands import check as checkcmd, render as fastpath

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


def test_a_daemonset_render_loads_only_what_it_uses(tmp_path):
    """A small render pays for what it uses (issue 23): no json for a YAML stream, none of the
    operator's StorageClass code without a StorageCluster, and no pattern compiled for text the
    stream does not have (pxsec.lazyre; every compile cost 0.1-1 ms of start-up)."""
    lazy = ("render.k8ssplit._INNER_RARE", "kubeyaml.kyaml._GO_TIMESTAMP", "kubeyaml.kyaml._GO_INT",
            "kubeyaml.kyaml._GO_FLOAT", "sources._MAY_HOLD_SECRET",
            "render.filters.helm_vars._ENV_KV", "render.filters.helm_vars._FLAG", "process._ENV_NAME")
    code = ("import sys, importlib; from pxsec.main import main; rc = main(['render', '-s', %r, %r]); "
            "mods = ('json', 'pxsec.px_version', 'pxsec.render.filters.operator_storageclasses'); "
            "loaded = [m for m in mods if m in sys.modules]; "
            "compiled = [p for p in %r if '_compiled' in vars(getattr(importlib.import_module("
            "'pxsec.' + p.rsplit('.', 1)[0]), p.rsplit('.', 1)[1]))]; "
            "print(loaded, compiled, file=sys.stderr); sys.exit(rc)" % (SPEC, EXAMPLE, lazy))
    env = clean_env({"PXSEC_CACHE_DIR": str(tmp_path)})
    assert run_python(code, env).returncode == 0  # the first run validates the spec (jsonschema) and caches it
    r = run_python(code, env)
    assert r.returncode == 0 and r.stderr.strip().endswith(b"[] []"), r.stderr

# `pxsec check`: the same table test, and the same argv through both paths.
def _typer_check_options() -> dict[str, str]:
    """Each option of the Typer `check` command and how it takes its value: flag, value or list."""
    command = typer.main.get_command(cli.app).commands["check"]
    kinds = {}
    for p in command.params:
        kind = "flag" if getattr(p, "is_flag", False) else "list" if getattr(p, "multiple", False) else "value"
        kinds.update({o: kind for o in p.opts if o.startswith("-")})
    return kinds


def test_check_option_tables_match_the_typer_command():
    fast = {**{o: "value" for o in checkcmd.VALUE_OPTIONS}, **{o: "list" for o in checkcmd.LIST_OPTIONS},
            **{o: "flag" for o in checkcmd.FLAG_OPTIONS}}
    typer_opts = _typer_check_options()
    typer_opts.pop("--help", None), typer_opts.pop("-h", None)
    assert typer_opts == fast
    level = next(p for p in typer.main.get_command(cli.app).commands["check"].params if p.name == "min_severity")
    assert tuple(level.type.choices) == checkcmd.LEVELS


@pytest.mark.parametrize("argv", [
    ["check", "--spec", SPEC, EXAMPLE],  # exit 1: the example is not secured yet
    ["check", EXAMPLE, "-s", SPEC, "--format=json", "--min-severity", "error"],
    ["check", "-q", "--strict", "-f", "github", "-i", "PXS019", "--ignore=PXS004", EXAMPLE],
    ["check", "--require-workload", "--cluster", f"prod={EXAMPLE}", "--format", "sarif"],
    ["check", "--", EXAMPLE],
    ["check", "--min-severity=warning", "-f", "junit", EXAMPLE],
    ["check", "--format", "yaml", EXAMPLE],  # a usage error pxsec itself reports (exit 2)
])
def test_check_fast_and_typer_paths_agree(argv):
    assert checkcmd.parse(argv) is not None

    fast, slow = fast_and_typer(argv)
    assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)
    assert fast.returncode in (1, 2) and (fast.stdout or fast.returncode == 2)


@pytest.mark.parametrize("argv", [["check", "--help"], ["check", "-s"], ["check", "--bogus", EXAMPLE],
                                  ["check", "--min-severity", "fatal", EXAMPLE], [f"-s{SPEC}"], ["render", EXAMPLE]])
def test_anything_else_in_check_goes_to_typer(argv):
    assert checkcmd.parse(argv) is None


def test_check_imports_neither_typer_nor_an_unused_report_format(tmp_path):
    """Nor dataclasses (with inspect) or typing: together they cost a check about as much as
    Typer's share did (audit's records are namedtuples and plain classes)."""
    code = ("import sys; from pxsec.main import main; rc = main(['check', '-s', %r, %r]); "
            "print(sorted(m for m in ('typer', 'click', 'pxsec.audit.format_junit', 'pxsec.audit.format_sarif', "
            "'pxsec.audit.baseline', 'dataclasses', 'inspect', 'typing') if m in sys.modules), file=sys.stderr); "
            "sys.exit(rc)" % (SPEC, EXAMPLE))
    env = clean_env({"PXSEC_CACHE_DIR": str(tmp_path)})
    first = run_python(code, env)  # validates the spec: jsonschema imports some of them
    assert first.returncode == 1, first.stderr
    again = run_python(code, env)  # the spec is remembered (as render remembers it)
    assert again.returncode == 1 and again.stderr.strip().endswith(b"[]"), again.stderr


# Random argv from check's own vocabulary: whatever the fast path accepts, Click reads the same way.
_WORDS = (list(checkcmd.VALUE_OPTIONS) + list(checkcmd.LIST_OPTIONS) + list(checkcmd.FLAG_OPTIONS)
          + ["--", "-", "a.yaml", "b", "-x", "--bogus", "note", "error", "json", "prod=c.yaml", "", "-sq",
             "--strict=1"])
_CLICK_NAMES = {"fmt": "formats", "cluster": "fleet"}


def _click_reads(argv: list[str]) -> dict:
    """What Click parses argv into (check's parameters, before Typer calls the command)."""
    command = typer.main.get_command(cli.app).commands["check"]
    params = command.make_context("check", list(argv[1:])).params
    out = {}
    for name, value in params.items():
        key = _CLICK_NAMES.get(name, name)
        if key in ("paths", "formats", "ignore", "fleet"):
            out[key] = list(value or [])
        else:
            out[key] = getattr(value, "value", value)  # an enum Level read as its string
    return out


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=8))
def test_check_fast_path_reads_any_argv_it_accepts_as_click_does(words):
    argv = ["check"] + words
    fast = checkcmd.parse(argv)
    if fast is None:
        return  # Typer handles it
    want = _click_reads(argv)
    got = {k: fast.get(k, False if isinstance(want.get(k), bool) else None) for k in want}
    for key in ("paths", "formats", "ignore", "fleet"):
        got[key] = list(fast[key])
    assert got == want, argv


_RENDER_WORDS = (list(fastpath.VALUE_OPTIONS) + list(fastpath.FLAG_OPTIONS)
                 + ["--", "-", "a.yaml", "b", "-x", "--bogus", "", "-sv", "--diff=1", "--spec="])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_RENDER_WORDS), max_size=8))
def test_render_fast_path_reads_any_argv_it_accepts_as_click_does(words):
    argv = ["render"] + words
    fast = fastpath.parse(argv)
    if fast is None:
        return  # Typer handles it
    params = typer.main.get_command(cli.app).commands["render"].make_context("render", list(words)).params
    want = fastpath.RenderOptions(**{**params, "paths": list(params["paths"] or [])})
    assert fast._replace(paths=list(fast.paths)) == want, argv


@pytest.mark.parametrize("argv", [["check", "--strict"], ["render", "--check"]])
def test_shell_completion_goes_to_typer_even_for_a_plain_call(argv):
    """With Click's completion variables set, the words are completed, not run (no check, no render)."""
    env = clean_env({"_PXSEC_COMPLETE": "complete_bash", "COMP_WORDS": " ".join(["pxsec", *argv]),
                     "COMP_CWORD": str(len(argv))})
    got = run_python(f"import sys; from pxsec.main import main; sys.exit(main({argv!r}))", env)
    assert fastpath.parse(argv) is not None or checkcmd.parse(argv) is not None  # plain: the fast path's
    assert got.returncode == 0 and argv[-1].encode() in got.stdout.split(), (got.stdout, got.stderr)
