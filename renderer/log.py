"""stderr messages, and log files for orchestrators that hide stderr (Helm 4).

- PXSEC_LOG_FILE=/path: every error and warning is also appended there.
- Run by Helm (HELM_PLUGIN_NAME or HELM_PLUGIN_DIR set, as Helm 4 does for its plugins), the
  errors of the run are also written to `last_error_file()`, under Helm's cache dir, always:
  Helm 4 prints only `plugin "pxsec" exited with error`. `pxsec last-error` prints that file.

Log lines carry a UTC timestamp, the process id and pxsec's arguments. Messages never contain
secret values, and pxsec never takes one on its command line (keys come from the environment);
arguments that look like `--some-secret=value` are masked all the same.
"""
from __future__ import annotations

import os
import sys

LAST_ERROR = "last-error.log"
_SECRET_WORDS = ("secret", "token", "password", "passphrase", "key=")
_last_error_started = False


def _printable(text: str) -> str:
    """Escape control characters (names and keys from the input can carry CR, ESC...), so a
    message stays one line and cannot drive the terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else (" " if c == "\n" else f"\\x{ord(c):02x}" if ord(c) < 0x100
                                              else f"\\u{ord(c):04x}") for c in text)


def helm_cache_home(environ=os.environ) -> str:
    """Helm's cache dir, as Helm computes it: $HELM_CACHE_HOME, else $XDG_CACHE_HOME/helm, else the
    platform's default (~/.cache/helm; ~/Library/Caches/helm on macOS; %TEMP%\\helm on Windows)."""
    if environ.get("HELM_CACHE_HOME"):
        return environ["HELM_CACHE_HOME"]
    if environ.get("XDG_CACHE_HOME"):
        return os.path.join(environ["XDG_CACHE_HOME"], "helm")
    home = os.path.expanduser("~")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Caches", "helm")
    if os.name == "nt":
        return os.path.join(environ.get("TEMP") or home, "helm")
    return os.path.join(home, ".cache", "helm")


def last_error_file(environ=os.environ) -> str:
    return os.path.join(helm_cache_home(environ), "pxsec", LAST_ERROR)


def run_by_helm(environ=os.environ) -> bool:
    return bool(environ.get("HELM_PLUGIN_NAME") or environ.get("HELM_PLUGIN_DIR"))


def _arguments() -> str:
    out = []
    for a in sys.argv[1:]:
        name, eq, _ = a.partition("=")
        out.append(f"{name}=***" if eq and any(w in name.lower() + "=" for w in _SECRET_WORDS) else a)
    return _printable(" ".join(["pxsec", *out]))


def _stamp() -> str:
    import time

    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


def _append(path: str, line: str, truncate: bool = False) -> None:
    try:
        directory = os.path.dirname(path)
        if directory and truncate:
            os.makedirs(directory, exist_ok=True)
        with open(path, "w" if truncate else "a", encoding="utf-8") as f:
            f.write(f"{_stamp()} [pid {os.getpid()}] ({_arguments()}) {line}\n")
    except OSError:
        pass


def _emit(prefix: str, message: str, stderr: bool = True) -> None:
    global _last_error_started
    line = _printable(f"pxsec: {prefix}{message}")
    if stderr:
        try:
            print(line, file=sys.stderr)
        except (OSError, ValueError, AttributeError):
            pass
    path = os.environ.get("PXSEC_LOG_FILE")
    if path:
        _append(path, line)
    if prefix == "error: " and run_by_helm():
        # this run's errors replace the previous run's: the file holds the last failure
        _append(last_error_file(), line, truncate=not _last_error_started)
        _last_error_started = True


def log_error(message: str) -> None:
    _emit("error: ", message)


def record_error(message: str) -> None:
    """An error already shown on stderr (a usage error, printed the click way): the log files only."""
    _emit("error: ", message, stderr=False)


def log_warning(message: str) -> None:
    _emit("warning: ", message)


def log_info(message: str) -> None:
    _emit("", message)
