"""What the Portworx operator makes of a StorageCluster, written from its source for the tests.

Each function restates one operator function (libopenstorage/operator at 303cc37, named in its
docstring) closely enough to check pxsec's output against: which env the portworx container,
Stork and autopilot end up with, which Secret the operator writes, and which px-runc args it
passes. Versions are given by the test (the tables state them), not computed by pxsec's code.
"""
from __future__ import annotations

from pxsec.filters import goshlex

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
