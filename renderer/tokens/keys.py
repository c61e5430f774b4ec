"""Key material for PX-Security: random shared keys, JWT signing key pairs, their Secrets, and
everything `pxsec keys generate` decides (the command only parses arguments and prints).

- Shared keys (system, Stork, JWT shared secret) are 48 bytes from `secrets` encoded as
  base64url: 64 characters carrying 384 bits, the length and entropy of the operator's own
  generated keys (128 random bytes -> base64 -> first 64 characters), and safe in shells,
  env files and YAML.
- Key pairs are RSA 3072 (for RS256) or ECDSA P-256 (for ES256, the curve openstorage signs
  with). Private keys are written as traditional OpenSSL PEM (PKCS#1 / SEC1), which both
  jwt-go parsers `pxctl auth token generate` uses accept; public keys as SubjectPublicKeyInfo
  PEM, which `ParseRSAPublicKeyFromPEM` / `ParseECPublicKeyFromPEM` read.
- Secrets are built by pxsec.render.generated_secret (the one Secret builder); no value is ever
  spliced into YAML text. Files go through pxsec.outfiles (checked first, written atomically).
"""
from __future__ import annotations

import os
import re
import secrets
import shlex
from dataclasses import dataclass, field
from typing import Iterable

from ..render import generated_secret
from ..spec import templating
from .. import portworx as px
from ..errors import Location, PxsecError, UsageError
from ..outfiles import OutFile, check_writable, is_file_target, write_all
from ..spec import KeyRef, Spec, build as build_spec

KEY_BYTES = 48  # -> 64 base64url characters, 384 bits (the operator's keys: 64 base64 chars)
RSA_BITS = 3072

SKIP_RESOURCE = generated_secret.SKIP_RESOURCE
KEY_TYPES = ("rsa", "ecdsa")
FORMATS = ("secret", "env")
SPEC_FIELD = {"rsa": "rsaPublicKey", "ecdsa": "ecdsaPublicKey"}

# Name/key of the public-key Secret when the spec does not name one: the README's spec example.
DEFAULT_PUBLIC_KEY_REF = {
    "rsa": KeyRef("px-jwt-keys", "rsa.pub"),
    "ecdsa": KeyRef("px-jwt-keys", "ecdsa.pub"),
}


_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def check_object_name(value: str, flag: str) -> str:
    """A Secret name must be a lowercase RFC 1123 subdomain (at most 253 characters)."""
    if len(value) > 253 or not _DNS_SUBDOMAIN.fullmatch(value):
        raise UsageError(f"not a valid Kubernetes object name (lowercase RFC 1123): {value!r}", Location(field=flag))
    return value


def check_namespace(value: str | None, flag: str = "--namespace") -> str | None:
    """A namespace must be a lowercase RFC 1123 label (at most 63 characters)."""
    if value is not None and (len(value) > 63 or not _DNS_LABEL.fullmatch(value)):
        raise UsageError(f"not a valid namespace name (lowercase RFC 1123 label): {value!r}", Location(field=flag))
    return value


def random_key() -> str:
    """One random shared key: 64 base64url characters (384 bits)."""
    return secrets.token_urlsafe(KEY_BYTES)


def default_spec() -> Spec:
    """The spec defaults (Secret `pxsec-auth-keys`, keys system-secret/stork-secret/shared-secret)."""
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
    for var, key in ((px.SYSTEM_KEY, spec.key_system), (px.STORK_KEY, spec.key_stork),
                     (px.SHARED_KEY, spec.key_jwt_shared_secret)):
        value = by_key.setdefault(key, random_key())
        entries.append((var, key, value))
    return SharedKeys(tuple(entries))


def env_lines(keys: SharedKeys) -> str:
    """`export VAR='value'` lines, shell-quoted, for `eval` or `source`."""
    return "".join(f"export {var}={shlex.quote(value)}\n" for var, value in keys.env().items())


def secret_manifest(name: str, data: dict[str, bytes | str], namespace: str | None = None,
                    annotations=()) -> str:
    """The YAML of a v1 Opaque Secret with every value base64-encoded under `data`."""
    return generated_secret.manifest(name, data, namespace, annotations)[0]


def shared_keys_secret(keys: SharedKeys, spec: Spec | None = None, namespace: str | None = None) -> str:
    spec = spec or default_spec()
    return secret_manifest(spec.secret_name, keys.secret_data(), namespace, SKIP_RESOURCE)


# --- key pairs -------------------------------------------------------------------------------

@dataclass(frozen=True)
class KeyPair:
    kind: str  # "rsa" | "ecdsa"
    private_pem: bytes = field(repr=False)
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


def spec_line(kind: str, ref: KeyRef) -> str:
    """`rsaPublicKey: {secretName: ..., key: ...}`: the line to paste under spec.selfSigned."""
    return templating.render("public-key-ref.yaml.j2", kind=kind, secret_name=ref.secret_name, key=ref.key)[0]


def private_key_path(key_dir: str, kind: str) -> str:
    return os.path.join(key_dir, f"jwt-{kind}-private.pem")


def public_key_path(key_dir: str, kind: str) -> str:
    return os.path.join(key_dir, f"jwt-{kind}-public.pem")


def secret_path(key_dir: str, secret_name: str) -> str:
    return os.path.join(key_dir, f"secret-{secret_name}.yaml")


# --- `keys generate` -------------------------------------------------------------------------

@dataclass(frozen=True)
class Generated:
    stdout: str  # what the command prints (secret values only when the user asked for them)
    notes: list[str]  # for stderr: what was written where (names only, never a value)


def generate(spec: Spec | None = None, *, fmt: str | None = None, namespace: str | None = None,
             output: str | None = None, kinds: Iterable[str] = (), key_dir: str = ".",
             shared: bool | None = None, force: bool = False) -> Generated:
    """Shared keys (as a Secret or env lines) and/or key pairs with their public-key Secrets.

    Without key pairs the shared keys are the output. With key pairs they are made only when
    `shared` is true (asked for), and the output is the `rsaPublicKey: ...` line(s) to paste
    into the spec. Nothing is written unless every target can be (no file is overwritten
    without `force`).
    """
    kinds = [k for k in KEY_TYPES if k in set(kinds)]
    check_namespace(namespace)
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}")
    if shared is None:
        shared = not kinds
    if not shared and (fmt is not None or is_file_target(output)):
        raise UsageError("--format and --output apply to the shared keys; add --shared to generate them "
                         "with the key pair")
    targets: list[str] = []
    refs = {kind: public_key_ref(kind, spec) for kind in kinds}
    if kinds:
        _check_refs(refs, spec)
        secret_names = sorted({ref.secret_name for ref in refs.values()})
        targets += [p for kind in kinds for p in (private_key_path(key_dir, kind), public_key_path(key_dir, kind))]
        targets += [secret_path(key_dir, name) for name in secret_names]
        if os.path.isdir(key_dir):
            check_writable(targets, force)
        elif os.path.lexists(key_dir):
            raise PxsecError("not a directory", Location(file=key_dir))
    if shared and is_file_target(output):
        check_writable([output], force)

    files: list[OutFile] = []
    notes: list[str] = []
    out = ""
    if shared:
        keys = generate_shared_keys(spec)
        fmt = fmt or ("secret" if spec else "env")
        text = shared_keys_secret(keys, spec, namespace) if fmt == "secret" else env_lines(keys)
        if is_file_target(output):
            files.append(OutFile(output, text.encode("utf-8"), 0o600))
        else:
            out = text
    lines = []
    if kinds:
        pairs = {kind: generate_key_pair(kind) for kind in kinds}
        for kind, pair in pairs.items():
            files.append(OutFile(private_key_path(key_dir, kind), pair.private_pem, 0o600))
            files.append(OutFile(public_key_path(key_dir, kind), pair.public_pem, None))
            notes.append(f"wrote {private_key_path(key_dir, kind)} (private key, mode 0600: sign {pair.algorithm} "
                         f"tokens with `pxsec token generate --private-key`) and {public_key_path(key_dir, kind)}")
        for name in sorted({ref.secret_name for ref in refs.values()}):
            data, held = {}, []
            for kind in KEY_TYPES:
                ref = public_key_ref(kind, spec)
                if ref.secret_name != name:
                    continue
                pem = pairs[kind].public_pem if kind in pairs else _existing_public_key(key_dir, kind)
                if pem is not None:
                    data[ref.key] = pem
                    held.append(f"{ref.key} ({kind}{'' if kind in pairs else ', kept from ' + public_key_path(key_dir, kind)})")
            files.append(OutFile(secret_path(key_dir, name), secret_manifest(name, data, namespace).encode("utf-8"),
                                 None))
            notes.append(f"wrote {secret_path(key_dir, name)}: Secret {name} with {', '.join(held)}; apply it "
                         f"where Portworx runs")
        lines = [spec_line(kind, refs[kind]) for kind in kinds]
        if out:
            notes += [f"paste under spec.selfSigned: {line.rstrip()}" for line in lines]
        else:
            out = "".join(lines)
            notes.append("paste the line(s) above under spec.selfSigned of the PortworxSecurity spec")
    if kinds and not os.path.isdir(key_dir):
        try:  # a new key directory holds a private key: only its owner may read it
            os.makedirs(key_dir, mode=0o700)
        except OSError as e:
            raise PxsecError(f"cannot create key directory: {e.strerror}", Location(file=key_dir)) from None
    write_all(files, force)
    return Generated(out, notes)


def _check_refs(refs: dict[str, KeyRef], spec: Spec | None) -> None:
    both = [public_key_ref(kind, spec) for kind in KEY_TYPES]
    if both[0] == both[1]:
        raise PxsecError(f"rsaPublicKey and ecdsaPublicKey both name key {both[0].key} of Secret "
                         f"{both[0].secret_name}; give each its own key",
                         Location(file=spec.source if spec else None, field="spec.selfSigned"))


def _existing_public_key(key_dir: str, kind: str) -> bytes | None:
    """The public key an earlier run left in key_dir, so a Secret both kinds share keeps both."""
    path = public_key_path(key_dir, kind)
    if not os.path.isfile(path):
        return None
    from ..sources import read_bytes

    return read_bytes(path, "public key")
