"""Stork Deployments: the shared secret and issuer Stork signs its tokens with.

`PX_SHARED_SECRET` is the HMAC key itself (read from the same Secret/key as Portworx's Stork
or apps key) and `PX_JWT_ISSUER` names the issuer that key belongs to (../shared/docs/px-security-facts.md §2.3, §5.4).
"""
from __future__ import annotations

from ... import portworx as px
from ...errors import PxsecError
from ...spec import Spec
from . import common as c



def apply(obj: dict, spec: Spec, loc) -> c.Report:
    if not spec.stork_enabled:
        raise PxsecError("a Stork Deployment is in the stream but spec.stork.enabled is false: "
                         "Stork could not talk to a secured Portworx (enable it in the spec or drop Stork)",
                         c.at(loc, c.POD + ("containers",)))
    _, ct, cpath = c.single_container(obj, loc, px.is_stork_container, "Stork")
    return c.pair_with_stork_key(ct, spec, loc, cpath)
