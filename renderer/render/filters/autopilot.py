"""Autopilot Deployments (DaemonSet-era installs): the same key and issuer as Stork.

Autopilot talks to Portworx through openstorage's client, which signs with `PX_SHARED_SECRET`
and issuer `PX_JWT_ISSUER` (default apps.portworx.io; openstorage volume/drivers/pwx
connection.go, TokenIssuerEnv). Giving it Stork's Secret/key and issuer pairs it with the key
Portworx already trusts for Stork. Operator installs wire autopilot themselves (../shared/docs/px-security-facts.md §2.4).
"""
from __future__ import annotations

from ... import portworx as px
from ...errors import PxsecError
from ...spec import Spec
from . import common as c



def apply(obj: dict, spec: Spec, loc) -> c.Report:
    if not spec.stork_enabled:
        raise PxsecError("an autopilot Deployment is in the stream but spec.stork.enabled is false: autopilot "
                         "signs with the Stork/apps key, which Portworx only gets with Stork enabled",
                         c.at(loc, c.POD + ("containers",)))
    _, ct, cpath = c.single_container(obj, loc, px.is_autopilot_container, "autopilot")
    return c.pair_with_stork_key(ct, spec, loc, cpath)
