"""The security spec: load a PortworxSecurity object, validate it against the JSON Schema in
`schemas/`, and turn it into a typed, immutable `Spec`.

Validation reports every problem with its field path (`spec.oidc.issuer: ...`); the loader
raises a `PxsecError` carrying the first one (or all of them, joined, for `pxsec validate`).
"""
from __future__ import annotations

import os
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any

import yaml

from .. import portworx as px
from ..data import data_file
from ..errors import Location, PxsecError
from ..records import Record
from .problems import SCHEMA_FILE, UNKNOWN_FIELD, Problem, problems, schema  # noqa: F401 (re-exported)

SPEC_ENV = "PXSEC_SPEC"  # the spec file, when no --spec is given
API_VERSION = "pxsec.io/v1alpha1"
KIND = "PortworxSecurity"



# Immutable records (records.Record: the render path avoids importing dataclasses, which costs
# more start-up than a small render, and namedtuple's compiling of each class).
class KeyRef(Record, fields="secret_name key"):
    """A key of a Kubernetes Secret: secret_name, key."""

    __slots__ = ()


class SelfSigned(Record, fields="issuer shared_secret rsa_public_key ecdsa_public_key"):
    """Self-signed tokens: issuer (str), shared_secret (bool), rsa/ecdsa_public_key (KeyRef | None)."""

    __slots__ = ()


class Oidc(Record, fields="issuer client_id custom_claim_namespace"):
    """OIDC tokens: issuer (https URL), client_id, custom_claim_namespace (str | None)."""

    __slots__ = ()


class StorageClasses(Record, fields="token_name token_namespace include exclude section", defaults=("storageClasses",)):
    """spec.storageClasses (or spec.tokens.storageClasses): token Secret name and namespace (None: the
    workload's), include/exclude (None: all); `section`: the spec field it came from, for errors."""

    __slots__ = ()

    def selects(self, name: object) -> bool:
        """Whether include/exclude leave the StorageClass `name` to pxsec (render secures it; check
        judges it)."""
        if self.include is not None and name not in self.include:
            return False
        return not (self.exclude and name in self.exclude)


class Selection(Record, fields="include exclude"):
    """include (None: all) / exclude of one kind under spec.tokens: names, or namespace/name."""

    __slots__ = ()

    def selects(self, name, namespace=None) -> bool:
        keys = {name} | ({f"{namespace}/{name}"} if namespace else set())
        if self.include is not None and not keys & set(self.include):
            return False
        return not keys & set(self.exclude)


class Tokens(Record, fields="token_name token_namespace snapshot_classes pvcs stork"):
    """spec.tokens beyond StorageClasses: the token Secret, and a Selection per kind
    (VolumeSnapshotClasses, in-tree Portworx PVCs, Stork objects)."""

    __slots__ = ()


class Spec(Record, fields="source secret_name secret_create key_system key_stork key_jwt_shared_secret "
                         "stork_enabled stork_issuer stork_issuer_explicit self_signed oidc "
                         "username_claim guest_access token_lifetime storage_classes tokens",
           defaults=(None, None)):
    """The validated spec, defaults applied (see `build`)."""

    __slots__ = ()

    @property
    def stork_key_env(self) -> str:
        """PORTWORX_AUTH_STORK_KEY or PORTWORX_AUTH_SYSTEM_APPS_KEY, paired with Stork's issuer."""
        return px.STORK_ISSUER_KEY_ENV[self.stork_issuer]

    @property
    def uses_shared_secret(self) -> bool:
        return bool(self.self_signed and self.self_signed.shared_secret)


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


def _empty(node: Any) -> bool:
    """An empty document (`---` at the end of a file, `--- ` twice): no object at all."""
    return node is None or (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"
                            and node.value == "" and not node.style)


def parse_document(text: str, source: str, hint: str = "") -> Any:
    """The one document of a spec text, parsed with every guard: depth, aliases, tags, duplicate keys.
    Empty documents (a file ending in `---`) are not documents. `hint` follows a wrong count."""
    from ..kubeyaml.yamlsafe import MAX_EXPANDED_NODES, check_depth, construct_safe, expanded_size_ok, yaml_problem

    where = Location(file=source)
    check_depth(text, where)
    try:
        nodes = [n for n in yaml.compose_all(text, Loader=yaml.CSafeLoader) if not _empty(n)]
    except yaml.YAMLError as e:
        raise PxsecError(yaml_problem(e, 1), where) from None
    if len(nodes) != 1:
        raise PxsecError(f"expected one PortworxSecurity document, found {len(nodes)}"
                         + (f"; {hint}" if hint else ""), where)
    if not expanded_size_ok(nodes[0], text):
        raise PxsecError(f"YAML aliases expand to more than {MAX_EXPANDED_NODES} nodes, more than pxsec "
                         f"accepts in a spec; refused", where)
    duplicate = _duplicate_key(nodes[0])
    if duplicate:
        raise PxsecError("duplicate key (YAML would silently keep the last one)", Location(file=source, field=duplicate))
    return construct_safe(nodes[0], where)


def read_spec(path: str) -> tuple[bytes, str]:
    """The spec file's bytes (the validation cache's key) and its text."""
    from ..sources import read_bytes

    raw = read_bytes(path, "spec")
    try:
        text = raw.decode("utf-8")  # utf-8-sig, without importing its codec module
        return raw, text[1:] if text.startswith("\ufeff") else text
    except UnicodeDecodeError:
        raise PxsecError("spec is not UTF-8 text", Location(file=path)) from None


def read_spec_text(path: str) -> str:
    return read_spec(path)[1]


def _sha256():
    """SHA-256 without loading OpenSSL (hashlib does, at a start-up cost larger than a render's)."""
    try:
        from _sha256 import sha256  # CPython 3.11's own implementation
    except ImportError:
        try:
            from _sha2 import sha256  # CPython 3.12+
        except ImportError:
            from hashlib import sha256
    return sha256()


def cache_key(version: str, schema_bytes: bytes, spec_bytes: bytes) -> str:
    """sha256 of the three inputs, each length-prefixed: one-to-one on (version, schema, spec)
    (no two different triples make the same hashed text)."""
    h = _sha256()
    for part in (version.encode("utf-8"), schema_bytes, spec_bytes):
        h.update(b"%d:" % len(part))
        h.update(part)
    return h.hexdigest()


def _canonical_bytes(doc: Any) -> bytes | None:
    """For a spec with no file (a KRM functionConfig): YAML of the object, which PyYAML's safe
    dumper writes one-to-one (bytes as !!binary, never as the string "b'...'"); None if it
    cannot be written."""
    try:
        return b"doc:" + yaml.dump(doc, Dumper=yaml.CSafeDumper, sort_keys=True, allow_unicode=True).encode("utf-8")
    except (yaml.YAMLError, TypeError, ValueError, RecursionError):
        return None


def _cache_marker(raw: bytes | None):
    """Where a successful validation of exactly these spec bytes, schema bytes and pxsec
    version is recorded.

    Importing jsonschema costs more start-up than a whole small render, and the same spec is
    validated on every helm upgrade and Argo CD refresh. Validation is a pure function of these
    bytes, so a success is remembered (PXSEC_CACHE_DIR, default ~/.cache/pxsec; set
    PXSEC_NO_CACHE=1 to always validate). Any problem with the cache means: validate.
    """
    from .. import __version__

    if raw is None or os.environ.get("PXSEC_NO_CACHE"):
        return None
    try:
        base = os.environ.get("PXSEC_CACHE_DIR") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "pxsec")
        with open(data_file("schemas", SCHEMA_FILE), "rb") as f:
            schema_bytes = f.read()
        return os.path.join(base, "validated", cache_key(__version__, schema_bytes, raw))
    except (OSError, ValueError):
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


def from_document(doc: Any, source: str, raw: bytes | None = None) -> Spec:
    """Validate a parsed PortworxSecurity document and build the typed spec. `raw`: the bytes of
    the file `doc` was parsed from (the validation cache's key); without them the cache is keyed
    on the object's canonical YAML."""
    if _too_big(doc):
        raise PxsecError(f"the spec has more than {MAX_SPEC_NODES} values (aliases expanded), more than pxsec "
                         f"validates; refused", Location(file=source))
    marker = _cache_marker(b"file:" + raw if raw is not None else _canonical_bytes(doc))
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


def resolve_spec_path(path: str | None, environ=os.environ) -> str | None:
    """The spec file to use: the one given (--spec), else $PXSEC_SPEC, else None."""
    return path or environ.get(SPEC_ENV) or None


def resolve_spec(path: str | None, required: bool = True, environ=os.environ) -> Spec | None:
    """The spec, from a path or PXSEC_SPEC -- the one implementation every command uses. With
    `required`, no spec at all is a usage error."""
    from ..errors import UsageError

    found = resolve_spec_path(path, environ)
    if not found:
        if required:
            raise UsageError(f"no spec: pass --spec FILE or set {SPEC_ENV}")
        return None
    from . import argocd_params  # Argo CD's per-cluster parameters, written over the spec's fields
    return argocd_params.load(found, environ)


def load(path: str) -> Spec:
    """Read, parse and validate the spec file at `path`."""
    raw, text = read_spec(path)
    return from_document(parse_document(text, path), path, raw=raw)


def load_problems(path: str) -> list[Problem]:
    """For `pxsec validate`: every problem of the spec file (empty when valid)."""
    try:
        doc = parse_document(read_spec_text(path), path)
    except PxsecError as e:
        return [Problem("", e.message)]
    if _too_big(doc):
        return [Problem("", f"the spec has more than {MAX_SPEC_NODES} values (aliases expanded), more than "
                            f"pxsec validates")]
    return problems(doc)


def required_env(spec: Spec) -> list[str]:
    """The environment variables `render` reads with secret.create: true (none without it)."""
    if not spec.secret_create:
        return []
    return [px.SYSTEM_KEY] + ([px.STORK_KEY] if spec.stork_enabled else []) + ([px.SHARED_KEY] if spec.uses_shared_secret else [])


def _keyref(d: dict | None) -> KeyRef | None:
    return KeyRef(d["secretName"], d["key"]) if d else None


# Every default of the spec, by field path: the one statement of them. The JSON Schema's `default`
# annotations (for editors) repeat them, and tests/test_spec.py checks they agree.
DEFAULTS = {
    "secret.name": "pxsec-auth-keys",  # a name only the user writes: never one the operator owns
    "secret.create": False,
    "secret.keys.system": "system-secret",
    "secret.keys.stork": "stork-secret",
    "secret.keys.jwtSharedSecret": "shared-secret",
    "stork.enabled": True,
    "stork.issuer": px.STORK_DEFAULT_ISSUER,
    "selfSigned.sharedSecret": False,
    "storageClasses.tokenSecret.name": px.USER_TOKEN_SECRET,
    "tokens.tokenSecret.name": px.USER_TOKEN_SECRET,
}


def _get(d: dict, path: str) -> Any:
    """spec[path] with its default: `path` is a key of DEFAULTS."""
    *parents, key = path.split(".")
    for p in parents:
        d = d.get(p) or {}
    return d.get(key, DEFAULTS[path])


def build(s: dict, source: str = "<spec>") -> Spec:
    """Typed spec from a schema-valid `spec` mapping (defaults applied here, once)."""
    ss = s.get("selfSigned")
    oidc = s.get("oidc")
    return Spec(
        source=source,
        secret_name=_get(s, "secret.name"),
        secret_create=bool(_get(s, "secret.create")),
        key_system=_get(s, "secret.keys.system"),
        key_stork=_get(s, "secret.keys.stork"),
        key_jwt_shared_secret=_get(s, "secret.keys.jwtSharedSecret"),
        stork_enabled=bool(_get(s, "stork.enabled")),
        stork_issuer=_get(s, "stork.issuer"),
        stork_issuer_explicit="issuer" in (s.get("stork") or {}),
        self_signed=SelfSigned(
            issuer=ss["issuer"],
            shared_secret=bool(_get(s, "selfSigned.sharedSecret")),
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
        storage_classes=_storage_classes(s),
        tokens=_tokens(s),
    )


def _selection(d: dict | None) -> Selection:
    d = d or {}
    return Selection(tuple(d["include"]) if "include" in d else None, tuple(d.get("exclude") or ()))


def _tokens(s: dict) -> Tokens | None:
    t = s.get("tokens")
    if t is None:
        return None
    return Tokens(_get(s, "tokens.tokenSecret.name"), (t.get("tokenSecret") or {}).get("namespace"),
                  _selection(t.get("volumeSnapshotClasses")), _selection(t.get("persistentVolumeClaims")),
                  _selection(t.get("stork")))


def _storage_classes(s: dict) -> StorageClasses | None:
    t = s.get("tokens")
    if t is not None:  # spec.tokens: its Secret, and its storageClasses selection
        sel = _selection(t.get("storageClasses"))
        return StorageClasses(_get(s, "tokens.tokenSecret.name"), (t.get("tokenSecret") or {}).get("namespace"),
                              sel.include, sel.exclude, "tokens")
    sc = s.get("storageClasses")
    if sc is None:
        return None
    token = sc.get("tokenSecret") or {}
    return StorageClasses(_get(s, "storageClasses.tokenSecret.name"), token.get("namespace"),
                          tuple(sc["include"]) if "include" in sc else None, tuple(sc.get("exclude") or ()))
