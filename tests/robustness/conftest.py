"""Robustness suite fixtures and the end-of-run count of generated inputs (harness.py has the rest)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from .harness import CACHE_DIR, EXAMPLES, OUTCOMES


@pytest.fixture(scope="session")
def workdir():
    with tempfile.TemporaryDirectory(prefix="pxsec-robust-") as d:
        yield Path(d)


def pytest_configure(config):
    config.addinivalue_line("markers", "oracle_batch: checks what the property tests recorded; runs after them")
    config.addinivalue_line("markers", "budget: counts what the property tests ran; runs after them")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Tests that judge what the property tests did run after all of them, whatever the file
    names or another plugin's order: first the oracle batch checks, then the budget."""
    def rank(item):
        return 2 if item.get_closest_marker("budget") else 1 if item.get_closest_marker("oracle_batch") else 0

    items[:] = sorted(items, key=rank)  # stable: everything else keeps its order


def pytest_sessionfinish(session, exitstatus):
    import shutil

    shutil.rmtree(CACHE_DIR, ignore_errors=True)


def pytest_terminal_summary(terminalreporter):
    if EXAMPLES:
        total = sum(EXAMPLES.values())
        terminalreporter.write_line(
            f"robustness: {total} generated inputs tried ("
            + ", ".join(f"{k} {v}" for k, v in sorted(EXAMPLES.items())) + ")")
    if OUTCOMES:
        names = sorted({n for n, _ in OUTCOMES})
        terminalreporter.write_line("robustness: exit codes per test: " + "; ".join(
            f"{n} " + " ".join(f"{code}:{OUTCOMES[(n, code)]}" for code in (0, 1, 2) if OUTCOMES[(n, code)])
            for n in names))
