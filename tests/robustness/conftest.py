"""Robustness suite fixtures and the end-of-run count of generated inputs (harness.py has the rest)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from .harness import CACHE_DIR, EXAMPLES


@pytest.fixture(scope="session")
def workdir():
    with tempfile.TemporaryDirectory(prefix="pxsec-robust-") as d:
        yield Path(d)


def pytest_sessionfinish(session, exitstatus):
    import shutil

    shutil.rmtree(CACHE_DIR, ignore_errors=True)


def pytest_terminal_summary(terminalreporter):
    if EXAMPLES:
        total = sum(EXAMPLES.values())
        terminalreporter.write_line(
            f"robustness: {total} generated inputs tried ("
            + ", ".join(f"{k} {v}" for k, v in sorted(EXAMPLES.items())) + ")")
