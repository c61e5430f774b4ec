"""`pxsec check` on StorageClusters it did not render (issue 21, PXS040-PXS043); each test cites the
operator behaviour it relies on, and render's own output is clean of them.
"""
from __future__ import annotations

import pytest
import yaml

import operator_model as op
from conftest import ROOT
from check.manifests import check, ids, lit, of, ref, storagecluster
from pxsec import audit
from pxsec.render import pipeline
from pxsec import spec as specmod
from pxsec.errors import Location
from pxsec.render.filters import storagecluster as sc_filter

NEW = {"PXS040", "PXS041", "PXS042", "PXS043"}


def rendered(**spec) -> dict:
    spec.setdefault("selfSigned", {"issuer": "openstorage.io", "sharedSecret": True})
    obj = storagecluster()
    del obj["spec"]["security"]
    sc_filter.apply(obj, specmod.build(spec), Location("in.yaml", 0, "StorageCluster", "px-cluster", "portworx"))
    return obj


def sclass(name="px-csi", **params) -> dict:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
            "provisioner": "pxd.portworx.com", "parameters": params}


def csi_token(name, ns) -> dict:
    return {f"csi.storage.k8s.io/{op_}-secret-{part}": (name if part == "name" else ns)
            for op_ in ("provisioner", "node-publish", "controller-expand") for part in ("name", "namespace")}


def test_render_output_of_the_default_spec_has_no_error_or_warning_of_these_rules():
    """What render writes by default reconciles (test_operator_keeps_working) and check agrees."""
    found = check(rendered())
    assert [f.rule_id for f in found if f.rule_id in NEW and f.severity != "note"] == []


# PXS040 (issue 21.1) --------------------------------------------------------------------------

def test_seed_from_a_key_the_operator_never_writes_is_an_error():
    """component/auth.go `getPrivateKeyOrGenerate` -> pkg/util/k8s/pod.go `GetValueFromEnvVar`: px-system-secrets
    as the operator made it has only system-secret and apps-secret, so the auth component fails."""
    old = rendered(secret={"name": "px-system-secrets"})  # what pxsec wrote before issue 21
    with pytest.raises(op.ReconcileError):
        op.reconcile_auth(old, op.operator_made_secrets())
    found = of(check(old), "PXS040")
    assert {f.field.split("[")[0] for f in found} == {"spec.env"} and len(found) == 2
    assert all(f.severity == "error" and "getPrivateKeyOrGenerate" in f.message for f in found)
    ok = rendered()
    op.reconcile_auth(ok, {**op.operator_made_secrets(), "pxsec-auth-keys": {
        "system-secret": "a", "stork-secret": "b", "shared-secret": "c"}})
    assert of(check(ok), "PXS040") == []


def test_seed_from_the_operators_own_key_is_fine():
    """`getPrivateKeyOrGenerate` reads px-system-secrets/system-secret, which the operator writes itself."""
    obj = storagecluster()
    obj["spec"]["env"] = [ref("PORTWORX_AUTH_SYSTEM_KEY", "px-system-secrets", "system-secret")]
    op.reconcile_auth(obj, op.operator_made_secrets())
    assert of(check(obj), "PXS040") == []


# PXS041 (issue 21.2) --------------------------------------------------------------------------

def test_env_issuer_overwritten_by_self_signed_issuer():
    """deployment.go `getEnvList` sets PORTWORX_AUTH_JWT_ISSUER from selfSigned.issuer after spec.env."""
    obj = storagecluster()
    obj["spec"]["env"] = [lit("PORTWORX_AUTH_JWT_ISSUER", "legacy.example")]
    [f] = of(check(obj), "PXS041")
    assert f.field == "spec.env[0]" and "legacy.example" in f.message and "px.example" in f.message
    obj["spec"]["env"] = [lit("PORTWORX_AUTH_JWT_ISSUER", "px.example")]
    assert of(check(obj), "PXS041") == []


def test_invalid_guest_access_fails_the_auth_component():
    """component/auth.go `updateSystemGuestRole`: "invalid guest access type"."""
    obj = storagecluster()
    obj["spec"]["security"]["auth"]["guestAccess"] = "disabled"
    [f] = of(check(obj), "PXS041")
    assert f.field == "spec.security.auth.guestAccess"
    obj["spec"]["security"]["auth"]["guestAccess"] = "Managed"
    assert of(check(obj), "PXS041") == []


# PXS042 (issue 21.6) --------------------------------------------------------------------------

def test_default_storageclasses_with_guest_access_disabled():
    """component/portworx_sc.go `Reconcile` makes px-db, px-csi-db, ... without token parameters unless
    util.go `StorageClassEnabled` is off, and k8s.go `CreateStorageClass` keeps a class already there."""
    obj = storagecluster()
    [f] = of(check(obj), "PXS042")
    assert "px-db" in f.message and f.severity == "note"
    off = storagecluster()
    off["metadata"]["annotations"] = {"portworx.io/disable-storage-class": "true"}
    assert of(check(off), "PXS042") == []
    managed = storagecluster()
    managed["spec"]["security"]["auth"]["guestAccess"] = "Managed"
    assert of(check(managed), "PXS042") == []
    spec = specmod.build({"selfSigned": {"issuer": "openstorage.io", "sharedSecret": True}, "storageClasses": {}})
    out = pipeline.render([("in.yaml", yaml.safe_dump(obj))], spec).text
    assert [f for f in audit.check([("out.yaml", out)]).findings if f.rule_id == "PXS042"] == []


# PXS043 (issue 21.7) --------------------------------------------------------------------------

@pytest.mark.parametrize("name,ns,flagged", [
    ("px-user-token", "portworx", False), ("px-user-token", "apps", True), ("tenant-token", "portworx", True),
    ("px-user-token", "${pvc.namespace}", True)])
def test_token_secret_the_operator_does_not_make(name, ns, flagged):
    """component/auth.go `maintainAuthTokenSecret` makes px-user-token only, in the StorageCluster's namespace."""
    found = of(check(storagecluster(), sclass(**csi_token(name, ns))), "PXS043")
    assert bool(found) == flagged and len(found) <= 1
    if flagged:
        assert found[0].field.startswith('parameters["csi.storage.k8s.io/provisioner-secret-name"]')


def test_token_secret_held_by_the_manifests_is_fine():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tenant-token", "namespace": "portworx"},
              "stringData": {"auth-token": "x"}}
    assert of(check(storagecluster(), sclass(**csi_token("tenant-token", "portworx")), secret), "PXS043") == []


def test_no_operator_no_pxs043():
    """A DaemonSet install has no operator: the DaemonSet-install checks apply instead."""
    assert "PXS043" not in ids(check(sclass(**csi_token("tenant-token", "portworx"))))


def test_rules_are_in_the_catalogue_and_the_docs():
    docs = (ROOT / "docs" / "check.md").read_text()
    for rule_id in sorted(NEW):
        assert rule_id in audit.RULES and f'<a id="{rule_id.lower()}"></a>{rule_id} | {audit.RULES[rule_id].name} | ' \
            f"{audit.RULES[rule_id].severity} |" in docs
