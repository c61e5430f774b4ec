"""`pxsec check`: one test per rule on a manifest that has the problem and one that does not,
with the exact field and line where it matters.

The baselines (a secured DaemonSet + Stork install, a secured StorageCluster) pass every
error/warning rule; each test changes one thing.
"""
from __future__ import annotations

import pytest
import yaml

from check.manifests import (autopilot, check, container, ids, lit, line_of, of, portworx, ref, stork,
                             storagecluster, text)
from pxsec import audit
from pxsec import spec as specmod

BLOCKING = ("error", "warning")


def test_baselines_are_clean():
    assert ids(check(portworx(), stork(), autopilot(env=[ref("PX_SHARED_SECRET", key="apps-secret")])),
               BLOCKING) == []
    assert ids(check(storagecluster()), BLOCKING) == []


# PXS000 -------------------------------------------------------------------------------------

def test_invalid_yaml_is_a_finding_with_its_line_and_other_files_are_still_checked():
    bad = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n"
    report = audit.check([("bad.yaml", bad), ("good.yaml", text(portworx(issuer=None, env=[])))])
    assert [(f.rule_id, f.file, f.line) for f in of(report.findings, "PXS000")] == [("PXS000", "bad.yaml", 4)]
    assert [f.file for f in of(report.findings, "PXS001")] == ["good.yaml"]


def test_valid_yaml_has_no_parse_finding():
    assert of(check(portworx()), "PXS000") == []


# PXS001 -------------------------------------------------------------------------------------

def test_daemonset_without_security():
    ds = portworx(issuer=None, env=[lit("PX_TEMPLATE_VERSION", "v4")])
    src = text(ds)
    [f] = of(audit.check([("in.yaml", src)]).findings, "PXS001")
    assert (f.severity, f.kind, f.name, f.namespace, f.index) == ("error", "DaemonSet", "portworx", "kube-system", 0)
    assert f.field == "spec.template.spec.containers[0]"
    assert f.line == line_of(src, "- name: portworx")


def test_secured_daemonset_is_not_disabled():
    assert of(check(portworx()), "PXS001") == []


@pytest.mark.parametrize("security,field", [
    (False, "spec.security.enabled"),
    ({"enabled": False}, "spec.security.enabled"),
    ({"enabled": True, "auth": {"enabled": False}}, "spec.security.auth.enabled"),
])
def test_storagecluster_without_auth(security, field):
    sc = storagecluster(security=security)
    src = text(sc)
    [f] = of(audit.check([("sc.yaml", src)]).findings, "PXS001")
    assert f.field == field and f.kind == "StorageCluster"
    if security is not False:
        assert f.line == line_of(src, "enabled: false")


def test_storagecluster_with_security_enabled_is_not_disabled():
    assert of(check(storagecluster(security={"enabled": True})), "PXS001") == []


# PXS002 -------------------------------------------------------------------------------------

def test_issuer_without_system_key_is_incomplete():
    ds = portworx(env=[ref("PORTWORX_AUTH_JWT_SHAREDSECRET", key="shared-secret")])
    found = check(ds)
    assert ids(found, ("error",)) == ["PXS002"]
    assert "PORTWORX_AUTH_SYSTEM_KEY" in of(found, "PXS002")[0].message


def test_keys_without_issuer_are_incomplete_not_disabled():
    found = check(portworx(issuer=None))
    assert ids(found, ("error",)) == ["PXS002"]


def test_storagecluster_auth_only_in_env_is_incomplete():
    sc = storagecluster(security=False)
    sc["spec"]["env"] = [ref("PORTWORX_AUTH_SYSTEM_KEY"), lit("PORTWORX_AUTH_JWT_ISSUER", "x.io")]
    assert ids(check(sc), ("error",)) == ["PXS002"]


def test_complete_setups_are_not_incomplete():
    assert of(check(portworx(), storagecluster()), "PXS002") == []


# PXS003 -------------------------------------------------------------------------------------

def test_node_pool_without_security_makes_the_cluster_mixed():
    a = portworx(name="portworx-pool-a")
    b = portworx(name="portworx-pool-b", issuer=None, env=[])
    found = check(a, b)
    [f] = of(found, "PXS003")
    assert f.name == "portworx-pool-b" and "portworx-pool-a" in f.message
    assert of(found, "PXS001")[0].name == "portworx-pool-b"


def test_different_clusters_are_not_mixed():
    a = portworx(name="portworx-a", cluster="one")
    b = portworx(name="portworx-b", cluster="two", issuer=None, env=[])
    assert of(check(a, b), "PXS003") == []


def test_identically_secured_pools_are_not_mixed():
    assert of(check(portworx(name="pool-a"), portworx(name="pool-b")), "PXS003") == []


@pytest.mark.parametrize("change,what", [
    (lambda ds: ds["spec"]["template"]["spec"]["containers"][0]["args"].__setitem__(-1, "other.io"), "issuers"),
    (lambda ds: container(ds)["env"].__setitem__(2, ref("PORTWORX_AUTH_SYSTEM_KEY", "other-keys")),
     "key PORTWORX_AUTH_SYSTEM_KEY"),
    (lambda ds: container(ds)["args"].extend(["-jwt_rsa_pubkey_file", "/etc/pwx/keys/rsa.pub"]), "token model"),
    (lambda ds: container(ds)["args"].extend(["-username_claim", "email"]), "username claim"),
])
def test_pools_secured_differently_are_mixed(change, what):
    b = portworx(name="pool-b")
    change(b)
    [f] = of(check(portworx(name="pool-a"), b), "PXS003")
    assert f.name == "pool-b" and what in f.message


def test_storagecluster_node_override_of_a_security_setting_is_mixed():
    sc = storagecluster()
    sc["spec"]["nodes"] = [{"selector": {"nodeName": "n1"},
                            "env": [lit("PORTWORX_AUTH_JWT_ISSUER", "elsewhere.io")],
                            "miscArgs": "-oidc_issuer https://login.example.com"}]
    src = text(sc)
    found = of(audit.check([("sc.yaml", src)]).findings, "PXS003")
    assert [f.field for f in found] == ["spec.nodes[0].env[0]", "spec.nodes[0].miscArgs"]
    assert found[0].line == line_of(src, "- name: PORTWORX_AUTH_JWT_ISSUER")


def test_storagecluster_node_override_that_matches_the_cluster_is_not_mixed():
    sc = storagecluster()
    sc["spec"]["env"] = [lit("PORTWORX_AUTH_USERNAME_CLAIM", "email")]
    sc["spec"]["nodes"] = [{"env": [lit("PORTWORX_AUTH_USERNAME_CLAIM", "email"), lit("OTHER", "x")]}]
    assert of(check(sc), "PXS003") == []


# PXS004 -------------------------------------------------------------------------------------

def test_stork_without_shared_secret():
    st = stork(env=[lit("PX_SERVICE_NAME", "portworx-api")])
    src = text(portworx(), st)
    [f] = of(audit.check([("in.yaml", src)]).findings, "PXS004")
    assert (f.kind, f.name, f.index, f.field) == ("Deployment", "stork", 1, "spec.template.spec.containers[0].env")
    assert f.line == line_of(src, "env:", 1)


def test_stork_with_shared_secret_and_operator_stork_are_fine():
    assert of(check(portworx(), stork(), storagecluster()), "PXS004") == []


# PXS005 -------------------------------------------------------------------------------------

def test_stork_secret_from_another_key():
    st = stork(env=[ref("PX_SHARED_SECRET", key="shared-secret"), lit("PX_JWT_ISSUER", "stork.openstorage.io")])
    [f] = of(check(portworx(), st), "PXS005")
    assert "Secret pxkeys key shared-secret" in f.message and "Secret pxkeys key stork-secret" in f.message
    assert f.field == "spec.template.spec.containers[0].env[0]"


def test_stork_apps_issuer_without_apps_key_on_portworx():
    st = stork(env=[ref("PX_SHARED_SECRET", key="stork-secret"), lit("PX_JWT_ISSUER", "apps.portworx.io")])
    [f] = of(check(portworx(), st), "PXS005")
    assert "PORTWORX_AUTH_SYSTEM_APPS_KEY" in f.message


def test_stork_apps_issuer_with_apps_key_pairs():
    ds = portworx()
    container(ds)["env"][3] = ref("PORTWORX_AUTH_SYSTEM_APPS_KEY", key="stork-secret")
    st = stork(env=[ref("PX_SHARED_SECRET", key="stork-secret"), lit("PX_JWT_ISSUER", "apps.portworx.io")])
    assert of(check(ds, st), "PXS005") == []


def test_stork_operator_issuer_pairs_with_the_jwt_shared_secret():
    ds = portworx(issuer="operator.portworx.io")
    st = stork(env=[ref("PX_SHARED_SECRET", key="shared-secret"), lit("PX_JWT_ISSUER", "operator.portworx.io")])
    assert of(check(ds, st), "PXS005") == []
    ds2 = portworx(issuer="openstorage.io")
    assert len(of(check(ds2, st), "PXS005")) == 1


def test_storagecluster_stork_env_overrides_are_checked_against_the_operator_keys():
    bad = storagecluster(stork_env=[ref("PX_SHARED_SECRET", "pxkeys", "stork-secret")])
    [f] = of(check(bad), "PXS005")
    assert f.field == "spec.stork.env[0]" and "px-system-secrets" in f.message
    wrong_issuer = storagecluster(stork_env=[lit("PX_JWT_ISSUER", "stork.openstorage.io")])
    assert "PORTWORX_AUTH_STORK_KEY" in of(check(wrong_issuer), "PXS005")[0].message
    good = storagecluster(stork_env=[ref("PX_SHARED_SECRET", "px-system-secrets", "apps-secret"),
                                     lit("PX_JWT_ISSUER", "apps.portworx.io")])
    assert of(check(good), "PXS005") == []


def test_storagecluster_seeded_apps_key_pairs_with_stork():
    sc = storagecluster(stork_env=[ref("PX_SHARED_SECRET", "pxkeys", "stork-secret")])
    sc["spec"]["env"] = [ref("PORTWORX_AUTH_SYSTEM_APPS_KEY", "pxkeys", "stork-secret")]
    assert of(check(sc), "PXS005") == []


def test_old_operator_portworx_pairs_stork_issuer():
    sc = storagecluster(image="portworx/oci-monitor:2.5.7", stork_env=[lit("PX_JWT_ISSUER", "stork.openstorage.io")])
    assert of(check(sc), "PXS005") == []


# PXS006 / PXS007 ----------------------------------------------------------------------------

def test_stork_refuses_an_unknown_issuer():
    st = stork(env=[ref("PX_SHARED_SECRET", key="stork-secret"), lit("PX_JWT_ISSUER", "openstorage.io")])
    src = text(portworx(), st)
    [f] = of(audit.check([("in.yaml", src)]).findings, "PXS006")
    assert f.field == "spec.template.spec.containers[0].env[1]"
    assert f.line == line_of(src, "- name: PX_JWT_ISSUER")
    assert of(check(portworx(), stork()), "PXS006") == []


def test_stork_issuer_left_to_its_default_is_a_note():
    st = stork(env=[ref("PX_SHARED_SECRET", key="stork-secret")])
    [f] = of(check(portworx(), st), "PXS007")
    assert f.severity == "note"
    assert of(check(portworx(), stork()), "PXS007") == []


# PXS008 -------------------------------------------------------------------------------------

SECRET_VALUE = "hunter2-this-must-never-be-printed"


def test_literal_secret_value_is_reported_by_name_only():
    ds = portworx()
    container(ds)["env"][2] = lit("PORTWORX_AUTH_SYSTEM_KEY", SECRET_VALUE)
    src = text(ds)
    report = audit.check([("in.yaml", src)])
    [f] = of(report.findings, "PXS008")
    assert "PORTWORX_AUTH_SYSTEM_KEY" in f.message and f.line == line_of(src, "name: PORTWORX_AUTH_SYSTEM_KEY")
    assert SECRET_VALUE not in repr(report)


def test_secret_from_configmap_and_on_the_command_line():
    ds = portworx(extra_args=["-jwt_shared_secret", SECRET_VALUE])
    container(ds)["env"][3] = {"name": "PORTWORX_AUTH_STORK_KEY",
                               "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}
    found = of(check(ds), "PXS008")
    assert sorted(f.field for f in found) == ["spec.template.spec.containers[0].args[7]",
                                              "spec.template.spec.containers[0].env[3]"]
    assert all(SECRET_VALUE not in f.message for f in found)


def test_literal_secrets_in_any_workload_and_storagecluster_env():
    sc = storagecluster(stork_env=[lit("PX_SHARED_SECRET", SECRET_VALUE)])
    sc["spec"]["autopilot"] = {"enabled": True, "env": [lit("PX_SHARED_SECRET", SECRET_VALUE)]}
    ap = autopilot(env=[lit("PX_SHARED_SECRET", SECRET_VALUE)])
    found = of(check(sc, ap), "PXS008")
    assert sorted((f.kind, f.field) for f in found) == [
        ("Deployment", "spec.template.spec.containers[0].env[0]"),
        ("StorageCluster", "spec.autopilot.env[0]"), ("StorageCluster", "spec.stork.env[0]")]


def test_secret_key_refs_and_env_references_are_fine():
    ds = portworx()
    container(ds)["env"].append(lit("PX_SHARED_SECRET", "$(PORTWORX_AUTH_STORK_KEY)"))
    assert of(check(ds, stork()), "PXS008") == []


# PXS009 / PXS010 ----------------------------------------------------------------------------

def _with_key_mount(ds, items=("rsa.pub",)):
    container(ds)["volumeMounts"].append({"name": "jwt", "mountPath": "/etc/pwx/jwt", "readOnly": True})
    vol = {"name": "jwt", "secret": {"secretName": "px-jwt"}}
    if items is not None:
        vol["secret"]["items"] = [{"key": i, "path": i} for i in items]
    ds["spec"]["template"]["spec"]["volumes"].append(vol)
    return ds


def test_pubkey_file_without_a_volume():
    ds = portworx(extra_args=["-jwt_rsa_pubkey_file", "/keys/rsa.pub"])
    src = text(ds)
    [f] = of(audit.check([("in.yaml", src)]).findings, "PXS009")
    assert f.field == "spec.template.spec.containers[0].args[7]" and "/keys/rsa.pub" in f.message


def test_pubkey_file_on_a_secret_volume_is_fine():
    ds = _with_key_mount(portworx(extra_args=["-jwt_rsa_pubkey_file", "/etc/pwx/jwt/rsa.pub"]))
    found = check(ds)
    assert of(found, "PXS009") == [] and of(found, "PXS010") == []


def test_pubkey_file_not_projected_by_the_volume_items():
    ds = _with_key_mount(portworx(extra_args=["-jwt_ecds_pubkey_file", "/etc/pwx/jwt/ecdsa.pub"]))
    [f] = of(check(ds), "PXS009")
    assert "projects only rsa.pub" in f.message


def test_pubkey_file_relative_path_and_env_twin():
    ds = portworx()
    container(ds)["env"].append(lit("PORTWORX_AUTH_JWT_ECDS_PUBKEY", "keys/ecdsa.pub"))
    [f] = of(check(ds), "PXS009")
    assert "not an absolute path" in f.message and f.field.endswith("env[4]")


def test_pubkey_file_on_the_host_is_a_note():
    ds = portworx(extra_args=["-jwt_rsa_pubkey_file", "/etc/pwx/rsa.pub"])
    found = check(ds)
    assert of(found, "PXS009") == [] and [f.severity for f in of(found, "PXS010")] == ["note"]


def test_storagecluster_pubkey_through_misc_args_and_spec_volumes():
    sc = storagecluster()
    sc["metadata"]["annotations"] = {"portworx.io/misc-args": "-jwt_rsa_pubkey_file /keys/rsa/rsa.pub"}
    [f] = of(check(sc), "PXS009")
    assert f.field == 'metadata.annotations["portworx.io/misc-args"]'
    sc["spec"]["volumes"] = [{"name": "rsa", "mountPath": "/keys/rsa", "secret": {"secretName": "px-jwt"}}]
    assert of(check(sc), "PXS009") == []


# PXS011 - PXS015 ----------------------------------------------------------------------------

def test_oidc_issuer_must_be_https():
    ds = portworx(extra_args=["-oidc_issuer", "http://login.example.com", "-oidc_client_id", "px"])
    [f] = of(check(ds), "PXS011")
    assert f.field.endswith("args[7]")
    ok = portworx(extra_args=["-oidc_issuer", "https://login.example.com", "-oidc_client_id", "px"])
    assert of(check(ok), "PXS011") == [] and of(check(ok), "PXS012") == []


def test_oidc_issuer_without_client_id():
    ds = portworx(extra_args=["-oidc_issuer=https://login.example.com"])
    assert len(of(check(ds), "PXS012")) == 1


def test_unknown_username_claim():
    src_bad = portworx(extra_args=["-username_claim", "uid"])
    [f] = of(check(src_bad), "PXS013")
    assert "'uid'" in f.message
    for claim in ("sub", "email", "name"):
        assert of(check(portworx(extra_args=["-username_claim", claim])), "PXS013") == []


def test_username_claim_from_storagecluster_env():
    sc = storagecluster()
    sc["spec"]["env"] = [lit("PORTWORX_AUTH_USERNAME_CLAIM", "preferred_username")]
    assert [f.field for f in of(check(sc), "PXS013")] == ["spec.env[0]"]


def test_self_signed_issuer_without_any_key():
    env = [ref("PORTWORX_AUTH_SYSTEM_KEY"), ref("PORTWORX_AUTH_STORK_KEY", key="stork-secret")]
    [f] = of(check(portworx(env=env)), "PXS014")
    assert f.field.endswith("args[5]")
    with_rsa = portworx(env=env, extra_args=["-jwt_rsa_pubkey_file", "/etc/pwx/rsa.pub"])
    assert of(check(with_rsa), "PXS014") == []
    assert of(check(portworx()), "PXS014") == []


def test_self_signed_issuer_that_is_a_url_is_a_warning():
    [f] = of(check(portworx(issuer="https://issuer.example.com")), "PXS015")
    assert f.severity == "warning"
    assert of(check(portworx()), "PXS015") == []


# PXS016 - PXS018 ----------------------------------------------------------------------------

@pytest.mark.parametrize("auth,field", [
    ({"guestAccess": "Enabled"}, "spec.security.auth.guestAccess"),
    ({}, "spec.security.auth"),
    (None, "spec.security"),
])
def test_guest_access_enabled_explicitly_or_by_default(auth, field):
    sec = {"enabled": True}
    if auth is not None:
        sec["auth"] = auth
    [f] = of(check(storagecluster(security=sec)), "PXS016")
    assert f.severity == "warning" and f.field == field


def test_guest_access_disabled_or_security_off_is_not_reported():
    assert of(check(storagecluster()), "PXS016") == []
    assert of(check(storagecluster(security=False)), "PXS016") == []


def test_invalid_guest_access():
    sc = storagecluster(security={"enabled": True, "auth": {"guestAccess": "disabled"}})
    [f] = of(check(sc), "PXS017")
    assert f.severity == "error" and "'disabled'" in f.message
    assert of(check(storagecluster(security={"enabled": True, "auth": {"guestAccess": "Managed"}})), "PXS017") == []


@pytest.mark.parametrize("lifetime", ["1h30m", "24", "h", "1.5h", 24])
def test_invalid_token_lifetime(lifetime):
    sc = storagecluster(security={"enabled": True, "auth": {"selfSigned": {"tokenLifetime": lifetime}}})
    [f] = of(check(sc), "PXS018")
    assert f.field == "spec.security.auth.selfSigned.tokenLifetime"


@pytest.mark.parametrize("lifetime", ["24h", "5d", "1y", "90m", "3600s"])
def test_valid_token_lifetime(lifetime):
    sc = storagecluster(security={"enabled": True, "auth": {"selfSigned": {"tokenLifetime": lifetime}}})
    assert of(check(sc), "PXS018") == []


def test_token_lifetime_directly_under_auth_is_misplaced():
    sc = storagecluster(security={"enabled": True, "auth": {"guestAccess": "Disabled", "tokenLifetime": "12h"}})
    [f] = of(check(sc), "PXS018")
    assert f.field == "spec.security.auth.tokenLifetime" and "selfSigned" in f.message


# PXS021 / PXS022 ----------------------------------------------------------------------------

def test_token_reset_reminder_once_per_secured_cluster_and_on_cluster_pairs():
    pair = {"apiVersion": "stork.libopenstorage.org/v1alpha1", "kind": "ClusterPair",
            "metadata": {"name": "remote", "namespace": "kube-system"}, "spec": {"options": {}}}
    found = of(check(portworx(name="a"), portworx(name="b"), pair), "PXS021")
    assert [(f.kind, f.name, f.severity) for f in found] == [("DaemonSet", "a", "note"),
                                                              ("ClusterPair", "remote", "note")]
    assert of(check(portworx(issuer=None, env=[]), pair), "PXS021") == []


def test_autopilot_beside_a_secured_portworx_needs_the_shared_secret():
    [f] = of(check(portworx(), autopilot()), "PXS022")
    assert f.severity == "warning" and f.name == "autopilot"
    assert of(check(portworx(), autopilot(env=[ref("PX_SHARED_SECRET", key="stork-secret")])), "PXS022") == []
    assert of(check(portworx(issuer=None, env=[]), autopilot()), "PXS022") == []


# Lists, lines ------------------------------------------------------------------------------

def test_objects_inside_a_list_report_item_paths_and_lines():
    lst = {"apiVersion": "v1", "kind": "List", "items": [portworx(issuer=None, env=[])]}
    src = "# a comment\n---\n" + text({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}, lst)
    [f] = of(audit.check([("list.yaml", src)]).findings, "PXS001")
    assert (f.index, f.kind, f.field) == (1, "DaemonSet", "items[0].spec.template.spec.containers[0]")
    assert f.line == line_of(src, "- name: portworx")


# PXS019 / PXS020 ----------------------------------------------------------------------------

SPEC = """
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
spec:
  secret: {name: pxkeys}
  stork: {enabled: true, issuer: stork.openstorage.io}
  selfSigned: {issuer: openstorage.io, sharedSecret: true}
"""


def spec_of(text_: str):
    return specmod.from_document(yaml.safe_load(text_), "<test-spec>")


def test_drift_lists_the_fields_render_would_change():
    ds = portworx(issuer=None, env=[lit("PX_TEMPLATE_VERSION", "v4")])
    src = text(ds, stork(env=[lit("PX_SERVICE_NAME", "portworx-api")]))
    found = of(audit.check([("in.yaml", src)], spec_of(SPEC)).findings, "PXS019")
    assert {(f.name, f.field) for f in found} == {
        ("portworx", "spec.template.spec.containers[0].args"),
        ("portworx", "spec.template.spec.containers[0].env"),
        ("stork", "spec.template.spec.containers[0].env")}
    assert any("PORTWORX_AUTH_SYSTEM_KEY" in f.message for f in found)


def test_no_drift_on_render_output():
    from pxsec.render import pipeline

    spec = spec_of(SPEC)
    rendered = pipeline.render([("in.yaml", text(portworx(issuer=None, env=[]), stork(env=[])))], spec).text
    report = audit.check([("in.yaml", rendered)], spec)
    assert of(report.findings, "PXS019") == [] and report.drift_checked


def test_drift_of_a_hand_edited_secured_manifest():
    ds = portworx()
    container(ds)["env"][2] = ref("PORTWORX_AUTH_SYSTEM_KEY", key="old-system")  # not the spec's key
    found = of(check(ds, stork(), spec=spec_of(SPEC)), "PXS019")
    assert [f.field for f in found] == ["spec.template.spec.containers[0].env[2].valueFrom.secretKeyRef.key"]


def test_render_refusal_is_a_finding():
    spec = spec_of(SPEC.replace("stork: {enabled: true, issuer: stork.openstorage.io}", "stork: {enabled: false}"))
    [f] = of(check(portworx(), stork(), spec=spec), "PXS020")
    assert f.kind == "Deployment" and f.name == "stork" and f.line is not None


def test_drift_is_skipped_without_a_spec_and_when_a_file_does_not_parse():
    assert audit.check([("in.yaml", text(portworx()))]).drift_checked is False
    assert audit.check([("a.yaml", "a: [\n"), ("in.yaml", text(portworx()))], spec_of(SPEC)).drift_checked is False
