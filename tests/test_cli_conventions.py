"""CLI conventions users of other tools expect: --version, shell completion, an example on every
help page, one metavar style, a top-level help that names the modes, the environment and the
exit codes; and the log lines (timestamp, arguments, never a secret) with `pxsec last-error`."""
from __future__ import annotations

import re

import pytest

from conftest import ROOT, run_pxsec
from pxsec import __version__, cli

SPEC = str(ROOT / "examples" / "spec.yaml")
EXAMPLE = ROOT / "examples" / "portworx.yaml"


def command_paths(cmd=None, prefix=()):
    cmd = cmd or cli.command()
    yield prefix
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        yield from command_paths(sub, prefix + (name,))


def help_page(capsys, path) -> str:
    assert cli.run_cli([*path, "--help"]) == 0
    return capsys.readouterr().out


def test_version_option_and_command():
    for argv in (["--version"], ["version"]):
        r = run_pxsec(argv)
        assert (r.returncode, r.stdout.decode()) == (0, f"{__version__}\n"), r.stderr


def test_the_command_tree_has_every_group():
    paths = {" ".join(p) for p in command_paths()}
    assert {"render", "validate", "check", "last-error", "token generate", "token verify",
            "keys generate", "install kustomize-plugin"} <= paths


def test_every_help_page_has_an_example_and_one_metavar_style(capsys):
    for path in command_paths():
        page = help_page(capsys, path)
        assert "Example:\n  pxsec " in page or "Example:\n    pxsec " in page or \
            re.search(r"Example:\n\s+\S.*pxsec ", page), f"`pxsec {' '.join(path)} --help` has no example:\n{page}"
        # Python types leaking into help (`<str>`, `<list[str]>`) instead of a metavar
        assert not re.search(r"<(str|int|list\[str\]|path|bool)>", page), f"pxsec {' '.join(path)}:\n{page}"


def test_value_options_have_uppercase_metavars(capsys):
    for path in (("render",), ("check",), ("validate",), ("install", "kustomize-plugin")):
        page = help_page(capsys, path)
        for opt in ("--spec", "--output", "--format", "--dir"):
            m = re.search(rf"{opt} (\S+)", page)
            if m:
                assert m.group(1).isupper(), f"{' '.join(path)} {opt} {m.group(1)}"


def test_top_level_help_names_modes_environment_and_exit_codes(capsys):
    page = help_page(capsys, ())
    for needle in ("KRM function", "legacy exec plugin", "PXSEC_SPEC", "PXSEC_LOG_FILE", "PXSEC_DEBUG",
                   "Exit codes", "2 usage error", "last-error", "--version", "--install-completion"):
        assert needle in page, needle


def test_shell_completion_completes_commands_even_with_stdin_a_pipe():
    shown = run_pxsec(["--show-completion", "bash"])
    assert shown.returncode == 0 and b"_PXSEC_COMPLETE" in shown.stdout, shown.stderr
    # what bash runs on <TAB>: no arguments and stdin not a terminal, which is otherwise KRM mode
    r = run_pxsec([], stdin=b"", env={"_PXSEC_COMPLETE": "complete_bash", "COMP_WORDS": "pxsec re",
                                      "COMP_CWORD": "1"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [b"render"], r.stdout


# --- logs ----------------------------------------------------------------------------------------

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[pid \d+\] "


def test_log_file_lines_have_a_timestamp_and_the_arguments(tmp_path):
    log = tmp_path / "pxsec.log"
    r = run_pxsec(["render", "-s", str(tmp_path / "nope.yaml")], env={"PXSEC_LOG_FILE": str(log)})
    assert r.returncode == 1
    (line,) = log.read_text().splitlines()
    assert re.fullmatch(STAMP + re.escape(f"(pxsec render -s {tmp_path / 'nope.yaml'}) pxsec: error: ") + ".*", line), line


def test_helm_plugin_runs_keep_the_last_error_and_last_error_prints_it(tmp_path):
    secret = "v" * 12  # too short: refused, and its value must appear nowhere
    spec = tmp_path / "spec.yaml"
    spec.write_text((ROOT / "examples" / "spec.yaml").read_text().replace("create: false", "create: true"))
    helm = {"HELM_PLUGIN_NAME": "pxsec", "HELM_PLUGIN_DIR": str(tmp_path), "HELM_CACHE_HOME": str(tmp_path / "cache"),
            "PORTWORX_AUTH_SYSTEM_KEY": secret, "PORTWORX_AUTH_STORK_KEY": secret,
            "PORTWORX_AUTH_JWT_SHAREDSECRET": secret}
    r = run_pxsec(["render", f"--spec={spec}"], stdin=EXAMPLE.read_bytes(), env=helm)
    assert r.returncode == 1
    kept = tmp_path / "cache" / "pxsec" / "last-error.log"
    text = kept.read_text()
    assert re.match(STAMP + re.escape(f"(pxsec render --spec={spec}) pxsec: error: "), text), text
    assert "shorter than 32 bytes" in text and secret not in text
    shown = run_pxsec(["last-error"], env={"HELM_CACHE_HOME": str(tmp_path / "cache")})
    assert shown.returncode == 0 and shown.stdout.decode() == text
    # outside Helm nothing is written there; XDG_CACHE_HOME is Helm's fallback
    run_pxsec(["render", "-s", str(tmp_path / "nope.yaml")], env={"XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert not (tmp_path / "xdg").exists()
    where = run_pxsec(["last-error", "--path"], env={"XDG_CACHE_HOME": str(tmp_path / "xdg")}).stdout.decode()
    assert where.strip() == str(tmp_path / "xdg" / "helm" / "pxsec" / "last-error.log")


def test_last_error_without_a_file_says_so():
    r = run_pxsec(["last-error"], env={"HELM_CACHE_HOME": "/nonexistent/helm-cache"})
    assert r.returncode == 0 and b"no error recorded" in r.stdout


@pytest.mark.parametrize("arg", ["--private-key=/keys/k.pem", "--client-secret=hunter2"])
def test_arguments_that_look_secret_are_masked_in_logs(tmp_path, arg):
    log = tmp_path / "pxsec.log"
    run_pxsec(["render", arg], env={"PXSEC_LOG_FILE": str(log)})
    text = log.read_text()
    assert arg.split("=")[1] not in text and arg.split("=")[0] + "=***" in text
