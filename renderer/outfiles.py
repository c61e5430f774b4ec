"""Planned output files for the commands that generate them (`keys generate`, `token generate`):
everything is decided and checked before the first byte is written, then written through the
one atomic writer (`sources.write_atomic`)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from .errors import Location, PxsecError
from .sources import write_atomic


@dataclass(frozen=True)
class OutFile:
    path: str
    data: bytes = field(repr=False)
    mode: int | None = 0o600  # None: the umask decides (files without secrets)


def is_file_target(output: str | None) -> bool:
    return bool(output) and output != "-"


def check_writable(paths, force: bool) -> None:
    """Refuse before anything is written if one target exists (unless force) or is a directory."""
    for p in paths:
        p = os.fspath(p)
        if os.path.isdir(p):
            raise PxsecError("is a directory", Location(file=p))
        if os.path.lexists(p) and not force:
            raise PxsecError("already exists; pass --force to overwrite it", Location(file=p))
        parent = os.path.dirname(p) or "."
        if not os.path.isdir(parent):
            raise PxsecError("directory does not exist", Location(file=parent))


def write_all(files: list[OutFile], force: bool) -> None:
    check_writable([f.path for f in files], force)
    for f in files:
        write_atomic(f.path, f.data, f.mode, replace=force)
