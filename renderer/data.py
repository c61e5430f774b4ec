"""Where the schema and templates live: beside the package in a checkout, inside it when installed.

os.path, not pathlib: this runs on every render, and pathlib is a start-up cost of its own."""
from __future__ import annotations

import os

_HERE = os.path.dirname(os.path.realpath(__file__))
_TOP = os.path.dirname(_HERE)


def data_dir(name: str) -> str:
    """`schemas` or `templates`: the checkout's top-level folder, else the installed copy."""
    checkout = os.path.join(_TOP, name)
    if os.path.isfile(os.path.join(_TOP, "pyproject.toml")) and os.path.isdir(checkout):
        return checkout
    return os.path.join(_HERE, "_data", name)


def data_file(folder: str, name: str) -> str:
    return os.path.join(data_dir(folder), name)
