"""Who a token is for, and the claims Portworx reads (openstorage `pkg/auth/claims.go`; see
../shared/docs/px-security-facts.md, "Claims").

- Required in every token (self-signed and OIDC): `iss`, `sub`, `exp`, `iat`, `name`, `email`.
- Custom claims: `roles` and `groups`, lists of strings; `generate` always writes them (a token
  without roles is allowed nothing), `verify` accepts them missing.
- The username is `sub`, `email` or `name` per `usernameClaim` and must not be empty.
- A missing `sub` is derived like openstorage-sdk-auth does: base64("openstorage.io/<name>/<email>").
"""
from __future__ import annotations

import base64
import math
import time
from dataclasses import dataclass
from typing import Any, Mapping

from ..errors import Location, PxsecError, UsageError
from ..sources import read_bytes
from .common import show
from .lifetimes import human_duration, iso

REQUIRED_CLAIMS = ("iss", "sub", "exp", "iat", "name", "email")
STRING_CLAIMS = ("iss", "sub", "name", "email")
CUSTOM_CLAIMS = ("roles", "groups")
USERNAME_CLAIMS = ("sub", "email", "name")
AUTH_CONFIG_FIELDS = ("name", "email", "sub", "roles", "groups")

IAT_BACKDATE = 60  # `generate` back-dates iat by this much, as Stork does, so a node whose clock lags still accepts it


class Rejected(Exception):
    """The token is invalid: the verdict's reason (never an error of pxsec's own)."""


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
    raw = read_bytes(path, "auth config")
    return parse_auth_config(raw, path)


def parse_auth_config(raw: bytes, path: str) -> tuple[dict, list[str]]:
    loc = Location(file=path)
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
            notes.append(f"{path}: ignoring unknown field {show(k)} (known: {', '.join(AUTH_CONFIG_FIELDS)})")
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
                  sub: str | None = None, roles=None, groups=None, default_name: str | None = None,
                  email_domain: str | None = None) -> Identity:
    """Identity from an auth config overridden by explicit values (flags).

    A system or role token (`--secret px-user-token`, `--role system.user`) needs no person:
    without a name it is named `default_name` (the caller passes the Secret's name, else the
    first role), and without an email it gets `<name>@<email_domain>` (the issuer), as the
    Portworx operator names its own `px-user-token` (`createToken`: name `<secret>`, email
    `<secret>@<issuer>`). Nothing to name it after is a usage error (exit 2)."""
    config = config or {}
    name = name if name is not None else config.get("name")
    email = email if email is not None else config.get("email")
    sub = sub if sub is not None else config.get("sub")
    roles = tuple(roles) if roles else tuple(config.get("roles") or ())
    groups = tuple(groups) if groups else tuple(config.get("groups") or ())
    name = name or default_name or (roles[0] if roles else None)
    if not name:
        raise UsageError("the token needs a name: pass --name (or --role or --secret, which then name it), "
                         "or put name in the --auth-config file", Location(field="name"))
    if not email and email_domain:
        email = f"{name}@{email_domain}"
    if not email:
        raise UsageError("the token needs an email: pass --email or put email in the --auth-config file",
                         Location(field="email"))
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


# --- checking the claims of a token whose signature verified ---------------------------------

def seconds_claim(claims: Mapping, name: str) -> float | None:
    """A time claim as a finite number of seconds (go's float64 cannot hold NaN, Infinity or 1e400
    from JSON, so Portworx refuses those tokens too)."""
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Rejected(f"claim {name} must be a number of seconds since the epoch")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        finite = False
    if not finite:
        raise Rejected(f"claim {name} must be a finite number of seconds since the epoch")
    return value


def check_claims(claims: Mapping, now: float, leeway: float, audience: str | None = None) -> None:
    """Required claims present and typed, times within the leeway, `aud` holding `audience` (OIDC)."""
    for c in REQUIRED_CLAIMS:
        if claims.get(c) is None:
            raise Rejected(f"required claim {c} is missing")
    for c in STRING_CLAIMS:
        if not isinstance(claims[c], str):
            raise Rejected(f"claim {c} must be a string")
    exp, iat, nbf = seconds_claim(claims, "exp"), seconds_claim(claims, "iat"), seconds_claim(claims, "nbf")
    if exp <= now - leeway:
        raise Rejected(f"expired at {iso(exp)} ({human_duration(now - exp)} ago; leeway {int(leeway)}s)")
    if iat > now + leeway:
        raise Rejected(f"issued in the future (iat {iso(iat)}, {human_duration(iat - now)} ahead; "
                       f"leeway {int(leeway)}s)")
    if nbf is not None and nbf > now + leeway:
        raise Rejected(f"not valid before {iso(nbf)} (leeway {int(leeway)}s)")
    for c in CUSTOM_CLAIMS:
        v = claims.get(c)
        if v is not None and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
            raise Rejected(f"claim {c} must be a list of strings")
    if audience is not None:
        aud = claims.get("aud")
        auds = [aud] if isinstance(aud, str) else (aud if isinstance(aud, list) else [])
        if audience not in auds:
            raise Rejected(f"the audience (aud) does not contain the client id {show(audience)}")
