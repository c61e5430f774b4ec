"""Core bugs the robustness suite found, each as a minimal case. A bug still open is marked
`xfail(strict=True)` with its cause: when the core is fixed the case passes, strict xfail turns
that into a failure, and whoever fixed it removes the marker. Unmarked cases are fixed bugs,
kept as regression guards (all sections are fixed now).

Inputs that crash the process (segfault) or hang run in a subprocess with a timeout; the rest
in-process.
"""
from __future__ import annotations

import pytest

from .harness import assert_one_line_error, assert_render_contract, run_inprocess, run_process, write

SPEC = """\
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
metadata: {name: px-security}
spec:
  selfSigned: {issuer: openstorage.io, sharedSecret: true}
"""

PX_DS = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: portworx, namespace: kube-system}
spec: {template: {spec: {containers: [{name: portworx, image: portworx/oci-monitor:2.8.1.2%s}]}}}
"""


def spec_file(workdir, text=SPEC, name="known-spec.yaml"):
    return write(workdir / name, text)


# --- 1. typed tags whose value does not parse -> "internal error (ValueError)" -----------------

BAD_TAGS = ["!!int x", "!!float x", "!!bool x", "!!timestamp x"]


@pytest.mark.parametrize("tag", BAD_TAGS)
def test_bad_typed_tag_in_a_portworx_daemonset_is_a_one_line_error(workdir, tag):
    o = run_inprocess(["render", "-s", str(spec_file(workdir)), "-"], (PX_DS % f", x: {tag}").encode())
    assert o.code == 1
    assert_render_contract(o)


@pytest.mark.parametrize("tag", BAD_TAGS)
def test_bad_typed_tag_in_the_spec_is_a_one_line_error(workdir, tag):
    spec = spec_file(workdir, SPEC + f"  usernameClaim: {tag}\n", f"known-spec-{BAD_TAGS.index(tag)}.yaml")
    o = run_inprocess(["render", "-s", str(spec), "-"], (PX_DS % "").encode())
    assert o.code == 1
    assert_render_contract(o)


# --- 2. deep nesting -> libyaml's recursive composer overflows the C stack: segfault ------------

def deep_flow(depth: int, kind: str = "ConfigMap", name: str = "deep") -> bytes:
    return (f"apiVersion: v1\nkind: {kind}\nmetadata: {{name: {name}}}\ndata: {{x: "
            + "[" * depth + "]" * depth + "}\n").encode()


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_input_is_refused_not_a_segfault(workdir, depth):
    """A document render reads (its text names a Portworx DaemonSet) is composed: past 1000
    levels it is refused, whichever libyaml PyYAML was built with."""
    path = write(workdir / f"deep-{depth}.yaml", deep_flow(depth, "DaemonSet", "portworx"))
    o = run_process(["render", "-s", str(spec_file(workdir)), str(path)], timeout=60)
    assert o.code == 1, f"exit {o.code}"
    assert o.stdout == b""
    assert_one_line_error(o)
    assert "YAML nested deeper than 1000 levels; refused" in o.stderr  # whichever libyaml


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_a_deep_document_render_does_not_read_passes_through_and_check_refuses_it(workdir, depth):
    """Issue 23: render scans, not parses, documents it does not touch; whoever parses this one
    meets its nesting (kubectl and Helm refuse it). check reads every document, and says so."""
    path = write(workdir / f"deep-cm-{depth}.yaml", deep_flow(depth))
    o = run_process(["render", "-s", str(spec_file(workdir)), str(path)], timeout=60)
    assert o.code == 0 and o.stdout == path.read_bytes(), o.stderr
    c = run_process(["check", str(path)], timeout=60)
    assert c.code == 1 and "YAML nested deeper than 1000 levels; refused" in c.stdout.decode(), c.stdout


def test_moderately_nested_input_passes_through(workdir):
    """Control: 900 levels are fine and must stay fine (1000 is the limit, as in libyaml >= 0.2.6)."""
    path = write(workdir / "deep-ok.yaml", deep_flow(900))
    o = run_process(["render", "-s", str(spec_file(workdir)), str(path)], timeout=60)
    assert o.code == 0, o.stderr
    assert o.stdout == path.read_bytes()


# --- 3. an alias bomb in the spec hangs (the stream has a guard, the spec does not) --------------

def bomb(indent: str, leaf: str = '"lol"') -> str:
    lines = [f"{indent}b0: &a0 [{', '.join([leaf] * 9)}]"]
    lines += [f"{indent}b{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


BOMB_SPEC = ("apiVersion: pxsec.io/v1alpha1\nkind: PortworxSecurity\nmetadata:\n  name: px-security\n  labels:\n"
             + bomb("    ") + "spec:\n  selfSigned: {issuer: openstorage.io, sharedSecret: true}\n  guestAccess: *a9\n")


def test_alias_bomb_in_the_spec_is_refused_quickly(workdir):
    spec = write(workdir / "bomb-spec.yaml", BOMB_SPEC)
    try:
        o = run_process(["render", "-s", str(spec), "-"], (PX_DS % "").encode(), timeout=10)
    except Exception as e:  # subprocess.TimeoutExpired: the hang
        pytest.fail(f"no answer within 10 s: {type(e).__name__}")
    assert o.code == 1
    assert_one_line_error(o)


# --- 4. control characters from the input are echoed raw into the one-line error ---------------

@pytest.mark.parametrize("where", ["manifest", "spec"])
def test_error_line_has_no_control_characters(workdir, where):
    if where == "manifest":
        stdin = PX_DS.replace("name: portworx,", 'name: "px\\rfake\\e[31m",').replace("2.8.1.2", "2.8.1.2, env: 3")
        spec = spec_file(workdir)
    else:
        stdin = PX_DS % ""
        spec = spec_file(workdir, SPEC + '  "a\\rb\\e[31m": 1\n', "known-spec-cr.yaml")
    o = run_inprocess(["render", "-s", str(spec), "-"], stdin.encode())
    assert o.code == 1
    line = o.stderr.rstrip("\n")
    bad = sorted({hex(ord(c)) for c in line if ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 or c in "\u2028\u2029"})
    assert not bad, f"control characters {bad} in the error line {line!r}"


# --- 5. a non-string key in the spec: TypeError, and for an int key a real traceback -------------

def test_int_key_in_the_spec_is_a_one_line_error_not_a_traceback(workdir):
    spec = spec_file(workdir, SPEC + "1: x\n", "known-spec-int-key.yaml")
    o = run_process(["render", "-s", str(spec), "-"], (PX_DS % "").encode())
    assert "Traceback" not in o.stderr, o.stderr
    assert o.code == 1
    assert_one_line_error(o)


@pytest.mark.parametrize("extra", ["~: x\nzz: y\n", "&anchor apiVersion: pxsec.io/v1alpha1\n", "1: x\nzz: y\n"])
def test_null_or_mixed_keys_in_the_spec_are_a_one_line_error(workdir, extra):
    spec = spec_file(workdir, SPEC + extra, f"known-spec-key-{abs(hash(extra)) % 1000}.yaml")
    try:
        o = run_inprocess(["render", "-s", str(spec), "-"], (PX_DS % "").encode())
    except TypeError as e:  # escapes main(): a traceback in a real process
        pytest.fail(f"TypeError escaped main(): {e}")
    assert o.code == 1
    assert_render_contract(o)


# --- 6. every in-process CLI call registers the command groups again ---------------------------

@pytest.mark.parametrize("argv", [["--help"], ["check", "--help"]])
def test_cli_calls_do_not_grow_the_command_tree(capsys, argv):
    from pxsec import cli

    cli.run_cli(argv)
    before = (len(cli.app.registered_commands), len(cli.app.registered_groups))
    for _ in range(3):
        cli.run_cli(argv)
    capsys.readouterr()
    assert (len(cli.app.registered_commands), len(cli.app.registered_groups)) == before


# --- 7. an alias bomb in a plugin config (legacy exec plugin, KRM functionConfig) still hangs -----

def test_alias_bomb_in_a_legacy_plugin_config_is_refused_quickly(workdir):
    config = write(workdir / "bomb-plugin-config.yaml", BOMB_SPEC)
    try:
        o = run_process([str(config)], (PX_DS % "").encode(), timeout=10)
    except Exception as e:  # subprocess.TimeoutExpired: the hang
        pytest.fail(f"no answer within 10 s: {type(e).__name__}")
    assert o.code == 1
    assert_one_line_error(o)
