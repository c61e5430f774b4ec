"""pxsec.tokens.issuing: what `token generate` decides, without the CLI, and the packaged
sample auth config (`pxsec token auth-config`)."""
from __future__ import annotations

import base64
import stat

import jwt
import pytest
import yaml

from pxsec import portworx as px
from pxsec import spec as specmod, tokens
from pxsec.errors import PxsecError, UsageError
from tokenkit import FIXTURES, NOW, REQUIRE, SECRET, SPEC_YAML, cli  # noqa: F401 (cli is a fixture)

ENV = {px.SHARED_KEY: SECRET}


@pytest.fixture
def spec(tmp_path):
    p = tmp_path / "spec.yaml"
    p.write_text(SPEC_YAML)
    return specmod.load(str(p))


def test_issuer_and_lifetime_come_from_the_spec(spec):
    out = tokens.generate(tokens.GenerateRequest(spec=spec, name="a", email="a@x", roles=("system.view",)), ENV,
                          now=NOW)
    decoded = jwt.decode(out.stdout.strip(), SECRET, algorithms=["HS256"], options={**REQUIRE, "verify_exp": False})
    assert decoded["iss"] == "openstorage.io" and decoded["exp"] == NOW + 2 * 3600
    assert out.warnings == []


def test_everything_is_checked_before_anything_is_signed_or_written(tmp_path, spec):
    target = tmp_path / "t.jwt"
    bad = [
        (dict(spec=None), UsageError, "no issuer"),
        (dict(issuer="https://idp"), PxsecError, "not a URL"),
        (dict(lifetime="1h30m"), PxsecError, "--lifetime"),
        (dict(secret="Not_A_Name"), PxsecError, "--secret"),
        (dict(namespace="Kube"), PxsecError, "--namespace"),
    ]
    for over, kind, message in bad:
        req = tokens.GenerateRequest(**{"spec": spec, "name": "a", "email": "b", "output": str(target), **over})
        with pytest.raises(kind, match=message):
            tokens.generate(req, ENV)
        assert not target.exists()
    with pytest.raises(UsageError, match=px.SHARED_KEY):
        tokens.generate(tokens.GenerateRequest(spec=spec, name="a", email="b", output=str(target)), {})
    assert not target.exists()


def test_output_file_is_private_and_the_secret_holds_the_token(tmp_path, spec):
    target = tmp_path / "t.yaml"
    out = tokens.generate(tokens.GenerateRequest(spec=spec, name="a", email="b", roles=("system.user",),
                                                 secret="px-user-token", namespace="default", output=str(target)), ENV)
    assert out.stdout == "" and stat.S_IMODE(target.stat().st_mode) == 0o600
    doc = yaml.load(target.read_text(), Loader=yaml.CSafeLoader)
    assert doc["metadata"] == {"name": "px-user-token", "namespace": "default",
                               "annotations": {"stork.libopenstorage.org/skip-resource": "true"}}
    token = base64.b64decode(doc["data"][px.TOKEN_KEY]).decode()
    assert jwt.decode(token, SECRET, algorithms=["HS256"])["roles"] == ["system.user"]
    with pytest.raises(PxsecError, match="already exists"):
        tokens.generate(tokens.GenerateRequest(spec=spec, name="a", email="b", output=str(target)), ENV)


def test_warnings_name_what_portworx_would_refuse(spec):
    out = tokens.generate(tokens.GenerateRequest(spec=spec, issuer="elsewhere.io", name="a", email="b"),
                          {px.SHARED_KEY: "short"})
    text = "\n".join(out.warnings)
    assert "shorter than 32 bytes" in text and "no roles" in text and "not 'elsewhere.io'" in text
    assert "short" not in text.replace("shorter", "")


# --- the packaged sample auth config ---------------------------------------------------------

def test_sample_auth_config_is_the_admin_fixture():
    text = tokens.sample_auth_config()
    config, notes = tokens.parse_auth_config(text.encode(), "sample")
    fixture, _ = tokens.load_auth_config(str(FIXTURES / "admin-auth-config.yaml"))
    assert notes == [] and config == fixture
    assert text.count("\n# ") >= 3  # commented, for people to edit


@pytest.mark.parametrize("name", ["a: b", "it's \"quoted\"", "#not a comment", "- x", "yes", "0o17", "line\nbreak",
                                  "\u00e9\u2603", "emoji \U0001f600"])
def test_sample_auth_config_carries_any_value_safely(name):
    text = tokens.sample_auth_config(name, name, name, (name, "system.user"), (name,))
    config, _ = tokens.parse_auth_config(text.encode(), "sample")
    assert config == {"name": name, "email": name, "sub": name, "roles": (name, "system.user"), "groups": (name,)}


def test_cli_auth_config_then_generate(cli, tmp_path):
    code, out, err = cli("token", "auth-config")
    assert code == 0 and err == "" and out == tokens.sample_auth_config()
    target = tmp_path / "user.yaml"
    code, out, err = cli("token", "auth-config", "--name", "k8s", "--email", "k8s@example.com", "-r", "system.user",
                         "-o", target)
    assert code == 0 and out == "" and err == "", err
    code, out, err = cli("token", "generate", "--issuer", "openstorage.io", "--auth-config", target, env=ENV)
    assert code == 0, err
    claims = jwt.decode(out.strip(), SECRET, algorithms=["HS256"], options=REQUIRE)
    assert (claims["name"], claims["roles"], claims["groups"]) == ("k8s", ["system.user"], ["*"])
    assert claims["sub"] == tokens.default_subject("k8s", "k8s@example.com")
    code, _, err = cli("token", "auth-config", "-o", target)
    assert code == 1 and "already exists; pass --force" in err
