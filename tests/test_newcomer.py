"""A newcomer's first run (issue 25): short warnings, a quiet second render, documents counted
from 1, a cheap --version, `token verify FILE`, a `$schema` that resolves, and one exit-code
convention for every command (usage errors 2, bad input 1)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from conftest import ROOT, clean_env, read_env_file, run_pxsec
from pxsec import wording
from pxsec.errors import Location, PxsecError

EXAMPLE_SPEC = ROOT / "examples" / "spec.yaml"
EXAMPLE = ROOT / "examples" / "portworx.yaml"
CASES = ROOT / "tests" / "cases"
OK_CASES = sorted(p.name for p in CASES.iterdir() if p.is_dir() and p.name != "errors")
SHARED = "s" * 64


def _render(spec: Path, paths: list[str], env: dict | None = None, stdin: bytes | None = None, *flags: str):
    return run_pxsec(["render", "--spec", str(spec), *flags, *paths], stdin=stdin, env=env)


def _warnings(stderr: bytes) -> list[str]:
    return [ln for ln in stderr.decode().splitlines() if ln.startswith("pxsec: warning: ")]


# --- item 7: one short line per warning; the whole text with -v ----------------------------------

@pytest.mark.parametrize("case", ["bundled-example"] + OK_CASES)
def test_every_warning_is_one_short_line(case):
    if case == "bundled-example":
        spec, path, env = EXAMPLE_SPEC, EXAMPLE, {}
    else:
        spec, path, env = CASES / case / "spec.yaml", CASES / case / "input.yaml", read_env_file(CASES / case / "env")
    r = _render(spec, [str(path)], env)
    assert r.returncode == 0, r.stderr.decode()
    for line in r.stderr.decode().splitlines():
        assert len(line) <= wording.LINE_LIMIT, f"{len(line)} characters: {line}"
    shortened = [w for w in _warnings(r.stderr) if w.endswith(wording.MORE)]
    if shortened:  # -v shows each in full
        full = _warnings(_render(spec, [str(path)], env, None, "-v").stderr)
        for w in shortened:
            head = w[len(wording.PREFIX):-len(wording.MORE)]
            assert any(f.startswith(wording.PREFIX + head) and len(f) > len(w) for f in full), w


def test_the_storageclass_warning_is_short_and_names_the_readme_section():
    r = _render(EXAMPLE_SPEC, [str(EXAMPLE)])
    (recreate,) = [w for w in _warnings(r.stderr) if "in place" in w]
    assert "kubectl delete storageclass px-csi-db" in recreate and "README" in recreate
    assert "Upgrading a cluster where the StorageClass exists" in (ROOT / "README.md").read_text()


def test_short_cuts_at_a_clause_and_keeps_brackets_balanced():
    text = "seeded A, B from Secret s through spec.env; if the operator's Secrets (x, y) exist, " + "z" * 300
    assert wording.short(text) == "seeded A, B from Secret s through spec.env" + wording.MORE
    assert wording.short("short") == "short"
    long_word = "x" * 400
    assert len(wording.PREFIX + wording.short(long_word)) <= wording.LINE_LIMIT


# --- item 6: rendering secured output again is quiet ---------------------------------------------

def test_a_second_render_of_the_bundled_example_is_quiet():
    first = _render(EXAMPLE_SPEC, [str(EXAMPLE)])
    assert first.returncode == 0 and any("px-user-token" in w for w in _warnings(first.stderr))
    again = _render(EXAMPLE_SPEC, ["-"], None, first.stdout)
    assert (again.returncode, again.stdout, again.stderr) == (0, first.stdout, b"")


@pytest.mark.parametrize("case", ["storageclasses", "storageclasses-pvc-namespace"])
def test_a_second_render_does_not_repeat_the_storageclass_warnings(case):
    d = CASES / case
    env = read_env_file(d / "env")
    first = _render(d / "spec.yaml", [str(d / "input.yaml")], env)
    assert any("in place" in w for w in _warnings(first.stderr)), first.stderr
    again = _render(d / "spec.yaml", ["-"], env, first.stdout)
    assert again.returncode == 0 and again.stdout == first.stdout
    assert not [w for w in _warnings(again.stderr) if "token Secret" in w or "in place" in w], again.stderr


# --- item 5: documents count from 1 --------------------------------------------------------------

def test_documents_are_counted_from_one_like_lines():
    assert Location("f.yaml", 0, "DaemonSet", "px").describe() == "f.yaml: document 1 (DaemonSet/px)"
    assert str(PxsecError("bad", Location("f.yaml", 2))) == "f.yaml: document 3: bad"
    r = run_pxsec(["render", "--spec", str(EXAMPLE_SPEC), "-"], stdin=b"a: 1\n---\nkind: DaemonSet\nmetadata: {name: portworx}\nb: [\n")
    assert r.returncode == 1 and b"<stdin>: document 2: line 6" in r.stderr, r.stderr


def test_check_counts_documents_from_one_and_sarif_keeps_its_0_based_index(tmp_path):
    """SARIF counts every index from 0 (ruleIndex, ...), so `documentIndex` stays 0-based; the
    text a person reads says `document N` from 1."""
    two = tmp_path / "two.yaml"
    two.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n" + EXAMPLE.read_text())
    r = run_pxsec(["check", "--format", "json", str(two)])
    findings = json.loads(r.stdout)["findings"]
    assert findings and min(f["index"] for f in findings if f["index"] is not None) >= 1


# --- item 8: --version is the cheapest command ---------------------------------------------------

def test_version_imports_nothing_heavy():
    probe = ("import sys, io, contextlib\nfrom pxsec import main\nout = io.StringIO()\n"
             "with contextlib.redirect_stdout(out):\n    code = main.main(sys.argv[1:])\n"
             "heavy = sorted(m for m in ('typer', 'click', 'jinja2', 'jsonschema', 'yaml', 'jwt') if m in sys.modules)\n"
             "print(code, out.getvalue().strip(), heavy)\n")
    for argv in (["--version"], ["version"]):
        r = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, env=clean_env(), timeout=60)
        from pxsec import __version__
        assert r.stdout.decode().split("\n")[0] == f"0 {__version__} []", r.stdout + r.stderr


# --- item 3: token verify takes a file -----------------------------------------------------------

@pytest.fixture
def admin_jwt(tmp_path):
    env = {"PORTWORX_AUTH_JWT_SHAREDSECRET": SHARED}
    r = run_pxsec(["token", "generate", "--spec", str(EXAMPLE_SPEC), "--role", "system.admin",
                   "-o", str(tmp_path / "admin.jwt")], env=env)
    assert r.returncode == 0, r.stderr
    return tmp_path / "admin.jwt", env


def test_token_verify_takes_the_token_a_file_or_stdin(admin_jwt):
    path, env = admin_jwt
    token = path.read_text().strip()
    base = ["token", "verify", "--spec", str(EXAMPLE_SPEC)]
    for args, stdin in (([str(path)], None), ([token], None), (["-"], path.read_bytes()), ([], path.read_bytes())):
        r = run_pxsec(base + args, stdin=stdin, env=env)
        assert r.returncode == 0 and b"valid:" in r.stdout, (args, r.stderr)
        assert token.encode() not in r.stdout + r.stderr


def test_token_verify_says_what_the_argument_is(admin_jwt, tmp_path):
    _, env = admin_jwt
    r = run_pxsec(["token", "verify", "--spec", str(EXAMPLE_SPEC), str(tmp_path / "missing.jwt")], env=env)
    err = r.stderr.decode()
    assert r.returncode == 1 and r.stdout == b"" and "missing.jwt: no such file" in err
    assert "the token itself, a file holding it, or '-'" in err and err.count("\n") == 1


# --- item 1: a role token needs no person --------------------------------------------------------

def test_a_role_token_is_named_after_its_secret_or_role():
    """As the operator names px-user-token (libopenstorage/operator component/auth.go
    `createToken`: name `<secret>`, email `<secret>@<issuer>`)."""
    from pxsec import tokens

    ident = tokens.make_identity(None, roles=("system.user",), default_name="px-user-token",
                                 email_domain="openstorage.io")
    assert (ident.name, ident.email) == ("px-user-token", "px-user-token@openstorage.io")
    ident = tokens.make_identity(None, roles=("system.admin",), email_domain="openstorage.io")
    assert (ident.name, ident.email) == ("system.admin", "system.admin@openstorage.io")
    ident = tokens.make_identity({"name": "ann", "email": "ann@example.com"}, roles=("system.user",),
                                 default_name="px-user-token", email_domain="openstorage.io")
    assert (ident.name, ident.email) == ("ann", "ann@example.com")  # a given identity wins


# --- item 4: init's $schema resolves ---------------------------------------------------------------

def test_init_points_editors_at_the_installed_schema(tmp_path):
    r = run_pxsec(["init", "-o", str(tmp_path / "pxsec.yaml")])
    assert r.returncode == 0, r.stderr
    first = (tmp_path / "pxsec.yaml").read_text().splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=file://")
    uri = first.split("$schema=", 1)[1]
    target = Path(unquote(urlparse(uri).path))
    assert target.is_file() and json.loads(target.read_text())["title"]
    where = run_pxsec(["schema", "--path"])
    assert Path(where.stdout.decode().strip()).resolve() == target.resolve()
    printed = run_pxsec(["schema"])
    assert printed.returncode == 0 and json.loads(printed.stdout) == json.loads(target.read_text())


# --- item 2: usage errors exit 2, bad input 1, in every command ----------------------------------

# Broken YAML in a document render must secure (one it does not touch is scanned, not parsed,
# and passes through: tests/cases/untouched-invalid-yaml), and in every spec/config file.
BAD_YAML = "kind: DaemonSet\nmetadata: {name: portworx}\na: [\n"


@pytest.fixture
def files(tmp_path):
    (tmp_path / "bad.yaml").write_text(BAD_YAML)
    (tmp_path / "jwt").write_text("not-a-token\n")
    return tmp_path


# (argv, expected exit); {t} is the temp dir with bad.yaml, {spec} the bundled spec
EXIT_CODES = [
    # usage: an unknown option, a missing argument or option, a malformed option value
    (["render", "--nope"], 2),
    (["render", "{t}/bad.yaml"], 2),  # no spec
    (["render", "--spec", "{spec}", "--diff", "-o", "{t}/x", "{t}/bad.yaml"], 2),
    (["validate"], 2),
    (["check", "--format", "xml", "{t}/bad.yaml"], 2),
    (["check", "--ignore", "PXS999", "{t}/bad.yaml"], 2),
    (["init", "--mode", "chef", "-o", "{t}/new.yaml"], 2),
    (["schema", "--nope"], 2),
    (["version", "--nope"], 2),
    (["last-error", "--nope"], 2),
    (["patches", "--for", "helmrelease", "{t}/bad.yaml"], 2),  # no spec
    (["patches", "--spec", "{spec}", "--for", "argo", "{t}/bad.yaml"], 2),
    (["keys", "generate", "-n", "Not_A_Namespace"], 2),
    (["keys", "generate", "--format", "toml"], 2),
    (["token", "generate", "--spec", "{spec}"], 2),  # nothing to name the token after
    (["token", "generate", "--spec", "{spec}", "--role", "system.user"], 2),  # no signing key in the env
    (["token", "generate", "--spec", "{spec}", "--role", "r", "--lifetime", "soon"], 2),
    (["token", "generate", "--spec", "{spec}", "--role", "r", "--secret", "Bad_Name"], 2),
    (["token", "verify", "{t}/jwt"], 2),  # no spec
    (["token", "auth-config", "--nope"], 2),
    (["install", "kustomize-plugin", "--nope"], 2),
    (["policy", "--action", "Deny"], 2),  # no spec
    (["policy", "--spec", "{spec}", "--action", "Block"], 2),
    (["policy", "--spec", "{spec}", "--action", "Deny", "--action", "Warn"], 2),  # the API server refuses the pair
    (["policy", "--spec", "{spec}", "--namespace-selector", "no-value"], 2),
    # bad input: a file that is missing or wrong
    (["render", "--spec", "{spec}", "{t}/bad.yaml"], 1),
    (["render", "--spec", "{t}/missing.yaml", "{t}/bad.yaml"], 1),
    (["validate", "{t}/bad.yaml"], 1),
    (["check", "{t}/bad.yaml"], 1),
    (["patches", "--spec", "{spec}", "--for", "helmrelease", "{t}/bad.yaml"], 1),
    (["token", "generate", "--spec", "{spec}", "--auth-config", "{t}/bad.yaml"], 1),
    (["token", "verify", "--spec", "{spec}", "{t}/jwt"], 1),
    (["token", "verify", "--spec", "{spec}", "{t}/missing.jwt"], 1),
    (["keys", "generate", "--spec", "{t}/bad.yaml"], 1),
    (["policy", "--spec", "{t}/bad.yaml"], 1),
    (["policy", "--spec", "{t}/missing.yaml"], 1),
]


@pytest.mark.parametrize("argv,code", EXIT_CODES, ids=[" ".join(a) for a, _ in EXIT_CODES])
def test_exit_codes(argv, code, files):
    args = [a.format(t=files, spec=EXAMPLE_SPEC) for a in argv]
    r = run_pxsec(args, cwd=files)
    assert r.returncode == code, (args, r.stderr.decode())
    assert b"Traceback" not in r.stderr + r.stdout
    if args[0] == "check" and code == 1:  # check reports on stdout, unreadable input as a PXS000 finding
        assert b"error PXS000" in r.stdout
    else:
        assert r.stdout == b"" and r.stderr.strip()


def test_every_command_is_in_the_exit_code_table():
    from test_cli_conventions import command_paths

    leaves = {" ".join(p) for p in command_paths() if p and not p == ("token",) and not p == ("keys",)
              and not p == ("install",)}
    tested = {" ".join(a[:2]) if a[0] in ("token", "keys", "install") else a[0] for a, _ in EXIT_CODES}
    assert leaves - {"install helm-plugin"} <= tested, sorted(leaves - tested)


def test_the_uri_filter_passes_only_one_printable_word():
    """The `$schema=` comment takes the URI bare: a newline or space would end the comment."""
    from pxsec.spec import templating

    assert templating._uri_filter("file:///a/b%20c.json") == "file:///a/b%20c.json"
    for bad in ("file:///a\nkind: Secret", "file:///a b", "/no/scheme", "file:///\u00e9"):
        with pytest.raises(ValueError):
            templating._uri_filter(bad)
