"""openstorage tokens: the pure core behind `pxsec token generate|verify` (no printing, no typer).

One module per concern:

- lifetimes    `<integer><s|m|h|d|y>` lifetimes, times for people
- claims       identities, auth-config files, the claims openstorage requires, checking them
- signing      HS256 with the shared secret, RS*/ES* with a private key
- issuing      everything `token generate` decides (issuer, lifetime, key, output file)
- httpclient   the https client for OIDC discovery and JWKS (per-read timeout + overall deadline)
- jwks         an OIDC provider's keys, discovered or from a file
- keyring      the keys a node configured by the spec holds
- verification the verdict: would Portworx accept this token, and as whom?
- keys         key material for `pxsec keys generate` (not re-exported: import pxsec.tokens.keys)

Everything below is re-exported here, so `from pxsec import tokens; tokens.verify(...)` works.
The re-exports are lazy (PEP 562 `__getattr__`): a name imports its own module on first use, so
`pxsec keys generate` (tokens.keys) never loads jwt and cryptography.
"""
from __future__ import annotations

import importlib

# module -> the names it exports here
EXPORTS = {
    "claims": ("AUTH_CONFIG_FIELDS", "CUSTOM_CLAIMS", "IAT_BACKDATE", "REQUIRED_CLAIMS", "STRING_CLAIMS",
               "USERNAME_CLAIMS", "Identity", "Rejected", "check_claims", "check_self_signed_issuer",
               "default_subject", "load_auth_config", "make_claims", "make_identity", "parse_auth_config",
               "seconds_claim"),
    "common": ("ENV_INSECURE_OIDC", "ENV_PASSPHRASE", "MAX_DOCUMENT_BYTES", "MAX_TOKEN_CHARS", "MIN_SECRET_BYTES",
               "show"),
    "httpclient": ("DEFAULT_DEADLINE", "DEFAULT_TIMEOUT", "ENV_OIDC_TIMEOUT", "Deadline", "check_url", "fetch_json"),
    "issuing": ("SAMPLE_AUTH_CONFIG", "GenerateRequest", "Generated", "generate", "sample_auth_config"),
    "jwks": ("Jwks",),
    "keyring": ("VerifyKeys", "load_public_key", "verify_keys"),
    "lifetimes": ("DEFAULT_LIFETIME", "LIFETIME_UNITS", "MAX_LIFETIME", "human_duration", "iso", "parse_lifetime"),
    "signing": ("EC_ALGS", "EC_CURVE_ALG", "FAMILIES", "HMAC_ALGS", "RSA_ALGS", "Signer", "load_private_key",
                "shared_secret_signer", "sign", "token_secret"),
    "verification": ("DEFAULT_LEEWAY", "Verdict", "decode", "trusted_issuers", "verify"),
}
_OWNER = {name: module for module, names in EXPORTS.items() for name in names}


def __getattr__(name: str):
    module = _OWNER.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_OWNER))
