"""Every file of ../shared/corpus rendered with several specs: deterministic, idempotent,
untouched documents byte-identical, Helm/kustomize annotations kept, StorageClusters valid
against the operator's real CRD (no violation that the input did not already have).
"""
from __future__ import annotations

import copy
from functools import lru_cache

import pytest
import yaml

from conftest import CORPUS, ROOT, corpus_files, require_corpus
from pxsec.render import pipeline, stream
from pxsec import spec as specmod

ENV = {
    "PORTWORX_AUTH_SYSTEM_KEY": "corpus-system-key-0123456789abcdef0123456789",
    "PORTWORX_AUTH_STORK_KEY": "corpus-stork-key-0123456789abcdef0123456789ab",
    "PORTWORX_AUTH_JWT_SHAREDSECRET": "corpus-shared-0123456789abcdef0123456789abcd",
}
SPECS = {
    "example": (ROOT / "examples" / "spec.yaml").read_text(),
    "everything": """
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
metadata: {name: all}
spec:
  secret: {name: pxkeys, create: true}
  stork: {enabled: true, issuer: apps.portworx.io}
  selfSigned:
    issuer: openstorage.io
    sharedSecret: true
    rsaPublicKey: {secretName: px-jwt-keys, key: rsa.pub}
    ecdsaPublicKey: {secretName: px-jwt-keys, key: ecdsa.pub}
  oidc: {issuer: "https://accounts.google.com", clientId: px-client, customClaimNamespace: "https://example.com/"}
  usernameClaim: email
  guestAccess: Disabled
  tokenLifetime: 24h
""",
    "oidc-only": """
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
metadata: {name: oidc}
spec:
  oidc: {issuer: "https://login.example.com", clientId: portworx}
""",
}
FILES = corpus_files()


def spec_of(name):
    return specmod.from_document(yaml.safe_load(SPECS[name]), f"<{name}>")


@lru_cache(maxsize=1)
def crd_validator():
    from jsonschema import Draft7Validator

    crd = yaml.load((CORPUS / "operator" / "core_v1_storagecluster_crd.yaml").read_text(), Loader=yaml.CSafeLoader)
    schema = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")["schema"]["openAPIV3Schema"]
    schema = copy.deepcopy(schema)

    def close(node):  # structural schemas prune unknown fields silently: make them errors here
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node and \
                    not node.get("x-kubernetes-preserve-unknown-fields") and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for v in node.values():
                close(v)
        elif isinstance(node, list):
            for v in node:
                close(v)
    close(schema)
    return Draft7Validator(schema)


def violations(obj) -> set[str]:
    return {f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in crd_validator().iter_errors(obj)}


def render(text, spec):
    return pipeline.render([("in.yaml", text)], spec, environ=ENV)


def test_corpus_present():
    require_corpus()
    assert len(FILES) >= 20


@pytest.mark.parametrize("spec_name", sorted(SPECS))
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_file(path, spec_name):
    require_corpus()
    spec = spec_of(spec_name)
    text = path.read_text()
    result = render(text, spec)
    assert render(text, spec).text == result.text, "not deterministic"
    assert render(result.text, spec).text == result.text, "not idempotent"

    before = stream.parse(text, "in")
    after = stream.parse(result.text, "out")
    assert len(after) >= len(before)
    for b, a in zip(before, after):
        role = pipeline.role_of_document(b, spec) if b.node is not None else None
        if role is None or role == pipeline.SECRET:
            # a final newline is added only when a generated document has to follow
            same = a.text == b.text or (b is before[-1] and len(after) > len(before) and a.text == b.text + "\n")
            assert same, f"document {b.index} ({b.kind}/{b.name}) changed but pxsec does not own it"
            continue
        if b.text == a.text:
            continue
        ob, oa = b.construct(), a.construct()
        assert a.text.startswith(b.header()), "leading comments (# Source:) lost"
        ann_b = (ob.get("metadata") or {}).get("annotations") or {}
        ann_a = (oa.get("metadata") or {}).get("annotations") or {}
        for k, v in ann_b.items():
            if k != "portworx.io/misc-args":
                assert ann_a.get(k) == v, f"annotation {k} not preserved"
        if b.kind == "StorageCluster":
            new = violations(oa) - violations(ob)
            assert not new, f"render made the StorageCluster invalid against the CRD: {sorted(new)}"
    for extra in after[len(before):]:
        obj = extra.construct()
        # generated: key Secrets, and secured equivalents of the operator's default StorageClasses
        assert obj["kind"] in ("Secret", "StorageClass") and obj["metadata"]["annotations"]["pxsec.io/generated"] == "true"


def test_crd_check_can_fail():
    """The CRD check above is real: a misspelt security field is caught."""
    require_corpus()
    bad = {"apiVersion": "core.libopenstorage.org/v1", "kind": "StorageCluster", "metadata": {"name": "x"},
           "spec": {"security": {"enabled": True, "auth": {"selfSigned": {"isuer": "x"}}}}}
    assert violations(bad)
