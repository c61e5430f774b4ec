"""Where manifests come from and where they go: files, directories, stdin, stdout, -o FILE."""
from __future__ import annotations

import os
import sys

from .errors import Location, PxsecError

STDIN = "<stdin>"


def decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PxsecError(f"not UTF-8 text (byte {e.start})", Location(file=name)) from None


def read_bytes(path: str, what: str = "") -> bytes:
    """A file's bytes; an OSError becomes the one-line `cannot read <what>: <reason>` error."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise PxsecError(f"cannot read{' ' + what if what else ''}: {e.strerror}", Location(file=path)) from None


def read_stdin() -> list[tuple[str, str]]:
    return [(STDIN, decode(sys.stdin.buffer.read(), STDIN))]


def _expand(path: str) -> list[str]:
    if os.path.isdir(path):
        found = []
        for root, dirs, files in os.walk(path):
            dirs.sort()
            found += [os.path.join(root, f) for f in files if f.endswith((".yaml", ".yml"))
                      and os.path.isfile(os.path.join(root, f))]
        return sorted(found, key=lambda f: f.replace(os.sep, "/"))
    if os.path.isfile(path):
        return [path]
    raise PxsecError("no such file or directory", Location(file=path))


def read_inputs(paths: list[str]) -> list[tuple[str, str]]:
    """(name, text) for every input, in order; '-' is stdin (read once)."""
    out: list[tuple[str, str]] = []
    seen_stdin = False
    for path in paths:
        if path == "-":
            if not seen_stdin:
                out.extend(read_stdin())
                seen_stdin = True
            continue
        for f in _expand(path):
            out.append((f, decode(read_bytes(f), f)))
    return out


def write_atomic(path: str | os.PathLike, data: bytes, mode: int | None = None) -> None:
    """Write `data` to `path` through a temporary file in the same directory, fsynced, then
    renamed over it: readers see the old file or the new one, never a part. `mode` defaults to
    the replaced file's mode, else 0644."""
    import tempfile
    from pathlib import Path

    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
    except OSError as e:
        raise PxsecError(f"cannot write: {e.strerror}", Location(file=str(path))) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is None:
            mode = target.stat().st_mode & 0o7777 if target.exists() else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise PxsecError(f"cannot write: {e.strerror}", Location(file=str(path))) from None


def write_output(text: str, output: str | None) -> None:
    data = text.encode("utf-8")
    if not output or output == "-":
        sys.stdout.buffer.write(data)
        return
    write_atomic(output, data)
