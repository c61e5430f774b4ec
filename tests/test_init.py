"""`pxsec init`: a commented spec that validates, for every mode, and the snippet that wires it up."""
from __future__ import annotations

import pytest
import yaml

from conftest import run_pxsec
from pxsec.commands import init as scaffold


@pytest.mark.parametrize("mode", scaffold.MODES)
def test_init_writes_a_valid_commented_spec_and_prints_the_snippet(tmp_path, mode):
    r = run_pxsec(["init", "--mode", mode, "-o", "px.yaml"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr.decode()
    text = (tmp_path / "px.yaml").read_text()
    assert text.count("\n#") + text.count("  # ") >= 10  # commented, line by line
    ok = run_pxsec(["validate", "px.yaml"], cwd=tmp_path)
    assert ok.returncode == 0 and b"valid" in ok.stdout, ok.stderr.decode()
    doc = yaml.safe_load(text)
    krm = "config.kubernetes.io/function" in (doc["metadata"].get("annotations") or {})
    assert krm == (mode in ("kustomize", "kpt"))
    out = r.stdout.decode()
    assert "px.yaml" in out and {"helm": "--post-renderer", "kustomize": "transformers:", "kpt": "kpt fn eval",
                                 "argocd": "PXSEC_SPEC", "standalone": "pxsec render"}[mode] in out


def test_the_scaffold_secures_the_bundled_example(tmp_path):
    assert run_pxsec(["init", "-o", "px.yaml"], cwd=tmp_path).returncode == 0
    from conftest import ROOT

    r = run_pxsec(["render", "--spec", str(tmp_path / "px.yaml"), str(ROOT / "examples" / "portworx.yaml")])
    assert r.returncode == 0 and b"PORTWORX_AUTH_SYSTEM_KEY" in r.stdout


def test_init_never_overwrites_without_force(tmp_path):
    (tmp_path / "pxsec.yaml").write_text("mine\n")
    r = run_pxsec(["init"], cwd=tmp_path)
    assert r.returncode == 1 and r.stdout == b"" and b"--force" in r.stderr
    assert (tmp_path / "pxsec.yaml").read_text() == "mine\n"
    assert run_pxsec(["init", "--force"], cwd=tmp_path).returncode == 0
    assert (tmp_path / "pxsec.yaml").read_text() != "mine\n"


def test_unknown_mode_is_a_usage_error(tmp_path):
    r = run_pxsec(["init", "--mode", "flux"], cwd=tmp_path)
    assert r.returncode == 2 and b"unknown mode" in r.stderr and not (tmp_path / "pxsec.yaml").exists()
