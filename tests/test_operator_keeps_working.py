"""Operator installs keep working once pxsec turned security on (issue 21).

Each test renders a StorageCluster and runs the result through `operator_model`, a restatement of
the libopenstorage/operator function named in the test's docstring; where it matters, both on a
fresh cluster and on one where the operator already made its Secrets (with exactly the keys it
writes: `operator_model.operator_made_secrets`).
"""
from __future__ import annotations

import copy
import re

import pytest
import yaml

import operator_model as op
from conftest import ROOT
from pxsec.render import pipeline
from pxsec.commands import init as scaffold
from pxsec import spec as specmod
from pxsec.errors import Location, PxsecError
from pxsec import px_version
from pxsec.render.filters import operator_storageclasses, storagecluster, stork

from test_operator_storagecluster import LOC, render, sc, warnings  # the same StorageCluster helpers
USER_KEYS = {"system-secret": "user-system", "stork-secret": "user-stork", "shared-secret": "user-shared"}




def cluster_secrets(user_secret: str, existing: bool) -> dict:
    secrets = {user_secret: dict(USER_KEYS)}
    if existing:
        secrets = {**op.operator_made_secrets(), **secrets}
    return secrets


def assert_reconciles(out: dict, user_secret: str) -> None:
    """component/auth.go `Reconcile` succeeds on a fresh cluster and on one where the operator
    already made its Secrets, and never touches the user's Secret."""
    for existing in (False, True):
        before = cluster_secrets(user_secret, existing)
        after = op.reconcile_auth(out, before)
        assert after[user_secret] == USER_KEYS
        assert after["px-admin-token"] and after["px-user-token"]


# --- 1. the default secret.name ------------------------------------------------------------------

def _readme_spec() -> dict:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"^## The spec\n\n```yaml\n(.*?)^```", text, re.S | re.M).group(1)
    return yaml.safe_load(block)


def _specs():
    return {
        "examples/spec.yaml (the README's first command)": lambda: specmod.load(str(ROOT / "examples" / "spec.yaml")),
        "README's spec": lambda: specmod.from_document(_readme_spec(), "README.md"),
        "pxsec init": lambda: specmod.from_document(yaml.safe_load(scaffold.spec_text("pxsec.yaml", "helm")), "init"),
    }


def test_the_default_secret_is_not_one_the_operator_owns():
    """component/auth.go `createPrivateKeysSecret` / `maintainAuthTokenSecret` write px-system-secrets,
    px-shared-secret, px-admin-token and px-user-token: a default among them is rewritten."""
    assert specmod.DEFAULTS["secret.name"] not in op.OWNED
    assert specmod.build({}).secret_name == "pxsec-auth-keys"


@pytest.mark.parametrize("which", list(_specs()))
@pytest.mark.parametrize("existing", [False, True], ids=["fresh cluster", "operator already made its Secrets"])
def test_readme_and_init_specs_keep_the_auth_component_reconciling(which, existing, monkeypatch):
    """portworx.go `PreInstall` runs component/auth.go `Reconcile`: `getPrivateKeyOrGenerate` reads
    each spec.env seed with pkg/util/k8s/pod.go `GetValueFromEnvVar` (an error fails the component),
    and `CreateOrAppendToSecret` keeps an existing Secret's keys. The user's Secret stays the user's."""
    monkeypatch.setenv("PXSEC_NO_CACHE", "1")
    spec = _specs()[which]()
    text = yaml.safe_dump(sc())
    result = pipeline.render([("sc.yaml", text)], spec)
    out = next(d for d in yaml.safe_load_all(result.text) if d and d.get("kind") == "StorageCluster")
    assert spec.secret_name not in op.OWNED
    before = cluster_secrets(spec.secret_name, existing)
    after = op.reconcile_auth(out, before)
    assert after[spec.secret_name] == USER_KEYS
    if not existing:  # seeded from the user's keys
        assert after["px-system-secrets"] == {"system-secret": "user-system", "apps-secret": "user-stork"}
        assert after["px-shared-secret"] == {"shared-secret": "user-shared"}
    else:  # the operator's values stay, and render says so
        assert after["px-system-secrets"] == op.operator_made_secrets()["px-system-secrets"]
        assert any("already exist" in w for w in result.warnings)


def test_the_old_default_fails_the_auth_component_once_the_operator_made_its_secrets():
    """The bug of issue 21.1: seeds from keys stork-secret/shared-secret of px-system-secrets, which
    the operator made with only system-secret and apps-secret, so `getPrivateKeyOrGenerate` fails
    ("failed to find env var value ... in secret px-system-secrets") on every reconcile."""
    out, report = render(sc(), secret={"name": "px-system-secrets"})
    assert "owned by the Portworx operator" in warnings(report)
    with pytest.raises(op.ReconcileError, match="failed to find env var value .* in secret px-system-secrets"):
        op.reconcile_auth(out, op.operator_made_secrets())
    mine, _ = render(sc())
    assert_reconciles(mine, "pxsec-auth-keys")


# --- 2. values the user set -------------------------------------------------------------------

def _with_auth(**auth):
    return sc(security={"enabled": True, "auth": auth})


@pytest.mark.parametrize("value", ["Managed", "Enabled", "Disabled"])
def test_the_storageclusters_guest_access_wins_over_pxsecs_default(value):
    """component/auth.go `updateSystemGuestRole` leaves `system.guest` alone for Managed and rewrites
    it otherwise: a StorageCluster's own value is kept when the pxsec spec has none."""
    out, report = render(_with_auth(guestAccess=value))
    assert out["spec"]["security"]["auth"]["guestAccess"] == value
    assert "sets guestAccess" not in warnings(report) and "replaced by" not in warnings(report)
    assert_reconciles(out, "pxsec-auth-keys")


def test_the_specs_guest_access_wins_with_a_warning_naming_old_and_new():
    """`updateSystemGuestRole` then rewrites the system.guest role Managed left to the user."""
    out, report = render(_with_auth(guestAccess="Managed"), guestAccess="Disabled")
    assert out["spec"]["security"]["auth"]["guestAccess"] == "Disabled"
    [w] = [w for w in report.warnings if w.startswith("spec.security.auth.guestAccess")]
    assert "Managed replaced by Disabled" in w and "the spec has no guestAccess" not in w and len(w) <= 200


def test_an_invalid_guest_access_is_replaced_with_a_warning():
    """`updateSystemGuestRole`: "invalid guest access type" for anything but the three constants."""
    out, report = render(_with_auth(guestAccess="disabled"))
    assert out["spec"]["security"]["auth"]["guestAccess"] == "Disabled"
    assert "'disabled' replaced by Disabled" in warnings(report)


@pytest.mark.parametrize("obj,where", [
    (_with_auth(selfSigned={"issuer": "old.example"}), "spec.security.auth.selfSigned.issuer"),
    (sc(env=[{"name": "PORTWORX_AUTH_JWT_ISSUER", "value": "old.example"}]), "spec.env PORTWORX_AUTH_JWT_ISSUER"),
])
def test_a_replaced_issuer_is_a_warning_naming_old_and_new(obj, where):
    """portworx.go `setSecuritySpecDefaults` takes selfSigned.issuer, else a literal spec.env
    PORTWORX_AUTH_JWT_ISSUER; `isTokenSecretRefreshRequired` re-signs on an issuer change, and tokens
    of the old issuer are refused."""
    out, report = render(obj)
    assert op.self_signed(out)["issuer"] == "openstorage.io"
    [w] = [w for w in report.warnings if "old.example" in w]
    assert w.startswith(f"{where} old.example replaced by openstorage.io") and "stop working" in w
    assert len(w) <= 200
    same, quiet = render(_with_auth(selfSigned={"issuer": "openstorage.io"}))
    assert "replaced by" not in warnings(quiet)


# --- 3. stork.enabled: false in the spec --------------------------------------------------------

@pytest.mark.parametrize("stork_field", [{"enabled": True, "env": [
    {"name": "PX_JWT_ISSUER", "value": "apps.portworx.io"},
    {"name": "PX_SHARED_SECRET", "valueFrom": {"secretKeyRef": {"name": "old", "key": "k"}}}]}, None])
def test_stork_disabled_in_the_spec_while_the_storagecluster_runs_stork_is_refused(stork_field):
    """portworx.go `SetDefaultsOnStorageCluster` enables Stork when spec.stork is absent; Stork's env is
    `GetStorkEnvMap` overridden by spec.stork.env, which pxsec would not pin. As in a DaemonSet install."""
    obj = sc(stork=stork_field)
    if stork_field is None:
        del obj["spec"]["stork"]
    with pytest.raises(PxsecError) as e:
        render(obj, stork={"enabled": False})
    assert e.value.location.field == "spec.stork" and "stork.enabled: false" in e.value.message
    deployment = {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"name": "stork"}]}}}}
    with pytest.raises(PxsecError):
        stork.apply(deployment, specmod.build({"stork": {"enabled": False}}), LOC)
    out, _ = render(sc(stork={"enabled": False}), stork={"enabled": False})
    assert_reconciles(out, "pxsec-auth-keys")


# --- 4. untagged image + px-version annotation -------------------------------------------------

def test_untagged_image_ignores_the_px_version_annotation():
    """portworx.go `SetDefaultsOnStorageCluster` appends the release manifest's version to an image
    without a tag (util.go `GetImageTag` == ""; manifest/remote.go never reads the annotation), then
    util.go `GetPortworxVersion` reads that tag: the annotation's 2.5.8 is not what runs."""
    obj = sc(image="portworx/oci-monitor", annotations={"portworx.io/px-version": "2.5.8"})
    obj["spec"]["stork"]["env"] = [{"name": "PX_JWT_ISSUER", "value": "stork.openstorage.io"}]
    out, report = render(obj)
    assert px_version.stork_issuer(obj) is None and not out["spec"]["stork"].get("env")
    [w] = [w for w in report.warnings if "no tag" in w]
    assert "portworx.io/px-version 2.5.8" in w and len(w) <= 200
    for px26 in (True, False):  # whatever the manifest says, the operator's own pair agrees with itself
        stork_env, px = op.stork_env(out, px26), op.portworx_env(out, px26)
        assert op.key_env_for_issuer(stork_env["PX_JWT_ISSUER"]["value"]) in px
    assert_reconciles(out, "pxsec-auth-keys")


def test_a_tag_the_operator_cannot_read_keeps_the_annotation():
    """util.go `GetImageTag` takes the text after the last ':' (here a registry port and path): not
    empty, so nothing is appended and `GetPortworxVersion` falls back to the annotation."""
    obj = sc(image="registry:5000/portworx/oci-monitor", annotations={"portworx.io/px-version": "2.5.8"})
    assert px_version.stork_issuer(obj) == "stork.openstorage.io"
    assert px_version.ignored_annotation(obj) is None


# --- 5. per-node PX_IMAGE -----------------------------------------------------------------------

def test_a_node_group_on_another_issuers_version_is_refused():
    """pkg/controller/storagecluster/update.go `overwriteClusterSpecWithNodeSpec` merges
    spec.nodes[].env over spec.env before `GetStoragePodSpec`, so deployment.go `getEnvList` gives that
    group STORK_KEY (PX 2.5.8) while Stork signs as apps.portworx.io (`GetStorkEnvMap`, PX 3.1.0)."""
    obj = sc(nodes=[{"selector": {"nodeName": "a"}, "env": [{"name": "PX_IMAGE",
                                                          "value": "portworx/oci-monitor:2.5.8"}]}])
    with pytest.raises(PxsecError) as e:
        render(obj)
    assert e.value.location.field == "spec.nodes[0].env" and "2.5.8" in e.value.message


def test_node_groups_pairing_alike_are_secured_alike():
    """`overwriteClusterSpecWithNodeSpec` then `getEnvList` per group: every group gets the key Stork signs for."""
    obj = sc(nodes=[{"env": [{"name": "PX_IMAGE", "value": "portworx/oci-monitor:3.2.0"}]}])
    out, _ = render(obj)
    issuer = op.stork_env(out, px_ge_2_6=True)["PX_JWT_ISSUER"]["value"]
    group = px_version.with_node_env(out, out["spec"]["nodes"][0]["env"])
    assert op.key_env_for_issuer(issuer) in op.portworx_env(group, px_ge_2_6=True)
    assert_reconciles(out, "pxsec-auth-keys")


# --- 6. the operator's default StorageClasses -------------------------------------------------

def render_stream(*objs, **spec):
    spec.setdefault("selfSigned", {"issuer": "openstorage.io", "sharedSecret": True})
    result = pipeline.render([("in.yaml", yaml.safe_dump_all(list(objs)))], specmod.build(spec))
    return result, [d for d in yaml.safe_load_all(result.text) if d]


def classes_of(docs) -> dict:
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == "StorageClass"}


def test_without_storageclasses_in_the_spec_the_operators_classes_are_named_in_a_warning():
    """component/portworx_sc.go `Reconcile` creates px-db, px-csi-db, ... in the cluster with no token
    parameters; with guestAccess Disabled their PVCs are refused."""
    result, docs = render_stream(sc())
    [w] = [w for w in result.warnings if "px-db" in w]
    assert "px-csi-db" in w and "spec storageClasses" in w and len(w) <= 200
    assert classes_of(docs) == {}
    out = next(d for d in docs if d["kind"] == "StorageCluster")
    made = op.storageclass_component(out, {})
    assert made and all("openstorage.io/auth-secret-name" not in c["parameters"] for c in made.values())
    result_off, _ = render_stream(sc(annotations={"portworx.io/disable-storage-class": "true"}))
    assert not any("px-db" in w for w in result_off.warnings)
    managed, _ = render_stream(sc(), guestAccess="Managed")
    assert not any("px-db" in w for w in managed.warnings)


def test_with_storageclasses_in_the_spec_secured_equivalents_are_emitted():
    """`Reconcile` makes its classes through k8s.go `CreateStorageClass`, which leaves an existing class
    of that name alone: secured classes of the same names and parameters, applied first, are kept."""
    result, docs = render_stream(sc(), storageClasses={})
    classes = classes_of(docs)
    assert list(classes)[:4] == ["px-db", "px-db-encrypted", "px-replicated", "px-replicated-encrypted"]
    assert {"px-csi-db", "px-db-local-snapshot", "px-csi-db-cloud-snapshot-encrypted"} <= set(classes)
    assert len(classes) == 16
    db = classes["px-db"]
    assert db["metadata"]["annotations"] == {"pxsec.io/generated": "true"}
    assert db["provisioner"] == "kubernetes.io/portworx-volume" and db["parameters"] == {
        "repl": "3", "io_profile": "db_remote", "openstorage.io/auth-secret-name": "px-user-token",
        "openstorage.io/auth-secret-namespace": "portworx"}
    csi = classes["px-csi-db-local-snapshot"]["parameters"]
    assert csi["csi.storage.k8s.io/provisioner-secret-name"] == "px-user-token"
    assert csi["snapshotschedule.stork.libopenstorage.org/daily-schedule"].endswith("snapshot-type: local\n")
    out = next(d for d in docs if d["kind"] == "StorageCluster")
    assert_reconciles(out, "pxsec-auth-keys")
    kept = op.storageclass_component(out, {n: {"parameters": c["parameters"]} for n, c in classes.items()})
    assert all(kept[n]["parameters"] == classes[n]["parameters"] for n in op.DEFAULT_CLASSES)
    assert "portworx.io/disable-storage-class" not in (out["metadata"].get("annotations") or {})
    [w] = [w for w in result.warnings if "emitted secured" in w]
    assert "delete them first" in w and len(w) <= 200
    assert not any("carry no token" in w for w in result.warnings)
    again = pipeline.render([("out.yaml", result.text)], specmod.build(
        {"selfSigned": {"issuer": "openstorage.io", "sharedSecret": True}, "storageClasses": {}}))
    assert again.text == result.text and not any("px-db" in w for w in again.warnings)


def test_old_px_and_no_stork_get_only_the_classes_the_operator_makes():
    """`Reconcile`: snapshot classes only with Stork, px-csi-* only for PX >= 2.2 (`GetPortworxVersion`)."""
    _, docs = render_stream(sc(image="portworx/oci-monitor:2.1.5", stork={"enabled": False}),
                            storageClasses={}, stork={"enabled": False})
    assert list(classes_of(docs)) == ["px-db", "px-db-encrypted", "px-replicated", "px-replicated-encrypted"]


def test_excluded_and_in_tree_classes_under_pvc_namespace_stay_a_warning():
    """${pvc.namespace} is a CSI template; an excluded class is the user's choice: both keep the warning."""
    result, docs = render_stream(sc(), storageClasses={"exclude": ["px-csi-db"],
                                                       "tokenSecret": {"namespace": "${pvc.namespace}"}})
    classes = classes_of(docs)
    assert "px-csi-db" not in classes and "px-db" not in classes and "px-csi-replicated" in classes
    assert any("carry no token" in w for w in result.warnings)


def test_a_same_named_secured_class_would_be_deleted_under_the_disable_annotation():
    """Why pxsec does not set portworx.io/disable-storage-class: `PreInstall` then calls portworx_sc.go
    `Delete` on every reconcile, and k8s.go `DeleteStorageClass` removes any unowned px-db."""
    off, _ = render(sc(annotations={"portworx.io/disable-storage-class": "true"}))
    secured = {"px-db": {"parameters": {"repl": "3", "openstorage.io/auth-secret-name": "px-user-token"}},
               "team-db": {"parameters": {"repl": "3"}}}
    assert list(op.storageclass_component(off, secured)) == ["team-db"]
    assert "px-db" in [name for name, _, _ in operator_storageclasses.default_classes(off)]


# --- 7. token Secret in operator installs -------------------------------------------------------

@pytest.mark.parametrize("token,warned", [
    ({}, False), ({"namespace": "portworx"}, False), ({"name": "tenant-token"}, True),
    ({"namespace": "${pvc.namespace}"}, True), ({"namespace": "apps"}, True)])
def test_a_token_secret_the_operator_does_not_make_is_a_warning(token, warned):
    """component/auth.go `maintainAuthTokenSecret` makes px-user-token only, in the StorageCluster's namespace."""
    out, report = render(sc(), storageClasses={"tokenSecret": token})
    found = [w for w in report.warnings if "will not create token Secret" in w]
    assert bool(found) == warned and all(len(w) <= 200 for w in found)
    assert_reconciles(out, "pxsec-auth-keys")  # px-user-token is (re)made in namespace portworx either way


def test_the_token_secret_warning_reaches_a_render_with_a_storagecluster(monkeypatch):
    """The DaemonSet-install warning is silent beside a StorageCluster; the operator one is not."""
    spec = specmod.build({"selfSigned": {"issuer": "openstorage.io", "sharedSecret": True},
                          "storageClasses": {"tokenSecret": {"namespace": "${pvc.namespace}"}}})
    sclass = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "px-csi"},
              "provisioner": "pxd.portworx.com"}
    result = pipeline.render([("in.yaml", yaml.safe_dump_all([sc(), sclass]))], spec)
    assert any("in each PVC namespace" in w and "operator makes only px-user-token" in w for w in result.warnings)


# --- 8. secretsProvider ----------------------------------------------------------------------

@pytest.mark.parametrize("provider,warned", [("vault", True), ("k8s", False), (None, False)])
def test_a_secrets_provider_other_than_k8s_holds_the_token(provider, warned):
    """deployment.go passes spec.secretsProvider as px-runc -secret_type; openstorage
    pkg/auth/secrets reads openstorage.io/auth-secret-name through that provider (`GetToken`)."""
    obj = sc() if provider is None else sc(secretsProvider=provider)
    out, report = render(obj)
    assert ("spec.secretsProvider is vault" in warnings(report)) == warned
    assert_reconciles(out, "pxsec-auth-keys")


def test_emitted_storageclasses_are_filed_with_the_storagecluster_under_helm4():
    """Helm 4 (pkg/action/action.go `splitAndDeannotate`) files each document by its
    postrenderer.helm.sh/postrender-filename annotation: the classes go with their StorageCluster."""
    obj = sc(annotations={"postrenderer.helm.sh/postrender-filename": "px/templates/storage-cluster.yaml"})
    _, docs = render_stream(obj, storageClasses={})
    assert {c["metadata"]["annotations"]["postrenderer.helm.sh/postrender-filename"]
            for c in classes_of(docs).values()} == {"px/templates/storage-cluster.yaml"}


def test_flux_patches_name_the_emitted_storageclasses_as_objects_to_add():
    """A generated StorageClass is not a patch (and not a Secret): `pxsec patches` says to add it."""
    from pxsec import flux

    spec = specmod.build({"selfSigned": {"issuer": "openstorage.io", "sharedSecret": True}, "storageClasses": {}})
    found = flux.compute([("in.yaml", yaml.safe_dump(sc()))], spec).warnings
    mine = [w for w in found if "render generates this object" in w]
    assert any("px-db" in w for w in mine) and not any("Secret" in w.split(":")[0] for w in mine)
