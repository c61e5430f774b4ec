"""Where manifests come from and where they go: files, directories, stdin, stdout, -o FILE."""
from __future__ import annotations

import os
import re
import sys

from . import lazyre
from .errors import Location, PxsecError, UsageError

STDIN = "<stdin>"
STDOUT = "<stdout>"
# What a directory contributes: the extensions users give manifests, in any case (`px.YAML`).
# JSON is YAML, and kubectl reads `*.json` manifests from a directory too.
EXTENSIONS = (".yaml", ".yml", ".json")


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
    """stdin's text. A closed stdin is an error; a terminal is a usage error with a hint, not a
    silent wait for input nobody is going to type."""
    if sys.stdin is None:
        raise PxsecError("stdin is closed: name the manifest files, or pipe a stream in", Location(file=STDIN))
    try:
        tty = sys.stdin.isatty()
    except (AttributeError, ValueError, OSError):
        tty = False
    if tty:
        raise UsageError("stdin is a terminal: name the manifest files (`pxsec render --spec SPEC FILE ...`), "
                         "or pipe a stream in (`helm template ... | pxsec render --spec SPEC`)", Location(file=STDIN))
    try:
        raw = sys.stdin.buffer.read()
    except OSError as e:
        raise PxsecError(f"cannot read: {e.strerror}", Location(file=STDIN)) from None
    return [(STDIN, decode(raw, STDIN))]


def is_manifest_name(name: str) -> bool:
    return name.lower().endswith(EXTENSIONS)


def _expand(path: str) -> list[str]:
    if os.path.isdir(path):
        found, skipped = [], []
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for f in files:
                if os.path.isfile(os.path.join(root, f)):
                    (found if is_manifest_name(f) else skipped).append(os.path.join(root, f))
        if not found:
            # an empty selection would render to empty output and exit 0: nothing secured, silently
            seen = f" (it holds {len(skipped)} other file(s), e.g. {os.path.basename(sorted(skipped)[0])})" \
                if skipped else ""
            raise PxsecError(f"no manifests here: a directory contributes its *.yaml, *.yml and *.json files "
                             f"(any case){seen}; name a file to read it whatever its name", Location(file=path))
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


def binary_stdout():
    """sys.stdout's binary buffer, or None when stdout is closed (`>&-`)."""
    return getattr(sys.stdout, "buffer", None) if sys.stdout is not None else None


def write_stream(stream, data: bytes) -> None:
    """All of `data` to `stream` (stdout), or a PxsecError: a short write is never success.

    A pipe whose reader went away (`| head -1`) or a full disk ends in exit 1, so a consumer
    that got part of the output sees a failure. (BufferedWriter.write can report a partial
    write to a pipe as done; os.write in a loop cannot.)"""
    if stream is None:
        raise PxsecError("cannot write the output: stdout is closed", Location(file=STDOUT))
    try:
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            stream.write(data)
            stream.flush()
            return
        stream.flush()
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except BrokenPipeError:
        raise PxsecError("the reader closed the pipe before the output was complete", Location(file=STDOUT)) from None
    except OSError as e:
        raise PxsecError(f"cannot write: {e.strerror}", Location(file=STDOUT)) from None


# A Secret's data ends up in the output file: `kind: Secret` spelled plainly, or a spelling
# pxsec cannot rule out without parsing (escapes in double quotes, binary tags, %TAG).
_MAY_HOLD_SECRET = lazyre.compile(r"\bSecret\b|binary|%TAG|\\[xuU]|\\\r?\n")


def may_hold_secret(text: str) -> bool:
    """True when the text may hold a Secret object (conservative: false positives only)."""
    return _MAY_HOLD_SECRET.search(text) is not None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def output_mode(path: str, text: str) -> int | None:
    """The mode `-o` gives its file: 0600 whenever the output may hold Secret data; else a new
    file gets 0666 minus the umask, like any file a shell redirection creates, and a replaced
    file keeps its mode (None)."""
    if may_hold_secret(text):
        return 0o600
    if os.path.exists(path):
        return None
    return 0o666 & ~_umask()


def write_pieces(pieces, output: str | None) -> None:
    """An output stream given in pieces (RenderResult.pieces): to stdout about a megabyte at a
    time, so a long stream is not held as text and bytes at once; to a file whole, atomically."""
    if output and output != "-":
        write_output("".join(pieces), output)
        return
    out = binary_stdout()
    batch: list[str] = []
    size = 0
    for piece in pieces:
        batch.append(piece)
        size += len(piece)
        if size >= 1 << 20:
            write_stream(out, "".join(batch).encode("utf-8"))
            batch, size = [], 0
    if batch or size == 0:
        write_stream(out, "".join(batch).encode("utf-8"))


def write_output(text: str, output: str | None) -> None:
    data = text.encode("utf-8")
    if not output or output == "-":
        write_stream(binary_stdout(), data)
        return
    write_atomic(output, data, mode=output_mode(output, text))
