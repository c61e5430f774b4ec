"""pxsec.tokens.jwks and .httpclient against a real HTTP server on 127.0.0.1 (port 0) serving a
discovery document and a JWKS."""
from __future__ import annotations

import contextlib
import json

import jwt
import pytest

from pxsec import tokens
from pxsec.errors import PxsecError
from tokenkit import (  # fixtures too: provider
    DROP, EC_KEY, NOW, NS, OidcProvider, RSA_KEY, RSA_OTHER, SECRET, TricklingProvider, b64, check, claims, forge,
    hmac_with, hs, oidc_claims, oidc_keys, oidc_spec, pem_public, provider, rejected)  # noqa: F401


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


# --- an overall deadline, not only a per-read timeout ------------------------------------------

@pytest.mark.parametrize("slow_path,where", [
    ("/.well-known/openid-configuration", "head"),  # the status line itself trickles
    ("/keys", "body"),  # discovery is quick, then the JWKS body trickles
])
def test_a_trickling_provider_meets_the_deadline(slow_path, where):
    """One byte every 2 s never trips the 10 s per-read timeout; the 1 s deadline for discovery and
    the JWKS together ends the fetch with an error instead of holding `verify` for minutes."""
    with TricklingProvider(slow_path, where) as p:
        token = jwt.encode(oidc_claims(p.issuer), RSA_KEY, algorithm="RS256", headers={"kid": "k1"})
        keys = tokens.VerifyKeys(jwks=tokens.Jwks(p.issuer, allow_insecure=True, timeout=10, deadline=1))
        with pytest.raises(PxsecError, match=r"^cannot fetch \"http://127\.0\.0\.1:\d+" + slow_path +
                           r"\": took longer than 1s \(the OIDC discovery and JWKS deadline; --oidc-timeout\)$"):
            check(token, spec=oidc_spec(p.issuer), keys=keys)
        assert p.requests[slow_path] == 1 and p.bytes_sent < 10  # reached, trickling, and given up on early


def test_the_deadline_does_not_cut_a_prompt_provider(provider):
    keys = tokens.VerifyKeys(jwks=tokens.Jwks(provider.issuer, allow_insecure=True, timeout=10, deadline=30))
    token = jwt.encode(oidc_claims(provider.issuer), RSA_KEY, algorithm="RS256", headers={"kid": "k1"})
    assert check(token, spec=oidc_spec(provider.issuer), keys=keys).valid
    keys.jwks.close()
