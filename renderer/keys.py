"""Key material for PX-Security: random shared keys, JWT signing key pairs, Secret manifests.

Pure core behind `pxsec keys generate` (and the file writer `pxsec token generate` shares).
Nothing here prints; values only leave through the return values the caller asked for.

- Shared keys (system, Stork, JWT shared secret) are 48 bytes from `secrets` encoded as
  base64url: 64 characters carrying 384 bits, the length and entropy of the operator's own
  generated keys (128 random bytes -> base64 -> first 64 characters), and safe in shells,
  env files and YAML.
- Key pairs are RSA 3072 (for RS256) or ECDSA P-256 (for ES256, the curve openstorage signs
  with). Private keys are written as traditional OpenSSL PEM (PKCS#1 / SEC1), which both
  jwt-go parsers `pxctl auth token generate` uses accept; public keys as SubjectPublicKeyInfo
  PEM, which `ParseRSAPublicKeyFromPEM` / `ParseECPublicKeyFromPEM` read.
- Manifests are built as dicts and serialized with yaml.dump (CSafeDumper); no value is ever
  spliced into YAML text.
"""
from __future__ import annotations

import base64
import os
import re
import secrets
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import Location, PxsecError
from .spec import ENV_SHARED, ENV_STORK, ENV_SYSTEM, KeyRef, Spec, build as build_spec

KEY_BYTES = 48  # -> 64 base64url characters, 384 bits (the operator's keys: 64 base64 chars)
RSA_BITS = 3072


# The operator marks its key and token Secrets so Stork never copies them to another cluster.
SKIP_RESOURCE = {"stork.libopenstorage.org/skip-resource": "true"}

KEY_TYPES = ("rsa", "ecdsa")

# Name/key of the public-key Secret when the spec does not name one.
DEFAULT_PUBLIC_KEY_REF = {
    "rsa": KeyRef("px-jwt-rsa-public-key", "rsa-public.pem"),
    "ecdsa": KeyRef("px-jwt-ecdsa-public-key", "ecdsa-public.pem"),
}


_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def check_object_name(value: str, flag: str) -> str:
    """A Secret name must be a lowercase RFC 1123 subdomain (at most 253 characters)."""
    if len(value) > 253 or not _DNS_SUBDOMAIN.fullmatch(value):
        raise PxsecError(f"not a valid Kubernetes object name (lowercase RFC 1123): {value!r}", Location(field=flag))
    return value


def check_namespace(value: str | None, flag: str = "--namespace") -> str | None:
    """A namespace must be a lowercase RFC 1123 label (at most 63 characters)."""
    if value is not None and (len(value) > 63 or not _DNS_LABEL.fullmatch(value)):
        raise PxsecError(f"not a valid namespace name (lowercase RFC 1123 label): {value!r}", Location(field=flag))
    return value


def random_key() -> str:
    """One random shared key: 64 base64url characters (384 bits)."""
    return secrets.token_urlsafe(KEY_BYTES)


def default_spec() -> Spec:
    """The spec defaults (Secret `px-system-secrets`, keys system-secret/stork-secret/shared-secret)."""
    return build_spec({}, "<defaults>")


@dataclass(frozen=True)
class SharedKeys:
    """The three shared keys, each as (environment variable, Secret key, value).

    Roles that the spec maps to the same Secret key share one value, so the Secret and the
    environment never disagree.
    """

    entries: tuple[tuple[str, str, str], ...]

    def secret_data(self) -> dict[str, str]:
        return {key: value for _, key, value in self.entries}

    def env(self) -> dict[str, str]:
        return {var: value for var, _, value in self.entries}


def generate_shared_keys(spec: Spec | None = None) -> SharedKeys:
    spec = spec or default_spec()
    by_key: dict[str, str] = {}
    entries = []
    for var, key in ((ENV_SYSTEM, spec.key_system), (ENV_STORK, spec.key_stork),
                     (ENV_SHARED, spec.key_jwt_shared_secret)):
        value = by_key.setdefault(key, random_key())
        entries.append((var, key, value))
    return SharedKeys(tuple(entries))


def env_lines(keys: SharedKeys) -> str:
    """`export VAR='value'` lines, shell-quoted, for `eval` or `source`."""
    return "".join(f"export {var}={shlex.quote(value)}\n" for var, value in keys.env().items())


def secret_manifest(name: str, data: dict[str, bytes | str], namespace: str | None = None,
                    annotations: dict[str, str] | None = None) -> dict:
    """A v1 Opaque Secret with every value base64-encoded under `data`."""
    metadata: dict = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if annotations:
        metadata["annotations"] = dict(annotations)
    encoded = {}
    for key, value in data.items():
        raw = value.encode("utf-8") if isinstance(value, str) else value
        encoded[key] = base64.b64encode(raw).decode("ascii")
    return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "Opaque", "data": encoded}


def dump_yaml(*docs: dict) -> str:
    """One or more manifests as a YAML stream (CSafeDumper; values are never spliced into text)."""
    return yaml.dump_all(list(docs), Dumper=yaml.CSafeDumper, sort_keys=False,
                         default_flow_style=False, explicit_start=len(docs) > 1)


def shared_keys_secret(keys: SharedKeys, spec: Spec | None = None, namespace: str | None = None) -> dict:
    spec = spec or default_spec()
    return secret_manifest(spec.secret_name, keys.secret_data(), namespace, SKIP_RESOURCE)


# --- key pairs -------------------------------------------------------------------------------

@dataclass(frozen=True)
class KeyPair:
    kind: str  # "rsa" | "ecdsa"
    private_pem: bytes
    public_pem: bytes

    @property
    def algorithm(self) -> str:
        return "RS256" if self.kind == "rsa" else "ES256"


def generate_key_pair(kind: str) -> KeyPair:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    elif kind == "ecdsa":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        raise ValueError(f"unknown key type {kind!r}")
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return KeyPair(kind, private_pem, public_pem)


def public_key_ref(kind: str, spec: Spec | None) -> KeyRef:
    """The Secret name/key the spec expects the public key in, else pxsec's default."""
    ss = spec.self_signed if spec else None
    ref = None
    if ss is not None:
        ref = ss.rsa_public_key if kind == "rsa" else ss.ecdsa_public_key
    return ref or DEFAULT_PUBLIC_KEY_REF[kind]


def public_key_secret(pair: KeyPair, ref: KeyRef, namespace: str | None = None) -> dict:
    return secret_manifest(ref.secret_name, {ref.key: pair.public_pem}, namespace)


@dataclass(frozen=True)
class KeyPairFiles:
    private: Path
    public: Path
    manifest: Path


def key_pair_files(kind: str, directory: str | os.PathLike) -> KeyPairFiles:
    d = Path(directory)
    return KeyPairFiles(d / f"jwt-{kind}-private.pem", d / f"jwt-{kind}-public.pem",
                        d / f"jwt-{kind}-public-secret.yaml")


# --- files -----------------------------------------------------------------------------------

def check_writable(paths, force: bool) -> None:
    """Refuse before anything is written if one target exists (unless force) or is a directory."""
    for p in paths:
        p = Path(p)
        if p.is_dir():
            raise PxsecError("is a directory", Location(file=str(p)))
        if (p.exists() or p.is_symlink()) and not force:
            raise PxsecError("already exists; pass --force to overwrite it", Location(file=str(p)))
        parent = p.parent if str(p.parent) else Path(".")
        if not parent.is_dir():
            raise PxsecError("directory does not exist", Location(file=str(parent)))


def write_file(path: str | os.PathLike, data: bytes, mode: int = 0o600, force: bool = False) -> None:
    """Write atomically with exactly `mode`: a temporary file in the same directory, fsynced,
    then linked into place (which cannot overwrite) or, with force, renamed over the target.
    A reader never sees a partial file and the data is never readable with wider permissions.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    loc = Location(file=str(target))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise PxsecError(f"cannot write: {e.strerror}", loc) from None
    try:
        try:
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), mode)
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            if force:
                os.replace(tmp, target)
            else:
                try:
                    os.link(tmp, target)
                except FileExistsError:
                    raise PxsecError("already exists; pass --force to overwrite it", loc) from None
                except OSError:  # no hard links here (some network/FUSE filesystems)
                    if target.exists() or target.is_symlink():
                        raise PxsecError("already exists; pass --force to overwrite it", loc) from None
                    os.replace(tmp, target)
        except OSError as e:
            raise PxsecError(f"cannot write: {e.strerror}", loc) from None
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
