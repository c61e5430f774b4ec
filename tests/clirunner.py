"""Running pxsec as a user runs it, for the CLI tests: on a pseudo-terminal (colour), as a
`python -c` snippet, and the same argv through the fast `render` path and through Typer.

`conftest.run_pxsec` runs `python -m pxsec` with pipes; the helpers here cover the rest, once."""
from __future__ import annotations

import os
import pty
import subprocess
import sys

from conftest import ROOT, clean_env


def on_a_terminal(args: list[str], env: dict) -> tuple[int, str]:
    """Run `python -m pxsec ARGS` with stdout and stderr on a pseudo-terminal (from the checkout
    root); returns (exit code, everything it wrote)."""
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "pxsec", *args], env)
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode()


def run_python(code: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -c CODE` from the checkout root, in the tests' clean environment (or `env`)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, env=env or clean_env(), cwd=ROOT,
                          timeout=120)


def fast_and_typer(argv: list[str]) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """The same argv through `pxsec.main.main` (the Typer-free fast path for `render`) and
    through the Typer app: (fast, typer) results, to compare."""
    fast = run_python(f"import sys; from pxsec.main import main; sys.exit(main({argv!r}))")
    slow = run_python(f"import sys; from pxsec.main import _guarded; from pxsec.cli import run_cli; "
                      f"sys.exit(_guarded(run_cli, {argv!r}))")
    return fast, slow
