"""What a Portworx node configured by the spec holds to check tokens: the shared secret and the
Stork key (from the environment), public keys (PEM files, what `-jwt_rsa_pubkey_file` points
at), and the OIDC provider's keys (a JWKS file, or discovered lazily, only if a token from the
OIDC issuer needs them)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from .. import portworx as px
from ..errors import Location, PxsecError
from ..sources import read_bytes
from ..spec import Spec
from .common import ENV_INSECURE_OIDC
from .httpclient import DEFAULT_DEADLINE, DEFAULT_TIMEOUT
from .jwks import Jwks


@dataclass
class VerifyKeys:
    shared_secret: bytes | None = field(default=None, repr=False)
    stork_key: bytes | None = field(default=None, repr=False)
    stork_key_env: str = px.STORK_KEY
    rsa_public_key: Any = None
    ecdsa_public_key: Any = None
    jwks: Jwks | None = None


def load_public_key(path: str, kind: str):
    """An RSA or ECDSA public key from a PEM file."""
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


def verify_keys(spec: Spec, environ: Mapping[str, str], *, rsa_public_key: str | None = None,
                ecdsa_public_key: str | None = None, jwks_file: str | None = None,
                ca_file: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                deadline: float = DEFAULT_DEADLINE) -> VerifyKeys:
    """Keys from the environment (secrets) and files (public keys, JWKS). `timeout` bounds each
    read from the OIDC provider, `deadline` the whole of discovery and the JWKS fetch."""
    stork_env = spec.stork_key_env
    stork = environ.get(stork_env) or environ.get(px.STORK_KEY)
    shared = environ.get(px.SHARED_KEY)
    jwks = None
    if spec.oidc is not None:
        if jwks_file:
            jwks = Jwks.from_file(spec.oidc.issuer, jwks_file)
        else:
            jwks = Jwks(spec.oidc.issuer, allow_insecure=environ.get(ENV_INSECURE_OIDC, "") in ("1", "true", "yes"),
                        ca_file=ca_file, timeout=min(timeout, deadline), deadline=deadline)
    return VerifyKeys(
        shared_secret=shared.encode("utf-8") if shared else None,
        stork_key=stork.encode("utf-8") if stork else None,
        stork_key_env=stork_env,
        rsa_public_key=load_public_key(rsa_public_key, "rsa") if rsa_public_key else None,
        ecdsa_public_key=load_public_key(ecdsa_public_key, "ecdsa") if ecdsa_public_key else None,
        jwks=jwks,
    )
