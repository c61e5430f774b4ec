"""The check Portworx makes on a token, as a verdict: would a node configured by the spec accept
it, and as whom? (openstorage `pkg/auth`; see ../shared/docs/px-security-facts.md, "openstorage
auth model".)

- Issuer routing: the token's `iss` (read unverified, as Portworx does) picks the one
  authenticator registered for exactly that issuer: the spec's self-signed issuer, its OIDC
  issuer, or Stork's issuer (when Stork is enabled). Any other issuer is not trusted.
- Keys by algorithm prefix, like openstorage's self-signed authenticator: HS* -> shared
  secret, RS* -> RSA public key, ES* -> ECDSA public key; `alg: none` and every other
  algorithm is refused. pyjwt is given exactly the algorithm family that matches the key,
  so an HS256 token can never be checked against a public key (algorithm confusion) and
  an RS256 token never against a secret.
- OIDC: the provider's keys (see jwks); the token must be signed with an algorithm the
  discovery document advertises; `aud` must contain the client id; `<namespace>roles` /
  `<namespace>groups` replace the top-level claims.
- Clock skew: `exp`, `iat` and `nbf` are checked with a leeway (default 60 s) in both
  directions. Portworx itself allows none for `exp`/`iat`; pxsec allows it because the
  machine running `pxsec token verify` is not the Portworx node.

Messages never contain a key, a secret or the token; claim values that are shown (issuer,
key id) are quoted and shortened.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import jwt

from .. import portworx as px
from ..errors import Location, PxsecError
from ..spec import Spec
from .claims import CUSTOM_CLAIMS, Rejected, check_claims
from .common import MAX_TOKEN_CHARS, show
from .keyring import VerifyKeys
from .lifetimes import human_duration, iso
from .signing import FAMILIES

DEFAULT_LEEWAY = 60  # seconds of clock skew tolerated by `verify`


@dataclass(frozen=True)
class Verdict:
    valid: bool
    reason: str | None = None
    user: str | None = None
    username_claim: str = "sub"
    issuer: str | None = None
    issuer_type: str | None = None  # self-signed | oidc | stork
    algorithm: str | None = None
    subject: str | None = None
    name: str | None = None
    email: str | None = None
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    expires_at: float | None = None

    def as_dict(self, now: float | None = None) -> dict:
        if not self.valid:
            return {"valid": False, "reason": self.reason}
        now = time.time() if now is None else now
        return {
            "valid": True,
            "user": self.user,
            "username_claim": self.username_claim,
            "issuer": self.issuer,
            "issuer_type": self.issuer_type,
            "algorithm": self.algorithm,
            "subject": self.subject,
            "name": self.name,
            "email": self.email,
            "roles": list(self.roles),
            "groups": list(self.groups),
            "expires_at": iso(self.expires_at),
            "expires_in_seconds": int(self.expires_at - now),
        }

    def summary(self, now: float | None = None) -> list[str]:
        if not self.valid:
            return [f"invalid: {self.reason}"]
        now = time.time() if now is None else now
        left = self.expires_at - now
        when = f"in {human_duration(left)}" if left > 0 else f"{human_duration(left)} ago, within the leeway"
        return [
            "valid: Portworx configured by this spec accepts this token",
            f"user:    {self.user} ({self.username_claim})",
            f"issuer:  {self.issuer} ({self.issuer_type}, {self.algorithm})",
            f"roles:   {', '.join(self.roles) if self.roles else '(none)'}",
            f"groups:  {', '.join(self.groups) if self.groups else '(none)'}",
            f"expires: {iso(self.expires_at)} ({when})",
        ]


def trusted_issuers(spec: Spec) -> dict[str, str]:
    """Issuer -> authenticator type, as a Portworx node configured by the spec registers them."""
    out: dict[str, str] = {}
    if spec.self_signed is not None:
        out[spec.self_signed.issuer] = "self-signed"
    if spec.oidc is not None:
        out.setdefault(spec.oidc.issuer, "oidc")
    if spec.stork_enabled:
        out.setdefault(spec.stork_issuer, "stork")
    return out


def _self_signed_keys(alg: str, iss: str, spec: Spec, keys: VerifyKeys) -> list[tuple[Any, str]]:
    ss = spec.self_signed
    where = Location(file=spec.source, field="spec.selfSigned")
    if alg.startswith("HS"):
        if not ss.shared_secret:
            raise Rejected(f"{alg} token from {show(iss)}, but the spec accepts no shared-secret tokens "
                           f"(selfSigned.sharedSecret is not true)")
        if keys.shared_secret is None:
            raise PxsecError(f"the token is signed with {alg}; set {px.SHARED_KEY} to the shared secret to verify it", where)
        return [(keys.shared_secret, f"the shared secret ({px.SHARED_KEY})")]
    kind, ref, key, flag = (("RSA", ss.rsa_public_key, keys.rsa_public_key, "--rsa-public-key")
                            if alg.startswith("RS") else
                            ("ECDSA", ss.ecdsa_public_key, keys.ecdsa_public_key, "--ecdsa-public-key"))
    if ref is None:
        field_name = "rsaPublicKey" if kind == "RSA" else "ecdsaPublicKey"
        raise Rejected(f"{alg} token from {show(iss)}, but the spec has no {kind} public key "
                       f"(selfSigned.{field_name} is not set)")
    if key is None:
        raise PxsecError(f"the token is signed with {alg}; the spec reads the {kind} public key from Secret "
                         f"{ref.secret_name}/{ref.key}: pass that key as {flag} FILE", where)
    return [(key, f"the {kind} public key")]


def _first_that_verifies(token: str, alg: str, candidates: list[tuple[Any, str]]) -> dict:
    last = None
    for key, desc in candidates:
        try:
            return decode(token, key, alg, desc)
        except Rejected as r:
            last = r
    raise last


def _oidc_payload(token: str, alg: str, kid: Any, spec: Spec, keys: VerifyKeys) -> dict:
    if alg.startswith("HS"):
        raise Rejected(f"{alg} is a shared-secret algorithm; tokens from the OIDC issuer are only checked against "
                       f"the provider's public keys (algorithm confusion refused)")
    jwks = keys.jwks
    if jwks is None:
        raise PxsecError("no JWKS for the OIDC issuer", Location(file=spec.source, field="spec.oidc"))
    allowed = jwks.allowed_algorithms()
    if allowed is not None and alg not in allowed:
        raise Rejected(f"the OIDC provider does not sign with {alg} "
                       f"(its discovery document allows {', '.join(allowed) or 'nothing'})")
    if kid is not None and not isinstance(kid, str):
        raise Rejected("the header's kid is not a string")
    what = f"key id {show(kid)}" if kid is not None else f"{alg[:2]} key"
    just_loaded = jwks.load()
    found = jwks.candidates(kid, alg)
    try:
        if not found:
            raise Rejected(f"the OIDC provider's JWKS has no {what} for {alg}")
        return _first_that_verifies(token, alg, found)
    except Rejected:
        # The provider may have rotated its keys since the set was fetched: refetch once.
        if just_loaded or not jwks.refresh():
            raise
    found = jwks.candidates(kid, alg)
    if not found:
        raise Rejected(f"the OIDC provider's JWKS has no {what} for {alg}")
    return _first_that_verifies(token, alg, found)


def decode(token: str, key: Any, alg: str, desc: str) -> dict:
    """The payload, if `key` verifies the signature; pyjwt may use only `alg`'s family."""
    family = FAMILIES[alg[:2]]
    options = {"verify_signature": True, "verify_exp": False, "verify_nbf": False, "verify_iat": False,
               "verify_aud": False, "verify_iss": False, "verify_sub": False, "verify_jti": False, "require": []}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
            return jwt.decode(token, key, algorithms=list(family), options=options)
    except jwt.InvalidSignatureError:
        raise Rejected(f"the signature does not verify with {desc}") from None
    except jwt.InvalidAlgorithmError:
        raise Rejected(f"algorithm {show(alg)} is not allowed with {desc}") from None
    except jwt.InvalidKeyError:
        raise Rejected(f"{desc} cannot verify {alg} signatures") from None
    except jwt.PyJWTError as e:
        raise Rejected(f"malformed token ({type(e).__name__})") from None


def verify(token: str, spec: Spec, keys: VerifyKeys, *, now: float | None = None,
           leeway: float = DEFAULT_LEEWAY) -> Verdict:
    """Would Portworx configured by `spec` accept `token`, and as whom?

    Returns a Verdict (valid, or invalid with the reason). Raises PxsecError when the answer
    cannot be known: a key it needs is not available, or the OIDC provider cannot be reached.
    """
    now = time.time() if now is None else now
    try:
        return _verify(token.strip(), spec, keys, now, leeway)
    except Rejected as r:
        return Verdict(valid=False, reason=str(r), username_claim=spec.username_claim or "sub")


def _header(token: str) -> tuple[dict, dict, str]:
    if not token:
        raise Rejected("empty token")
    if len(token) > MAX_TOKEN_CHARS:
        raise Rejected("longer than 64 KiB; not a token")
    if token.count(".") != 2 or any(c.isspace() for c in token):
        raise Rejected("not a JWT (expected three dot-separated base64url parts)")
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as e:
        raise Rejected(f"not a JWT ({type(e).__name__})") from None
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise Rejected("the header names no algorithm (alg)")
    if alg.lower() == "none":
        raise Rejected("unsigned token (alg none) refused")
    if alg[:2] not in FAMILIES or alg not in FAMILIES[alg[:2]]:
        raise Rejected(f"algorithm {show(alg)} is not supported (Portworx takes HS*, RS* or ES*)")
    return header, unverified, alg


def _verify(token: str, spec: Spec, keys: VerifyKeys, now: float, leeway: float) -> Verdict:
    header, unverified, alg = _header(token)
    iss = unverified.get("iss")
    if iss is None:
        raise Rejected("required claim iss is missing")
    if not isinstance(iss, str):
        raise Rejected("claim iss must be a string")
    trusted = trusted_issuers(spec)
    kind = trusted.get(iss)
    if kind is None:
        raise Rejected(f"issuer {show(iss)} is not trusted (this spec trusts {', '.join(map(show, trusted))})")

    if kind == "self-signed":
        payload = _first_that_verifies(token, alg, _self_signed_keys(alg, iss, spec, keys))
    elif kind == "stork":
        if not alg.startswith("HS"):
            raise Rejected(f"{alg} token from Stork's issuer {show(iss)}; Stork's tokens are checked with the "
                           f"shared Stork key (HS*) only")
        if keys.stork_key is None:
            raise PxsecError(f"the token is from Stork's issuer; set {keys.stork_key_env} to the Stork key to verify it",
                             Location(file=spec.source, field="spec.stork"))
        payload = decode(token, keys.stork_key, alg, f"the Stork key ({keys.stork_key_env})")
    else:
        payload = _oidc_payload(token, alg, header.get("kid"), spec, keys)

    claims = dict(payload)
    namespace = spec.oidc.custom_claim_namespace if kind == "oidc" and spec.oidc else None
    if namespace:
        for c in CUSTOM_CLAIMS:
            if namespace + c in claims:
                claims[c] = claims[namespace + c]
    check_claims(claims, now, leeway, audience=spec.oidc.client_id if kind == "oidc" else None)
    username_claim = spec.username_claim or "sub"
    user = claims.get(username_claim)
    if not user:
        raise Rejected(f"the username claim {username_claim} is empty")
    return Verdict(
        valid=True,
        user=user,
        username_claim=username_claim,
        issuer=iss,
        issuer_type=kind,
        algorithm=alg,
        subject=claims["sub"],
        name=claims["name"],
        email=claims["email"],
        roles=tuple(claims.get("roles") or ()),
        groups=tuple(claims.get("groups") or ()),
        expires_at=claims["exp"],
    )
