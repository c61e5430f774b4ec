"""`pxsec last-error`: the last error pxsec reported while run by Helm 4 (which hides a
post-renderer's stderr), or where it is kept."""
from __future__ import annotations

from ..errors import PxsecError


def last_error(path: bool) -> None:
    from .. import log

    where = log.last_error_file()
    if path:
        print(where)
        return
    try:
        with open(where, encoding="utf-8", errors="replace") as f:
            print(f.read(), end="")
    except FileNotFoundError:
        print(f"no error recorded ({where} does not exist)")
    except OSError as e:
        raise PxsecError(f"cannot read: {e.strerror}") from None
