"""The entry layer: which mode runs, what happens when stdin/stdout are closed or go away,
what a directory contributes, and the mode of an `-o` file."""
from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT, clean_env, run_pxsec

SPEC = str(ROOT / "examples" / "spec.yaml")
EXAMPLE = ROOT / "examples" / "portworx.yaml"
KEYS = {"PORTWORX_AUTH_SYSTEM_KEY": "k" * 40, "PORTWORX_AUTH_STORK_KEY": "s" * 40,
        "PORTWORX_AUTH_JWT_SHAREDSECRET": "j" * 40}


def assert_one_line_error(r, code=1, *needles):
    err = r.stderr.decode()
    assert r.returncode == code, (r.returncode, err)
    assert "Traceback" not in err and "internal error" not in err, err
    assert err.count("\n") == 1 and err.startswith("pxsec: error: "), err
    for n in needles:
        assert n in err, err


def assert_last_line_error(r, needle):
    """A failure on the output side: warnings about the input may come first; the error is last."""
    err = r.stderr.decode()
    assert r.returncode == 1, (r.returncode, err)
    assert "Traceback" not in err and "internal error" not in err and "Exception ignored" not in err, err
    last = err.splitlines()[-1]
    assert last.startswith("pxsec: error: ") and needle in last, err


def run_closed_stdin(args, env=None):
    """`pxsec ARGS <&-`: fd 0 closed, as a shell does it."""
    return subprocess.run(["sh", "-c", 'exec "$@" <&-', "sh", sys.executable, "-m", "pxsec", *args],
                          capture_output=True, env=clean_env(env), cwd=ROOT, timeout=60)


# --- closed stdin / stdout ---------------------------------------------------------------------

@pytest.mark.parametrize("args, needle", [
    (["render", "--spec", SPEC], "stdin is closed"),
    ([], "KRM function"),
    ([SPEC], "legacy exec plugin"),
], ids=["render", "krm", "legacy"])
def test_closed_stdin_is_a_one_line_error(args, needle):
    r = run_closed_stdin(args)
    assert r.stdout == b""
    assert_one_line_error(r, 1, "<stdin>: stdin is closed", needle)


def test_closed_stdout_is_an_error_not_success():
    r = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-m", "pxsec",
                        "render", "--spec", SPEC, str(EXAMPLE)], capture_output=True, env=clean_env(), cwd=ROOT)
    assert_last_line_error(r, "stdout is closed")


# --- a reader that goes away -------------------------------------------------------------------

def test_write_to_a_closed_pipe_exits_non_zero():
    read_end, write_end = os.pipe()
    os.close(read_end)  # `| head -0`: the reader is gone before pxsec writes
    try:
        r = subprocess.run([sys.executable, "-m", "pxsec", "render", "--spec", SPEC, str(EXAMPLE)],
                           stdout=write_end, stderr=subprocess.PIPE, env=clean_env(), cwd=ROOT, timeout=60)
    finally:
        os.close(write_end)
    assert_last_line_error(r, "pxsec: error: <stdout>: the reader closed the pipe before the output was complete")


def test_partial_read_then_close_exits_non_zero(tmp_path):
    """`pxsec render ... | head -c 10` on an output larger than a pipe buffer: before the fix,
    the buffered write reported the partial write as complete and pxsec exited 0."""
    big = tmp_path / "big.yaml"
    big.write_text(("---\n" + EXAMPLE.read_text()) * 150)  # ~400 KiB out, a pipe holds 64 KiB
    p = subprocess.Popen([sys.executable, "-m", "pxsec", "render", "--spec", SPEC, str(big)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env(), cwd=ROOT)
    assert len(p.stdout.read(10)) == 10
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 1, err
    assert "the reader closed the pipe" in err


# --- which mode --------------------------------------------------------------------------------

def test_missing_legacy_config_path_is_no_such_file_not_no_such_command(tmp_path):
    r = run_pxsec([str(tmp_path / "missing.yaml")])
    assert r.stdout == b""
    assert_one_line_error(r, 1, "missing.yaml: no such file", "pxsec render --spec")
    assert b"No such command" not in r.stderr


def test_pxsec_manifest_hints_at_render_instead_of_counting_documents():
    r = run_pxsec([str(EXAMPLE)], stdin=b"")
    assert_one_line_error(r, 1, "expected one PortworxSecurity document", "pxsec render --spec SPEC FILE")


def test_pxsec_on_a_manifest_with_one_document_hints_too(tmp_path):
    one = tmp_path / "cm.yaml"
    one.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    r = run_pxsec([str(one)], stdin=b"")
    assert_one_line_error(r, 1, "not a PortworxSecurity config (kind 'ConfigMap')", "pxsec render --spec")


@pytest.mark.skipif(not os.path.exists("/dev/ptmx"), reason="needs a pseudo-terminal")
@pytest.mark.parametrize("args, needle", [
    (["render", "--spec", SPEC], "stdin is a terminal"),
    ([SPEC], "legacy exec plugin"),
], ids=["render", "legacy"])
def test_stdin_on_a_terminal_is_a_hint_not_a_silent_wait(args, needle):
    import pty

    leader, follower = pty.openpty()
    try:
        r = subprocess.run([sys.executable, "-m", "pxsec", *args], stdin=follower, capture_output=True,
                           env=clean_env(), cwd=ROOT, timeout=30)
    finally:
        os.close(leader)
        os.close(follower)
    assert r.stdout == b""
    assert_one_line_error(r, 2, needle, "pxsec render --spec")


def test_krm_items_not_a_list_still_answers_with_a_resource_list():
    r = run_pxsec([], stdin=b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: 3\n")
    assert r.returncode == 1
    out = yaml.safe_load(r.stdout)
    assert out["kind"] == "ResourceList" and out["items"] == []
    assert [res["severity"] for res in out["results"]] == ["error"]
    assert "items is not a list" in out["results"][0]["message"]
    assert_one_line_error(r, 1, "items is not a list")


# --- what a directory contributes --------------------------------------------------------------

def test_directory_takes_every_manifest_extension_in_any_case(tmp_path):
    (tmp_path / "a.YAML").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    (tmp_path / "b.Yml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")
    (tmp_path / "c.json").write_text('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}\n')
    (tmp_path / "d.txt").write_text("not a manifest: [")
    r = run_pxsec(["render", "-s", SPEC, str(tmp_path)])
    assert r.returncode == 0, r.stderr
    assert [d["metadata"]["name"] for d in yaml.safe_load_all(r.stdout)] == ["a", "b", "c"]


def test_empty_selection_is_an_error_not_empty_success(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    for args in (["render", "-s", SPEC, str(tmp_path)], ["check", str(tmp_path)]):
        r = run_pxsec(args)
        assert r.returncode != 0 and r.stdout == b"", r.stderr
        err = r.stderr.decode()
        assert "no manifests here" in err and "*.yaml, *.yml and *.json" in err and "notes.txt" in err, err


def test_a_named_file_is_read_whatever_its_extension(tmp_path):
    f = tmp_path / "stream.txt"
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    r = run_pxsec(["render", "-s", SPEC, str(f)])
    assert r.returncode == 0 and r.stdout == f.read_bytes()


# --- check must see at least one workload when asked -------------------------------------------

@pytest.mark.parametrize("flag", ["--strict", "--require-workload"])
def test_check_gate_fails_on_a_stream_without_portworx(flag):
    cm = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    for stdin in (b"", cm):
        r = run_pxsec(["check", flag, "-s", SPEC], stdin=stdin)
        assert r.returncode == 1, r.stderr
        assert "no Portworx, Stork or autopilot workload" in r.stderr.decode()
    assert run_pxsec(["check", "-s", SPEC], stdin=cm).returncode == 0  # the plain audit still passes


def test_check_strict_passes_pxsecs_own_output_gate():
    rendered = run_pxsec(["render", "-s", SPEC, str(EXAMPLE)]).stdout
    r = run_pxsec(["check", "--require-workload", "-s", SPEC], stdin=rendered)
    assert r.returncode == 0, r.stdout + r.stderr


# --- -o file modes -----------------------------------------------------------------------------

def render_to(path, umask: int, create_secret: bool, tmp_path):
    spec = tmp_path / "spec.yaml"
    text = (ROOT / "examples" / "spec.yaml").read_text()
    spec.write_text(text.replace("create: false", "create: true") if create_secret else text)
    return subprocess.run([sys.executable, "-m", "pxsec", "render", "-s", str(spec), "-o", str(path), str(EXAMPLE)],
                          capture_output=True, env=clean_env(KEYS), cwd=ROOT, timeout=60,
                          preexec_fn=lambda: os.umask(umask))


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("umask, want", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_output_file_honours_the_umask(tmp_path, umask, want):
    out = tmp_path / "out.yaml"
    r = render_to(out, umask, False, tmp_path)
    assert r.returncode == 0, r.stderr
    assert b"kind: Secret" not in out.read_bytes()
    assert mode(out) == want


def test_output_holding_a_secret_is_0600_whatever_the_umask_or_old_mode(tmp_path):
    out = tmp_path / "out.yaml"
    assert render_to(out, 0o022, True, tmp_path).returncode == 0
    assert b"kind: Secret" in out.read_bytes() and mode(out) == 0o600
    out.chmod(0o644)
    assert render_to(out, 0o000, True, tmp_path).returncode == 0
    assert mode(out) == 0o600


def test_secret_detection_is_conservative():
    from pxsec.sources import may_hold_secret

    assert may_hold_secret("kind: Secret\n")
    assert may_hold_secret('kind: "\\x53ecret"\n') and may_hold_secret("kind: !!binary U2VjcmV0\n")
    assert may_hold_secret('kind: "Sec\\\n  ret"\n')
    assert not may_hold_secret("kind: ConfigMap\ndata: {a: secretKeyRef, b: ExternalSecret}\n")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["render", "-s", SPEC, str(EXAMPLE)], ["version"], ["--help"]],
                         ids=["render", "version", "help"])
def test_a_full_disk_on_stdout_is_a_failure(args):
    with open("/dev/full", "wb") as full:
        r = subprocess.run([sys.executable, "-m", "pxsec", *args], stdout=full, stderr=subprocess.PIPE,
                           env=clean_env(), cwd=ROOT, timeout=60)
    err = r.stderr.decode()
    assert r.returncode == 1 and "Traceback" not in err and "No space left on device" in err, err


@pytest.mark.skipif(not os.path.exists("/dev/ptmx"), reason="needs a pseudo-terminal")
def test_bare_pxsec_on_a_terminal_shows_help_instead_of_waiting():
    import pty

    leader, follower = pty.openpty()
    try:
        r = subprocess.run([sys.executable, "-m", "pxsec"], stdin=follower, capture_output=True,
                           env=clean_env(), cwd=ROOT, timeout=30)
    finally:
        os.close(leader)
        os.close(follower)
    page = r.stdout + r.stderr
    assert r.returncode in (0, 2) and b"pxsec render --spec" in page and b"KRM function" in page, page


@pytest.mark.parametrize("args", [["render", "-v", "-s", SPEC, "-"], ["check", "-f", "json", "-"], ["render", "-s", "nope.yaml", "-"],
                                  ["--version"], ["render", "--no-such-flag"]])
def test_the_console_script_ends_as_main_returns(args):
    """`python -m pxsec` (and the console script) leave with os._exit once main() returns: the same
    exit code, every byte of stdout and stderr, as main() in a process that exits normally."""
    big = EXAMPLE.read_bytes() + b"".join(b"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d}\ndata: {k: v}\n" % i
                                          for i in range(3000))
    fast = run_pxsec(args, stdin=big, env=KEYS)
    code = "import sys; from pxsec.main import main; sys.exit(main(%r))" % (args,)
    slow = subprocess.run([sys.executable, "-c", code], input=big, capture_output=True, env=clean_env(KEYS), cwd=ROOT,
                          timeout=120)
    assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)
    assert len(fast.stdout) > 100_000 or args[0] != "render" or fast.returncode
