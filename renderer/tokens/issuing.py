"""Everything `pxsec token generate` decides: the issuer (flag, else the spec's self-signed
issuer), the lifetime (flag, else the spec's tokenLifetime, else 1d), the identity (auth config
overridden by flags), the signing key (a private key file, else the shared secret from the
environment), whether the spec would accept the result, and the output (the token, or a
Secret holding it; stdout or a 0600 file). The command only parses arguments and prints.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .. import portworx as px
from ..errors import Location, PxsecError, UsageError
from ..outfiles import OutFile, check_writable, is_file_target, write_all
from ..spec import Spec
from .claims import check_self_signed_issuer, load_auth_config, make_claims, make_identity, parse_auth_config
from .common import ENV_PASSPHRASE
from .lifetimes import DEFAULT_LIFETIME, parse_lifetime
from .signing import Signer, load_private_key, shared_secret_signer, sign, token_secret

SAMPLE_AUTH_CONFIG = {"name": "Administrator", "email": "admin@example.com", "sub": "admin@example.com/admin",
                      "roles": ("system.admin",), "groups": ("*",)}


@dataclass(frozen=True)
class GenerateRequest:
    spec: Spec | None = None
    issuer: str | None = None
    auth_config: str | None = None
    name: str | None = None
    email: str | None = None
    sub: str | None = None
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    lifetime: str | None = None
    private_key: str | None = None
    secret: str | None = None
    namespace: str | None = None
    output: str | None = None
    force: bool = False


@dataclass(frozen=True)
class Generated:
    stdout: str = field(repr=False)  # the token or its Secret, unless written to a file
    warnings: list[str] = field(default_factory=list)


def _issuer(req: GenerateRequest) -> str:
    issuer = req.issuer
    if issuer is None:
        if req.spec is None:
            raise UsageError("no issuer: pass --issuer or --spec")
        if req.spec.self_signed is None:
            raise PxsecError("the spec has no selfSigned issuer (OIDC tokens are signed by the provider); "
                             "pass --issuer", Location(file=req.spec.source, field="spec.selfSigned"))
        issuer = req.spec.self_signed.issuer
        return check_self_signed_issuer(issuer)
    return _as_usage(check_self_signed_issuer, issuer)


def _as_usage(check, *args):
    """A bad option value is a usage error (exit 2), as click's own checks are; the same check
    on a value read from a file (the spec) stays bad input (exit 1)."""
    try:
        return check(*args)
    except UsageError:
        raise
    except PxsecError as e:
        raise UsageError(e.message, e.location) from None


def _signer(req: GenerateRequest, environ: Mapping[str, str]) -> Signer:
    if req.private_key:
        return load_private_key(req.private_key, environ.get(ENV_PASSPHRASE))
    shared = environ.get(px.SHARED_KEY)
    if not shared:
        raise UsageError(f"no signing key: set {px.SHARED_KEY} (HS256) or pass --private-key FILE")
    return shared_secret_signer(shared)


def spec_mismatch(spec: Spec, issuer: str, algorithm: str) -> list[str]:
    """Why Portworx configured by the spec would refuse what is being signed (names only)."""
    ss = spec.self_signed
    if ss is None or ss.issuer != issuer:
        return [f"{spec.source}: the spec's self-signed issuer is not {issuer!r}; Portworx configured by it "
                f"will not accept this token"]
    accepted = {"HS": ss.shared_secret, "RS": ss.rsa_public_key is not None, "ES": ss.ecdsa_public_key is not None}
    if not accepted[algorithm[:2]]:
        return [f"{spec.source}: the spec accepts no {algorithm} tokens (see spec.selfSigned); "
                f"Portworx configured by it will not accept this token"]
    return []


def generate(req: GenerateRequest, environ: Mapping[str, str], now: float | None = None) -> Generated:
    """Sign a token; everything is checked before the key is read or a file is written."""
    from .keys import check_namespace, check_object_name

    issuer = _issuer(req)
    lifetime = req.lifetime or (req.spec.token_lifetime if req.spec else None) or DEFAULT_LIFETIME
    if req.lifetime:
        seconds = _as_usage(parse_lifetime, lifetime, Location(field="--lifetime"))
    else:
        where = Location(file=req.spec.source if req.spec else None, field="spec.tokenLifetime")
        seconds = parse_lifetime(lifetime, where)
    if req.secret is not None:
        check_object_name(req.secret, "--secret")
    check_namespace(req.namespace)
    if is_file_target(req.output):
        check_writable([req.output], req.force)

    warnings: list[str] = []
    config = None
    if req.auth_config:
        config, notes = load_auth_config(req.auth_config)
        warnings += notes
    ident = make_identity(config, name=req.name, email=req.email, sub=req.sub, roles=req.roles, groups=req.groups,
                          default_name=req.secret, email_domain=issuer)
    signer = _signer(req, environ)
    warnings += signer.warnings
    if not ident.roles:
        warnings.append("the token has no roles; Portworx will allow it nothing")
    if req.spec is not None:
        warnings += spec_mismatch(req.spec, issuer, signer.algorithm)

    token = sign(make_claims(ident, issuer, seconds, now=now), signer)
    text = token_secret(req.secret, token, req.namespace) if req.secret is not None else token + "\n"
    if is_file_target(req.output):
        write_all([OutFile(req.output, text.encode("utf-8"), 0o600)], req.force)
        return Generated("", warnings)
    return Generated(text, warnings)


def sample_auth_config(name: str | None = None, email: str | None = None, sub: str | None = None,
                       roles=(), groups=()) -> str:
    """A commented auth config (templates/auth-config.yaml.j2): the administrator sample, with
    whatever is given in its place (a missing sub is then derived from name and email)."""
    from ..spec import templating

    if not any((name, email, sub, roles, groups)):
        fields = dict(SAMPLE_AUTH_CONFIG)
    else:
        base = SAMPLE_AUTH_CONFIG
        ident = make_identity(None, name=name or base["name"], email=email or base["email"], sub=sub,
                              roles=roles or base["roles"], groups=groups or base["groups"])
        fields = {"name": ident.name, "email": ident.email, "sub": ident.sub, "roles": ident.roles,
                  "groups": ident.groups}
    text, _ = templating.render("auth-config.yaml.j2", **fields)
    got, _ = parse_auth_config(text.encode("utf-8"), "<auth-config template>")
    if got != {k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in fields.items()}:
        raise PxsecError("the auth config did not serialize faithfully; refusing to print it")
    return text
