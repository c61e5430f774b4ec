"""Signing tokens, as openstorage's `pkg/auth/signature.go` does: a shared secret -> HS256 (the
secret's raw bytes, not base64-decoded), an RSA private key -> RS256, an ECDSA key -> ES256
(ES384/ES512 for P-384/P-521 keys)."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import jwt

from .. import portworx as px
from ..errors import Location, PxsecError
from ..sources import read_bytes
from .common import ENV_PASSPHRASE, MIN_SECRET_BYTES

HMAC_ALGS = ("HS256", "HS384", "HS512")
RSA_ALGS = ("RS256", "RS384", "RS512")
EC_ALGS = ("ES256", "ES384", "ES512")
FAMILIES = {"HS": HMAC_ALGS, "RS": RSA_ALGS, "ES": EC_ALGS}
EC_CURVE_ALG = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}

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
        notes = (f"{px.SHARED_KEY} is shorter than {MIN_SECRET_BYTES} bytes; use a long random value "
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


def token_secret(name: str, token: str, namespace: str | None = None) -> str:
    """The YAML of a Secret holding the token under `auth-token`, the key StorageClass secret
    parameters read (marked, as the operator marks its token Secrets, for Stork to skip)."""
    from ..render import generated_secret

    text, _ = generated_secret.manifest(name, {px.TOKEN_KEY: token}, namespace, generated_secret.SKIP_RESOURCE)
    return text
