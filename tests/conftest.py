"""Shared helpers: run pxsec as users do (a process), find the corpus, read case folders."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Tests assert, benchmarks measure: no per-example time limit (a loaded CI machine is not a bug).
settings.register_profile("pxsec", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("pxsec")

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    """The tests import and run `pxsec`, the package installed from this checkout (its sources are
    in renderer/; scripts/test.sh installs it, `pip install -e .` for development). Refuse to test
    an install of other sources: every file of the installed package must be this checkout's."""
    import filecmp

    try:
        import pxsec
    except ImportError:
        raise pytest.UsageError("pxsec is not installed: run `pip install -e .` (or bash scripts/test.sh)") from None
    installed = Path(pxsec.__file__).resolve().parent
    src = ROOT / "renderer"
    if installed == src:
        return
    stale = [str(p.relative_to(src)) for p in sorted(src.rglob("*.py"))
             if not (installed / p.relative_to(src)).is_file()
             or not filecmp.cmp(p, installed / p.relative_to(src), shallow=False)]
    if stale:
        raise pytest.UsageError(f"the installed pxsec ({installed}) is not this checkout's renderer/ "
                                f"({', '.join(stale[:3])}{' ...' if len(stale) > 3 else ''} differ): "
                                f"run `pip install .` or `pip install -e .`")
CORPUS = ROOT.parent / "shared" / "corpus"
SECRET_ENV = ("PORTWORX_AUTH_SYSTEM_KEY", "PORTWORX_AUTH_STORK_KEY", "PORTWORX_AUTH_JWT_SHAREDSECRET")


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*.yaml"))


def require_corpus() -> None:
    if not CORPUS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"corpus missing at {CORPUS}: CI must have ../shared/corpus")
        pytest.skip(f"corpus not found at {CORPUS} (it sits beside the checkout in the team's workspace)")


def clean_env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV and not k.startswith("PXSEC_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra or {})
    return env


def run_pxsec(args: list[str], stdin: bytes | None = None, env: dict | None = None,
              cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pxsec", *args], input=stdin if stdin is not None else b"",
                          capture_output=True, env=clean_env(env), cwd=cwd or ROOT, timeout=120)


def read_env_file(path: Path) -> dict:
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            k, v = line.split("=", 1)
            out[k] = v
    return out
