"""Secrets that charts copy into annotations, where anyone who can read the object sees them.

The portworx DaemonSet chart (portworx/helm, charts/portworx-daemonSet/templates/portworx-ds.yaml)
writes every non-empty value into the DaemonSet annotation `portworx.com/helm-vars` as
`chart="portworx-<ver>",envVars="NAME=value;NAME2=value2",misc="-flag value ...",...`. pxsec moves
the key env vars to secretKeyRefs and drops secret px-runc flags, but a copy of the value stays
in that annotation. `scrub` blanks those values in every annotation of the object and its pod
template: `NAME=value` for the key env var names, the JSON `{"name": NAME, "value": ...}` form
(as in `kubectl.kubernetes.io/last-applied-configuration`), and the value after
`-jwt_shared_secret` / `-auth_system_key`. The same patterns let `pxsec check` find them.
"""
from __future__ import annotations

import re

from ... import lazyre, portworx as px
from . import common as c

REDACTED = "(removed-by-pxsec)"
_NAMES = "|".join(re.escape(n) for n in px.SECRET_ENV)
_FLAGS = "|".join(re.escape(f.lstrip("-")) for f in px.SECRET_FLAGS)
# what every match below spells: a key variable's name or a secret flag's (an annotation without
# one is not searched, and the patterns are compiled only for one that has)
_NEEDLES = tuple(px.SECRET_ENV) + tuple(f.lstrip("-") for f in px.SECRET_FLAGS)
# NAME=value up to `;` (the chart's separator) or the closing `"` of the dumped value.
_ENV_KV = lazyre.compile(r'(?<![A-Za-z0-9_])(%s)(\s*=\s*)((?:(?!",)[^;\n])*?)(?=;|",|"$|\n|$)' % _NAMES)
_ENV_JSON = lazyre.compile(r'("name"\s*:\s*"(?:%s)"\s*,\s*"value"\s*:\s*)"((?:[^"\\]|\\.)*)"' % _NAMES)
_FLAG = lazyre.compile(r'(?<![A-Za-z0-9_-])(--?(?:%s))(=|\s+)([^\s",;]+)' % _FLAGS)


def secrets_in(text: str) -> list[str]:
    """Names of the secret env vars / flags whose value `text` carries (values never returned)."""
    if not any(n in text for n in _NEEDLES):  # every pattern matches one of these literally
        return []
    found = [m.group(1) for m in _ENV_KV.finditer(text) if m.group(3).strip() not in ("", REDACTED)]
    found += [re.search(r'"name"\s*:\s*"([^"]+)"', m.group(1)).group(1)
              for m in _ENV_JSON.finditer(text) if m.group(2) not in ("", REDACTED)]
    found += [m.group(1) for m in _FLAG.finditer(text) if m.group(3) != REDACTED]
    return list(dict.fromkeys(found))


def mask(text: str, mark: str) -> str:
    """`text` with the value of every key variable (`NAME=value`, a JSON env entry) and secret flag
    replaced by `mark`: render's scrub, and check's drift values (redact.py)."""
    text = _ENV_KV.sub(lambda m: m.group(1) + m.group(2) + (mark if m.group(3).strip() else m.group(3)), text)
    text = _ENV_JSON.sub(lambda m: m.group(1) + (f'"{mark}"' if m.group(2) else '""'), text)
    return _FLAG.sub(lambda m: m.group(1) + m.group(2) + mark, text)


def _redact(text: str) -> str:
    return mask(text, REDACTED)


def _annotation_maps(obj: dict):
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        yield "metadata.annotations", meta.get("annotations")
    tmeta = (((obj.get("spec") or {}).get("template") or {}).get("metadata")
             if isinstance(obj.get("spec"), dict) and isinstance(obj["spec"].get("template"), dict) else None)
    if isinstance(tmeta, dict):
        yield "spec.template.metadata.annotations", tmeta.get("annotations")


def scrub(obj: dict, report: c.Report) -> None:
    """Blank secret values in the object's annotations, with a warning naming each annotation."""
    for path, ann in _annotation_maps(obj):
        if not isinstance(ann, dict):
            continue
        for key, value in ann.items():
            if not isinstance(value, str):
                continue
            names = secrets_in(value)
            if not names:
                continue
            ann[key] = _redact(value)
            report.changes.append(f"removed secret values from annotation {key}")
            report.warnings.append(
                f"{path}.{key} carried the value of {', '.join(names)} (readable by anyone who can read this "
                f"object): pxsec replaced it with {REDACTED}; rotate that key, it was exposed")
