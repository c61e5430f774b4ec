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


def write_atomic(path: str | os.PathLike, data: bytes, mode: int | None = None, *, replace: bool = True) -> None:
    """The one file writer: `data` goes to a new temporary file in the target's directory, is
    fsynced, then moved into place, so a reader sees the old file or the new one, never a part.

    - `mode` given: the file gets exactly that mode, and never has wider permissions on the way
      (the temporary file is created 0600). Pass 0600 for anything holding secret data.
    - `mode` None: a replaced file keeps its mode; a new file gets 0666 minus the process
      umask (and the directory's default ACL), like any file a shell redirect creates.
    - `replace=False`: refuse ("already exists") if the target exists, without a race: the
      file is hard-linked into place, which cannot overwrite. With `replace` a symlink at the
      target is replaced itself, never followed.
    Missing parent directories are created. Errors are one line naming the file.
    """
    import stat

    target = os.fspath(path)
    directory = os.path.dirname(target) or "."
    loc = Location(file=target)
    existing = None
    if mode is None and replace:
        try:
            st = os.stat(target)
            if stat.S_ISREG(st.st_mode):
                existing = stat.S_IMODE(st.st_mode)
        except OSError:
            pass
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        os.makedirs(directory, exist_ok=True)
        for _ in range(100):
            tmp = os.path.join(directory, f".{os.path.basename(target)}.{os.urandom(6).hex()}.tmp")
            try:  # 0666 lets the kernel apply the umask; an explicit or kept mode starts private
                fd = os.open(tmp, flags, 0o666 if mode is None and existing is None else 0o600)
                break
            except FileExistsError:
                continue
        else:
            raise PxsecError("cannot write: no free temporary name", loc)
    except OSError as e:
        raise PxsecError(f"cannot write: {e.strerror}", loc) from None
    try:
        try:
            with os.fdopen(fd, "wb") as f:
                final = mode if mode is not None else existing
                if final is not None:
                    os.fchmod(f.fileno(), final)
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            if replace:
                os.replace(tmp, target)
            else:
                try:
                    os.link(tmp, target)
                except FileExistsError:
                    raise PxsecError("already exists; pass --force to overwrite it", loc) from None
                except OSError:  # no hard links here (some network/FUSE filesystems)
                    if os.path.lexists(target):
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


def _fsync_dir(directory: str) -> None:
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


def write_output(text: str, output: str | None) -> None:
    data = text.encode("utf-8")
    if not output or output == "-":
        sys.stdout.buffer.write(data)
        return
    write_atomic(output, data)
