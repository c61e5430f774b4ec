"""openstorage tokens: claims, lifetimes, signing, and the check Portworx makes on a token.

Pure core behind `pxsec token generate|verify` (no printing, no typer). Everything follows
openstorage's `pkg/auth` (facts §4), which Portworx builds on:

- Claims: `iss`, `sub`, `name`, `email`, `iat`, `exp` are required in every token; `roles`
  and `groups` are lists of strings. The username is `sub`, `email` or `name` per
  `usernameClaim` and must not be empty.
- Lifetimes are `<integer><s|m|h|d|y>` (y = 365 days). openstorage's own parser would read
  `1h30m` as 30 minutes; pxsec refuses anything but exactly one number and one unit.
- Issuer routing: the token's `iss` (read unverified, as Portworx does) picks the one
  authenticator registered for exactly that issuer: the spec's self-signed issuer, its OIDC
  issuer, or Stork's issuer (when Stork is enabled). Any other issuer is not trusted.
- Keys by algorithm prefix, like openstorage's self-signed authenticator: HS* -> shared
  secret, RS* -> RSA public key, ES* -> ECDSA public key; `alg: none` and every other
  algorithm is refused. pyjwt is given exactly the algorithm family that matches the key,
  so an HS256 token can never be checked against a public key (algorithm confusion) and
  an RS256 token never against a secret.
- OIDC: keys come from the provider's JWKS, found through `<issuer>/.well-known/openid-
  configuration` -> `jwks_uri` (or a JWKS file); the discovery document's issuer must match
  (go-oidc's rule); the token must be signed with an algorithm the discovery document
  advertises (RS256 when it advertises none, go-oidc's default); `aud` must contain the
  client id; `<namespace>roles` / `<namespace>groups` replace the top-level claims.
- Clock skew: `exp`, `iat` and `nbf` are checked with a leeway (default 60 s) in both
  directions. Portworx itself allows none for `exp`/`iat`; pxsec allows it because the
  machine running `pxsec token verify` is not the Portworx node.

Messages never contain a key, a secret or the token; claim values that are shown (issuer,
key id) are quoted and shortened.
"""
from __future__ import annotations

import base64
import json
import re
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

import jwt

from .errors import Location, PxsecError
from .sources import read_bytes
from .keys import ENV_SHARED, ENV_STORK
from .spec import Spec

REQUIRED_CLAIMS = ("iss", "sub", "name", "email", "iat", "exp")
STRING_CLAIMS = ("iss", "sub", "name", "email")
CUSTOM_CLAIMS = ("roles", "groups")
USERNAME_CLAIMS = ("sub", "email", "name")

DEFAULT_LEEWAY = 60  # seconds of clock skew tolerated by `verify`
IAT_BACKDATE = 60  # `generate` back-dates iat by this much, as Stork does, so a node whose clock lags still accepts it
DEFAULT_LIFETIME = "1d"  # pxctl auth token generate's default
MAX_LIFETIME = 100 * 365 * 86400
LIFETIME_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}
_LIFETIME_RE = re.compile(r"([0-9]+)([smhdy])")

HMAC_ALGS = ("HS256", "HS384", "HS512")
RSA_ALGS = ("RS256", "RS384", "RS512")
EC_ALGS = ("ES256", "ES384", "ES512")
FAMILIES = {"HS": HMAC_ALGS, "RS": RSA_ALGS, "ES": EC_ALGS}
EC_CURVE_ALG = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}

ENV_INSECURE_OIDC = "PXSEC_ALLOW_INSECURE_OIDC"
ENV_PASSPHRASE = "PXSEC_PRIVATE_KEY_PASSPHRASE"

MAX_TOKEN_CHARS = 64 * 1024
MAX_DOCUMENT_BYTES = 1024 * 1024
MIN_SECRET_BYTES = 32

AUTH_CONFIG_FIELDS = ("name", "email", "sub", "roles", "groups")


def _show(value: Any, limit: int = 60) -> str:
    """A claim or header value for a message: JSON-quoted (no control characters), shortened."""
    text = json.dumps(value, ensure_ascii=True) if isinstance(value, str) else json.dumps(str(value))
    return text if len(text) <= limit else text[: limit - 4] + '..."'


def iso(ts: float) -> str:
    try:
        return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"{ts} (epoch seconds)"


def human_duration(seconds: float) -> str:
    seconds = int(abs(seconds))
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
        if len(parts) == 2:
            break
    return " ".join(parts)


# --- lifetimes -------------------------------------------------------------------------------

def parse_lifetime(text: str, where: Location | None = None) -> int:
    """`<integer><s|m|h|d|y>` -> seconds (y = 365 days). Compound forms like `1h30m` are refused."""
    m = _LIFETIME_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if not m:
        raise PxsecError(f"lifetime must be <integer><s|m|h|d|y>, for example 24h or 7d (got {_show(text)})",
                         where)
    seconds = int(m.group(1)) * LIFETIME_UNITS[m.group(2)]
    if seconds <= 0:
        raise PxsecError("lifetime must be greater than zero", where)
    if seconds > MAX_LIFETIME:
        raise PxsecError("lifetime must be at most 100y", where)
    return seconds


# --- identity and claims ---------------------------------------------------------------------

@dataclass(frozen=True)
class Identity:
    name: str
    email: str
    sub: str
    roles: tuple[str, ...]
    groups: tuple[str, ...]


def load_auth_config(path: str) -> tuple[dict, list[str]]:
    """Read a `pxctl auth token generate --auth-config` file (YAML: name, email, sub, roles,
    groups). Returns the fields and warnings (unknown keys, which pxctl also ignores)."""
    loc = Location(file=path)
    raw = read_bytes(path, "auth config")
    try:
        doc = _yaml_load(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise PxsecError("auth config is not UTF-8 text", loc) from None
    except ValueError as e:
        raise PxsecError(str(e), loc) from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise PxsecError("auth config must be a YAML mapping with name, email, sub, roles, groups", loc)
    out: dict = {}
    notes = []
    for key, value in doc.items():
        k = str(key)
        if k not in AUTH_CONFIG_FIELDS:
            notes.append(f"{path}: ignoring unknown field {_show(k)} (known: {', '.join(AUTH_CONFIG_FIELDS)})")
            continue
        floc = Location(file=path, field=k)
        if value is None:
            continue
        if k in CUSTOM_CLAIMS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise PxsecError("must be a list of strings", floc)
            out[k] = tuple(value)
        else:
            if not isinstance(value, str):
                raise PxsecError("must be a string", floc)
            out[k] = value
    return out, notes


def _yaml_load(text: str) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ValueError(f"{where}{getattr(e, 'problem', None) or 'not valid YAML'}") from None


def default_subject(name: str, email: str) -> str:
    """openstorage-sdk-auth's subject for an identity without one: base64("openstorage.io/<name>/<email>")."""
    return base64.b64encode(f"openstorage.io/{name}/{email}".encode("utf-8")).decode("ascii")


def make_identity(config: Mapping | None = None, *, name: str | None = None, email: str | None = None,
                  sub: str | None = None, roles=None, groups=None) -> Identity:
    """Identity from an auth config overridden by explicit values (flags)."""
    config = config or {}
    name = name if name is not None else config.get("name")
    email = email if email is not None else config.get("email")
    sub = sub if sub is not None else config.get("sub")
    roles = tuple(roles) if roles else tuple(config.get("roles") or ())
    groups = tuple(groups) if groups else tuple(config.get("groups") or ())
    for label, value in (("name", name), ("email", email)):
        if not value:
            raise PxsecError(f"the token needs a {label}: pass --{label} or put {label} in the --auth-config file",
                             Location(field=label))
    return Identity(name=name, email=email, sub=sub or default_subject(name, email), roles=roles, groups=groups)


def check_self_signed_issuer(issuer: str) -> str:
    if not issuer or any(c.isspace() for c in issuer):
        raise PxsecError("the issuer must be a non-empty name without spaces", Location(field="--issuer"))
    if issuer.lower().startswith(("https://", "http://")):
        raise PxsecError("a self-signed issuer is a plain name such as openstorage.io, not a URL "
                         "(https:// marks an OIDC issuer, whose tokens the provider signs)", Location(field="--issuer"))
    return issuer


def make_claims(ident: Identity, issuer: str, lifetime: int, now: float | None = None,
                iat_backdate: int = IAT_BACKDATE) -> dict:
    now = int(time.time() if now is None else now)
    return {
        "iss": issuer,
        "sub": ident.sub,
        "name": ident.name,
        "email": ident.email,
        "roles": list(ident.roles),
        "groups": list(ident.groups),
        "iat": now - iat_backdate,
        "exp": now + lifetime,
    }


# --- signing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Signer:
    algorithm: str
    key: Any = field(repr=False)
    warnings: tuple[str, ...] = ()


def shared_secret_signer(secret: str) -> Signer:
    """HS256 with the shared secret as raw bytes (openstorage does not base64-decode it)."""
    raw = secret.encode("utf-8")
    notes = ()
    if len(raw) < MIN_SECRET_BYTES:
        notes = (f"{ENV_SHARED} is shorter than {MIN_SECRET_BYTES} bytes; use a long random value "
                 f"(`pxsec keys generate`)",)
    return Signer("HS256", raw, notes)


def load_private_key(path: str, passphrase: str | None = None) -> Signer:
    """RS256 for an RSA key, ES256/384/512 for an ECDSA P-256/P-384/P-521 key (PEM)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    loc = Location(file=path)
    data = read_bytes(path, "private key")
    password = passphrase.encode("utf-8") if passphrase else None
    try:
        try:
            key = load_pem_private_key(data, password=password)
        except TypeError:
            if password is None:
                raise PxsecError(f"the private key is encrypted; put its passphrase in {ENV_PASSPHRASE}", loc) from None
            key = load_pem_private_key(data, password=None)  # not encrypted: the passphrase is not needed
    except (ValueError, UnsupportedAlgorithm):
        raise PxsecError("not a PEM private key (or the passphrase is wrong)", loc) from None
    if isinstance(key, rsa.RSAPrivateKey):
        notes = ()
        if key.key_size < 2048:
            notes = (f"{path}: the RSA key has only {key.key_size} bits; use 2048 or more",)
        return Signer("RS256", key, notes)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        alg = EC_CURVE_ALG.get(key.curve.name)
        if alg is None:
            raise PxsecError(f"ECDSA curve {key.curve.name} is not supported; use P-256, P-384 or P-521", loc)
        return Signer(alg, key)
    raise PxsecError("unsupported key type; use an RSA or ECDSA private key", loc)


def sign(claims: Mapping, signer: Signer) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
        return jwt.encode(dict(claims), signer.key, algorithm=signer.algorithm)


def token_secret(name: str, token: str, namespace: str | None = None) -> dict:
    """A Secret holding the token under `auth-token`, the key StorageClass secret parameters read."""
    from .keys import SKIP_RESOURCE, secret_manifest

    return secret_manifest(name, {"auth-token": token}, namespace, SKIP_RESOURCE)


# --- verification keys -----------------------------------------------------------------------

def load_public_key(path: str, kind: str):
    """An RSA or ECDSA public key from a PEM file (what `-jwt_rsa_pubkey_file` points at)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    loc = Location(file=path)
    data = read_bytes(path, "public key")
    if b"PRIVATE KEY" in data:
        raise PxsecError("this is a private key; pass the public key", loc)
    try:
        key = load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise PxsecError("not a PEM public key", loc) from None
    want = rsa.RSAPublicKey if kind == "rsa" else ec.EllipticCurvePublicKey
    if not isinstance(key, want):
        raise PxsecError(f"not an {'RSA' if kind == 'rsa' else 'ECDSA'} public key", loc)
    return key


def _is_loopback(host: str | None) -> bool:
    import ipaddress

    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, allow_insecure: bool) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and allow_insecure and _is_loopback(parts.hostname):
        return
    raise PxsecError(f"refusing to fetch {_show(url, 120)}: OIDC discovery needs https "
                     f"(plain http only for 127.0.0.1/localhost with {ENV_INSECURE_OIDC}=1)")


def fetch_json(url: str, *, allow_insecure: bool = False, ca_file: str | None = None, timeout: float = 10.0) -> Any:
    """GET a JSON document over https (or loopback http when allowed), following only redirects
    that pass the same rule, reading at most 1 MiB."""
    import ssl
    import urllib.error
    import urllib.request
    from urllib.parse import urlsplit

    check_url(url, allow_insecure)

    class _Redirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            check_url(newurl, allow_insecure)
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as e:
        raise PxsecError(f"cannot load CA file: {getattr(e, 'strerror', None) or e}", Location(file=ca_file)) from None
    handlers = [_Redirect(), urllib.request.HTTPSHandler(context=context)]
    if _is_loopback(urlsplit(url).hostname):
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "pxsec"})
    shown = _show(url, 120)
    try:
        with opener.open(request, timeout=timeout) as resp:
            body = resp.read(MAX_DOCUMENT_BYTES + 1)
    except urllib.error.HTTPError as e:
        raise PxsecError(f"cannot fetch {shown}: HTTP {e.code}") from None
    except urllib.error.URLError as e:
        raise PxsecError(f"cannot fetch {shown}: {e.reason}") from None
    except (OSError, ValueError) as e:  # timeouts, resets, malformed responses
        raise PxsecError(f"cannot fetch {shown}: {type(e).__name__}") from None
    if len(body) > MAX_DOCUMENT_BYTES:
        raise PxsecError(f"cannot fetch {shown}: larger than 1 MiB")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise PxsecError(f"{shown} did not return JSON") from None


class Jwks:
    """An OIDC provider's signing keys: from a JWKS file, or discovered and fetched lazily.

    `candidates()` returns the keys that may have signed a token; `refresh()` refetches the
    JWKS (only for discovered sets), which is how a token signed after a key rotation, with a
    key id the cached set does not hold yet, still verifies.
    """

    def __init__(self, issuer: str, *, keys: list | None = None, allow_insecure: bool = False,
                 ca_file: str | None = None, timeout: float = 10.0):
        self.issuer = issuer
        self.allow_insecure = allow_insecure
        self.ca_file = ca_file
        self.timeout = timeout
        self.static = keys is not None
        self.signing_algs: tuple[str, ...] | None = None
        self._jwks_uri: str | None = None
        self._keys = self._parse(keys) if keys is not None else None

    @classmethod
    def from_file(cls, issuer: str, path: str) -> "Jwks":
        raw = read_bytes(path, "JWKS")
        try:
            doc = json.loads(raw)
        except (ValueError, RecursionError):
            raise PxsecError("JWKS file is not JSON", Location(file=path)) from None
        return cls(issuer, keys=cls._key_list(doc, path))

    @staticmethod
    def _key_list(doc: Any, source: str) -> list:
        if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
            raise PxsecError(f"{source}: not a JWKS (an object with a \"keys\" list)")
        return doc["keys"]

    @staticmethod
    def _parse(keys: list) -> list:
        parsed = []
        for k in keys:
            if not isinstance(k, dict) or k.get("use") not in (None, "sig") or k.get("kty") not in ("RSA", "EC"):
                continue
            try:
                parsed.append((k, jwt.PyJWK(k).key))
            except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
                continue  # a key pyjwt cannot use cannot have verified anything either
        return parsed

    def _discover(self) -> None:
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        doc = fetch_json(url, allow_insecure=self.allow_insecure, ca_file=self.ca_file, timeout=self.timeout)
        if not isinstance(doc, dict):
            raise PxsecError(f"{_show(url, 120)} is not an OIDC discovery document")
        if doc.get("issuer") != self.issuer:
            raise PxsecError(f"the provider's discovery document names issuer {_show(doc.get('issuer'), 120)}, "
                             f"not {_show(self.issuer, 120)}; Portworx would refuse this provider")
        uri = doc.get("jwks_uri")
        if not isinstance(uri, str) or not uri:
            raise PxsecError(f"{_show(url, 120)} has no jwks_uri")
        algs = doc.get("id_token_signing_alg_values_supported")
        if isinstance(algs, list):
            self.signing_algs = tuple(a for a in algs if isinstance(a, str))
        self._jwks_uri = uri

    def _fetch_keys(self) -> None:
        if self._jwks_uri is None:
            self._discover()
        doc = fetch_json(self._jwks_uri, allow_insecure=self.allow_insecure, ca_file=self.ca_file,
                         timeout=self.timeout)
        self._keys = self._parse(self._key_list(doc, _show(self._jwks_uri, 120)))

    def allowed_algorithms(self) -> tuple[str, ...] | None:
        """What the provider signs with (go-oidc: the discovery list, else RS256); None for a file."""
        if self.static:
            return None
        if self._jwks_uri is None:
            self._discover()
        return self.signing_algs if self.signing_algs else ("RS256",)

    def load(self) -> bool:
        """Fetch the keys unless already held; True if they were fetched just now."""
        if self._keys is not None:
            return False
        self._fetch_keys()
        return True

    def candidates(self, kid: str | None, alg: str) -> list[tuple[Any, str]]:
        """Keys of the algorithm's type (and the token's key id, if it names one)."""
        self.load()
        kty = "RSA" if alg.startswith("RS") else "EC"
        out = []
        for jwk, key in self._keys:
            if jwk.get("kty") != kty:
                continue
            if kid is not None and jwk.get("kid") != kid:
                continue
            if jwk.get("alg") not in (None, alg):
                continue
            out.append((key, f"the provider's key {_show(jwk.get('kid') or '(no kid)')}"))
        return out

    def refresh(self) -> bool:
        if self.static:
            return False
        self._fetch_keys()
        return True


@dataclass
class VerifyKeys:
    """What a Portworx node configured by the spec holds to check tokens."""

    shared_secret: bytes | None = field(default=None, repr=False)
    stork_key: bytes | None = field(default=None, repr=False)
    stork_key_env: str = ENV_STORK
    rsa_public_key: Any = None
    ecdsa_public_key: Any = None
    jwks: Jwks | None = None


def verify_keys(spec: Spec, environ: Mapping[str, str], *, rsa_public_key: str | None = None,
                ecdsa_public_key: str | None = None, jwks_file: str | None = None,
                ca_file: str | None = None, timeout: float = 10.0) -> VerifyKeys:
    """Keys from the environment (secrets) and files (public keys, JWKS); OIDC keys are
    discovered lazily, only if a token from the OIDC issuer needs them."""
    stork_env = spec.stork_key_env
    stork = environ.get(stork_env) or environ.get(ENV_STORK)
    shared = environ.get(ENV_SHARED)
    jwks = None
    if spec.oidc is not None:
        if jwks_file:
            jwks = Jwks.from_file(spec.oidc.issuer, jwks_file)
        else:
            jwks = Jwks(spec.oidc.issuer, allow_insecure=environ.get(ENV_INSECURE_OIDC, "") in ("1", "true", "yes"),
                        ca_file=ca_file, timeout=timeout)
    return VerifyKeys(
        shared_secret=shared.encode("utf-8") if shared else None,
        stork_key=stork.encode("utf-8") if stork else None,
        stork_key_env=stork_env,
        rsa_public_key=load_public_key(rsa_public_key, "rsa") if rsa_public_key else None,
        ecdsa_public_key=load_public_key(ecdsa_public_key, "ecdsa") if ecdsa_public_key else None,
        jwks=jwks,
    )


# --- verification ----------------------------------------------------------------------------

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


class _Rejected(Exception):
    pass


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
            raise _Rejected(f"{alg} token from {_show(iss)}, but the spec accepts no shared-secret tokens "
                            f"(selfSigned.sharedSecret is not true)")
        if keys.shared_secret is None:
            raise PxsecError(f"the token is signed with {alg}; set {ENV_SHARED} to the shared secret to verify it", where)
        return [(keys.shared_secret, f"the shared secret ({ENV_SHARED})")]
    kind, ref, key, flag = (("RSA", ss.rsa_public_key, keys.rsa_public_key, "--rsa-public-key")
                            if alg.startswith("RS") else
                            ("ECDSA", ss.ecdsa_public_key, keys.ecdsa_public_key, "--ecdsa-public-key"))
    if ref is None:
        field_name = "rsaPublicKey" if kind == "RSA" else "ecdsaPublicKey"
        raise _Rejected(f"{alg} token from {_show(iss)}, but the spec has no {kind} public key "
                        f"(selfSigned.{field_name} is not set)")
    if key is None:
        raise PxsecError(f"the token is signed with {alg}; the spec reads the {kind} public key from Secret "
                         f"{ref.secret_name}/{ref.key}: pass that key as {flag} FILE", where)
    return [(key, f"the {kind} public key")]


def _first_that_verifies(token: str, alg: str, candidates: list[tuple[Any, str]]) -> dict:
    last = None
    for key, desc in candidates:
        try:
            return _decode(token, key, alg, desc)
        except _Rejected as r:
            last = r
    raise last


def _oidc_payload(token: str, alg: str, kid: Any, spec: Spec, keys: VerifyKeys) -> dict:
    if alg.startswith("HS"):
        raise _Rejected(f"{alg} is a shared-secret algorithm; tokens from the OIDC issuer are only checked against "
                        f"the provider's public keys (algorithm confusion refused)")
    jwks = keys.jwks
    if jwks is None:
        raise PxsecError("no JWKS for the OIDC issuer", Location(file=spec.source, field="spec.oidc"))
    allowed = jwks.allowed_algorithms()
    if allowed is not None and alg not in allowed:
        raise _Rejected(f"the OIDC provider does not sign with {alg} "
                        f"(its discovery document allows {', '.join(allowed) or 'nothing'})")
    if kid is not None and not isinstance(kid, str):
        raise _Rejected("the header's kid is not a string")
    what = f"key id {_show(kid)}" if kid is not None else f"{alg[:2]} key"
    just_loaded = jwks.load()
    found = jwks.candidates(kid, alg)
    try:
        if not found:
            raise _Rejected(f"the OIDC provider's JWKS has no {what} for {alg}")
        return _first_that_verifies(token, alg, found)
    except _Rejected:
        # The provider may have rotated its keys since the set was fetched: refetch once.
        if just_loaded or not jwks.refresh():
            raise
    found = jwks.candidates(kid, alg)
    if not found:
        raise _Rejected(f"the OIDC provider's JWKS has no {what} for {alg}")
    return _first_that_verifies(token, alg, found)


def _decode(token: str, key: Any, alg: str, desc: str) -> dict:
    family = FAMILIES[alg[:2]]
    options = {"verify_signature": True, "verify_exp": False, "verify_nbf": False, "verify_iat": False,
               "verify_aud": False, "verify_iss": False, "verify_sub": False, "verify_jti": False, "require": []}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
            return jwt.decode(token, key, algorithms=list(family), options=options)
    except jwt.InvalidSignatureError:
        raise _Rejected(f"the signature does not verify with {desc}") from None
    except jwt.InvalidAlgorithmError:
        raise _Rejected(f"algorithm {_show(alg)} is not allowed with {desc}") from None
    except jwt.InvalidKeyError:
        raise _Rejected(f"{desc} cannot verify {alg} signatures") from None
    except jwt.PyJWTError as e:
        raise _Rejected(f"malformed token ({type(e).__name__})") from None


def _number(claims: dict, name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Rejected(f"claim {name} must be a number of seconds since the epoch")
    return value


def _check_claims(claims: dict, kind: str, spec: Spec, now: float, leeway: float) -> None:
    for c in REQUIRED_CLAIMS:
        if claims.get(c) is None:
            raise _Rejected(f"required claim {c} is missing")
    for c in STRING_CLAIMS:
        if not isinstance(claims[c], str):
            raise _Rejected(f"claim {c} must be a string")
    exp, iat, nbf = _number(claims, "exp"), _number(claims, "iat"), _number(claims, "nbf")
    if exp <= now - leeway:
        raise _Rejected(f"expired at {iso(exp)} ({human_duration(now - exp)} ago; leeway {int(leeway)}s)")
    if iat > now + leeway:
        raise _Rejected(f"issued in the future (iat {iso(iat)}, {human_duration(iat - now)} ahead; "
                        f"leeway {int(leeway)}s)")
    if nbf is not None and nbf > now + leeway:
        raise _Rejected(f"not valid before {iso(nbf)} (leeway {int(leeway)}s)")
    for c in CUSTOM_CLAIMS:
        v = claims.get(c)
        if v is not None and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
            raise _Rejected(f"claim {c} must be a list of strings")
    if kind == "oidc":
        aud = claims.get("aud")
        auds = [aud] if isinstance(aud, str) else (aud if isinstance(aud, list) else [])
        if spec.oidc.client_id not in auds:
            raise _Rejected(f"the audience (aud) does not contain the client id {_show(spec.oidc.client_id)}")


def verify(token: str, spec: Spec, keys: VerifyKeys, *, now: float | None = None,
           leeway: float = DEFAULT_LEEWAY) -> Verdict:
    """Would Portworx configured by `spec` accept `token`, and as whom?

    Returns a Verdict (valid, or invalid with the reason). Raises PxsecError when the answer
    cannot be known: a key it needs is not available, or the OIDC provider cannot be reached.
    """
    now = time.time() if now is None else now
    try:
        return _verify(token.strip(), spec, keys, now, leeway)
    except _Rejected as r:
        return Verdict(valid=False, reason=str(r), username_claim=spec.username_claim or "sub")


def _verify(token: str, spec: Spec, keys: VerifyKeys, now: float, leeway: float) -> Verdict:
    if not token:
        raise _Rejected("empty token")
    if len(token) > MAX_TOKEN_CHARS:
        raise _Rejected("longer than 64 KiB; not a token")
    if token.count(".") != 2 or any(c.isspace() for c in token):
        raise _Rejected("not a JWT (expected three dot-separated base64url parts)")
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as e:
        raise _Rejected(f"not a JWT ({type(e).__name__})") from None
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise _Rejected("the header names no algorithm (alg)")
    if alg.lower() == "none":
        raise _Rejected("unsigned token (alg none) refused")
    if alg[:2] not in FAMILIES or alg not in FAMILIES[alg[:2]]:
        raise _Rejected(f"algorithm {_show(alg)} is not supported (Portworx takes HS*, RS* or ES*)")

    iss = unverified.get("iss")
    if iss is None:
        raise _Rejected("required claim iss is missing")
    if not isinstance(iss, str):
        raise _Rejected("claim iss must be a string")
    trusted = trusted_issuers(spec)
    kind = trusted.get(iss)
    if kind is None:
        raise _Rejected(f"issuer {_show(iss)} is not trusted (this spec trusts {', '.join(map(_show, trusted))})")

    if kind == "self-signed":
        payload = _first_that_verifies(token, alg, _self_signed_keys(alg, iss, spec, keys))
    elif kind == "stork":
        if not alg.startswith("HS"):
            raise _Rejected(f"{alg} token from Stork's issuer {_show(iss)}; Stork's tokens are checked with the "
                            f"shared Stork key (HS*) only")
        if keys.stork_key is None:
            raise PxsecError(f"the token is from Stork's issuer; set {keys.stork_key_env} to the Stork key to verify it",
                             Location(file=spec.source, field="spec.stork"))
        payload = _decode(token, keys.stork_key, alg, f"the Stork key ({keys.stork_key_env})")
    else:
        payload = _oidc_payload(token, alg, header.get("kid"), spec, keys)

    claims = dict(payload)
    namespace = spec.oidc.custom_claim_namespace if kind == "oidc" and spec.oidc else None
    if namespace:
        for c in CUSTOM_CLAIMS:
            if namespace + c in claims:
                claims[c] = claims[namespace + c]
    _check_claims(claims, kind, spec, now, leeway)
    username_claim = spec.username_claim or "sub"
    user = claims.get(username_claim)
    if not user:
        raise _Rejected(f"the username claim {username_claim} is empty")
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
