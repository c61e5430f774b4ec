"""An OIDC provider's signing keys: from a JWKS file, or found through discovery.

Discovery reads `<issuer>/.well-known/openid-configuration` -> `jwks_uri`; the document's issuer
must match (go-oidc's rule), and its `id_token_signing_alg_values_supported` says which
algorithms the provider signs with (RS256 when it lists none, go-oidc's default). Every fetch
made for one `Jwks` shares one deadline (see httpclient).
"""
from __future__ import annotations

import json
from typing import Any

import jwt

from ..errors import Location, PxsecError
from ..sources import read_bytes
from .common import show
from .httpclient import DEFAULT_DEADLINE, DEFAULT_TIMEOUT, Deadline, fetch_json


class Jwks:
    """`candidates()` returns the keys that may have signed a token; `refresh()` refetches the
    JWKS (only for discovered sets), which is how a token signed after a key rotation, with a
    key id the cached set does not hold yet, still verifies.
    """

    def __init__(self, issuer: str, *, keys: list | None = None, allow_insecure: bool = False,
                 ca_file: str | None = None, timeout: float = DEFAULT_TIMEOUT, deadline: float = DEFAULT_DEADLINE):
        self.issuer = issuer
        self.allow_insecure = allow_insecure
        self.ca_file = ca_file
        self.timeout = timeout
        self.deadline_seconds = deadline
        self._deadline: Deadline | None = None
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

    def _fetch(self, url: str) -> Any:
        if self._deadline is None:  # the clock starts with the first request
            self._deadline = Deadline(self.deadline_seconds)
        return fetch_json(url, allow_insecure=self.allow_insecure, ca_file=self.ca_file, timeout=self.timeout,
                          deadline=self._deadline)

    def close(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()

    def _discover(self) -> None:
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        doc = self._fetch(url)
        if not isinstance(doc, dict):
            raise PxsecError(f"{show(url, 120)} is not an OIDC discovery document")
        if doc.get("issuer") != self.issuer:
            raise PxsecError(f"the provider's discovery document names issuer {show(doc.get('issuer'), 120)}, "
                             f"not {show(self.issuer, 120)}; Portworx would refuse this provider")
        uri = doc.get("jwks_uri")
        if not isinstance(uri, str) or not uri:
            raise PxsecError(f"{show(url, 120)} has no jwks_uri")
        algs = doc.get("id_token_signing_alg_values_supported")
        if isinstance(algs, list):
            self.signing_algs = tuple(a for a in algs if isinstance(a, str))
        self._jwks_uri = uri

    def _fetch_keys(self) -> None:
        if self._jwks_uri is None:
            self._discover()
        doc = self._fetch(self._jwks_uri)
        self._keys = self._parse(self._key_list(doc, show(self._jwks_uri, 120)))

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
            out.append((key, f"the provider's key {show(jwk.get('kid') or '(no kid)')}"))
        return out

    def refresh(self) -> bool:
        if self.static:
            return False
        self._fetch_keys()
        return True
