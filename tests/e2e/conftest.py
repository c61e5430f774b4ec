"""Fixtures of the end-to-end tests; the helpers and what they assume are in support.py."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .support import E2E, REPO, write_script


@pytest.fixture(scope="session")
def pxsec_bin(tmp_path_factory) -> Path:
    """A directory holding `pxsec`: this checkout run by this interpreter."""
    bindir = tmp_path_factory.mktemp("pxsec-bin")
    write_script(bindir / "pxsec",
                 "#!/bin/sh\n"
                 f"PYTHONPATH='{REPO}'${{PYTHONPATH:+:$PYTHONPATH}}\n"
                 "export PYTHONPATH\n"
                 f"exec '{sys.executable}' -m pxsec \"$@\"\n")
    return bindir


@pytest.fixture
def e2e(tmp_path, pxsec_bin) -> E2E:
    return E2E(tmp_path, pxsec_bin)




from .cluster import cluster, storagecluster_crd  # noqa: E402,F401 - the session's API server (cluster.py)
