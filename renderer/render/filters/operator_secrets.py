"""The Secrets the Portworx operator owns, and what that means for the user's Secret.

libopenstorage/operator, drivers/storage/portworx/component/auth.go:
- `createPrivateKeysSecret` writes `px-system-secrets` and the Secret `selfSigned.sharedSecret`
  names (default `px-shared-secret`) through `CreateOrAppendToSecret` (pkg/util/k8s/k8s.go), a
  full update carrying only the data and one annotation: labels, other annotations and
  ownerReferences of that Secret are dropped on every reconcile;
- `Delete` removes `px-shared-secret` and `px-system-secrets` with the cluster when a
  `deleteStrategy` is set;
- `maintainAuthTokenSecret` writes `px-admin-token` and `px-user-token` (owned by the cluster).
So a Secret pxsec generates (or a user keeps in Git) must never have one of these names.
"""
from __future__ import annotations

from ... import portworx as px
from ...errors import PxsecError
from . import common as c

CONSEQUENCE = ("the operator rewrites it on every reconcile with only its data and one annotation (labels, other "
               "annotations and ownerReferences are dropped, so Helm, Argo CD or External Secrets and the operator "
               "keep undoing each other), and deletes it with the cluster when spec.deleteStrategy is set")


def check_secret_name(spec, loc, report: c.Report) -> None:
    """Refuse to generate an operator-owned Secret; warn when the user's Secret is one."""
    name = spec.secret_name
    if name not in px.OPERATOR_OWNED_SECRETS:
        return
    if spec.secret_create:
        raise PxsecError(f"the spec's secret.name {name} (secret.create: true) is a Secret the Portworx operator "
                         f"owns: {CONSEQUENCE}; pxsec will not generate it. Set secret.name to a name of your own "
                         f"(for example pxsec-auth-keys, the default): pxsec seeds the operator's Secrets from it",
                         c.at(loc, "spec"))
    report.warnings.append(f"Secret {name} (the spec's secret.name) is owned by the Portworx operator: {CONSEQUENCE}; "
                           f"keep your keys in a Secret of your own and pxsec seeds the operator's Secrets from it")


def renamed_warning(old) -> str:
    return (f"spec.security.auth.selfSigned.sharedSecret named {old!r}; pxsec set it to {px.DEFAULT_SHARED_SECRET} because "
            f"{CONSEQUENCE}. Changing it restarts Portworx, and tokens signed with the old key stop working unless "
            f"{px.DEFAULT_SHARED_SECRET} holds the same key")


def always_hs256_warning(namespace) -> str:
    return (f"an operator install always creates {px.DEFAULT_SHARED_SECRET} and Portworx accepts HS256 tokens signed with it "
            f"(the operator signs {px.ADMIN_TOKEN_SECRET} and {px.USER_TOKEN_SECRET} with it), even though the spec asks only for "
            f"OIDC or public keys: restrict who can read Secrets in namespace {namespace or '(release namespace)'}")
