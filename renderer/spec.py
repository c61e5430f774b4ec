"""The security spec: load a PortworxSecurity object, validate it against the JSON Schema in
`schemas/`, and turn it into a typed, immutable `Spec`.

Validation reports every problem with its field path (`spec.oidc.issuer: ...`); the loader
raises a `PxsecError` carrying the first one (or all of them, joined, for `pxsec validate`).
"""
from __future__ import annotations

import json
import os
from collections import namedtuple
from functools import lru_cache
from typing import Any

import yaml

from .data import data_file

SCHEMA_FILE = "portworxsecurity.schema.json"
from .errors import Location, PxsecError

API_VERSION = "pxsec.io/v1alpha1"
KIND = "PortworxSecurity"

# The environment variables that carry the keys' values (the names the Portworx docs use):
# read by `render` with secret.create: true and by `keys`/`token`, and set on the containers.
ENV_SYSTEM = "PORTWORX_AUTH_SYSTEM_KEY"
ENV_STORK = "PORTWORX_AUTH_STORK_KEY"
ENV_SHARED = "PORTWORX_AUTH_JWT_SHAREDSECRET"

# Issuer Stork signs with -> the Portworx env var holding the key that verifies it (facts §5.4).
STORK_ISSUER_KEY_ENV = {
    "stork.openstorage.io": "PORTWORX_AUTH_STORK_KEY",
    "apps.portworx.io": "PORTWORX_AUTH_SYSTEM_APPS_KEY",
}


# Immutable records (namedtuples: the render path avoids importing dataclasses, which costs
# more start-up than a small render).
class KeyRef(namedtuple("KeyRef", "secret_name key")):
    """A key of a Kubernetes Secret: secret_name, key."""

    __slots__ = ()


class SelfSigned(namedtuple("SelfSigned", "issuer shared_secret rsa_public_key ecdsa_public_key")):
    """Self-signed tokens: issuer (str), shared_secret (bool), rsa/ecdsa_public_key (KeyRef | None)."""

    __slots__ = ()


class Oidc(namedtuple("Oidc", "issuer client_id custom_claim_namespace")):
    """OIDC tokens: issuer (https URL), client_id, custom_claim_namespace (str | None)."""

    __slots__ = ()


class StorageClasses(namedtuple("StorageClasses", "token_name token_namespace include exclude")):
    """spec.storageClasses: token Secret name and namespace (None: the workload's), include/exclude (None: all)."""

    __slots__ = ()


class Spec(namedtuple("Spec", "source secret_name secret_create key_system key_stork key_jwt_shared_secret "
                              "stork_enabled stork_issuer stork_issuer_explicit self_signed oidc "
                              "username_claim guest_access token_lifetime storage_classes",
                      defaults=(None,))):
    """The validated spec, defaults applied (see `build`)."""

    __slots__ = ()

    @property
    def stork_key_env(self) -> str:
        """PORTWORX_AUTH_STORK_KEY or PORTWORX_AUTH_SYSTEM_APPS_KEY, paired with Stork's issuer."""
        return STORK_ISSUER_KEY_ENV[self.stork_issuer]

    @property
    def uses_shared_secret(self) -> bool:
        return bool(self.self_signed and self.self_signed.shared_secret)


class Problem(namedtuple("Problem", "path message")):
    """One spec problem: field path and message."""

    __slots__ = ()

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@lru_cache(maxsize=1)
def schema() -> dict:
    with open(data_file("schemas", SCHEMA_FILE), encoding="utf-8") as f:
        return json.load(f)


def _path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _key(k) -> str:
    return k if isinstance(k, str) else repr(k)


def _friendly(error) -> Problem:
    """Turn a jsonschema error into a message a user can act on."""
    path = _path(error.absolute_path)
    validator = error.validator
    schema_path = list(error.absolute_schema_path)
    if validator == "anyOf" and path == "spec":
        return Problem("spec", "at least one of selfSigned and oidc is required")
    if validator == "anyOf" and path == "spec.selfSigned":
        return Problem(path, "needs at least one of sharedSecret: true, rsaPublicKey, ecdsaPublicKey")
    if validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(_key(k) for k in error.instance if k not in allowed) if isinstance(error.instance, dict) else []
        field = f"{path}.{extra[0]}" if path and extra else (extra[0] if extra else path)
        return Problem(field, f"unknown field (allowed here: {', '.join(allowed)})")
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return Problem(f"{path}.{missing}" if path else missing, "required field is missing")
    if validator == "enum":
        choices = " | ".join(str(c) for c in error.validator_value)
        return Problem(path, f"must be one of {choices} (got {error.instance!r})")
    if validator == "const":
        return Problem(path, f"must be {error.validator_value!r} (got {error.instance!r})")
    if validator == "type":
        return Problem(path, f"must be of type {error.validator_value} (got {type(error.instance).__name__})")
    if validator == "pattern":
        if path == "spec.oidc.issuer":
            return Problem(path, f"must be an https:// URL (got {error.instance!r})")
        if path == "spec.selfSigned.issuer":
            return Problem(path, f"a self-signed issuer is a plain name such as openstorage.io, "
                                 f"not a URL, with no spaces (got {error.instance!r})")
        if path == "spec.tokenLifetime":
            return Problem(path, f"must be <integer><s|m|h|d|y>, for example 24h or 7d (got {error.instance!r})")
        if "secretKey" in str(schema_path) or path.endswith((".key", ".system", ".stork", ".jwtSharedSecret")):
            return Problem(path, f"not a valid Secret key (letters, digits, '-', '_', '.'): {error.instance!r}")
        if path.endswith(("name", "secretName")):
            return Problem(path, f"not a valid Kubernetes object name (lowercase RFC 1123): {error.instance!r}")
        return Problem(path, f"must not contain spaces: {error.instance!r}")
    if validator in ("minLength", "maxLength"):
        return Problem(path, "must not be empty" if validator == "minLength" else "is too long")
    if validator == "not":
        return Problem(path, f"{error.instance!r} is not allowed")
    return Problem(path, error.message)


def problems(doc: Any) -> list[Problem]:
    """Every problem with a parsed spec document, sorted by field path."""
    from jsonschema import Draft202012Validator  # imported here: it is slow to import

    if not isinstance(doc, dict):
        return [Problem("", "the spec must be a YAML mapping (a PortworxSecurity object)")]
    validator = Draft202012Validator(schema())
    found = {}
    for error in validator.iter_errors(doc):
        p = _friendly(error)
        found.setdefault((p.path, p.message), p)
    return sorted(found.values(), key=lambda p: (str(p.path), p.message))


def _duplicate_key(root: Any) -> str | None:
    """Field path of the first key that appears twice in one mapping of the spec, if any."""
    stack, seen = [(root, "")], set()
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys = set()
            for k, v in node.value:
                name = k.value if isinstance(k, yaml.ScalarNode) else "?"
                here = f"{path}.{name}" if path else name
                if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                    if (k.tag, k.value) in keys:
                        return here
                    keys.add((k.tag, k.value))
                stack.append((v, here))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(node.value))
    return None


def parse_document(text: str, source: str) -> Any:
    """The one document of a spec text, parsed with every guard: depth, aliases, tags, duplicate keys."""
    from .stream import CONSTRUCTOR_ERRORS, check_depth, expanded_size_ok, tag_problem, yaml_problem

    where = Location(file=source)
    check_depth(text, where)
    try:
        nodes = [n for n in yaml.compose_all(text, Loader=yaml.CSafeLoader) if n is not None]
    except yaml.YAMLError as e:
        raise PxsecError(yaml_problem(e, 1), where) from None
    if len(nodes) != 1:
        raise PxsecError(f"expected one PortworxSecurity document, found {len(nodes)}", where)
    if not expanded_size_ok(nodes[0], text):
        raise PxsecError("YAML aliases expand to too many nodes (an alias bomb?); refused", where)
    duplicate = _duplicate_key(nodes[0])
    if duplicate:
        raise PxsecError("duplicate key (YAML would silently keep the last one)", Location(file=source, field=duplicate))
    loader = yaml.CSafeLoader("")
    try:
        return loader.construct_document(nodes[0])
    except yaml.YAMLError as e:
        raise PxsecError(yaml_problem(e, 1), where) from None
    except CONSTRUCTOR_ERRORS as e:
        raise PxsecError(tag_problem(e), where) from None
    finally:
        loader.dispose()


def read_spec_text(path: str) -> str:
    from .sources import read_bytes

    raw = read_bytes(path, "spec")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PxsecError("spec is not UTF-8 text", Location(file=path)) from None


def _cache_marker(doc: Any):
    """Where a successful validation of exactly this spec, schema and pxsec version is recorded.

    Importing jsonschema costs more start-up than a whole small render, and the same spec is
    validated on every helm upgrade and Argo CD refresh. Validation is a pure function of these
    bytes, so a success is remembered (PXSEC_CACHE_DIR, default ~/.cache/pxsec; set
    PXSEC_NO_CACHE=1 to always validate). Any problem with the cache means: validate.
    """
    import hashlib
    import os

    from . import __version__

    if os.environ.get("PXSEC_NO_CACHE"):
        return None
    try:
        base = os.environ.get("PXSEC_CACHE_DIR") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "pxsec")
        h = hashlib.sha256()
        h.update(__version__.encode())
        with open(data_file("schemas", SCHEMA_FILE), "rb") as f:
            h.update(f.read())
        h.update(json.dumps(doc, sort_keys=True, default=repr).encode())
        return os.path.join(base, "validated", h.hexdigest())
    except (OSError, TypeError, ValueError, RecursionError):
        return None


MAX_SPEC_NODES = 100_000


def _too_big(doc: Any) -> bool:
    """True when the object, aliases expanded, has more than MAX_SPEC_NODES values: jsonschema
    would walk every one (a YAML alias bomb hangs it). Shared objects are counted once per use,
    memoized by identity, so this costs one pass over the distinct objects."""
    memo: dict[int, int] = {}

    def size(o: Any) -> int:
        if not isinstance(o, (dict, list)):
            return 1
        if id(o) in memo:
            return memo[id(o)]
        memo[id(o)] = MAX_SPEC_NODES + 1  # a cycle counts as too big
        children = o.values() if isinstance(o, dict) else o
        total = 1
        for c in children:
            total += size(c)
            if total > MAX_SPEC_NODES:
                break
        memo[id(o)] = total
        return total

    try:
        return size(doc) > MAX_SPEC_NODES
    except RecursionError:
        return True


def from_document(doc: Any, source: str) -> Spec:
    """Validate a parsed PortworxSecurity document and build the typed spec."""
    if _too_big(doc):
        raise PxsecError("the spec expands to too many values (a YAML alias bomb?); refused", Location(file=source))
    marker = _cache_marker(doc)
    try:
        if marker is not None and os.path.isfile(marker):
            return build(doc["spec"], source)
    except OSError:
        pass
    found = problems(doc)
    if found:
        p = found[0]
        more = f" (and {len(found) - 1} more problem(s); run `pxsec validate`)" if len(found) > 1 else ""
        raise PxsecError(p.message + more, Location(file=source, field=p.path or None))
    spec = build(doc["spec"], source)
    if marker is not None:
        try:
            os.makedirs(os.path.dirname(marker), exist_ok=True)
            with open(marker, "a"):
                pass
        except OSError:
            pass
    return spec


def load(path: str) -> Spec:
    """Read, parse and validate the spec file at `path`."""
    return from_document(parse_document(read_spec_text(path), path), path)


def load_problems(path: str) -> list[Problem]:
    """For `pxsec validate`: every problem of the spec file (empty when valid)."""
    try:
        doc = parse_document(read_spec_text(path), path)
    except PxsecError as e:
        return [Problem("", e.message)]
    return problems(doc)


def _keyref(d: dict | None) -> KeyRef | None:
    return KeyRef(d["secretName"], d["key"]) if d else None


def build(s: dict, source: str = "<spec>") -> Spec:
    """Typed spec from a schema-valid `spec` mapping (defaults applied here, once)."""
    secret = s.get("secret") or {}
    keys = secret.get("keys") or {}
    stork = s.get("stork") or {}
    ss = s.get("selfSigned")
    oidc = s.get("oidc")
    return Spec(
        source=source,
        secret_name=secret.get("name", "px-system-secrets"),
        secret_create=bool(secret.get("create", False)),
        key_system=keys.get("system", "system-secret"),
        key_stork=keys.get("stork", "stork-secret"),
        key_jwt_shared_secret=keys.get("jwtSharedSecret", "shared-secret"),
        stork_enabled=bool(stork.get("enabled", True)),
        stork_issuer=stork.get("issuer", "stork.openstorage.io"),
        stork_issuer_explicit="issuer" in stork,
        self_signed=SelfSigned(
            issuer=ss["issuer"],
            shared_secret=bool(ss.get("sharedSecret", False)),
            rsa_public_key=_keyref(ss.get("rsaPublicKey")),
            ecdsa_public_key=_keyref(ss.get("ecdsaPublicKey")),
        ) if ss else None,
        oidc=Oidc(
            issuer=oidc["issuer"],
            client_id=oidc["clientId"],
            custom_claim_namespace=oidc.get("customClaimNamespace"),
        ) if oidc else None,
        username_claim=s.get("usernameClaim"),
        guest_access=s.get("guestAccess"),
        token_lifetime=s.get("tokenLifetime"),
        storage_classes=_storage_classes(s.get("storageClasses")),
    )


def _storage_classes(sc: dict | None) -> StorageClasses | None:
    if sc is None:
        return None
    token = sc.get("tokenSecret") or {}
    return StorageClasses(token.get("name", "px-user-token"), token.get("namespace"),
                          tuple(sc["include"]) if "include" in sc else None, tuple(sc.get("exclude") or ()))
