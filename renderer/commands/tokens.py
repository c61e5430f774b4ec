"""`pxsec token generate|verify`: argument parsing and printing only; the work is in
pxsec.tokens (imported inside the commands, so other commands do not pay for pyjwt)."""
import json
import os
import re
import sys
from typing import List, Optional

import typer

from .. import portworx as px
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
        None, "--auth-config", metavar="FILE", help="YAML with name, email, sub, roles, groups (as pxctl auth token generate reads); "
             "`pxsec token auth-config` prints a sample."),
    name: Optional[str] = typer.Option(None, "--name", metavar="NAME", help="Account name (overrides --auth-config)."),
    email: Optional[str] = typer.Option(None, "--email", metavar="EMAIL", help="Account email (overrides --auth-config)."),
    sub: Optional[str] = typer.Option(
        None, "--sub", metavar="SUB", help="Unique subject; default: base64 of openstorage.io/<name>/<email>, as openstorage does."),
    role: Optional[List[str]] = typer.Option(
        None, "--role", "-r", metavar="ROLE", help="Custom claim roles, repeatable (e.g. system.user)."),
    group: Optional[List[str]] = typer.Option(
        None, "--group", "-g", metavar="GROUP", help="Custom claim groups, repeatable ('*' = every group)."),
    lifetime: Optional[str] = typer.Option(
        None, "--lifetime", "--token-duration", "-l", metavar="DURATION",
        help="<integer><s|m|h|d|y> (y = 365 days); default: the spec's tokenLifetime, else 1d."),
    private_key: Optional[str] = typer.Option(
        None, "--private-key", metavar="FILE",
        help="Sign RS256/ES256 with this PEM key (passphrase from env PXSEC_PRIVATE_KEY_PASSPHRASE). "
             f"Default: HS256 with env {px.SHARED_KEY}."),
    secret: Optional[str] = typer.Option(
        None, "--secret", metavar="NAME", help=f"Print a Secret of this name holding the token under key {px.TOKEN_KEY} instead."),
    namespace: Optional[str] = typer.Option(None, "--namespace", "-n", metavar="NAMESPACE", help="Namespace of the --secret Secret."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write to this file (mode 0600) instead of stdout."),
    force: bool = typer.Option(False, "--force", help="Overwrite --output if it exists."),
) -> None:
    """Sign a token with the claims openstorage requires: iss, sub, exp, iat, name and email,
    plus the custom claims roles and groups.

    \b
    Example: pxsec token auth-config -o admin.yaml && pxsec token generate --spec pxsec.yaml --auth-config admin.yaml
    """
    from .. import tokens

    request = tokens.GenerateRequest(
        spec=_load_spec(spec), issuer=issuer, auth_config=auth_config, name=name, email=email, sub=sub,
        roles=tuple(role or ()), groups=tuple(group or ()), lifetime=lifetime, private_key=private_key,
        secret=secret, namespace=namespace, output=output, force=force)
    result = tokens.generate(request, os.environ)
    for note in result.warnings:
        log_warning(note)
    sys.stdout.write(result.stdout)


@app.command("auth-config")
def auth_config_sample(
    name: Optional[str] = typer.Option(None, "--name", metavar="NAME", help="Account name (default: Administrator)."),
    email: Optional[str] = typer.Option(None, "--email", metavar="EMAIL", help="Account email (default: admin@example.com)."),
    sub: Optional[str] = typer.Option(None, "--sub", metavar="SUB", help="Unique subject (default: derived from name and email)."),
    role: Optional[List[str]] = typer.Option(None, "--role", "-r", metavar="ROLE", help="Role, repeatable (default: system.admin)."),
    group: Optional[List[str]] = typer.Option(None, "--group", "-g", metavar="GROUP", help="Group, repeatable (default: '*')."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write to this file instead of stdout."),
    force: bool = typer.Option(False, "--force", help="Overwrite --output if it exists."),
) -> None:
    """Print a commented --auth-config file (name, email, sub, roles, groups) to edit; without
    options, the administrator sample (roles [system.admin], groups ["*"]).

    \b
    Example: pxsec token auth-config --name k8s --email k8s@example.com -r system.user -o user.yaml
    """
    from .. import tokens
    from ..outfiles import OutFile, is_file_target, write_all

    text = tokens.sample_auth_config(name, email, sub, tuple(role or ()), tuple(group or ()))
    if is_file_target(output):
        write_all([OutFile(output, text.encode("utf-8"), None)], force)
    else:
        sys.stdout.write(text)


TOKEN_HELP = "TOKEN is the token itself, a file holding it, or '-' for stdin"
_JWT_SHAPE = re.compile(r"[A-Za-z0-9_=-]*\.[A-Za-z0-9_=-]*\.[A-Za-z0-9_=+/-]*")


def _read_token(token: Optional[str]) -> str:
    """The token argument: a JWT as written (three base64url parts), else a file holding one,
    else '-' or nothing for stdin. A file path is never sent to the parser as if it were a token."""
    from ..sources import read_bytes

    if token is None or token == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError(f"no token: pass TOKEN or pipe it on stdin ({TOKEN_HELP})")
        return sys.stdin.read(1024 * 1024)
    if _JWT_SHAPE.fullmatch(token.strip()):
        return token
    if not os.path.exists(token):
        raise PxsecError(f"no such file, and not a token either ({TOKEN_HELP})", Location(file=token))
    raw = read_bytes(token, "token")
    try:
        return raw[:1024 * 1024].decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PxsecError("not UTF-8 text: expected a file holding a token", Location(file=token)) from None


@app.command()
def verify(
    token: Optional[str] = typer.Argument(
        None, metavar="TOKEN|FILE|-",
        help="The token itself, a file holding it, or '-' (the default) to read it from stdin; a file or stdin "
             "keeps it out of the process list."),
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
    oidc_timeout: float = typer.Option(
        30.0, "--oidc-timeout", min=0.1, metavar="SECONDS", envvar="PXSEC_OIDC_TIMEOUT",
        help="Give up on OIDC discovery and the JWKS fetch after this long in all (env PXSEC_OIDC_TIMEOUT)."),
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
                              jwks_file=jwks, ca_file=oidc_ca_file, deadline=oidc_timeout)
    raw = _read_token(token)
    try:
        verdict = tokens.verify(raw, loaded, keys, leeway=tokens.DEFAULT_LEEWAY if leeway is None else leeway)
    finally:
        if keys.jwks is not None:
            keys.jwks.close()
    if as_json:
        print(json.dumps(verdict.as_dict(), indent=2))
    elif verdict.valid:
        print("\n".join(verdict.summary()))
    else:
        log_error(f"invalid token: {verdict.reason}")
    if not verdict.valid:
        raise typer.Exit(1)
