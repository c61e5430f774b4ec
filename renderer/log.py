"""stderr messages, and an optional log file for orchestrators that hide stderr (Helm 4).

Set PXSEC_LOG_FILE to a path: every error and warning is also appended there with a
timestamp-free, one-line format. Messages never contain secret values.
"""
from __future__ import annotations

import os
import sys


def _printable(text: str) -> str:
    """Escape control characters (names and keys from the input can carry CR, ESC...), so a
    message stays one line and cannot drive the terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else (" " if c == "\n" else f"\\x{ord(c):02x}" if ord(c) < 0x100
                                              else f"\\u{ord(c):04x}") for c in text)


def _emit(prefix: str, message: str) -> None:
    line = _printable(f"pxsec: {prefix}{message}")
    print(line, file=sys.stderr)
    path = os.environ.get("PXSEC_LOG_FILE")
    if path:
        try:
            with open(path, "a", encoding="utf-8") as f:
                f.write(f"[pid {os.getpid()}] {line}\n")
        except OSError:
            pass


def log_error(message: str) -> None:
    _emit("error: ", message)


def log_warning(message: str) -> None:
    _emit("warning: ", message)


def log_info(message: str) -> None:
    _emit("", message)
