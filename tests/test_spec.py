"""The spec loader: defaults, typed values, and the validation cache."""
from __future__ import annotations

import yaml

from conftest import ROOT, run_pxsec
from renderer import spec as specmod

MINIMAL = {"apiVersion": "pxsec.io/v1alpha1", "kind": "PortworxSecurity",
           "spec": {"selfSigned": {"issuer": "openstorage.io", "sharedSecret": True}}}


def test_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("PXSEC_CACHE_DIR", str(tmp_path))
    s = specmod.from_document(MINIMAL, "m")
    assert (s.secret_name, s.key_system, s.key_stork, s.key_jwt_shared_secret) == \
        ("px-system-secrets", "system-secret", "stork-secret", "shared-secret")
    assert s.stork_enabled and s.stork_issuer == "stork.openstorage.io" and not s.stork_issuer_explicit
    assert s.stork_key_env == "PORTWORX_AUTH_STORK_KEY" and s.uses_shared_secret
    assert s.oidc is None and s.username_claim is None and not s.secret_create


def test_apps_issuer_pairs_with_apps_key(monkeypatch, tmp_path):
    monkeypatch.setenv("PXSEC_CACHE_DIR", str(tmp_path))
    doc = yaml.safe_load(yaml.safe_dump(MINIMAL))
    doc["spec"]["stork"] = {"issuer": "apps.portworx.io"}
    assert specmod.from_document(doc, "m").stork_key_env == "PORTWORX_AUTH_SYSTEM_APPS_KEY"


def test_example_spec_is_valid():
    assert specmod.load_problems(str(ROOT / "examples" / "spec.yaml")) == []


def test_validation_cache_records_only_successes(tmp_path):
    cache = tmp_path / "cache"
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(MINIMAL))
    env = {"PXSEC_CACHE_DIR": str(cache)}
    assert run_pxsec(["render", "-s", str(good)], env=env).returncode == 0
    markers = list((cache / "validated").iterdir())
    assert len(markers) == 1
    # a different (invalid) spec is validated, not waved through by the cached success
    bad = tmp_path / "bad.yaml"
    doc = yaml.safe_load(yaml.safe_dump(MINIMAL))
    doc["spec"]["selfSigned"]["sharedSecret"] = False
    bad.write_text(yaml.safe_dump(doc))
    r = run_pxsec(["render", "-s", str(bad)], env=env)
    assert r.returncode == 1 and b"spec.selfSigned: needs at least one of" in r.stderr
    assert len(list((cache / "validated").iterdir())) == 1
    # the cached spec still renders, and PXSEC_NO_CACHE=1 validates without writing
    assert run_pxsec(["render", "-s", str(good)], env=env).returncode == 0
    other = tmp_path / "other"
    assert run_pxsec(["render", "-s", str(good)], env={"PXSEC_CACHE_DIR": str(other), "PXSEC_NO_CACHE": "1"}).returncode == 0
    assert not other.exists()


def test_unwritable_cache_is_not_an_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(MINIMAL))
    r = run_pxsec(["render", "-s", str(spec)], env={"PXSEC_CACHE_DIR": str(blocker / "sub")})
    assert (r.returncode, r.stderr) == (0, b"")
