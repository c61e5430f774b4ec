"""`pxsec validate`: check a spec and print every problem with its field path (the work is in
pxsec.spec)."""
from __future__ import annotations


def validate(spec: str) -> int:
    """Print every problem of the spec file `spec` (exit code 1), or that it is valid and which
    variables `pxsec render` then reads (0)."""
    from .. import spec as specmod
    from ..log import log_error

    found = specmod.load_problems(spec)
    if found:
        for p in found:
            log_error(f"{spec}: {p}")
        return 1
    needs = specmod.required_env(specmod.load(spec))
    if needs:
        print(f"{spec}: valid; with secret.create: true, `pxsec render` reads the Secret's values from "
              f"{', '.join(needs)} (at least 32 bytes each; `pxsec keys generate` makes them)")
    else:
        print(f"{spec}: valid")
    return 0
