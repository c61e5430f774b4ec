"""`pxsec check --create-baseline FILE` / `--baseline FILE`: adopt the check on a repository (or a
fleet) that already has findings, and fail only on new ones.

A finding's fingerprint is a hash of what identifies it, not of where it is:

    rule id, cluster (fleet audit) or file, Kind, namespace, name, field with list indexes dropped

so it survives lines moving, documents reordering and list items reordering (`env[2]` and
`env[5]` are both `env[]`; a `kubectl get` List's `items[3].` is `items[].`). The message is not
part of it (its wording may change between pxsec versions; a drift message carries values), so
no value, secret or not, is ever written to the file: it holds the hash and, for people reviewing
it, the rule, object and field. Findings with the same fingerprint (two literal keys in one env
list) are counted: the baseline covers as many as it recorded, and any more are new.

The file is JSON, sorted, so re-creating it from the same findings gives the same bytes.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter

from ..errors import Location, UsageError
from .model import Finding, Report

KIND = "PxsecCheckBaseline"
VERSION = 1
_INDEX = re.compile(r"\[\d+\]")


def _place(f: Finding) -> str:
    """The cluster in a fleet audit, else the file relative to the current directory (POSIX)."""
    if f.cluster:
        return "cluster:" + f.cluster
    if not f.file or f.file.startswith("<"):
        return f.file or ""
    path = os.path.normpath(f.file)
    if os.path.isabs(path):
        try:
            rel = os.path.relpath(path)
            path = path if rel.startswith("..") else rel
        except ValueError:  # another drive (Windows)
            pass
    return path.replace(os.sep, "/")


def field_key(field: str | None) -> str:
    return _INDEX.sub("[]", field or "")


def fingerprint(f: Finding) -> str:
    key = "\0".join(("v1", f.rule_id, _place(f), f.kind or "", f.namespace or "", f.name or "", field_key(f.field)))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def entry(f: Finding) -> dict:
    return {"fingerprint": fingerprint(f), "rule": f.rule_id, "where": _place(f),
            "object": f.workload if (f.kind or f.name) else None, "field": field_key(f.field) or None}


def render(report: Report) -> str:
    """The baseline of every finding in `report`."""
    entries = sorted((entry(f) for f in report.findings),
                     key=lambda e: (e["where"], e["rule"], e["object"] or "", e["field"] or "", e["fingerprint"]))
    doc = {"kind": KIND, "version": VERSION, "findings": entries}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def parse(text: str, source: str) -> Counter:
    """The fingerprints of a baseline file, counted; a usage error (exit 2) if it is not one."""
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise UsageError(f"not a pxsec baseline (not valid JSON: line {getattr(e, 'lineno', '?')})",
                         Location(file=source)) from None
    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise UsageError(f"not a pxsec baseline (kind must be {KIND}; write one with --create-baseline)",
                         Location(file=source, field="kind"))
    if doc.get("version") != VERSION:
        raise UsageError(f"unsupported baseline version {doc.get('version')!r} (this pxsec reads {VERSION})",
                         Location(file=source, field="version"))
    items = doc.get("findings")
    if not isinstance(items, list):
        raise UsageError("must be a list", Location(file=source, field="findings"))
    found: Counter = Counter()
    for i, item in enumerate(items):
        fp = item.get("fingerprint") if isinstance(item, dict) else None
        if not isinstance(fp, str) or not re.fullmatch(r"[0-9a-f]{32}", fp):
            raise UsageError("must have a 32-hex-digit fingerprint", Location(file=source, field=f"findings[{i}]"))
        found[fp] += 1
    return found


def load(path: str) -> Counter:
    from ..errors import PxsecError
    from ..sources import decode, read_bytes

    try:
        return parse(decode(read_bytes(path, "baseline file"), path), path)
    except UsageError:
        raise
    except PxsecError as e:  # unreadable: a usage error (exit 2), as for the config file
        raise UsageError(e.message, e.location) from None


def apply(report: Report, known: Counter) -> Report:
    """The report without the findings `known` covers (counted as `baselined`). Findings are
    matched in report order, so of several with one fingerprint the first ones are covered."""
    left = Counter(known)

    def new(f: Finding) -> bool:
        fp = fingerprint(f)
        if left[fp] > 0:
            left[fp] -= 1
            return False
        return True

    if not report.clusters:
        return report.keep(new, "baselined")
    # a fleet: each cluster's report once, and the whole made again from the parts
    from .model import fleet

    parts = {name: apply(part, left) for name, part in report.clusters.items()}
    return fleet(parts)
