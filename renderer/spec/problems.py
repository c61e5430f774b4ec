"""Everything wrong with a spec, as field path + message: the JSON Schema's verdict (jsonschema,
imported only when a spec is validated), turned into messages a user can act on, plus the
checks a schema cannot express for Python's `re` (no control characters in any string).

Causes come before consequences: a misspelt field is reported first, with a did-you-mean.
"""
from __future__ import annotations

from functools import lru_cache
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any

from ..data import data_file
from ..records import Record

SCHEMA_FILE = "portworxsecurity.schema.json"


class Problem(Record, fields="path message"):
    """One spec problem: field path and message."""

    __slots__ = ()

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@lru_cache(maxsize=1)
def schema() -> dict:
    with open(data_file("schemas", SCHEMA_FILE), encoding="utf-8") as f:
        import json  # only when validating

        return json.load(f)


def _path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _key(k) -> str:
    return k if isinstance(k, str) else repr(k)


def _did_you_mean(name: str, allowed: list[str]) -> str:
    """`; did you mean selfSigned?` for a misspelt field (case, a letter or two), else ''."""
    from difflib import get_close_matches

    lower = {a.lower(): a for a in allowed}
    match = lower.get(name.lower()) or next(iter(
        lower[m] for m in get_close_matches(name.lower(), list(lower), n=1, cutoff=0.7)), None)
    return f"; did you mean {match}?" if match else ""


UNKNOWN_FIELD = "unknown field"


def _control_problems(doc: Any) -> list[Problem]:
    """Every key and string of the spec that holds a newline or another control character.

    The schema's patterns end in `$`, which Python's `re` (and so jsonschema here) lets match
    before one trailing newline: `issuer: "openstorage.io\\n"` would pass them and break the
    deploy. Editors (ECMA regexes) read the same patterns strictly; this check makes pxsec
    strict too, for every string, including those the schema has no pattern for."""
    found: list[Problem] = []
    stack: list[tuple[Any, tuple]] = [(doc, ())]
    seen: set[int] = set()
    while stack:
        node, parts = stack.pop()
        if isinstance(node, (dict, list)):
            if id(node) in seen:
                continue
            seen.add(id(node))
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for k, v in items:
            here = parts + (k,) if isinstance(node, list) or isinstance(k, str) else parts + (_key(k),)
            # annotation values are free text to Kubernetes (kustomize's function config is a
            # multi-line YAML document): a newline or tab is fine there, nothing else is
            text_ok = "\n\t" if parts == ("metadata", "annotations") else ""
            for what, text in (("field name", k if isinstance(node, dict) else None), ("value", v)):
                if isinstance(text, str) and not _clean(text, text_ok if what == "value" else ""):
                    bad = next(c for c in text if not _clean(c, text_ok if what == "value" else ""))
                    found.append(Problem(_path(here), f"the {what} contains a {_char_name(bad)}, which a spec "
                                                      f"string must not hold"))
            if isinstance(v, (dict, list)):
                stack.append((v, here))
    return found


def _clean(text: str, allowed: str = "") -> bool:
    return not any((ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 or c in "\u2028\u2029") and c not in allowed
                   for c in text)


def _char_name(c: str) -> str:
    names = {"\n": "newline", "\r": "carriage return", "\t": "tab", "\x00": "NUL character"}
    return names.get(c, f"control character (U+{ord(c):04X})")


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
        return Problem(field, f"unknown field{_did_you_mean(extra[0] if extra else '', allowed)} "
                              f"(allowed here: {', '.join(allowed)})")
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
    if validator == "not" and path == "spec":
        return Problem("spec.tokens", "spec.storageClasses and spec.tokens are exclusive: spec.tokens wires "
                                      "StorageClasses too (move include/exclude under tokens.storageClasses)")
    if validator == "not":
        return Problem(path, f"{error.instance!r} is not allowed")
    return Problem(path, error.message)


def problems(doc: Any) -> list[Problem]:
    """Every problem with a parsed spec document, sorted by field path."""
    from jsonschema import Draft202012Validator  # imported here: it is slow to import

    if not isinstance(doc, dict):
        return [Problem("", "the spec must be a YAML mapping (a PortworxSecurity object)")]
    validator = Draft202012Validator(schema())
    found = {(p.path, p.message): p for p in _control_problems(doc)}
    control_paths = {p.path for p in found.values()}
    for error in validator.iter_errors(doc):
        if isinstance(error.instance, str) and _path(error.absolute_path) in control_paths:
            continue  # reported above, by name (a pattern, enum or const failure would only repeat it)
        p = _friendly(error)
        found.setdefault((p.path, p.message), p)
    # Causes before consequences: a misspelt field (`selfsigned`) first, not the "at least one
    # of selfSigned and oidc is required" it leads to.
    return sorted(found.values(), key=lambda p: (not p.message.startswith(UNKNOWN_FIELD), str(p.path), p.message))
