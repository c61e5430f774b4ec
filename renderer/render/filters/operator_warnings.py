"""What a secured StorageCluster breaks that pxsec cannot change in the stream: said once, one line each.

libopenstorage/operator:
- component/portworx_sc.go `Reconcile` creates the default StorageClasses (px-db, px-replicated, ...,
  and px-csi-* for PX >= 2.2) in the cluster, never in the stream, with no token parameters: with
  guestAccess Disabled every PVC on them is refused (operator_storageclasses.py emits secured ones
  when the spec has `storageClasses`, and otherwise warns with `storageclass_warning`).
- component/auth.go `maintainAuthTokenSecret` makes `px-user-token` (key auth-token) only in the
  StorageCluster's namespace: a StorageClass reading another Secret, or one per PVC namespace,
  reads a Secret nobody creates.
- deployment.go passes `spec.secretsProvider` as px-runc `-secret_type`; Portworx then looks the
  in-tree token Secret up in that provider (openstorage pkg/auth/secrets `GetToken`), not in
  Kubernetes.
"""
from __future__ import annotations

from ... import portworx as px

_TRUE = ("1", "t", "T", "TRUE", "true", "True")  # Go strconv.ParseBool


def dig(d, *path):
    """d[path...], or None where a level is not a mapping (input pxsec did not render may be anything)."""
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def default_storageclasses_on(sc: dict) -> bool:
    """util.go `StorageClassEnabled`: on unless the annotation parses as true."""
    return dig(sc, "metadata", "annotations", px.DISABLE_SC_ANNOTATION) not in _TRUE


def storageclass_warning(sc: dict) -> str | None:
    if dig(sc, "spec", "security", "auth", "guestAccess") != "Disabled" or not default_storageclasses_on(sc):
        return None
    return ("the operator's StorageClasses px-db, px-replicated, px-csi-db, ... carry no token: with guestAccess "
            "Disabled their PVCs fail; add secured ones of the same names (pxsec does with spec storageClasses)")


def token_secret_warning(spec, namespace: str | None) -> str | None:
    s = spec.storage_classes
    if s is None:
        return None
    ns = s.token_namespace
    if s.token_name == px.USER_TOKEN_SECRET and ns in (None, namespace):
        return None
    where = "in each PVC namespace" if ns == px.PVC_NAMESPACE else f"in namespace {ns or namespace}"
    return (f"the operator makes only {px.USER_TOKEN_SECRET} in namespace {namespace or '(release namespace)'}: it "
            f"will not create token Secret {s.token_name} {where}; create it (pxsec token generate --secret)")


def secrets_provider_warning(sc: dict) -> str | None:
    provider = dig(sc, "spec", "secretsProvider")
    if not isinstance(provider, str) or provider in ("", "k8s"):
        return None
    return (f"spec.secretsProvider is {provider}: Portworx reads in-tree StorageClass token Secrets "
            f"({px.INTREE_SECRET_PARAMS[0]}) from {provider}, not Kubernetes; store the token there")


def warnings(sc: dict, spec, loc) -> list[str]:
    # storageclass_warning: stream-level, once the StorageClasses in the stream are known (operator_storageclasses)
    found = [token_secret_warning(spec, loc.namespace), secrets_provider_warning(sc)]
    return [w for w in found if w]
