"""pxsec.tokens.claims and .signing: auth configs, identities, the claims openstorage requires,
and tokens that pyjwt itself verifies."""
from __future__ import annotations

import base64

import jwt
import pytest

from pxsec import tokens
from pxsec.errors import PxsecError
from tokenkit import EC_KEY, EC_P384, FIXTURES, NOW, REQUIRE, RSA_KEY, SECRET, pem_private
from cryptography.hazmat.primitives.asymmetric import ed25519


# --- claims and signing ----------------------------------------------------------------------

def test_auth_config_in_pxctl_format():
    config, notes = tokens.load_auth_config(str(FIXTURES / "admin-auth-config.yaml"))
    assert notes == []
    ident = tokens.make_identity(config)
    assert ident == tokens.Identity("Administrator", "admin@example.com", "admin@example.com/admin",
                                    ("system.admin",), ("*",))


def test_missing_sub_is_derived_like_openstorage():
    config, _ = tokens.load_auth_config(str(FIXTURES / "user-auth-config.yaml"))
    ident = tokens.make_identity(config)
    assert base64.b64decode(ident.sub) == b"openstorage.io/Kubernetes/kubernetes@example.com"


def test_flags_override_the_auth_config():
    config, _ = tokens.load_auth_config(str(FIXTURES / "admin-auth-config.yaml"))
    ident = tokens.make_identity(config, email="other@example.com", roles=["system.view"])
    assert (ident.name, ident.email, ident.roles, ident.groups) == \
        ("Administrator", "other@example.com", ("system.view",), ("*",))


def test_auth_config_problems(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("name: a\nemail: b\nrole: [system.admin]\n")
    config, notes = tokens.load_auth_config(str(p))
    assert config == {"name": "a", "email": "b"} and "unknown field \"role\"" in notes[0]
    p.write_text("name: a\nroles: system.admin\n")
    with pytest.raises(PxsecError, match="roles: must be a list of strings"):
        tokens.load_auth_config(str(p))
    p.write_text("- a\n")
    with pytest.raises(PxsecError, match="mapping"):
        tokens.load_auth_config(str(p))
    with pytest.raises(PxsecError, match="needs an email") as e:
        tokens.make_identity({"name": "a"})
    assert e.value.exit_code == 2  # nothing says what the email is: a usage error


def test_claims_openstorage_requires():
    ident = tokens.Identity("n", "e@x", "s", ("system.user",), ())
    c = tokens.make_claims(ident, "openstorage.io", 3600, now=NOW)
    assert c == {"iss": "openstorage.io", "sub": "s", "name": "n", "email": "e@x", "roles": ["system.user"],
                 "groups": [], "iat": NOW - tokens.IAT_BACKDATE, "exp": NOW + 3600}


@pytest.mark.parametrize("issuer", ["https://accounts.example.com", "http://x", "has space", ""])
def test_self_signed_issuer_is_a_plain_name(issuer):
    with pytest.raises(PxsecError):
        tokens.check_self_signed_issuer(issuer)




@pytest.mark.parametrize("kind", ["hs", "rsa", "ec"])
def test_signed_tokens_verify_with_pyjwt_directly(kind, tmp_path):
    ident = tokens.Identity("n", "e@x", "s", ("system.admin",), ("*",))
    c = tokens.make_claims(ident, "openstorage.io", 600)
    if kind == "hs":
        signer, key, alg = tokens.shared_secret_signer(SECRET), SECRET, "HS256"
    else:
        private = RSA_KEY if kind == "rsa" else EC_KEY
        f = tmp_path / "k.pem"
        f.write_bytes(pem_private(private))
        signer, key, alg = tokens.load_private_key(str(f)), private.public_key(), "RS256" if kind == "rsa" else "ES256"
    assert signer.algorithm == alg
    token = tokens.sign(c, signer)
    assert jwt.get_unverified_header(token)["alg"] == alg
    assert jwt.decode(token, key, algorithms=[alg], options=REQUIRE) == c


def test_ecdsa_curve_picks_the_algorithm(tmp_path):
    f = tmp_path / "k.pem"
    f.write_bytes(pem_private(EC_P384))
    assert tokens.load_private_key(str(f)).algorithm == "ES384"
    f.write_bytes(pem_private(ed25519.Ed25519PrivateKey.generate()))
    with pytest.raises(PxsecError, match="unsupported key type"):
        tokens.load_private_key(str(f))


def test_encrypted_private_key_needs_its_passphrase(tmp_path):
    f = tmp_path / "k.pem"
    f.write_bytes(pem_private(EC_KEY, b"correct horse"))
    with pytest.raises(PxsecError, match=tokens.ENV_PASSPHRASE):
        tokens.load_private_key(str(f))
    with pytest.raises(PxsecError, match="passphrase is wrong"):
        tokens.load_private_key(str(f), "nope")
    assert tokens.load_private_key(str(f), "correct horse").algorithm == "ES256"


def test_short_shared_secret_is_flagged_but_signs():
    assert tokens.shared_secret_signer("short").warnings
    assert not tokens.shared_secret_signer(SECRET).warnings
