"""Argo CD per-cluster parameters: one spec file, each cluster's own issuer, client id, Secret name.

argocd/plugin.yaml announces PARAMETERS (spec.parameters.static). Argo CD hands an Application's
`spec.source.plugin.parameters` to the generate command as ARGOCD_APP_PARAMETERS, a JSON list of
{"name": ..., "string": ...} (also "map"/"array"), and as PARAM_<NAME> variables, the name upper-cased
with every character outside [A-Z0-9_] made `_` (argo-cd pkg/apis/application/v1alpha1 types.go
`ApplicationSourcePluginParameters.Environ`, `escaped`). pxsec reads the JSON (exact names) and,
only under Argo CD (ARGOCD_APP_NAME set) without it, the PARAM_ variables; it writes each value
over the spec's field before validation, so a parameter that makes the spec invalid fails like a
bad spec file (its field named), and no manifests are produced.

An empty string leaves the spec's value: an ApplicationSet template may render `{{...}}` empty for
clusters that keep the default.
"""
from __future__ import annotations

from .. import portworx as px

import os

# parameter name (the spec field it sets, under `spec`) -> what it is (plugin.yaml's title)
PARAMETERS = {
    "selfSigned.issuer": f"Self-signed token issuer ({px.SETTINGS['jwt_issuer'][0]})",
    "oidc.issuer": "OIDC issuer URL (https://)",
    "oidc.clientId": "OIDC client id",
    "oidc.customClaimNamespace": "OIDC custom claim namespace",
    "usernameClaim": "Username claim (sub, email or name)",
    "secret.name": "Secret holding the keys",
    "stork.issuer": "Issuer Stork signs with",
    "guestAccess": "Guest access (StorageCluster): Enabled, Disabled or Managed",
    "tokenLifetime": "Token lifetime (StorageCluster), e.g. 24h",
    "storageClasses.tokenSecret.namespace": "Namespace of the StorageClass token Secret",
}
JSON_ENV = "ARGOCD_APP_PARAMETERS"
APP_NAME_ENV = "ARGOCD_APP_NAME"


def env_name(name: str) -> str:
    """PARAM_<NAME> as Argo CD writes it (types.go `escaped`)."""
    return "PARAM_" + "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else "_" for ch in name.upper())


def _problem(message: str):
    from ..errors import PxsecError, Location

    return PxsecError(message, Location(file=JSON_ENV))


def _unknown(name: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(PARAMETERS), n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"unknown parameter {name!r}{hint} (pxsec takes: {', '.join(PARAMETERS)})"


def read(environ=os.environ) -> list[tuple[str, str]]:
    """(parameter, value) pairs to apply, in the Application's order; empty values left out."""
    raw = environ.get(JSON_ENV)
    if raw is None:
        if not environ.get(APP_NAME_ENV):
            return []
        return [(name, environ[env_name(name)]) for name in PARAMETERS if environ.get(env_name(name))]
    import json

    try:
        items = json.loads(raw)
    except ValueError:
        raise _problem("not valid JSON (Argo CD writes a list of {name, string} objects)") from None
    if items is None:
        return []
    if not isinstance(items, list):
        raise _problem("expected a JSON list of parameters")
    out = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            raise _problem("a parameter without a name")
        if name not in PARAMETERS:
            raise _problem(_unknown(name))
        value = item.get("string")
        if not isinstance(value, str) or "map" in item or "array" in item:
            raise _problem(f"parameter {name!r} takes a string (plugin.parameters[].string), not a map or an array")
        if value != "":
            out.append((name, value))
    return out


def overlay(doc, params: list[tuple[str, str]]):
    """A copy of the spec document with each parameter written over its field under `spec`."""
    import copy

    doc = copy.deepcopy(doc)
    if not isinstance(doc, dict) or not isinstance(doc.get("spec"), dict):
        return doc  # validation names what is wrong with the document itself
    for name, value in params:
        node = doc["spec"]
        *parents, key = name.split(".")
        for p in parents:
            if not isinstance(node.get(p), dict):
                node[p] = {}
            node = node[p]
        node[key] = value
    return doc


def load(path: str, environ=os.environ):
    """The spec at `path` with the Argo CD parameters of `environ` applied (spec.load without any)."""
    from .. import spec as specmod

    params = read(environ)
    if not params:
        return specmod.load(path)
    _, text = specmod.read_spec(path)
    doc = overlay(specmod.parse_document(text, path), params)
    source = f"{path} (Argo CD parameters: {', '.join(dict.fromkeys(n for n, _ in params))})"
    return specmod.from_document(doc, source)
