"""README states what the operator does with each StorageCluster field pxsec writes, and the
claims openstorage requires (issue 10.7: openstorage pkg/auth/claims.go)."""
from __future__ import annotations

import copy
import re

from conftest import ROOT
from pxsec import spec as specmod
from pxsec import tokens
from pxsec.errors import Location
from pxsec.render.filters import storagecluster

README = (ROOT / "README.md").read_text()


def _section(title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert m, title
    return m.group(1)


def _paths(obj, prefix=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, f"{prefix}.{k}" if prefix else k)
    yield prefix


def test_every_field_pxsec_writes_on_a_storagecluster_is_explained():
    sc = {"apiVersion": "core.libopenstorage.org/v1", "kind": "StorageCluster",
          "metadata": {"name": "px", "namespace": "p"},
          "spec": {"image": "portworx/oci-monitor:3.1.0", "stork": {"enabled": True},
                   "autopilot": {"enabled": True}, "nodes": [{"miscArgs": "-x"}]}}
    spec = specmod.build({"secret": {"name": "pxkeys"}, "usernameClaim": "email",
                          "selfSigned": {"issuer": "a.b", "sharedSecret": True, "tokenLifetime": "1d",
                                         "rsaPublicKey": {"secretName": "k", "key": "rsa.pub"}}})
    out = copy.deepcopy(sc)
    storagecluster.apply(out, spec, Location())
    written = {p for p in _paths(out) if p and p not in set(_paths(sc))}
    text = _section("StorageCluster installs")
    leaves = {p.split(".")[-1] for p in written} | {"portworx.io/misc-args", "spec.nodes[].miscArgs", "spec.env"}
    for leaf in sorted(leaves - {"spec", "security", "auth", "selfSigned", "metadata", "annotations"}):
        assert leaf in text, f"README's StorageCluster section does not mention {leaf}"
    for env in ("PORTWORX_AUTH_JWT_SHAREDSECRET", "PX_SHARED_SECRET", "PX_JWT_ISSUER"):
        assert env in text


def test_readme_names_the_required_claims_and_the_custom_ones():
    m = re.search(r"writes the claims openstorage requires(?: in every token)? \(([^)]*)\) and the custom claims "
                  r"`roles` and `groups`",
                  re.sub(r"\s+", " ", README))
    assert m, "README must list the required claims, then roles/groups as custom claims"
    assert set(re.findall(r"`(\w+)`", m.group(1).split(";")[0])) == set(tokens.REQUIRED_CLAIMS)
