"""Where the schema and templates live: beside the package in a checkout, inside it when installed."""
from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """`schemas` or `templates`: the checkout's top-level folder, else the installed copy."""
    checkout = _HERE.parent / name
    if (_HERE.parent / "pyproject.toml").is_file() and checkout.is_dir():
        return checkout
    return _HERE / "_data" / name
