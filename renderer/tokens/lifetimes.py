"""Token lifetimes and times as people read them.

Lifetimes are `<integer><s|m|h|d|y>` (y = 365 days). openstorage's own parser would read
`1h30m` as 30 minutes; pxsec refuses anything but exactly one number and one unit.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from ..errors import Location, PxsecError
from .common import show

DEFAULT_LIFETIME = "1d"  # pxctl auth token generate's default
MAX_LIFETIME = 100 * 365 * 86400
LIFETIME_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}
_LIFETIME_RE = re.compile(r"([0-9]+)([smhdy])")


def parse_lifetime(text: str, where: Location | None = None) -> int:
    """`<integer><s|m|h|d|y>` -> seconds (y = 365 days). Compound forms like `1h30m` are refused."""
    m = _LIFETIME_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if not m:
        raise PxsecError(f"lifetime must be <integer><s|m|h|d|y>, for example 24h or 7d (got {show(text)})",
                         where)
    seconds = int(m.group(1)) * LIFETIME_UNITS[m.group(2)]
    if seconds <= 0:
        raise PxsecError("lifetime must be greater than zero", where)
    if seconds > MAX_LIFETIME:
        raise PxsecError("lifetime must be at most 100y", where)
    return seconds


def iso(ts: float) -> str:
    try:
        return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"{ts} (epoch seconds)"


def human_duration(seconds: float) -> str:
    seconds = int(abs(seconds))
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
        if len(parts) == 2:
            break
    return " ".join(parts)
