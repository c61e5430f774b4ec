"""`pxsec token generate|verify`: argument parsing and printing only; the work is in
renderer.tokens (imported inside the commands, so other commands do not pay for pyjwt)."""
import json
import os
import sys
from typing import List, Optional

import typer

from ..errors import Location, PxsecError, UsageError
from ..log import log_error, log_warning

app = typer.Typer(
    help="Make and check openstorage tokens: the JWTs Portworx accepts once PX-Security is on.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

SPEC_ENV = "PXSEC_SPEC"


def _load_spec(path: Optional[str]):
    from .. import spec as specmod

    path = path or os.environ.get(SPEC_ENV)
    return specmod.load(path) if path else None


@app.command()
def generate(
    issuer: Optional[str] = typer.Option(None, "--issuer", metavar="ISSUER", help="Issuer (iss); default: the spec's selfSigned.issuer."),
    spec: Optional[str] = typer.Option(None, "--spec", "-s", metavar="FILE", help=f"PortworxSecurity spec (or env {SPEC_ENV})."),
    auth_config: Optional[str] = typer.Option(
        None, "--auth-config", metavar="FILE", help="YAML with name, email, sub, roles, groups (as pxctl auth token generate reads)."),
    name: Optional[str] = typer.Option(None, "--name", metavar="NAME", help="Account name (overrides --auth-config)."),
    email: Optional[str] = typer.Option(None, "--email", metavar="EMAIL", help="Account email (overrides --auth-config)."),
    sub: Optional[str] = typer.Option(
        None, "--sub", metavar="SUB", help="Unique subject; default: base64 of openstorage.io/<name>/<email>, as openstorage does."),
    role: Optional[List[str]] = typer.Option(None, "--role", "-r", metavar="ROLE", help="Role, repeatable (e.g. system.user)."),
    group: Optional[List[str]] = typer.Option(None, "--group", "-g", metavar="GROUP", help="Group, repeatable ('*' = every group)."),
    lifetime: Optional[str] = typer.Option(
        None, "--lifetime", "--token-duration", "-l", metavar="DURATION",
        help="<integer><s|m|h|d|y> (y = 365 days); default: the spec's tokenLifetime, else 1d."),
    private_key: Optional[str] = typer.Option(
        None, "--private-key", metavar="FILE",
        help="Sign RS256/ES256 with this PEM key (passphrase from env PXSEC_PRIVATE_KEY_PASSPHRASE). "
             "Default: HS256 with env PORTWORX_AUTH_JWT_SHAREDSECRET."),
    secret: Optional[str] = typer.Option(
        None, "--secret", metavar="NAME", help="Print a Secret of this name holding the token under key auth-token instead."),
    namespace: Optional[str] = typer.Option(None, "--namespace", "-n", metavar="NAMESPACE", help="Namespace of the --secret Secret."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write to this file (mode 0600) instead of stdout."),
    force: bool = typer.Option(False, "--force", help="Overwrite --output if it exists."),
) -> None:
    """Sign a token with the claims openstorage requires."""
    from .. import keys as keysmod, tokens

    loaded = _load_spec(spec)
    if issuer is None:
        if loaded is None:
            raise UsageError("no issuer: pass --issuer or --spec")
        if loaded.self_signed is None:
            raise PxsecError("the spec has no selfSigned issuer (OIDC tokens are signed by the provider); "
                             "pass --issuer", Location(file=loaded.source, field="spec.selfSigned"))
        issuer = loaded.self_signed.issuer
    tokens.check_self_signed_issuer(issuer)
    if lifetime is None:
        lifetime = (loaded.token_lifetime if loaded else None) or tokens.DEFAULT_LIFETIME
    seconds = tokens.parse_lifetime(lifetime, Location(field="--lifetime"))
    if secret is not None:
        keysmod.check_object_name(secret, "--secret")
    keysmod.check_namespace(namespace)
    if output and output != "-":
        keysmod.check_writable([output], force)

    config = None
    if auth_config:
        config, notes = tokens.load_auth_config(auth_config)
        for note in notes:
            log_warning(note)
    ident = tokens.make_identity(config, name=name, email=email, sub=sub, roles=role, groups=group)

    if private_key:
        signer = tokens.load_private_key(private_key, os.environ.get(tokens.ENV_PASSPHRASE))
    else:
        shared = os.environ.get(tokens.ENV_SHARED)
        if not shared:
            raise UsageError(f"no signing key: set {tokens.ENV_SHARED} (HS256) or pass --private-key FILE")
        signer = tokens.shared_secret_signer(shared)
    for note in signer.warnings:
        log_warning(note)
    if not ident.roles:
        log_warning("the token has no roles; Portworx will allow it nothing")
    if loaded is not None:
        for note in _spec_mismatch(loaded, issuer, signer.algorithm):
            log_warning(note)

    token = tokens.sign(tokens.make_claims(ident, issuer, seconds), signer)
    if secret is not None:
        text = keysmod.dump_yaml(tokens.token_secret(secret, token, namespace))
    else:
        text = token + "\n"
    if output and output != "-":
        keysmod.write_file(output, text.encode("utf-8"), mode=0o600, force=force)
    else:
        sys.stdout.write(text)


def _spec_mismatch(loaded, issuer: str, algorithm: str) -> List[str]:
    """Why Portworx configured by the spec would refuse what is being signed (names only)."""
    ss = loaded.self_signed
    if ss is None or ss.issuer != issuer:
        return [f"{loaded.source}: the spec's self-signed issuer is not {issuer!r}; Portworx configured by it "
                f"will not accept this token"]
    accepted = {"HS": ss.shared_secret, "RS": ss.rsa_public_key is not None, "ES": ss.ecdsa_public_key is not None}
    if not accepted[algorithm[:2]]:
        return [f"{loaded.source}: the spec accepts no {algorithm} tokens (see spec.selfSigned); "
                f"Portworx configured by it will not accept this token"]
    return []


def _read_token(token: Optional[str]) -> str:
    if token is not None and token != "-":
        return token
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError("no token: pass TOKEN or pipe it on stdin")
    return sys.stdin.read(1024 * 1024)


@app.command()
def verify(
    token: Optional[str] = typer.Argument(
        None, metavar="TOKEN|-", help="The token, or '-' (the default) to read it from stdin (keeps it out of the process list)."),
    spec: Optional[str] = typer.Option(None, "--spec", "-s", metavar="FILE", help=f"PortworxSecurity spec (or env {SPEC_ENV})."),
    rsa_public_key: Optional[str] = typer.Option(
        None, "--rsa-public-key", metavar="FILE", help="PEM public key the spec's selfSigned.rsaPublicKey Secret holds."),
    ecdsa_public_key: Optional[str] = typer.Option(
        None, "--ecdsa-public-key", metavar="FILE", help="PEM public key the spec's selfSigned.ecdsaPublicKey Secret holds."),
    jwks: Optional[str] = typer.Option(
        None, "--jwks", metavar="FILE", help="OIDC provider's JWKS file (offline); default: fetched via the issuer's discovery document."),
    oidc_ca_file: Optional[str] = typer.Option(
        None, "--oidc-ca-file", metavar="FILE", help="CA bundle (PEM) that signs the OIDC provider's https certificate."),
    leeway: Optional[int] = typer.Option(
        None, "--leeway", min=0, metavar="SECONDS", help="Seconds of clock skew tolerated for exp/iat/nbf (default 60)."),
    as_json: bool = typer.Option(False, "--json", help="Print the verdict as JSON."),
) -> None:
    """Would Portworx configured by the spec accept this token, and as whom?

    Shared secrets come from the environment: PORTWORX_AUTH_JWT_SHAREDSECRET, and
    PORTWORX_AUTH_STORK_KEY (or PORTWORX_AUTH_SYSTEM_APPS_KEY) for Stork's tokens.
    Exit 0: valid; 1: invalid (reason on stderr, or in the JSON).
    """
    from .. import tokens

    path = spec or os.environ.get(SPEC_ENV)
    if not path:
        raise UsageError(f"no spec: pass --spec FILE or set {SPEC_ENV}")
    loaded = _load_spec(path)
    keys = tokens.verify_keys(loaded, os.environ, rsa_public_key=rsa_public_key, ecdsa_public_key=ecdsa_public_key,
                              jwks_file=jwks, ca_file=oidc_ca_file)
    raw = _read_token(token)
    verdict = tokens.verify(raw, loaded, keys, leeway=tokens.DEFAULT_LEEWAY if leeway is None else leeway)
    if as_json:
        print(json.dumps(verdict.as_dict(), indent=2))
    elif verdict.valid:
        print("\n".join(verdict.summary()))
    else:
        log_error(f"invalid token: {verdict.reason}")
    if not verdict.valid:
        raise typer.Exit(1)
