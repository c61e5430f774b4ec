"""The render/validate CLI contract: inputs, outputs, exit codes, usage errors."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import ROOT, clean_env, run_pxsec

SPEC = str(ROOT / "examples" / "spec.yaml")
EXAMPLE = ROOT / "examples" / "portworx.yaml"


def test_empty_input_gives_empty_output():
    r = run_pxsec(["render", "-s", SPEC], stdin=b"")
    assert (r.returncode, r.stdout) == (0, b"")


def test_stdin_dash_and_file_agree():
    a = run_pxsec(["render", "-s", SPEC, "-"], stdin=EXAMPLE.read_bytes())
    b = run_pxsec(["render", "-s", SPEC, str(EXAMPLE)])
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout and b"PORTWORX_AUTH_SYSTEM_KEY" in a.stdout


def test_spec_from_environment():
    r = run_pxsec(["render"], stdin=EXAMPLE.read_bytes(), env={"PXSEC_SPEC": SPEC})
    assert r.returncode == 0 and b"-jwt_issuer" in r.stdout


def test_no_spec_is_a_usage_error():
    r = run_pxsec(["render"], stdin=EXAMPLE.read_bytes())
    assert r.returncode == 2 and r.stdout == b""
    assert r.stderr.decode().strip() == "pxsec: error: no spec: pass --spec FILE or set PXSEC_SPEC"


def test_unknown_option_is_a_usage_error():
    r = run_pxsec(["render", "--nope"])
    assert r.returncode == 2 and r.stdout == b"" and b"Traceback" not in r.stderr


def test_directory_inputs_are_sorted_and_filtered(tmp_path):
    (tmp_path / "b.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")
    (tmp_path / "a.yml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    (tmp_path / "notes.txt").write_text("not yaml: [")
    r = run_pxsec(["render", "-s", SPEC, str(tmp_path)])
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
                                 "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")


def test_output_file_is_written_and_stdout_stays_empty(tmp_path):
    out = tmp_path / "out.yaml"
    r = run_pxsec(["render", "-s", SPEC, "-o", str(out), str(EXAMPLE)])
    assert r.returncode == 0 and r.stdout == b""
    assert b"PORTWORX_AUTH_SYSTEM_KEY" in out.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["out.yaml"]  # no temp file left behind


def test_failed_render_leaves_output_file_untouched(tmp_path):
    out = tmp_path / "out.yaml"
    out.write_text("previous\n")
    r = run_pxsec(["render", "-s", SPEC, "-o", str(out), "-"], stdin=b"kind: DaemonSet\nmetadata: {name: portworx}\na: [")
    assert r.returncode == 1 and out.read_text() == "previous\n"


def test_missing_input_file():
    r = run_pxsec(["render", "-s", SPEC, "/nonexistent/x.yaml"])
    assert r.returncode == 1 and r.stdout == b""
    assert r.stderr.decode() == "pxsec: error: /nonexistent/x.yaml: no such file or directory\n"


def test_validate_lists_every_problem(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("apiVersion: pxsec.io/v1alpha1\nkind: PortworxSecurity\nspec:\n"
                    "  oidc: {issuer: 'http://x', clientId: ''}\n  usernameClaim: upn\n  extra: 1\n")
    r = run_pxsec(["validate", str(spec)])
    assert r.returncode == 1 and r.stdout == b""
    lines = r.stderr.decode().splitlines()
    assert len(lines) == 4, lines
    assert any("spec.oidc.issuer: must be an https:// URL" in ln for ln in lines)
    assert any("spec.oidc.clientId: must not be empty" in ln for ln in lines)
    assert any("spec.usernameClaim: must be one of" in ln for ln in lines)
    assert any("spec.extra: unknown field" in ln for ln in lines)


def test_validate_accepts_the_example():
    r = run_pxsec(["validate", SPEC])
    assert r.returncode == 0 and r.stdout.decode().strip().endswith("valid")


def test_internal_errors_show_no_traceback(tmp_path):
    # A spec file that is a directory: an OSError path, reported in one line.
    r = run_pxsec(["render", "-s", str(tmp_path)], stdin=b"")
    assert r.returncode == 1 and b"Traceback" not in r.stderr and r.stderr.count(b"\n") == 1


def console_script_interpreter(exe: str) -> str:
    """The interpreter a console script runs, from its `#!` line (pip writes an absolute path).
    Never derived by editing the script's path: a checkout folder named `pxsec` is common."""
    with open(exe, "rb") as f:
        first = f.readline().decode("utf-8", "replace").strip()
    assert first.startswith("#!"), f"{exe} is not a script with a #! line: {first!r}"
    interpreter = first[2:].split()[0]
    assert os.path.isfile(interpreter), f"{exe} names a missing interpreter {interpreter}"
    return interpreter


def test_console_script_interpreter_survives_a_folder_named_pxsec(tmp_path):
    folder = tmp_path / "pxsec" / ".venv" / "bin"
    folder.mkdir(parents=True)
    (folder / "python").write_text("")
    (folder / "pxsec").write_text(f"#!{folder / 'python'}\nimport sys\n")
    assert console_script_interpreter(str(folder / "pxsec")) == str(folder / "python")


def test_installed_console_script_finds_its_data(tmp_path):
    """`pip install .` (not editable): the schema and templates ship inside the package."""
    exe = shutil.which("pxsec")
    if not exe or os.path.realpath(exe).startswith(str(ROOT / "tests")):
        if os.environ.get("PXSEC_REQUIRE_E2E") == "1":
            pytest.fail("no installed pxsec on PATH (scripts/test.sh installs it)")
        pytest.skip("no installed pxsec console script on PATH")
    env = clean_env({"PORTWORX_AUTH_SYSTEM_KEY": "k" * 40, "PORTWORX_AUTH_STORK_KEY": "s" * 40,
                     "PORTWORX_AUTH_JWT_SHAREDSECRET": "j" * 40})
    env.pop("PYTHONPATH")
    import json

    probe = subprocess.run([console_script_interpreter(exe), "-c",
                            "import pxsec, pxsec.data as d, json; "
                            "print(json.dumps([pxsec.__file__, d.data_dir('schemas')]))"],
                           capture_output=True, env=env, cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    package, schemas = json.loads(probe.stdout)
    if os.path.realpath(package) == os.path.realpath(ROOT / "renderer" / "__init__.py"):
        message = f"the pxsec on PATH ({exe}) runs this checkout (an editable install), not an installed copy"
        if os.environ.get("PXSEC_REQUIRE_E2E") == "1":
            pytest.fail(message + " (scripts/test.sh installs it with `pip install .`)")
        pytest.skip(message)
    assert "site-packages" in schemas
    spec = tmp_path / "spec.yaml"
    spec.write_text((ROOT / "examples" / "spec.yaml").read_text().replace("create: false", "create: true"))
    r = subprocess.run([exe, "render", "-s", str(spec), str(EXAMPLE)], capture_output=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert b"kind: Secret" in r.stdout and b"PORTWORX_AUTH_SYSTEM_KEY" in r.stdout


def test_every_package_is_packaged():
    """pyproject lists packages explicitly (to map schemas/ and templates/ into the wheel):
    a new subpackage missing there would work from the checkout and fail once installed."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    # renderer/ is installed as the package `pxsec` (package-dir)
    found = {".".join(("pxsec",) + p.parent.relative_to(ROOT / "renderer").parts)
             for p in (ROOT / "renderer").rglob("*.py")}
    assert found <= listed, f"add to pyproject [tool.setuptools] packages: {sorted(found - listed)}"
