"""What the Portworx operator makes of a StorageCluster, written from its source for the tests.

Each function restates one operator function (libopenstorage/operator at 303cc37, named in its
docstring) closely enough to check pxsec's output against: which env the portworx container,
Stork and autopilot end up with, which Secret the operator writes, and which px-runc args it
passes. Versions are given by the test (the tables state them), not computed by pxsec's code.
"""
from __future__ import annotations

from pxsec import goshlex

SYSTEM_SECRETS, SHARED_DEFAULT = "px-system-secrets", "px-shared-secret"
APPS, STORK = "apps.portworx.io", "stork.openstorage.io"


def _ref(secret: str, key: str) -> dict:
    return {"secretKeyRef": {"name": secret, "key": key}}


def auth_enabled(sc: dict) -> bool:
    """drivers/storage/portworx/util/util.go `AuthEnabled`."""
    sec = sc["spec"].get("security") or {}
    auth = sec.get("auth") or {}
    return sec.get("enabled") is True and auth.get("enabled", True) is not False


def self_signed(sc: dict) -> dict:
    """drivers/storage/portworx/portworx.go `setSecuritySpecDefaults`: defaults of selfSigned."""
    ss = dict(((sc["spec"].get("security") or {}).get("auth") or {}).get("selfSigned") or {})
    ss.setdefault("sharedSecret", SHARED_DEFAULT)
    ss.setdefault("issuer", "operator.portworx.io")
    ss.setdefault("tokenLifetime", "24h")
    return ss


def shared_secret_written(sc: dict) -> str:
    """component/auth.go `createPrivateKeysSecret`: the Secret it rewrites with key shared-secret
    (through pkg/util/k8s/k8s.go `CreateOrAppendToSecret`, dropping labels and annotations)."""
    return self_signed(sc)["sharedSecret"]


def portworx_env(sc: dict, px_ge_2_6: bool, stork_ge_2_5: bool = True) -> dict[str, dict]:
    """drivers/storage/portworx/deployment.go `getEnvList`: spec.env first, then the security
    block overwrites the key vars; APPS_KEY needs PX >= 2.6.0 and Stork >= 2.5.0."""
    env = {e["name"]: e for e in sc["spec"].get("env") or []}
    if auth_enabled(sc):
        ss = self_signed(sc)
        env["PORTWORX_AUTH_JWT_SHAREDSECRET"] = {"valueFrom": _ref(ss["sharedSecret"], "shared-secret")}
        env["PORTWORX_AUTH_SYSTEM_KEY"] = {"valueFrom": _ref(SYSTEM_SECRETS, "system-secret")}
        env["PORTWORX_AUTH_JWT_ISSUER"] = {"value": ss["issuer"]}
        name = "PORTWORX_AUTH_SYSTEM_APPS_KEY" if px_ge_2_6 and stork_ge_2_5 else "PORTWORX_AUTH_STORK_KEY"
        env[name] = {"valueFrom": _ref(SYSTEM_SECRETS, "apps-secret")}
    return env


def stork_env(sc: dict, px_ge_2_6: bool) -> dict[str, dict]:
    """drivers/storage/portworx/portworx.go `GetStorkEnvMap`, then pkg/controller/storagecluster/
    stork.go (the Deployment builder): `spec.stork.env` is applied last and wins."""
    env: dict[str, dict] = {}
    if auth_enabled(sc):
        env["PX_SHARED_SECRET"] = {"valueFrom": _ref(SYSTEM_SECRETS, "apps-secret")}
        env["PX_JWT_ISSUER"] = {"value": APPS if px_ge_2_6 else STORK}
    for e in (sc["spec"].get("stork") or {}).get("env") or []:
        env[e["name"]] = e
    return env


def autopilot_env(sc: dict) -> dict[str, dict]:
    """component/autopilot.go: `spec.autopilot.env`, then `setDefaultAutopilotSecret` adds
    PX_SHARED_SECRET only when the user did not set it."""
    env = {e["name"]: e for e in (sc["spec"].get("autopilot") or {}).get("env") or []}
    if auth_enabled(sc) and "PX_SHARED_SECRET" not in env:
        env["PX_SHARED_SECRET"] = {"valueFrom": _ref(SYSTEM_SECRETS, "apps-secret")}
    return env


def misc_args(sc: dict) -> list[str] | None:
    """drivers/storage/portworx/util/util.go `MiscArgs` (google/shlex `Split`); None where the
    operator logs the split error and passes no misc args at all."""
    text = ((sc.get("metadata") or {}).get("annotations") or {}).get("portworx.io/misc-args") or ""
    try:
        return goshlex.split(text)
    except goshlex.SplitError:
        return None


def key_env_for_issuer(issuer: str) -> str:
    """Which Portworx env var verifies tokens of Stork's issuer (facts §2.2, openstorage)."""
    return {APPS: "PORTWORX_AUTH_SYSTEM_APPS_KEY", STORK: "PORTWORX_AUTH_STORK_KEY"}[issuer]


# --- the auth component (component/auth.go), run by `portworx.go PreInstall` on every reconcile ---
# Cluster Secrets are modelled as {name: {key: value}} in the StorageCluster's namespace.

OWNED = (SYSTEM_SECRETS, SHARED_DEFAULT, "px-admin-token", "px-user-token")


class ReconcileError(Exception):
    """The auth component's Reconcile returned an error: the operator retries and logs it; the
    token Secrets (px-admin-token, px-user-token) are then no longer refreshed."""


def value_from_env_var(entry: dict, secrets: dict) -> str:
    """pkg/util/k8s/pod.go `GetValueFromEnvVar`: a secretKeyRef must name an existing Secret with a
    non-empty key ("failed to find env var value %s in secret %s ...")."""
    ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
    if ref is None:
        return entry.get("value") or ""
    if ref["name"] not in secrets:
        raise ReconcileError(f'secrets "{ref["name"]}" not found')
    value = secrets[ref["name"]].get(ref["key"])
    if not value:
        raise ReconcileError(f"failed to find env var value {ref['key']} in secret {ref['name']}")
    return value


def private_key_or_generate(sc: dict, secrets: dict, env_name: str, secret: str, key: str) -> str:
    """component/auth.go `getPrivateKeyOrGenerate`: the first spec.env entry of that name wins (its
    error is returned), else the existing Secret's key, else a generated one."""
    for entry in sc["spec"].get("env") or []:
        if entry.get("name") == env_name:
            return value_from_env_var(entry, secrets)
    existing = secrets.get(secret) or {}
    return existing.get(key) or f"generated:{secret}/{key}"


def create_or_append(secrets: dict, name: str, data: dict) -> None:
    """pkg/util/k8s/k8s.go `CreateOrAppendToSecret`: create, or keep every existing key (its value
    wins) and add the missing ones."""
    merged = dict(data)
    merged.update(secrets.get(name) or {})
    secrets[name] = merged


def reconcile_auth(sc: dict, secrets: dict) -> dict:
    """component/auth.go `Reconcile`: `createPrivateKeysSecret` (three `getPrivateKeyOrGenerate`
    calls, then `CreateOrAppendToSecret` of the sharedSecret Secret and px-system-secrets), then
    `maintainAuthTokenSecret` for px-admin-token and px-user-token, signed with the sharedSecret
    Secret's shared-secret. Returns the Secrets afterwards (a copy); raises ReconcileError."""
    out = {name: dict(data) for name, data in secrets.items()}
    if not auth_enabled(sc):
        return out
    shared_name = self_signed(sc)["sharedSecret"]
    shared = private_key_or_generate(sc, out, "PORTWORX_AUTH_JWT_SHAREDSECRET", shared_name, "shared-secret")
    system = private_key_or_generate(sc, out, "PORTWORX_AUTH_SYSTEM_KEY", SYSTEM_SECRETS, "system-secret")
    apps = private_key_or_generate(sc, out, "PORTWORX_AUTH_SYSTEM_APPS_KEY", SYSTEM_SECRETS, "apps-secret")
    create_or_append(out, shared_name, {"shared-secret": shared})
    create_or_append(out, SYSTEM_SECRETS, {"system-secret": system, "apps-secret": apps})
    signing = out[shared_name].get("shared-secret")
    if not signing:
        raise ReconcileError(f"failed to get shared secret key shared-secret from {shared_name}")
    for name in ("px-admin-token", "px-user-token"):
        out[name] = {"auth-token": f"token signed with {shared_name}/shared-secret"}
    return out


def operator_made_secrets() -> dict:
    """A cluster where the operator already reconciled auth once (no spec.env seeds): its own
    Secrets with exactly the keys it writes (component/auth.go constants)."""
    return {SYSTEM_SECRETS: {"system-secret": "op-system", "apps-secret": "op-apps"},
            SHARED_DEFAULT: {"shared-secret": "op-shared"},
            "px-admin-token": {"auth-token": "op-admin-token"}, "px-user-token": {"auth-token": "op-user-token"}}


# --- the default StorageClasses (component/portworx_sc.go), also run by `portworx.go PreInstall` ---

DEFAULT_CLASSES = {"px-db": {"repl": "3", "io_profile": "db_remote"}, "px-replicated": {"repl": "2"},
                   "px-csi-db": {"repl": "3", "io_profile": "db_remote"}, "px-csi-replicated": {"repl": "2"}}


def storageclass_component(sc: dict, classes: dict) -> dict:
    """`PreInstall`: with util.go `StorageClassEnabled` (annotation portworx.io/disable-storage-class
    not parsing as true), `Reconcile` creates each missing default class with only its volume
    parameters (k8s.go `CreateStorageClass` leaves an existing one alone); otherwise `Delete` runs
    on every reconcile and removes each class of those names without an ownerReference (k8s.go
    `DeleteStorageClass`). `classes`: {name: {"parameters": {...}, "ownerReferences": [...]}}."""
    out = {name: dict(c) for name, c in classes.items()}
    value = ((sc.get("metadata") or {}).get("annotations") or {}).get("portworx.io/disable-storage-class")
    if value not in ("1", "t", "T", "TRUE", "true", "True"):
        for name, params in DEFAULT_CLASSES.items():
            out.setdefault(name, {"parameters": dict(params)})
        return out
    return {name: c for name, c in out.items() if name not in DEFAULT_CLASSES or c.get("ownerReferences")}
