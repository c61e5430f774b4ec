"""Golden case folders (tests/cases/<case>/): input.yaml, spec.yaml, optional env; the
expected stdout is want.yaml and the expected -v stderr is want-stderr.txt. Error cases
(tests/cases/errors/<case>/) expect exit 1, empty stdout and want-error.txt on stderr.

Generated Secret values are redacted in want.yaml (secret values never go into snapshots)
and checked separately against the env file. Regenerate with PXSEC_UPDATE_GOLDEN=1.
"""
from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, read_env_file, run_pxsec
from pxsec.render import stream

CASES = ROOT / "tests" / "cases"
UPDATE = os.environ.get("PXSEC_UPDATE_GOLDEN") == "1"
OK_CASES = sorted(p.name for p in CASES.iterdir() if p.is_dir() and p.name != "errors")
ERROR_CASES = sorted(p.name for p in (CASES / "errors").iterdir() if p.is_dir())
_DATA_LINE = re.compile(r'^(  "[-._a-zA-Z0-9]+": )"[A-Za-z0-9+/=]*"$', re.M)


def redact(text: str) -> str:
    """Blank out the data values of Secrets pxsec generated (their only base64 lines)."""
    out = []
    for chunk in re.split(r"(?m)(?=^---)", text):
        if '"pxsec.io/generated": "true"' in chunk:
            chunk = _DATA_LINE.sub(r'\1"<redacted>"', chunk)
        out.append(chunk)
    return "".join(out)


def check_golden(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_bytes(actual.encode())
    assert path.is_file(), f"missing golden file {path}; run with PXSEC_UPDATE_GOLDEN=1"
    assert actual == path.read_bytes().decode()


@pytest.mark.parametrize("case", OK_CASES)
def test_case(case):
    d = CASES / case
    env = read_env_file(d / "env")
    r = run_pxsec(["render", "--spec", str(d / "spec.yaml"), "-v", str(d / "input.yaml")], env=env)
    assert r.returncode == 0, r.stderr.decode()
    out, err = r.stdout.decode(), r.stderr.decode()
    for value in env.values():
        assert value not in err
    check_golden(d / "want.yaml", redact(out))
    check_golden(d / "want-stderr.txt", err.replace(str(d), "CASE"))

    # idempotent: rendering the output again changes nothing, byte for byte
    again = run_pxsec(["render", "--spec", str(d / "spec.yaml"), "-"], stdin=r.stdout, env=env)
    assert again.returncode == 0, again.stderr.decode()
    assert again.stdout == r.stdout

    # generated Secrets carry exactly the environment's values
    for doc in (d.view() for d in stream.parse(out, "out")):
        if isinstance(doc, dict) and doc.get("kind") == "Secret" and \
                (doc["metadata"].get("annotations") or {}).get("pxsec.io/generated") == "true":
            decoded = {k: base64.b64decode(v).decode() for k, v in doc["data"].items()}
            assert set(decoded.values()) <= set(env.values()) and decoded


@pytest.mark.parametrize("case", ERROR_CASES)
def test_error_case(case):
    d = CASES / "errors" / case
    env = read_env_file(d / "env")
    r = run_pxsec(["render", "--spec", str(d / "spec.yaml"), str(d / "input.yaml")], env=env)
    err = r.stderr.decode().replace(str(d), "CASE")
    assert r.returncode == 1, err
    assert r.stdout == b""
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("pxsec: error: "), err
    for value in env.values():
        assert value not in err
    check_golden(d / "want-error.txt", err)


UNTOUCHED_BROKEN = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: half-written}
data:
  key: [unclosed
"""


def test_a_document_render_does_not_touch_is_scanned_not_parsed(tmp_path):
    """Render reads only the documents it may secure (a text scan picks them: stream.parse's
    `worth_composing`); any other passes through byte for byte, even when it is not YAML at all
    (whoever parses the stream next, kubectl, Helm or kustomize, refuses it). `pxsec check`
    reads every document and refuses it; broken YAML in a document render secures is refused
    (errors/malformed-yaml)."""
    d = CASES / "k8s-no-final-newline"
    f = tmp_path / "in.yaml"
    f.write_text(UNTOUCHED_BROKEN + "---\n" + (d / "input.yaml").read_text())
    env = read_env_file(d / "env")
    r = run_pxsec(["render", "--spec", str(d / "spec.yaml"), str(f)], env=env)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().startswith(UNTOUCHED_BROKEN + "---\n")
    assert b"PORTWORX_AUTH_SYSTEM_KEY" in r.stdout  # the DaemonSet after it is secured
    c = run_pxsec(["check", str(f)])
    assert c.returncode == 1 and b"PXS000 line 6, column 1: invalid YAML" in c.stdout, c.stdout


def test_generated_secret_refresh_keeps_foreign_annotations_and_is_quiet_when_current():
    """kpt/kustomize annotate generated objects; a re-render must keep that and report nothing."""
    d = CASES / "create-secret"
    env = read_env_file(d / "env")
    first = run_pxsec(["render", "--spec", str(d / "spec.yaml"), str(d / "input.yaml")], env=env)
    annotated = first.stdout.replace(b'    "pxsec.io/generated": "true"\n',
                                     b'    "pxsec.io/generated": "true"\n    config.kubernetes.io/index: \'0\'\n')
    assert annotated != first.stdout
    again = run_pxsec(["render", "-v", "--spec", str(d / "spec.yaml"), "-"], stdin=annotated, env=env)
    assert again.returncode == 0 and again.stdout == annotated
    assert b"refreshed" not in again.stderr
    # a rotated key refreshes the Secret in place, still keeping the foreign annotation
    rotated = dict(env, PORTWORX_AUTH_SYSTEM_KEY="rotated-system-key-00000000000000000000000000")
    third = run_pxsec(["render", "-v", "--spec", str(d / "spec.yaml"), "-"], stdin=annotated, env=rotated)
    assert third.returncode == 0 and b"(refreshed)" in third.stderr
    assert third.stdout.count(b"config.kubernetes.io/index: '0'") == annotated.count(b"config.kubernetes.io/index: '0'")
    assert third.stdout.count(b"kind: Secret") == first.stdout.count(b"kind: Secret")
    assert b"rotated-system-key" not in third.stderr
    secrets_out = [doc for doc in yaml.safe_load_all(third.stdout) if doc and doc.get("kind") == "Secret"]
    assert {base64.b64decode(s["data"]["system-secret"]).decode() for s in secrets_out} == \
        {rotated["PORTWORX_AUTH_SYSTEM_KEY"]}
