"""`pxsec schema`: print the spec's JSON Schema, or where the installed copy is."""
from __future__ import annotations


def schema(path: bool) -> None:
    import sys

    from .. import sources
    from .init import schema_path

    if path:
        print(schema_path())
        return
    sys.stdout.write(sources.read_bytes(schema_path(), "schema").decode("utf-8"))
