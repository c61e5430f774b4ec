"""`pxsec check` on input pxsec did not render: each situation of issue 10 (and 9.12, 14.5) is
flagged, with the operator behaviour it relies on cited per test; clean input is not.
"""
from __future__ import annotations

import copy

import pytest

from check.manifests import autopilot, check, ids, lit, of, portworx, ref, stork, storagecluster, text
from pxsec import audit

HELM_VARS = ('chart="portworx-daemonSet-2.13.5",envVars="PORTWORX_AUTH_SYSTEM_KEY=abcdefgh12345678;FOO=bar",'
             'misc="-x"')


def sc(**spec):
    obj = storagecluster()
    obj["spec"].update(spec)
    return obj


def test_new_rules_are_quiet_on_the_baselines():
    new = {f"PXS03{i}" for i in range(7)}
    assert not new & set(ids(check(portworx(), stork(), autopilot(env=[ref("PX_SHARED_SECRET", key="apps-secret")]))))
    assert not new & set(ids(check(storagecluster())))


# PXS030 (issue 10.1, 9.12) -------------------------------------------------------------------

def test_shared_secret_naming_a_user_secret_is_flagged():
    """operator component/auth.go `createPrivateKeysSecret` rewrites the Secret sharedSecret names."""
    obj = storagecluster()
    obj["spec"]["security"]["auth"]["selfSigned"]["sharedSecret"] = "team-db-credentials"
    [f] = of(check(obj), "PXS030")
    assert f.field == "spec.security.auth.selfSigned.sharedSecret" and "team-db-credentials" in f.message
    obj["spec"]["security"]["auth"]["selfSigned"]["sharedSecret"] = "px-shared-secret"
    assert of(check(obj), "PXS030") == []


@pytest.mark.parametrize("name", ["px-system-secrets", "px-shared-secret"])
def test_operator_owned_secret_kept_in_manifests_is_flagged(name):
    """component/auth.go rewrites it on every reconcile and `Delete` removes it with a deleteStrategy."""
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "portworx",
              "labels": {"app.kubernetes.io/managed-by": "Helm"}}, "data": {"x": "eA=="}}
    [f] = of(check(storagecluster(), secret), "PXS030")
    assert (f.kind, f.name) == ("Secret", name) and "deleteStrategy" in f.message
    other = copy.deepcopy(secret)
    other["metadata"]["name"] = "pxkeys"
    assert of(check(storagecluster(), other), "PXS030") == []


# PXS031 (issue 10.2) -------------------------------------------------------------------------

def test_flags_after_a_hash_are_a_comment_to_the_operator():
    """operator util.go `MiscArgs` uses google/shlex: an unquoted '#' word starts a comment."""
    obj = storagecluster()
    obj["metadata"]["annotations"] = {"portworx.io/misc-args": "-T px-storev2 # -oidc_issuer https://idp.example"}
    [f] = of(check(obj), "PXS031")
    assert "-oidc_issuer" in f.message and f.field == 'metadata.annotations["portworx.io/misc-args"]'
    # ... so check does not count it as configured
    assert of(check(obj), "PXS011") == [] and of(check(obj), "PXS012") == []
    obj["metadata"]["annotations"] = {"portworx.io/misc-args": "-T px-storev2 -x#y"}
    assert of(check(obj), "PXS031") == []


def test_unsplittable_misc_args_are_ignored_whole_by_the_operator():
    """drivers/storage/portworx/deployment.go: a `MiscArgs` error drops every misc arg."""
    obj = storagecluster()
    obj["metadata"]["annotations"] = {"portworx.io/misc-args": '-username_claim email -e "unclosed'}
    [f] = of(check(obj), "PXS031")
    assert "none of them" in f.message


# PXS032 (issue 10.3) -------------------------------------------------------------------------

def test_stork_issuer_pinned_without_a_readable_version():
    """operator util.go `GetPortworxVersion`: a digest image without px-version annotation leaves the
    version to the release manifest, so a pinned Stork issuer may not pair."""
    obj = storagecluster(image="portworx/oci-monitor@sha256:" + "ab" * 32,
                         stork_env=[lit("PX_JWT_ISSUER", "apps.portworx.io")])
    [f] = of(check(obj), "PXS032")
    assert f.field == "spec.stork.env[0]"


def test_digest_image_with_px_version_annotation_is_read_like_the_operator():
    """`GetPortworxVersion` reads portworx.io/px-version (2.5.8): Portworx gets PORTWORX_AUTH_STORK_KEY
    (deployment.go `getEnvList`), so a pinned apps.portworx.io Stork issuer breaks the pairing."""
    obj = storagecluster(image="portworx/oci-monitor@sha256:" + "ab" * 32,
                         stork_env=[lit("PX_JWT_ISSUER", "apps.portworx.io")])
    obj["metadata"]["annotations"] = {"portworx.io/px-version": "2.5.8"}
    assert of(check(obj), "PXS005") and not of(check(obj), "PXS032")
    obj["spec"]["stork"]["env"] = [lit("PX_JWT_ISSUER", "stork.openstorage.io")]
    assert not of(check(obj), "PXS005")


# PXS033 (issue 10.4) -------------------------------------------------------------------------

def test_autopilot_key_from_another_secret():
    """operator component/autopilot.go `setDefaultAutopilotSecret` keeps the user's PX_SHARED_SECRET."""
    obj = sc(autopilot={"enabled": True, "env": [ref("PX_SHARED_SECRET", secret="old", key="k")]})
    [f] = of(check(obj), "PXS033")
    assert f.field == "spec.autopilot.env[0]"
    obj["spec"]["autopilot"]["env"] = [ref("PX_SHARED_SECRET", secret="px-system-secrets", key="apps-secret")]
    assert of(check(obj), "PXS033") == []


def test_autopilot_literal_key_is_a_secret_literal():
    obj = sc(autopilot={"enabled": True, "env": [lit("PX_SHARED_SECRET", "literal-key-literal-key")]})
    assert [f.field for f in of(check(obj), "PXS008")] == ["spec.autopilot.env[0]"]


# PXS034 (issue 10.5) -------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["DaemonSet", "ConfigMap"])
def test_secret_in_any_annotation(kind):
    """portworx/helm charts/portworx-daemonSet portworx-ds.yaml copies envVars into helm-vars."""
    obj = portworx() if kind == "DaemonSet" else {"apiVersion": "v1", "kind": "ConfigMap",
                                                  "metadata": {"name": "cm", "namespace": "x"}}
    obj["metadata"]["annotations"] = {"portworx.com/helm-vars": HELM_VARS}
    src = text(obj)
    [f] = of(audit.check([("in.yaml", src)]).findings, "PXS034")
    assert "PORTWORX_AUTH_SYSTEM_KEY" in f.message and "abcdefgh12345678" not in f.message
    assert f.line == next(i for i, ln in enumerate(src.splitlines(), 1) if "helm-vars" in ln)
    obj["metadata"]["annotations"]["portworx.com/helm-vars"] = HELM_VARS.replace("abcdefgh12345678",
                                                                                 "(removed-by-pxsec)")
    assert of(check(obj), "PXS034") == []


# PXS035 / PXS036 (issue 10.6) ------------------------------------------------------------------

def test_old_stork_ignores_the_apps_issuer():
    """operator deployment.go `getEnvList` needs Stork >= 2.5.0 for the apps issuer's key."""
    st = stork(env=[ref("PX_SHARED_SECRET", key="apps-secret"), lit("PX_JWT_ISSUER", "apps.portworx.io")])
    st["spec"]["template"]["spec"]["containers"][0]["image"] = "openstorage/stork:2.4.5"
    [f] = of(check(portworx(), st), "PXS035")
    assert "2.4.5" in f.message
    st["spec"]["template"]["spec"]["containers"][0]["image"] = "openstorage/stork:24.3.0"
    assert of(check(portworx(), st), "PXS035") == []


def test_node_misc_args_without_the_security_flags():
    """CRD (chart 9.1.1): spec.nodes[].miscArgs 'overrides/adds onto' the cluster annotation."""
    obj = storagecluster()
    obj["metadata"]["annotations"] = {"portworx.io/misc-args": "-username_claim email"}
    obj["spec"]["nodes"] = [{"miscArgs": "-metadata /dev/sdb"}]
    [f] = of(check(obj), "PXS036")
    assert f.field == "spec.nodes[0].miscArgs" and "-username_claim" in f.message
    obj["spec"]["nodes"] = [{"miscArgs": "-metadata /dev/sdb -username_claim email"}]
    assert of(check(obj), "PXS036") == []


# PXS016 (issue 14.5) ---------------------------------------------------------------------------

def test_missing_guest_access_is_still_flagged_in_input_pxsec_did_not_render():
    """operator portworx.go `setSecuritySpecDefaults` defaults guestAccess to Enabled."""
    obj = storagecluster()
    del obj["spec"]["security"]["auth"]["guestAccess"]
    assert of(check(obj), "PXS016")
