"""`pxsec check`'s config file: what a repository always wants, so pre-commit, CI and people
at a terminal run the same check.

    # .pxsec-check.yaml (read from the current directory, or given with --config FILE)
    ignore: [PXS021]        # rule ids or names, ignored for every object
    minSeverity: warning    # note (default) | warning | error: leave out less severe findings
    strict: true            # fail on warnings too

Command-line options add to it: `--ignore` extends `ignore`, `--min-severity` replaces
`minSeverity`, `--strict` turns strict on. Unknown keys and rules are errors (exit 2): a typo
must not turn a rule off or leave it on unnoticed.
"""
from __future__ import annotations

import os
import re
from collections import namedtuple

import yaml

from ..errors import Location, PxsecError, UsageError
from .model import SEVERITIES, rule_id, suggest

FILENAME = ".pxsec-check.yaml"
KEYS = ("ignore", "minSeverity", "strict")


class Config(namedtuple("Config", "source ignore min_severity strict", defaults=(None, frozenset(), None, False))):
    """What the config file says: source (its path, or None), ignore (rule ids), min_severity, strict."""

    __slots__ = ()


def find(directory: str = ".") -> str | None:
    """The config file of `directory`, if there is one."""
    for name in (FILENAME, FILENAME[:-5] + ".yml"):
        path = name if directory == "." else os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    return None


def _rules(value, source: str) -> frozenset[str]:
    items = [t for t in re.split(r"[\s,]+", value) if t] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise UsageError("must be a list of rule ids or names", Location(file=source, field="ignore"))
    ids = set()
    for i, item in enumerate(items):
        rid = rule_id(item) if isinstance(item, str) else None
        if rid is None:
            hint = suggest(item) if isinstance(item, str) else ""
            raise UsageError(f"unknown rule {item!r}{hint}", Location(file=source, field=f"ignore[{i}]"))
        ids.add(rid)
    return frozenset(ids)


def parse(text: str, source: str) -> Config:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise UsageError(f"{where}not valid YAML", Location(file=source)) from None
    if data is None:
        return Config(source)
    if not isinstance(data, dict):
        raise UsageError(f"must be a mapping with the keys {', '.join(KEYS)}", Location(file=source))
    for key in data:
        if key not in KEYS:
            import difflib

            close = difflib.get_close_matches(str(key), KEYS, n=1)
            hint = f"; did you mean {close[0]}?" if close else f" (known keys: {', '.join(KEYS)})"
            raise UsageError(f"unknown key {key!r}{hint}", Location(file=source, field=str(key)))
    min_sev = data.get("minSeverity")
    if min_sev is not None and min_sev not in SEVERITIES:
        raise UsageError(f"must be one of {', '.join(SEVERITIES[::-1])}", Location(file=source, field="minSeverity"))
    strict = data.get("strict", False)
    if not isinstance(strict, bool):
        raise UsageError("must be true or false", Location(file=source, field="strict"))
    ignore = _rules(data["ignore"], source) if data.get("ignore") is not None else frozenset()
    return Config(source, ignore, min_sev, strict)


def load(path: str) -> Config:
    from ..sources import decode, read_bytes

    try:
        return parse(decode(read_bytes(path, "config file"), path), path)
    except UsageError:
        raise
    except PxsecError as e:  # unreadable: a usage error here (exit 2), as for any input path
        raise UsageError(e.message, e.location) from None


__all__ = ["Config", "FILENAME", "find", "load", "parse"]
