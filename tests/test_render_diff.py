"""`pxsec render --diff` and `--check`, as `black --check --diff` users expect: a unified diff of
each input against render's output on stdout (coloured only on a terminal, never with NO_COLOR),
exit 1 from --check when render would change anything, no rendered stream, and never a secret
value in the diff, on either side."""
from __future__ import annotations

import base64
import re
import subprocess

import pytest
import yaml

from clirunner import fast_and_typer, on_a_terminal, run_python
from check.manifests import container, lit, portworx, stork, text
from conftest import ROOT, clean_env, run_pxsec
from pxsec.render import redact

SPEC = str(ROOT / "examples" / "spec.yaml")
EXAMPLE = ROOT / "examples" / "portworx.yaml"
SECRET_VALUE = "diff-literal-secret-never-printed-0123456789"
KEYS = {"PORTWORX_AUTH_SYSTEM_KEY": "S" * 40 + "-system-value", "PORTWORX_AUTH_STORK_KEY": "T" * 40 + "-stork-value",
        "PORTWORX_AUTH_JWT_SHAREDSECRET": "U" * 40 + "-shared-value"}


def apply_patch(original: str, diff: str) -> dict[str, str]:
    """A small unified-diff applier (enough for difflib's output): {file: patched text}."""
    out: dict[str, str] = {}
    lines = diff.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        assert lines[i].startswith("--- ") and lines[i + 1].startswith("+++ "), lines[i]
        name = lines[i][4:].split("\t")[0]
        i += 2
        src = original.splitlines(keepends=True)
        result: list[str] = []
        pos = 0
        while i < len(lines) and lines[i].startswith("@@"):
            start = int(re.match(r"@@ -(\d+)", lines[i]).group(1))
            start = start - 1 if start else 0
            result += src[pos:start]
            pos = start
            i += 1
            while i < len(lines) and lines[i][:1] in (" ", "-", "+", "\\"):
                tag, body = lines[i][:1], lines[i][1:]
                if tag in (" ", "-"):
                    assert src[pos] == body, (src[pos], body)
                    pos += 1
                if tag in (" ", "+"):
                    result.append(body)
                i += 1
        out[name] = "".join(result + src[pos:])
    return out


def test_diff_is_a_unified_diff_that_turns_the_input_into_the_output():
    rendered = run_pxsec(["render", "--spec", SPEC, str(EXAMPLE)])
    r = run_pxsec(["render", "--diff", "--spec", SPEC, str(EXAMPLE)])
    assert r.returncode == 0, r.stderr
    diff = r.stdout.decode()
    assert diff.startswith(f"--- {EXAMPLE}\t(input)\n+++ {EXAMPLE}\t(pxsec render)\n@@ ")
    assert "\033[" not in diff
    assert apply_patch(EXAMPLE.read_text(), diff) == {str(EXAMPLE): rendered.stdout.decode()}


def test_check_exits_1_when_render_would_change_anything_and_writes_no_stream(tmp_path):
    r = run_pxsec(["render", "--check", "--spec", SPEC, str(EXAMPLE)])
    assert r.returncode == 1 and r.stdout == b""
    err = [ln for ln in r.stderr.decode().strip().splitlines() if not ln.startswith("pxsec: warning: ")]
    assert len(err) == 1 and err[0].startswith("pxsec: render would change 3 document(s): ")
    assert "DaemonSet kube-system/portworx" in err[0] and "Deployment kube-system/stork" in err[0]
    assert "StorageClass px-csi-db" in err[0]
    out = tmp_path / "secured.yaml"
    out.write_bytes(run_pxsec(["render", "--spec", SPEC, str(EXAMPLE)]).stdout)
    again = run_pxsec(["render", "--check", "--diff", "--spec", SPEC, str(out)])
    assert (again.returncode, again.stdout) == (0, b"")
    assert all(ln.startswith("pxsec: warning: ") for ln in again.stderr.decode().splitlines())
    stdin = run_pxsec(["render", "--check", "--spec", SPEC], stdin=EXAMPLE.read_bytes())
    assert stdin.returncode == 1 and stdin.stdout == b""


def test_diff_and_check_together_print_the_diff_and_fail():
    r = run_pxsec(["render", "--check", "--diff", "--spec", SPEC, str(EXAMPLE)])
    assert r.returncode == 1 and r.stdout.startswith(b"--- ")


@pytest.mark.parametrize("flag", ["--diff", "--check"])
def test_with_an_output_file_is_a_usage_error(tmp_path, flag):
    r = run_pxsec(["render", flag, "-o", str(tmp_path / "o.yaml"), "--spec", SPEC, str(EXAMPLE)])
    assert r.returncode == 2 and r.stdout == b"" and not (tmp_path / "o.yaml").exists()
    assert r.stderr.decode().startswith("pxsec: error: --diff and --check write no output stream")


def test_one_diff_per_changed_file_and_none_for_unchanged_ones(tmp_path):
    (tmp_path / "a.yaml").write_text(text(portworx(issuer=None, env=[])))
    (tmp_path / "b.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    (tmp_path / "c.yaml").write_text(text(stork(env=[])))
    r = run_pxsec(["render", "--diff", "--spec", SPEC, "a.yaml", "b.yaml", "c.yaml"], cwd=tmp_path)
    heads = [ln for ln in r.stdout.decode().splitlines() if ln.startswith(("--- ", "+++ "))]
    assert heads == ["--- a.yaml\t(input)", "+++ a.yaml\t(pxsec render)",
                     "--- c.yaml\t(input)", "+++ c.yaml\t(pxsec render)"]


def _diff_with_secret_create(tmp_path, manifest: str, env: dict | None = None) -> subprocess.CompletedProcess:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"apiVersion": "pxsec.io/v1alpha1", "kind": "PortworxSecurity", "spec": {
        "secret": {"name": "pxkeys", "create": True}, "selfSigned": {"issuer": "openstorage.io",
                                                                     "sharedSecret": True}}}))
    (tmp_path / "in.yaml").write_text(manifest)
    return run_pxsec(["render", "--diff", "--spec", str(spec), "in.yaml"], env=env or KEYS, cwd=tmp_path)


def leaked(out: bytes, values) -> list[str]:
    return [v for v in values if v.encode() in out or base64.b64encode(v.encode()) in out]


def test_a_generated_secret_shows_its_metadata_and_hides_its_data(tmp_path):
    r = _diff_with_secret_create(tmp_path, text(portworx(issuer=None, env=[])))
    assert r.returncode == 0, r.stderr
    diff = r.stdout.decode()
    assert leaked(r.stdout + r.stderr, KEYS.values()) == []
    assert '+kind: Secret' in diff and '+  name: "pxkeys"' in diff and '"helm.sh/resource-policy": "keep"' in diff
    assert '+  "system-secret": <secret value hidden>' in diff
    assert '+  "shared-secret": <secret value hidden>' in diff


def test_a_refreshed_secret_says_its_values_change_without_showing_them(tmp_path):
    first = _diff_with_secret_create(tmp_path, text(portworx(issuer=None, env=[])))
    assert first.returncode == 0
    rendered = run_pxsec(["render", "--spec", "spec.yaml", "in.yaml"], env=KEYS, cwd=tmp_path).stdout.decode()
    rotated = {**KEYS, "PORTWORX_AUTH_SYSTEM_KEY": "R" * 40 + "-rotated-value"}
    r = _diff_with_secret_create(tmp_path, rendered, rotated)
    diff = r.stdout.decode()
    assert '-  "system-secret": <secret value hidden>' in diff
    assert '+  "system-secret": <new secret value hidden>' in diff
    assert leaked(r.stdout + r.stderr, list(KEYS.values()) + list(rotated.values())) == []


@pytest.mark.parametrize("style", ["plain", "double", "single", "escaped", "literal", "folded", "flow"])
def test_literal_secrets_in_the_input_never_reach_the_diff(tmp_path, style):
    value = SECRET_VALUE
    written = {"plain": value, "double": f'"{value}"', "single": f"'{value}'",
               "escaped": '"' + "".join(f"\\x{ord(c):02x}" if i % 3 == 0 else c for i, c in enumerate(value)) + '"',
               "literal": f"|\n            {value}", "folded": f">-\n            {value}"}
    ds = portworx(extra_args=["-jwt_shared_secret", "ARGSECRET", "-auth_system_key=EQSECRET"])
    src = text(ds, stork())
    src = src.replace("ARGSECRET", value + "-arg").replace("EQSECRET", value + "-eq")
    if style == "flow":
        src = src.replace("      - name: PX_TEMPLATE_VERSION\n          value: v4",
                          f"      - {{name: PORTWORX_AUTH_SYSTEM_KEY, value: {value}}}")
    else:
        src = src.replace("        - name: PX_TEMPLATE_VERSION\n          value: v4",
                          f"        - name: PORTWORX_AUTH_SYSTEM_KEY\n          value: {written[style]}")
    assert value in yaml.safe_load_all(src).__next__().__repr__()
    assert "PORTWORX_AUTH_SYSTEM_KEY" in src
    (tmp_path / "in.yaml").write_text(src)
    r = run_pxsec(["render", "--diff", "--spec", SPEC, "in.yaml"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert value.encode() not in r.stdout + r.stderr
    assert b"<secret value hidden>" in r.stdout


def test_context_lines_from_other_secrets_are_hidden_too(tmp_path):
    ds = ("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: portworx, namespace: kube-system}\n"
          "spec:\n  template:\n    spec:\n      containers:\n      - name: portworx\n"
          "        image: portworx/oci-monitor:2.6.1\n")
    user_secret = f"{{apiVersion: v1, kind: Secret, metadata: {{name: db}}, stringData: {{password: {SECRET_VALUE}}}}}\n"
    (tmp_path / "in.yaml").write_text(ds + "---\n" + user_secret)
    r = run_pxsec(["render", "--diff", "--spec", SPEC, "in.yaml"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert b" {apiVersion: v1, kind: Secret, metadata: {name: db}, stringData: {password: <secret value hidden>}}" \
        in r.stdout  # a context line
    assert SECRET_VALUE.encode() not in r.stdout


@pytest.mark.parametrize("chunk", [
    "kind: Secret\ndata: {a: b}\n---\nkind: Secret\n",  # not one document: shown as a placeholder
    "a: b\r\nkind: Secret\r\ndata:\r\n  k: " + SECRET_VALUE + "\r\n",
    "kind: Secret\ndata:\n  k: " + SECRET_VALUE + "\u2028x\n",
    "kind: ConfigMap\ndata: {a: b}\n---\n",
    "kind: ConfigMap\ndata:\n  PORTWORX_AUTH_SYSTEM_KEY: " + SECRET_VALUE + "\n",
])
def test_redact_text_is_safe_on_odd_documents(chunk):
    shown = redact.text(chunk)
    assert SECRET_VALUE not in shown and "{a: b}" not in shown
    assert "<secret value hidden>" in shown


def test_colour_only_on_a_terminal_and_never_with_no_color():
    env = clean_env()
    env.pop("NO_COLOR", None)
    args = ["render", "--diff", "--spec", SPEC, str(EXAMPLE)]
    code, out = on_a_terminal(args, env)
    assert code == 0 and "\033[32m+" in out and "\033[31m-" in out and "\033[36m@@" in out
    code, out = on_a_terminal(args, {**env, "NO_COLOR": "1"})
    assert code == 0 and "\033[" not in out and "\n+" in out.replace("\r\n", "\n")


@pytest.mark.parametrize("argv", [
    ["render", "--diff", "-s", SPEC, str(EXAMPLE)],
    ["render", "--check", "-s", SPEC, str(EXAMPLE)],
    ["render", "--check", "--diff", f"--spec={SPEC}", str(EXAMPLE)],
])
def test_fast_and_typer_paths_agree_on_diff_and_check(argv):
    from pxsec.commands import render as fastpath

    assert fastpath.parse(argv) is not None

    fast, slow = fast_and_typer(argv)
    assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)
    assert fast.returncode == (1 if "--check" in argv else 0)


def test_diff_and_check_stay_on_the_fast_path_without_typer(tmp_path):
    code = ("import sys; from pxsec.main import main; code = main({argv!r}); "
            "sys.stdout.flush(); print('MODULES', 'typer' in sys.modules, 'click' in sys.modules, file=sys.stderr); "
            "sys.exit(code)")
    for argv in (["render", "--diff", "--spec", SPEC, str(EXAMPLE)], ["render", "--check", "--spec", SPEC, str(EXAMPLE)]):
        r = run_python(code.format(argv=argv))
        assert r.stderr.decode().splitlines()[-1] == "MODULES False False", r.stderr
