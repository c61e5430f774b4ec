"""Stork Deployments: the shared secret and issuer Stork signs its tokens with.

`PX_SHARED_SECRET` is the HMAC key itself (read from the same Secret/key as Portworx's Stork
or apps key) and `PX_JWT_ISSUER` names the issuer that key belongs to (facts §2.3, §5.4).
"""
from __future__ import annotations

import re

from ..errors import PxsecError
from ..spec import Spec
from . import common as c

_STORK_IMAGE = re.compile(r"(^|/)openstorage/stork(:|@|$)")


def is_stork_container(name: str | None, image: str | None) -> bool:
    return name == "stork" or bool(image and _STORK_IMAGE.search(image))


def apply(obj: dict, spec: Spec, loc) -> c.Report:
    report = c.Report()
    if not spec.stork_enabled:
        raise PxsecError("a Stork Deployment is in the stream but spec.stork.enabled is false: "
                         "Stork could not talk to a secured Portworx (enable it in the spec or drop Stork)",
                         c.at(loc, "spec.template.spec.containers"))
    pod = c.child(c.child(c.child(obj, "spec", dict, loc, "spec"), "template", dict, loc, "spec.template"),
                  "spec", dict, loc, "spec.template.spec")
    containers = c.child(pod, "containers", list, loc, "spec.template.spec.containers", create=False) or []
    idx = [i for i, ct in enumerate(containers)
           if isinstance(ct, dict) and is_stork_container(ct.get("name"), ct.get("image"))]
    if len(idx) != 1:
        raise PxsecError(f"expected one Stork container, found {len(idx)}", c.at(loc, "spec.template.spec.containers"))
    cpath = f"spec.template.spec.containers[{idx[0]}].env"
    env = c.child(containers[idx[0]], "env", list, loc, cpath)
    report.add(c.set_env(env, c.secret_ref("PX_SHARED_SECRET", spec.secret_name, spec.key_stork), loc, cpath))
    report.add(c.set_env(env, c.literal("PX_JWT_ISSUER", spec.stork_issuer), loc, cpath))
    return report
