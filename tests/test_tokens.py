"""`pxsec token generate|verify` and renderer.tokens: the openstorage token model.

Core checks run against a fixed clock (`now=NOW`); CLI runs use the real clock with margins of
minutes or hours, never timing assertions. The OIDC path runs against a real HTTP(S) server on
127.0.0.1 (port 0) serving a discovery document and a JWKS.
"""
from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import hmac
import http.server
import io
import json
import os
import ssl
import stat
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import jwt
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings, strategies as st

from renderer import spec as specmod, tokens
from renderer.errors import PxsecError
from renderer.main import main

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "tokens"
NOW = 1_750_000_000
SECRET = "9mLq2yX0c4GZk3mR8Vd7Jt1pWs6Hn5BfQe2Ua4Lx8Ko3Ti9Yr1Ec7Nw5Pg0Dz6Sv"
OTHER_SECRET = "wrong-but-long-enough-wrong-but-long-enough-wrong-but-long-enough"
STORK_KEY = "Zs8pQ2nW4vY6xA1cE3gI5kM7oR9tU0bD2fH4jL6nP8rT0vX2zB4dF6hJ8lN0pR2t"

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
EC_OTHER = ec.generate_private_key(ec.SECP256R1())
EC_P384 = ec.generate_private_key(ec.SECP384R1())


def pem_public(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def pem_private(key, password: bytes | None = None) -> bytes:
    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


DROP = object()


def claims(**over) -> dict:
    c = {"iss": "openstorage.io", "sub": "u-1", "name": "User One", "email": "u1@example.com",
         "roles": ["system.user"], "groups": ["team"], "iat": NOW - 60, "exp": NOW + 3600}
    c.update(over)
    return {k: v for k, v in c.items() if v is not DROP}


def hs(payload: dict, secret: str = SECRET, alg: str = "HS256", headers: dict | None = None) -> str:
    return jwt.encode(payload, secret, algorithm=alg, headers=headers)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def forge(header: dict, payload: dict, sign=None) -> str:
    """A token built by hand, for what pyjwt refuses to make (alg none, HMAC over a public key)."""
    head = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    return head + "." + (b64(sign(head.encode())) if sign else "")


def hmac_with(key: bytes):
    return lambda msg: hmac.new(key, msg, hashlib.sha256).digest()


SELF_SIGNED = {"selfSigned": {"issuer": "openstorage.io", "sharedSecret": True,
                              "rsaPublicKey": {"secretName": "rsa", "key": "k"},
                              "ecdsaPublicKey": {"secretName": "ec", "key": "k"}}}


def make_spec(spec: dict = SELF_SIGNED, **extra) -> specmod.Spec:
    return specmod.build({**spec, **extra}, "spec.yaml")


def all_keys(**over) -> tokens.VerifyKeys:
    k = dict(shared_secret=SECRET.encode(), stork_key=STORK_KEY.encode(),
             rsa_public_key=RSA_KEY.public_key(), ecdsa_public_key=EC_KEY.public_key())
    k.update(over)
    return tokens.VerifyKeys(**k)


def check(token: str, spec=None, keys=None, now=NOW, leeway=tokens.DEFAULT_LEEWAY) -> tokens.Verdict:
    return tokens.verify(token, spec or make_spec(), keys or all_keys(), now=now, leeway=leeway)


def rejected(token: str, match: str, **kw) -> tokens.Verdict:
    v = check(token, **kw)
    assert not v.valid, v
    assert match in v.reason, v.reason
    return v


# --- lifetimes -------------------------------------------------------------------------------

@given(st.integers(min_value=1, max_value=100), st.sampled_from("smhdy"))
def test_lifetime_is_a_number_and_one_unit(n, unit):
    mult = {"s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}[unit]
    assert tokens.parse_lifetime(f"{n}{unit}") == n * mult


def test_lifetime_year_is_365_days():
    assert tokens.parse_lifetime("1y") == 365 * 24 * 3600


@pytest.mark.parametrize("bad", ["1h30m", "", "h", "24", "1w", "-1h", "+1h", "1.5h", "1 h", "1H", "0s", "0y", "101y",
                                 "\u0661h", "1hh"])
def test_lifetime_rejects(bad):
    with pytest.raises(PxsecError):
        tokens.parse_lifetime(bad)


@given(st.text())
def test_lifetime_accepts_only_the_openstorage_form(text):
    import re

    try:
        seconds = tokens.parse_lifetime(text)
    except PxsecError:
        return
    assert re.fullmatch(r"\s*[0-9]+[smhdy]\s*", text) and 0 < seconds <= tokens.MAX_LIFETIME


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
    with pytest.raises(PxsecError, match="needs a email"):
        tokens.make_identity({"name": "a"})


def test_claims_openstorage_requires():
    ident = tokens.Identity("n", "e@x", "s", ("system.user",), ())
    c = tokens.make_claims(ident, "openstorage.io", 3600, now=NOW)
    assert c == {"iss": "openstorage.io", "sub": "s", "name": "n", "email": "e@x", "roles": ["system.user"],
                 "groups": [], "iat": NOW - tokens.IAT_BACKDATE, "exp": NOW + 3600}


@pytest.mark.parametrize("issuer", ["https://accounts.example.com", "http://x", "has space", ""])
def test_self_signed_issuer_is_a_plain_name(issuer):
    with pytest.raises(PxsecError):
        tokens.check_self_signed_issuer(issuer)


REQUIRE = {"require": ["iss", "sub", "name", "email", "iat", "exp"]}


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
    with pytest.raises(tokens._Rejected, match="not allowed"):
        tokens._decode(token, RSA_KEY.public_key(), "RS256", "the RSA public key")


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
    with pytest.raises(PxsecError, match=tokens.ENV_SHARED):
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


# --- OIDC against a real local server --------------------------------------------------------

class OidcProvider:
    """Discovery document + JWKS on 127.0.0.1, http or https, counting requests per path."""

    def __init__(self, tls: ssl.SSLContext | None = None):
        self.hits: Counter = Counter()
        self.jwks: dict = {"keys": []}
        self.discovery_extra: dict = {"id_token_signing_alg_values_supported": ["RS256", "ES256"]}
        self.redirect_jwks_to: str | None = None
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                provider.hits[self.path] += 1
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": provider.issuer, "jwks_uri": provider.issuer + "/keys",
                            **provider.discovery_extra}
                elif self.path == "/keys" and provider.redirect_jwks_to:
                    self.send_response(302)
                    self.send_header("Location", provider.redirect_jwks_to)
                    self.end_headers()
                    return
                elif self.path == "/keys":
                    body = provider.jwks
                else:
                    self.send_error(404)
                    return
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def issuer(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    def publish(self, *entries):
        """entries: (kid, private key[, extra JWK fields])."""
        keys = []
        for kid, key, *extra in entries:
            jwk = json.loads(jwt.algorithms.get_default_algorithms()["RS256" if isinstance(key, rsa.RSAPrivateKey)
                                                                    else "ES256"].to_jwk(key.public_key()))
            jwk.update({"kid": kid, "use": "sig", **(extra[0] if extra else {})})
            keys.append(jwk)
        self.jwks = {"keys": keys}

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


NS = "https://pxsec.test/"


def oidc_spec(issuer: str, **extra) -> specmod.Spec:
    return specmod.build({"oidc": {"issuer": issuer, "clientId": "portworx", "customClaimNamespace": NS}, **extra},
                         "oidc-spec.yaml")


def oidc_claims(issuer: str, **over) -> dict:
    return claims(**{"iss": issuer, "aud": ["portworx", "other"], **over})


@pytest.fixture
def provider():
    with OidcProvider() as p:
        p.publish(("k1", RSA_KEY), ("e1", EC_KEY))
        yield p


def oidc_keys(p: OidcProvider) -> tokens.VerifyKeys:
    return tokens.VerifyKeys(jwks=tokens.Jwks(p.issuer, allow_insecure=True))


def test_oidc_token_verifies_through_discovery(provider):
    spec, keys = oidc_spec(provider.issuer), oidc_keys(provider)
    for key, alg, kid in ((RSA_KEY, "RS256", "k1"), (EC_KEY, "ES256", "e1")):
        token = jwt.encode(oidc_claims(provider.issuer), key, algorithm=alg, headers={"kid": kid})
        v = check(token, spec=spec, keys=keys)
        assert v.valid and v.issuer_type == "oidc" and v.algorithm == alg, v.reason
    assert provider.hits == {"/.well-known/openid-configuration": 1, "/keys": 1}  # fetched once, then cached


def test_oidc_namespaced_roles_and_groups_override_top_level(provider):
    c = oidc_claims(provider.issuer, roles=["system.view"], groups=["top"])
    c[NS + "roles"] = ["system.admin"]
    c[NS + "groups"] = ["*"]
    c["https://other.test/roles"] = ["ignored"]
    v = check(jwt.encode(c, RSA_KEY, algorithm="RS256", headers={"kid": "k1"}),
              spec=oidc_spec(provider.issuer), keys=oidc_keys(provider))
    assert v.valid and v.roles == ("system.admin",) and v.groups == ("*",)
    # No namespaced claim: the top-level one stays.
    c = oidc_claims(provider.issuer, roles=["system.view"])
    v = check(jwt.encode(c, RSA_KEY, algorithm="RS256", headers={"kid": "k1"}),
              spec=oidc_spec(provider.issuer), keys=oidc_keys(provider))
    assert v.roles == ("system.view",)


def test_oidc_namespaced_roles_must_be_strings(provider):
    c = oidc_claims(provider.issuer, **{NS + "roles": "system.admin"})
    token = jwt.encode(c, RSA_KEY, algorithm="RS256", headers={"kid": "k1"})
    rejected(token, "roles must be a list", spec=oidc_spec(provider.issuer), keys=oidc_keys(provider))


def test_oidc_key_rotation_is_picked_up_by_refetching(provider):
    spec, keys = oidc_spec(provider.issuer), oidc_keys(provider)
    old = jwt.encode(oidc_claims(provider.issuer), RSA_KEY, algorithm="RS256", headers={"kid": "k1"})
    assert check(old, spec=spec, keys=keys).valid
    assert provider.hits["/keys"] == 1

    provider.publish(("k2", RSA_OTHER))  # the provider rotates: k1 is gone, k2 is new
    new = jwt.encode(oidc_claims(provider.issuer), RSA_OTHER, algorithm="RS256", headers={"kid": "k2"})
    v = check(new, spec=spec, keys=keys)
    assert v.valid, v.reason
    assert provider.hits["/keys"] == 2  # unknown kid -> one refetch

    rejected(old, "has no key id \"k1\"", spec=spec, keys=keys)
    assert provider.hits["/keys"] == 3  # refetched once more, still not there
    assert provider.hits["/.well-known/openid-configuration"] == 1


def test_oidc_rejections(provider):
    spec, keys = oidc_spec(provider.issuer), oidc_keys(provider)
    iss = provider.issuer

    def sign(c, key=RSA_KEY, alg="RS256", kid="k1"):
        return jwt.encode(c, key, algorithm=alg, headers={"kid": kid} if kid else None)

    rejected(sign(claims(iss=iss)), "audience (aud) does not contain the client id", spec=spec, keys=keys)
    rejected(sign(oidc_claims(iss, aud="someone-else")), "client id", spec=spec, keys=keys)
    assert check(sign(oidc_claims(iss, aud="portworx")), spec=spec, keys=keys).valid
    rejected(sign(oidc_claims(iss), RSA_OTHER), "signature does not verify with the provider's key \"k1\"",
             spec=spec, keys=keys)
    rejected(sign(oidc_claims(iss), alg="RS512"), "does not sign with RS512", spec=spec, keys=keys)
    rejected(sign(oidc_claims(iss, exp=NOW - 3600)), "expired", spec=spec, keys=keys)
    rejected(sign(oidc_claims(iss, name=DROP)), "required claim name is missing", spec=spec, keys=keys)
    rejected(sign(oidc_claims(iss), EC_KEY, "ES256", kid="k1"), "no key id \"k1\" for ES256", spec=spec, keys=keys)
    # HS256 for the OIDC issuer, keyed with the provider's own public key: algorithm confusion.
    confused = forge({"alg": "HS256", "kid": "k1"}, oidc_claims(iss), hmac_with(pem_public(RSA_KEY)))
    rejected(confused, "algorithm confusion refused", spec=spec, keys=keys)
    rejected(forge({"alg": "none"}, oidc_claims(iss)), "alg none", spec=spec, keys=keys)


def test_oidc_token_without_kid_tries_each_key_of_its_type(provider):
    token = jwt.encode(oidc_claims(provider.issuer), EC_KEY, algorithm="ES256")
    assert check(token, spec=oidc_spec(provider.issuer), keys=oidc_keys(provider)).valid


def test_oidc_jwk_alg_must_match(provider):
    provider.publish(("k1", RSA_KEY, {"alg": "RS384"}))
    provider.discovery_extra = {"id_token_signing_alg_values_supported": ["RS256", "RS384"]}
    token = jwt.encode(oidc_claims(provider.issuer), RSA_KEY, algorithm="RS256", headers={"kid": "k1"})
    rejected(token, "no key id \"k1\" for RS256", spec=oidc_spec(provider.issuer), keys=oidc_keys(provider))


def test_oidc_default_algorithm_is_rs256_like_go_oidc(provider):
    provider.discovery_extra = {}
    spec, keys = oidc_spec(provider.issuer), oidc_keys(provider)
    rejected(jwt.encode(oidc_claims(provider.issuer), EC_KEY, algorithm="ES256", headers={"kid": "e1"}),
             "does not sign with ES256", spec=spec, keys=keys)
    assert check(jwt.encode(oidc_claims(provider.issuer), RSA_KEY, algorithm="RS256", headers={"kid": "k1"}),
                 spec=spec, keys=keys).valid


def test_oidc_discovery_issuer_must_match(provider):
    spec = oidc_spec(provider.issuer + "/")  # what the provider calls itself differs by a slash
    token = jwt.encode(oidc_claims(provider.issuer + "/"), RSA_KEY, algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(PxsecError, match="discovery document names issuer"):
        check(token, spec=spec, keys=tokens.VerifyKeys(jwks=tokens.Jwks(provider.issuer + "/", allow_insecure=True)))


def test_oidc_plain_http_needs_the_explicit_opt_in(provider):
    token = jwt.encode(oidc_claims(provider.issuer), RSA_KEY, algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(PxsecError, match="needs https"):
        check(token, spec=oidc_spec(provider.issuer), keys=tokens.VerifyKeys(jwks=tokens.Jwks(provider.issuer)))
    assert provider.hits == {}  # refused before connecting
    keys = tokens.verify_keys(oidc_spec(provider.issuer), {tokens.ENV_INSECURE_OIDC: "1"})
    assert check(token, spec=oidc_spec(provider.issuer), keys=keys).valid


def test_oidc_redirect_to_a_non_local_http_url_is_refused(provider):
    provider.redirect_jwks_to = "http://example.invalid/keys"
    token = jwt.encode(oidc_claims(provider.issuer), RSA_KEY, algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(PxsecError, match="refusing to fetch \"http://example.invalid/keys\""):
        check(token, spec=oidc_spec(provider.issuer), keys=oidc_keys(provider))


@pytest.mark.parametrize("url,ok", [
    ("https://idp.example.com/keys", True),
    ("http://127.0.0.1:8080/keys", True),
    ("http://localhost/keys", True),
    ("http://[::1]:9/keys", True),
    ("http://idp.example.com/keys", False),
    ("http://127.0.0.1.nip.io/keys", False),
    ("file:///etc/passwd", False),
    ("ftp://127.0.0.1/keys", False),
])
def test_insecure_opt_in_covers_loopback_only(url, ok):
    if ok:
        tokens.check_url(url, allow_insecure=True)
    else:
        with pytest.raises(PxsecError):
            tokens.check_url(url, allow_insecure=True)
    with pytest.raises(PxsecError) if url.startswith("http:") or not ok else contextlib.nullcontext():
        tokens.check_url(url, allow_insecure=False)


def test_unreachable_provider_is_an_error():
    with OidcProvider() as p:
        issuer = p.issuer
    token = jwt.encode(oidc_claims(issuer), RSA_KEY, algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(PxsecError, match="cannot fetch"):
        check(token, spec=oidc_spec(issuer), keys=tokens.VerifyKeys(jwks=tokens.Jwks(issuer, allow_insecure=True,
                                                                                       timeout=5)))


def test_jwks_file_works_offline(tmp_path):
    issuer = "https://idp.invalid"
    with OidcProvider() as p:
        p.publish(("k1", RSA_KEY), ("e1", EC_KEY))
        jwks = p.jwks
    f = tmp_path / "jwks.json"
    f.write_text(json.dumps({"keys": jwks["keys"] + [{"kty": "oct", "k": b64(SECRET.encode()), "kid": "h"}]}))
    keys = tokens.verify_keys(oidc_spec(issuer), {}, jwks_file=str(f))
    spec = oidc_spec(issuer)
    assert check(jwt.encode(oidc_claims(issuer), EC_KEY, algorithm="ES256", headers={"kid": "e1"}),
                 spec=spec, keys=keys).valid
    # The symmetric key in the set is never used: HS tokens are refused for OIDC.
    rejected(hs(oidc_claims(issuer), headers={"kid": "h"}), "algorithm confusion", spec=spec, keys=keys)


# --- CLI -------------------------------------------------------------------------------------

SPEC_YAML = """\
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
spec:
  tokenLifetime: 2h
  selfSigned:
    issuer: openstorage.io
    sharedSecret: true
    rsaPublicKey: {secretName: px-rsa, key: rsa.pem}
    ecdsaPublicKey: {secretName: px-ec, key: ec.pem}
"""


@pytest.fixture
def cli(monkeypatch, capsys):
    for var in ("PXSEC_SPEC", tokens.ENV_SHARED, tokens.ENV_STORK, "PORTWORX_AUTH_SYSTEM_APPS_KEY",
                tokens.ENV_INSECURE_OIDC, tokens.ENV_PASSPHRASE):
        monkeypatch.delenv(var, raising=False)

    def run(*args, stdin: str = "", env: dict | None = None):
        for k, v in (env or {}).items():
            monkeypatch.setenv(k, v)
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        for k in env or {}:
            monkeypatch.delenv(k)
        return code, out, err

    return run


@pytest.fixture
def files(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC_YAML)
    (tmp_path / "rsa.key").write_bytes(pem_private(RSA_KEY))
    (tmp_path / "rsa.pub").write_bytes(pem_public(RSA_KEY))
    (tmp_path / "ec.key").write_bytes(pem_private(EC_KEY))
    (tmp_path / "ec.pub").write_bytes(pem_public(EC_KEY))
    return tmp_path


HS_ENV = {tokens.ENV_SHARED: SECRET}


@pytest.mark.parametrize("sign_args,alg,pyjwt_key", [
    ((), "HS256", SECRET),
    (("--private-key", "rsa.key"), "RS256", RSA_KEY.public_key()),
    (("--private-key", "ec.key"), "ES256", EC_KEY.public_key()),
])
def test_cli_generate_then_verify(cli, files, sign_args, alg, pyjwt_key):
    sign_args = [files / a if a.endswith(".key") else a for a in sign_args]
    code, out, err = cli("token", "generate", "--spec", files / "spec.yaml", "--auth-config",
                         FIXTURES / "admin-auth-config.yaml", *sign_args, env=HS_ENV)
    assert code == 0 and err == "", err
    token = out.strip()
    assert out == token + "\n"
    decoded = jwt.decode(token, pyjwt_key, algorithms=[alg], options=REQUIRE)
    assert decoded["exp"] - decoded["iat"] == 2 * 3600 + tokens.IAT_BACKDATE  # the spec's tokenLifetime
    assert (decoded["roles"], decoded["groups"], decoded["iss"]) == (["system.admin"], ["*"], "openstorage.io")

    code, out, err = cli("token", "verify", "--spec", files / "spec.yaml", "--rsa-public-key", files / "rsa.pub",
                         "--ecdsa-public-key", files / "ec.pub", "-", stdin=token + "\n", env=HS_ENV)
    assert code == 0, err
    assert out.splitlines()[0].startswith("valid:")
    assert "user:    admin@example.com/admin (sub)" in out and f"(self-signed, {alg})" in out
    assert "roles:   system.admin" in out and "groups:  *" in out and "expires: " in out
    assert token not in out + err and SECRET not in out + err


def test_cli_verify_json_and_token_argument(cli, files):
    token = hs(claims(iat=int(datetime.datetime.now().timestamp()) - 5,
                      exp=int(datetime.datetime.now().timestamp()) + 7200))
    code, out, err = cli("token", "verify", token, "--spec", files / "spec.yaml", "--json", env=HS_ENV)
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert doc["valid"] is True and doc["user"] == "u-1" and doc["roles"] == ["system.user"]
    assert 3600 < doc["expires_in_seconds"] <= 7200


def test_cli_verify_invalid_prints_one_line_on_stderr_only(cli, files):
    token = hs(claims(), OTHER_SECRET)
    code, out, err = cli("token", "verify", "--spec", files / "spec.yaml", stdin=token, env=HS_ENV)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("pxsec: error: invalid token: the signature does not verify")
    assert token not in err and SECRET not in err and OTHER_SECRET not in err

    code, out, err = cli("token", "verify", "--spec", files / "spec.yaml", "--json", stdin=token, env=HS_ENV)
    assert code == 1 and err == ""
    assert json.loads(out) == {"valid": False, "reason": "the signature does not verify with the shared secret "
                                                         "(PORTWORX_AUTH_JWT_SHAREDSECRET)"}


def test_cli_verify_expiry_and_leeway(cli, files):
    now = int(datetime.datetime.now().timestamp())
    token = hs(claims(iat=now - 7200, exp=now - 1800))  # expired half an hour ago
    code, _, err = cli("token", "verify", "--spec", files / "spec.yaml", stdin=token, env=HS_ENV)
    assert code == 1 and "expired at" in err and "leeway 60s" in err
    code, out, err = cli("token", "verify", "--spec", files / "spec.yaml", "--leeway", "3600", stdin=token, env=HS_ENV)
    assert code == 0 and "ago, within the leeway" in out, err


def test_cli_verify_needs_the_secret_and_the_spec(cli, files):
    token = hs(claims())
    code, out, err = cli("token", "verify", "--spec", files / "spec.yaml", stdin=token)
    assert code == 1 and out == "" and tokens.ENV_SHARED in err and err.startswith("pxsec: error: ")
    code, _, err = cli("token", "verify", stdin=token)
    assert code == 2 and "no spec" in err
    code, _, err = cli("token", "verify", "--spec", files / "spec.yaml", "--rsa-public-key", files / "rsa.key",
                       stdin=token)
    assert code == 1 and "this is a private key" in err


def test_cli_generate_secret_for_storageclass(cli, files):
    code, out, err = cli("token", "generate", "--issuer", "openstorage.io", "--name", "k8s", "--email", "k8s@x",
                         "--role", "system.user", "--secret", "px-user-token", "-n", "default", "-l", "1y", env=HS_ENV)
    assert code == 0, err
    doc = yaml.load(out, Loader=yaml.CSafeLoader)
    assert doc["kind"] == "Secret" and doc["metadata"]["name"] == "px-user-token"
    assert doc["metadata"]["namespace"] == "default" and list(doc["data"]) == ["auth-token"]
    token = base64.b64decode(doc["data"]["auth-token"]).decode()
    decoded = jwt.decode(token, SECRET, algorithms=["HS256"], options=REQUIRE)
    assert decoded["exp"] - decoded["iat"] == 365 * 86400 + tokens.IAT_BACKDATE
    assert decoded["sub"] == tokens.default_subject("k8s", "k8s@x")


def test_cli_generate_output_file(cli, files):
    target = files / "admin.jwt"
    args = ("token", "generate", "--issuer", "openstorage.io", "--name", "a", "--email", "a@x", "-r", "system.admin",
            "-o", target)
    code, out, err = cli(*args, env=HS_ENV)
    assert code == 0 and out == "" and err == ""
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert jwt.decode(target.read_text().strip(), SECRET, algorithms=["HS256"])["roles"] == ["system.admin"]
    code, _, err = cli(*args, env=HS_ENV)
    assert code == 1 and "already exists" in err


@pytest.mark.parametrize("args,env,code,message", [
    (("--issuer", "openstorage.io", "--name", "a", "--email", "b"), {}, 2, tokens.ENV_SHARED),
    (("--name", "a", "--email", "b"), HS_ENV, 2, "no issuer"),
    (("--issuer", "https://idp.example.com", "--name", "a", "--email", "b"), HS_ENV, 1, "not a URL"),
    (("--issuer", "openstorage.io", "--email", "b"), HS_ENV, 1, "needs a name"),
    (("--issuer", "openstorage.io", "--name", "a", "--email", "b", "-l", "1h30m"), HS_ENV, 1, "--lifetime"),
    (("--issuer", "openstorage.io", "--name", "a", "--email", "b", "--secret", "Bad_Name"), HS_ENV, 1, "--secret"),
])
def test_cli_generate_errors(cli, args, env, code, message):
    got, out, err = cli("token", "generate", *args, env=env)
    assert got == code and out == "" and message in err and err.count("\n") == 1
    assert SECRET not in err


def test_cli_generate_warns_when_the_spec_would_refuse(cli, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC_YAML.replace("    ecdsaPublicKey: {secretName: px-ec, key: ec.pem}\n", ""))
    key = tmp_path / "ec.key"
    key.write_bytes(pem_private(EC_KEY))
    code, out, err = cli("token", "generate", "--spec", spec, "--private-key", key, "--name", "a", "--email", "b",
                         "-r", "system.user")
    assert code == 0 and out.count(".") == 2
    assert "accepts no ES256 tokens" in err
    code, out, err = cli("token", "generate", "--spec", spec, "--issuer", "elsewhere.io", "--name", "a",
                         "--email", "b", "-r", "system.user", env=HS_ENV)
    assert code == 0 and "self-signed issuer is not 'elsewhere.io'" in err


def test_cli_oidc_only_spec_has_no_issuer_to_sign_for(cli, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("apiVersion: pxsec.io/v1alpha1\nkind: PortworxSecurity\nspec:\n"
                    "  oidc: {issuer: 'https://idp.example.com', clientId: px}\n")
    code, _, err = cli("token", "generate", "--spec", spec, "--name", "a", "--email", "b", env=HS_ENV)
    assert code == 1 and "no selfSigned issuer" in err


def test_cli_verify_stork_token(cli, files):
    now = int(datetime.datetime.now().timestamp())
    token = jwt.encode({"iss": "stork.openstorage.io", "sub": "stork.openstorage.io.node-1", "name": "Stork",
                        "email": "", "roles": ["system.admin"], "groups": ["*"], "iat": now - 60, "exp": now + 3600},
                       STORK_KEY, algorithm="HS256")
    code, out, err = cli("token", "verify", "--spec", files / "spec.yaml", stdin=token,
                         env={tokens.ENV_STORK: STORK_KEY})
    assert code == 0 and "(stork, HS256)" in out, err


# --- OIDC through the entry point, over https with a private CA -----------------------------

def _tls_pair(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pxsec test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM) + pem_private(key))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "server.pem")
    return ctx, tmp_path / "ca.pem"


def test_entry_point_verifies_an_oidc_token_over_https(tmp_path):
    tls, ca = _tls_pair(tmp_path)
    with OidcProvider(tls) as p:
        p.publish(("k1", RSA_KEY))
        spec = tmp_path / "spec.yaml"
        spec.write_text(yaml.dump({"apiVersion": "pxsec.io/v1alpha1", "kind": "PortworxSecurity", "spec": {
            "oidc": {"issuer": p.issuer, "clientId": "portworx", "customClaimNamespace": NS},
            "usernameClaim": "email"}}))
        now = int(datetime.datetime.now().timestamp())
        c = claims(iss=p.issuer, aud="portworx", iat=now - 5, exp=now + 3600, **{NS + "roles": ["system.admin"]})
        token = jwt.encode(c, RSA_KEY, algorithm="RS256", headers={"kid": "k1"})
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PXSEC_", "PORTWORX_AUTH_"))}

        def run(*extra):
            return subprocess.run([sys.executable, "-m", "renderer", "token", "verify", "--spec", str(spec), *extra],
                                  input=token, cwd=REPO, capture_output=True, text=True, env=env, timeout=60)

        r = run("--oidc-ca-file", str(ca), "--json")
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        assert (doc["valid"], doc["issuer_type"], doc["user"], doc["roles"]) == \
            (True, "oidc", "u1@example.com", ["system.admin"])
        assert p.hits == {"/.well-known/openid-configuration": 1, "/keys": 1}

        r = run()  # the test CA is not trusted by default: no verdict, an error
        assert r.returncode == 1 and r.stdout == ""
        assert r.stderr.startswith("pxsec: error: cannot fetch") and r.stderr.count("\n") == 1
        assert "Traceback" not in r.stderr


def test_entry_point_invalid_token_exit_code(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC_YAML)
    token = forge({"alg": "none"}, claims())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PXSEC_", "PORTWORX_AUTH_"))}
    r = subprocess.run([sys.executable, "-m", "renderer", "token", "verify", "-s", str(tmp_path / "spec.yaml")],
                       input=token, cwd=REPO, capture_output=True, text=True, env=env, timeout=60)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "pxsec: error: invalid token: unsigned token (alg none) refused\n"
