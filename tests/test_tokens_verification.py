"""pxsec.tokens.verification against a fixed clock (`now=NOW`): accepted tokens, every
rejection, clock skew."""
from __future__ import annotations

import json

import jwt
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pxsec import portworx as px
from pxsec import tokens
from pxsec.errors import PxsecError
from tokenkit import (
    DROP, EC_KEY, EC_OTHER, EC_P384, NOW, OTHER_SECRET, RSA_KEY, RSA_OTHER, SECRET, STORK_KEY,
    all_keys, b64, check, claims, forge, hmac_with, hs, make_spec, pem_public, rejected, signed_raw)
from cryptography.hazmat.primitives.asymmetric import ed25519


# --- verify: accepted tokens -----------------------------------------------------------------

@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_accepts_every_hmac_size(alg):
    v = check(hs(claims(), alg=alg))
    assert v.valid and v.algorithm == alg and v.issuer_type == "self-signed"


@pytest.mark.parametrize("key,alg", [(RSA_KEY, "RS256"), (RSA_KEY, "RS512"), (EC_KEY, "ES256")])
def test_accepts_public_key_tokens(key, alg):
    v = check(jwt.encode(claims(), key, algorithm=alg))
    assert v.valid, v.reason
    assert (v.user, v.roles, v.groups, v.expires_at) == ("u-1", ("system.user",), ("team",), NOW + 3600)


def test_operator_shaped_token_verifies():
    """As the operator makes px-admin-token: sub/email <secret>@<issuer>, iat back-dated 10 min."""
    iss = "operator.portworx.io"
    token = hs({"iss": iss, "sub": f"px-admin-token@{iss}", "email": f"px-admin-token@{iss}",
                "name": "px-admin-token", "roles": ["system.admin"], "groups": ["*"],
                "iat": NOW - 600, "exp": NOW + 86400})
    spec = make_spec({"selfSigned": {"issuer": iss, "sharedSecret": True}})
    v = check(token, spec=spec, keys=tokens.VerifyKeys(shared_secret=SECRET.encode()))
    assert v.valid and v.user == f"px-admin-token@{iss}" and v.roles == ("system.admin",) and v.groups == ("*",)


def stork_token(issuer="stork.openstorage.io", key=STORK_KEY, alg="HS256") -> str:
    """As Stork's tokenGenerator makes them (openstorage's Token always writes email, here empty)."""
    return jwt.encode({"iss": issuer, "sub": f"{issuer}.stork-7d9c5b-x2k4q", "name": "Stork", "email": "",
                       "roles": ["system.admin"], "groups": ["*"], "iat": NOW - 60, "exp": NOW + 3600},
                      key, algorithm=alg)


def test_stork_shaped_token_verifies_with_the_stork_key():
    v = check(stork_token())
    assert v.valid and v.issuer_type == "stork" and v.user == "stork.openstorage.io.stork-7d9c5b-x2k4q"


def test_stork_apps_issuer_uses_the_apps_key(monkeypatch):
    spec = make_spec(stork={"issuer": "apps.portworx.io"})
    keys = tokens.verify_keys(spec, {"PORTWORX_AUTH_SYSTEM_APPS_KEY": STORK_KEY})
    assert keys.stork_key_env == "PORTWORX_AUTH_SYSTEM_APPS_KEY"
    assert check(stork_token("apps.portworx.io"), spec=spec, keys=keys).valid


def test_stork_token_rejections():
    rejected(stork_token(key=SECRET), "signature does not verify with the Stork key")
    rejected(stork_token(key=RSA_KEY, alg="RS256"), "(HS*) only")
    rejected(stork_token(), "not trusted", spec=make_spec(stork={"enabled": False}))
    with pytest.raises(PxsecError, match="PORTWORX_AUTH_STORK_KEY"):
        check(stork_token(), keys=all_keys(stork_key=None))


def test_username_claim_chooses_the_user():
    v = check(hs(claims()), spec=make_spec(usernameClaim="email"))
    assert v.valid and v.user == "u1@example.com" and v.username_claim == "email"


# --- verify: rejections ----------------------------------------------------------------------

@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_refuses_unsigned_tokens(alg):
    rejected(forge({"alg": alg, "typ": "JWT"}, claims()), "alg none")


def test_refuses_unsupported_algorithms():
    rejected(jwt.encode(claims(), RSA_KEY, algorithm="PS256"), "not supported")
    rejected(jwt.encode(claims(), ed25519.Ed25519PrivateKey.generate(), algorithm="EdDSA"), "not supported")
    rejected(forge({"typ": "JWT"}, claims(), hmac_with(SECRET.encode())), "no algorithm")


def test_refuses_hmac_signed_with_the_public_key():
    """Algorithm confusion: HS256 keyed with the RSA public key PEM the verifier holds."""
    token = forge({"alg": "HS256", "typ": "JWT"}, claims(), hmac_with(pem_public(RSA_KEY)))
    rejected(token, "signature does not verify with the shared secret")
    rsa_only = make_spec({"selfSigned": {"issuer": "openstorage.io", "rsaPublicKey": {"secretName": "r", "key": "k"}}})
    rejected(token, "accepts no shared-secret tokens", spec=rsa_only, keys=all_keys(shared_secret=None))


def test_pyjwt_only_gets_the_family_of_the_key():
    """Even handed a public key for an HS256 token, the decoder allows RS* only, so it refuses."""
    token = forge({"alg": "HS256"}, claims(), hmac_with(pem_public(RSA_KEY)))
    with pytest.raises(tokens.Rejected, match="not allowed"):
        tokens.decode(token, RSA_KEY.public_key(), "RS256", "the RSA public key")


def test_refuses_algorithms_the_spec_has_no_key_for():
    shared_only = make_spec({"selfSigned": {"issuer": "openstorage.io", "sharedSecret": True}})
    rejected(jwt.encode(claims(), RSA_KEY, algorithm="RS256"), "no RSA public key", spec=shared_only)
    rejected(jwt.encode(claims(), EC_KEY, algorithm="ES256"), "no ECDSA public key", spec=shared_only)


def test_refuses_wrong_keys():
    rejected(hs(claims(), OTHER_SECRET), "signature does not verify with the shared secret")
    rejected(jwt.encode(claims(), RSA_OTHER, algorithm="RS256"), "signature does not verify with the RSA public key")
    rejected(jwt.encode(claims(), EC_OTHER, algorithm="ES256"), "ECDSA public key")
    rejected(jwt.encode(claims(), EC_P384, algorithm="ES384"), "ECDSA public key")


def test_refuses_a_tampered_payload():
    head, _, sig = hs(claims()).split(".")
    evil = b64(json.dumps(claims(roles=["system.admin"])).encode())
    rejected(f"{head}.{evil}.{sig}", "signature does not verify")


def test_refuses_untrusted_issuers():
    rejected(hs(claims(iss="evil.example.com")), "issuer \"evil.example.com\" is not trusted")
    rejected(hs(claims(iss=DROP)), "required claim iss is missing")
    rejected(forge({"alg": "HS256"}, claims(iss=7), hmac_with(SECRET.encode())), "claim iss must be a string")


@pytest.mark.parametrize("claim", ["sub", "name", "email", "iat", "exp"])
def test_refuses_a_missing_required_claim(claim):
    rejected(hs(claims(**{claim: DROP})), f"required claim {claim} is missing")


@pytest.mark.parametrize("over,reason", [
    ({"sub": 12}, "claim sub must be a string"),
    ({"roles": "system.admin"}, "claim roles must be a list of strings"),
    ({"groups": [1]}, "claim groups must be a list of strings"),
    ({"exp": str(NOW + 3600)}, "claim exp must be a number"),
    ({"iat": True}, "claim iat must be a number"),
])
def test_refuses_claims_of_the_wrong_type(over, reason):
    rejected(hs(claims(**over)), reason)


@pytest.mark.parametrize("claim", ["sub", "email", "name"])
def test_refuses_an_empty_username_claim(claim):
    rejected(hs(claims(**{claim: ""})), f"username claim {claim} is empty", spec=make_spec(usernameClaim=claim))


def test_empty_claims_other_than_the_username_pass():
    assert check(hs(claims(email="")), spec=make_spec(usernameClaim="sub")).valid


@pytest.mark.parametrize("token,reason", [
    ("", "empty token"),
    ("abc", "not a JWT"),
    ("a.b.c", "not a JWT"),
    ("eyJhbGciOiJIUzI1NiJ9.e30.x y", "not a JWT"),
    ("x" * 70000, "64 KiB"),
])
def test_refuses_garbage(token, reason):
    rejected(token, reason)


def test_missing_key_material_is_an_error_not_a_verdict():
    with pytest.raises(PxsecError, match=px.SHARED_KEY):
        check(hs(claims()), keys=all_keys(shared_secret=None))
    with pytest.raises(PxsecError, match="--rsa-public-key"):
        check(jwt.encode(claims(), RSA_KEY, algorithm="RS256"), keys=all_keys(rsa_public_key=None))
    with pytest.raises(PxsecError, match="--ecdsa-public-key"):
        check(jwt.encode(claims(), EC_KEY, algorithm="ES256"), keys=all_keys(ecdsa_public_key=None))


# --- clock skew ------------------------------------------------------------------------------

def test_expiry_within_the_leeway_is_accepted():
    assert check(hs(claims(exp=NOW - 30))).valid
    rejected(hs(claims(exp=NOW - 61)), "expired at")
    rejected(hs(claims(exp=NOW - 30)), "expired at", leeway=0)
    assert check(hs(claims(exp=NOW - 500)), leeway=600).valid


def test_issued_in_the_future_within_the_leeway_is_accepted():
    assert check(hs(claims(iat=NOW + 30))).valid
    rejected(hs(claims(iat=NOW + 61)), "issued in the future")
    rejected(hs(claims(nbf=NOW + 61)), "not valid before")
    assert check(hs(claims(nbf=NOW + 59))).valid


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(exp_offset=st.integers(-100_000, 100_000), iat_offset=st.integers(-100_000, 100_000),
       leeway=st.integers(0, 3600))
def test_time_claims_against_any_skew(exp_offset, iat_offset, leeway):
    v = check(hs(claims(exp=NOW + exp_offset, iat=NOW + iat_offset)), leeway=leeway)
    assert v.valid == (exp_offset > -leeway and iat_offset <= leeway)


@settings(max_examples=50)
@given(name=st.text(min_size=1), email=st.text(min_size=1), roles=st.lists(st.text()), groups=st.lists(st.text()))
def test_generated_claims_round_trip_through_verify(name, email, roles, groups):
    ident = tokens.make_identity(None, name=name, email=email, roles=roles, groups=groups)
    token = tokens.sign(tokens.make_claims(ident, "openstorage.io", 3600, now=NOW), tokens.shared_secret_signer(SECRET))
    v = check(token)
    assert v.valid and (v.user, v.name, v.email, v.roles, v.groups) == (ident.sub, name, email, tuple(roles),
                                                                         tuple(groups))


# --- numbers JSON allows and go's float64 does not ------------------------------------------

@pytest.mark.parametrize("claim", ["iat", "exp", "nbf"])
@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "1" + "0" * 400])
def test_time_claims_must_be_finite(claim, number):
    """A validly signed token with `iat: NaN` (or an overflowing number) is an invalid token,
    not an internal error: Go's JSON decoder, and so Portworx, refuses these values."""
    c = claims()
    c.pop(claim, None)
    body = json.dumps(c)[:-1] + f', "{claim}": {number}}}'
    v = rejected(signed_raw(body), f"claim {claim} must be a finite number of seconds since the epoch")
    assert v.as_dict() == {"valid": False, "reason": v.reason} and v.summary() == [f"invalid: {v.reason}"]


def test_huge_but_finite_times_are_judged_not_crashed():
    v = check(signed_raw(json.dumps(claims(exp=10 ** 300))))
    assert v.valid and "expires_in_seconds" in v.as_dict(now=NOW) and v.summary(now=NOW)[0].startswith("valid")
    rejected(signed_raw(json.dumps(claims(iat=1e300))), "issued in the future")
