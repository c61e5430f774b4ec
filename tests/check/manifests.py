"""Small manifest builders for the `pxsec check` tests: a secured DaemonSet install (Portworx +
Stork + autopilot) and a secured StorageCluster, each a plain dict to mutate per test.

The baseline objects pass every error and warning rule; a test changes one thing and expects
exactly the finding that change causes.
"""
from __future__ import annotations

import copy

import yaml

from pxsec import audit


def ref(name: str, secret: str = "pxkeys", key: str = "system-secret") -> dict:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def lit(name: str, value: str) -> dict:
    return {"name": name, "value": value}


def portworx(name: str = "portworx", ns: str | None = "kube-system", cluster: str = "px-cluster",
             issuer: str | None = "openstorage.io", extra_args: list | None = None, env: list | None = None) -> dict:
    args = ["-c", cluster, "-a", "-x", "kubernetes"]
    if issuer is not None:
        args += ["-jwt_issuer", issuer]
    args += extra_args or []
    if env is None:
        env = [lit("PX_TEMPLATE_VERSION", "v4"),
               ref("PORTWORX_AUTH_JWT_SHAREDSECRET", key="shared-secret"),
               ref("PORTWORX_AUTH_SYSTEM_KEY", key="system-secret"),
               ref("PORTWORX_AUTH_STORK_KEY", key="stork-secret")]
    meta = {"name": name, **({"namespace": ns} if ns else {})}
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta,
        "spec": {"selector": {"matchLabels": {"name": "portworx"}}, "template": {
            "metadata": {"labels": {"name": "portworx"}},
            "spec": {"containers": [{
                "name": "portworx", "image": "portworx/oci-monitor:2.6.1", "args": args, "env": env,
                "volumeMounts": [{"name": "etcpwx", "mountPath": "/etc/pwx"}]}],
                "volumes": [{"name": "etcpwx", "hostPath": {"path": "/etc/pwx"}}]}}}}


def stork(ns: str | None = "kube-system", env: list | None = None) -> dict:
    if env is None:
        env = [lit("PX_SERVICE_NAME", "portworx-api"),
               ref("PX_SHARED_SECRET", key="stork-secret"),
               lit("PX_JWT_ISSUER", "stork.openstorage.io")]
    meta = {"name": "stork", **({"namespace": ns} if ns else {})}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"template": {"spec": {"containers": [{
                "name": "stork", "image": "openstorage/stork:2.6.2",
                "command": ["/stork", "--driver=pxd"], "env": env}]}}}}


def autopilot(ns: str | None = "kube-system", env: list | None = None) -> dict:
    meta = {"name": "autopilot", **({"namespace": ns} if ns else {})}
    ct = {"name": "autopilot", "image": "portworx/autopilot:1.3.0", "command": ["/autopilot"]}
    if env is not None:
        ct["env"] = env
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"template": {"spec": {"containers": [ct]}}}}


def storagecluster(ns: str = "portworx", security: dict | None = None, image: str = "portworx/oci-monitor:3.1.0",
                   stork_env: list | None = None) -> dict:
    if security is None:
        security = {"enabled": True, "auth": {"guestAccess": "Disabled",
                                               "selfSigned": {"issuer": "px.example", "tokenLifetime": "24h"}}}
    spec: dict = {"image": image, "stork": {"enabled": True}}
    if stork_env is not None:
        spec["stork"]["env"] = stork_env
    if security is not False:
        spec["security"] = security
    return {"apiVersion": "core.libopenstorage.org/v1", "kind": "StorageCluster",
            "metadata": {"name": "px-cluster", "namespace": ns, "annotations": None}, "spec": spec}


def text(*objs: dict) -> str:
    return "---\n".join(yaml.safe_dump(o, sort_keys=False) for o in objs)


def check(*objs: dict, spec=None, name: str = "in.yaml"):
    return audit.check([(name, text(*objs))], spec).findings


def ids(findings, severities=("error", "warning", "note")) -> list[str]:
    return sorted(f.rule_id for f in findings if f.severity in severities)


def of(findings, rule_id: str) -> list:
    return [f for f in findings if f.rule_id == rule_id]


def line_of(source: str, needle: str, nth: int = 0) -> int:
    """1-based line of the nth line containing `needle`."""
    hits = [i + 1 for i, ln in enumerate(source.splitlines()) if needle in ln]
    return hits[nth]


def container(obj: dict, i: int = 0) -> dict:
    return obj["spec"]["template"]["spec"]["containers"][i]


def deep(obj: dict) -> dict:
    return copy.deepcopy(obj)
