"""`pxsec check` PXS026-PXS028: Portworx StorageClasses once PX-Security is on (issue 17). Each
rule: a manifest with the problem (field and line pinned) and one without."""
from __future__ import annotations

import pytest
import yaml

from check.manifests import check, ids, line_of, of, portworx, storagecluster, text
from pxsec import audit, portworx as pw
from pxsec import spec as specmod

TOKEN_VALUE = "storageclass-test-token-0123456789"  # test-only; never in a finding


def sc(name: str = "px-db", provisioner: str = pw.CSI_PROVISIONER, params: dict | None = None) -> dict:
    out = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
           "provisioner": provisioner}
    if params is not None:
        out["parameters"] = params
    return out


def csi_params(secret: str = "px-user-token", ns: str = "portworx", drop: tuple = ()) -> dict:
    return {p: (secret if p.endswith("-name") else ns) for p in pw.CSI_SECRET_PARAMS if p not in drop}


def token_secret(name: str = "px-user-token", ns: str = "portworx", key: str = pw.TOKEN_KEY) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": ns},
            "stringData": {key: TOKEN_VALUE}}


def _found(*objs, rule):
    src = text(*objs)
    return src, of(audit.check([("in.yaml", src)]).findings, rule)


# PXS026 / PXS027 ----------------------------------------------------------------------------

def test_no_token_with_guest_access_disabled_is_an_error_at_the_parameters():
    src, [f] = _found(storagecluster(), sc(params={"repl": "3"}), rule="PXS026")
    assert (f.severity, f.kind, f.name, f.field) == ("error", "StorageClass", "px-db", "parameters")
    assert f.line == line_of(src, "parameters:") and "px-cluster" in f.message and "Pending" in f.message


def test_no_parameters_at_all_points_at_the_provisioner():
    src, [f] = _found(storagecluster(), sc(provisioner=pw.INTREE_PROVISIONER), rule="PXS026")
    assert f.field == "provisioner" and f.line == line_of(src, "provisioner: kubernetes.io/portworx-volume")
    assert "openstorage.io/auth-secret-name" in f.message


def test_no_token_with_guest_access_on_or_unknown_is_a_note():
    enabled = storagecluster(security={"enabled": True, "auth": {"guestAccess": "Enabled"}})
    for workload in (enabled, portworx()):
        found = check(workload, sc())
        assert of(found, "PXS026") == []
        [f] = of(found, "PXS027")
        assert f.severity == "note" and "public" in f.message and f.field == "provisioner"


@pytest.mark.parametrize("objs", [
    (storagecluster(), sc(params=csi_params())),  # complete CSI token parameters
    (storagecluster(), sc(provisioner=pw.INTREE_PROVISIONER, params={p: "x" for p in pw.INTREE_SECRET_PARAMS})),
    (portworx(issuer=None, env=[]), sc()),  # security off: nothing to say about tokens
    (storagecluster(security=False), sc()),
    (storagecluster(), sc(provisioner="kubernetes.io/gce-pd")),  # not Portworx
])
def test_storageclasses_with_tokens_or_without_security_are_fine(objs):
    assert [i for i in ids(check(*objs)) if i in ("PXS026", "PXS027", "PXS028")] == []


def test_a_storageclass_the_spec_leaves_out_is_not_reported_with_that_spec():
    spec = specmod.from_document(yaml.safe_load("""
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
spec:
  selfSigned: {issuer: px.example, sharedSecret: true}
  storageClasses: {exclude: [px-scratch]}
"""), "<spec>")
    objs = (storagecluster(), sc("px-scratch"), sc("px-db"))
    assert [f.name for f in of(check(*objs), "PXS026")] == ["px-scratch", "px-db"]
    assert [f.name for f in of(check(*objs, spec=spec), "PXS026")] == ["px-db"]


# PXS028 -------------------------------------------------------------------------------------

def test_half_of_the_csi_parameters_is_an_error_naming_the_missing_ones():
    params = csi_params(drop=tuple(p for p in pw.CSI_SECRET_PARAMS if "node-publish" in p or "expand" in p))
    src, [f] = _found(storagecluster(), sc(params=params), rule="PXS028")
    assert f.field == 'parameters["csi.storage.k8s.io/provisioner-secret-name"]'
    assert f.line == line_of(src, "csi.storage.k8s.io/provisioner-secret-name:")
    assert "csi.storage.k8s.io/node-publish-secret-name" in f.message and f.severity == "error"
    assert of(audit.check([("in.yaml", src)]).findings, "PXS026") == []  # it has token parameters, broken ones


def test_one_of_the_two_intree_parameters_is_an_error():
    params = {"openstorage.io/auth-secret-name": "px-user-token"}
    _, [f] = _found(storagecluster(), sc(provisioner=pw.INTREE_PROVISIONER, params=params), rule="PXS028")
    assert "openstorage.io/auth-secret-namespace" in f.message


def test_a_token_secret_in_the_stream_without_auth_token_is_an_error():
    bad = token_secret(key="token")
    src, [f] = _found(storagecluster(), sc(params=csi_params()), bad, rule="PXS028")
    assert f.field == 'parameters["csi.storage.k8s.io/provisioner-secret-name"]'
    assert "Secret portworx/px-user-token" in f.message and pw.TOKEN_KEY in f.message
    assert TOKEN_VALUE not in repr(audit.check([("in.yaml", src)]).findings)


def test_a_token_secret_with_auth_token_elsewhere_or_templated_is_fine():
    good = (storagecluster(), sc(params=csi_params()), token_secret())
    other_ns = (storagecluster(), sc(params=csi_params()), token_secret(ns="tenant-a", key="token"))
    per_pvc = (storagecluster(), sc(params=csi_params("tenant-token", pw.PVC_NAMESPACE)),
               token_secret("tenant-token", "tenant-a"))
    for objs in (good, other_ns, per_pvc):
        assert of(check(*objs), "PXS028") == []
    per_pvc_bad = (storagecluster(), sc(params=csi_params("tenant-token", pw.PVC_NAMESPACE)),
                   token_secret("tenant-token", "tenant-a", key="token"))
    assert len(of(check(*per_pvc_bad), "PXS028")) == 1
