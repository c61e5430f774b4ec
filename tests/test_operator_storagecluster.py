"""pxsec's StorageCluster output must mean to the Portworx operator what pxsec intends.

Each test renders a StorageCluster and feeds the result through `operator_model` (a restatement
of the libopenstorage/operator function named in the test) to see what Portworx, Stork and
autopilot really get.
"""
from __future__ import annotations

import copy

import pytest

import operator_model as op
from pxsec import audit
from pxsec import spec as specmod
from pxsec.errors import Location, PxsecError
from pxsec import goshlex
from pxsec.render.filters import helm_vars, storagecluster
from pxsec.render.filters import common as c

LOC = Location("in.yaml", 0, "StorageCluster", "px", "portworx")


def sc(image="portworx/oci-monitor:3.1.0", annotations=None, **spec):
    body = {"image": image, "stork": {"enabled": True}}
    if image is None:
        del body["image"]
    body.update(spec)
    return {"apiVersion": "core.libopenstorage.org/v1", "kind": "StorageCluster",
            "metadata": {"name": "px", "namespace": "portworx", "annotations": annotations or {}}, "spec": body}


def render(obj, **spec):
    spec.setdefault("selfSigned", {"issuer": "openstorage.io", "sharedSecret": True})
    out = copy.deepcopy(obj)
    report = storagecluster.apply(out, specmod.build(spec), LOC)
    return out, report


def warnings(report) -> str:
    return "\n".join(report.warnings)


# issue 10.1 / 9.12: the Secret selfSigned.sharedSecret names ----------------------------------

@pytest.mark.parametrize("secret,key", [("px-system-secrets", "shared-secret"), ("pxkeys", "shared-secret"),
                                        ("pxkeys", "jwt")])
def test_shared_secret_is_operator_owned_and_seeded_from_the_users_secret(secret, key):
    """operator component/auth.go `createPrivateKeysSecret` rewrites the Secret `sharedSecret` names
    (pkg/util/k8s/k8s.go `CreateOrAppendToSecret`: labels, annotations, ownerReferences dropped) and
    reads its seed from spec.env PORTWORX_AUTH_JWT_SHAREDSECRET (`getPrivateKeyOrGenerate`)."""
    out, _ = render(sc(), secret={"name": secret, "keys": {"jwtSharedSecret": key}})
    assert op.shared_secret_written(out) == "px-shared-secret" != secret
    seed = {e["name"]: e for e in out["spec"]["env"]}["PORTWORX_AUTH_JWT_SHAREDSECRET"]
    assert seed["valueFrom"] == {"secretKeyRef": {"name": secret, "key": key}}
    px = op.portworx_env(out, px_ge_2_6=True)
    assert px["PORTWORX_AUTH_JWT_SHAREDSECRET"]["valueFrom"]["secretKeyRef"]["name"] == "px-shared-secret"


def test_stale_shared_secret_naming_an_unrelated_secret_is_replaced_with_a_warning():
    """issue 9.12: a stale `selfSigned.sharedSecret` would make the operator (component/auth.go
    `createPrivateKeysSecret`) rewrite an unrelated Secret, whatever the spec's key is called."""
    obj = sc(security={"enabled": True, "auth": {"selfSigned": {"sharedSecret": "team-db-credentials"}}})
    out, report = render(obj, secret={"name": "pxkeys", "keys": {"jwtSharedSecret": "jwt"}})
    assert op.shared_secret_written(out) == "px-shared-secret"
    assert "team-db-credentials" in warnings(report) and "restarts Portworx" in warnings(report)


@pytest.mark.parametrize("name", ["px-system-secrets", "px-shared-secret"])
def test_users_secret_owned_by_the_operator_is_a_warning_naming_the_consequence(name):
    """component/auth.go: `createPrivateKeysSecret` rewrites it and `Delete` removes it with a
    deleteStrategy."""
    _, report = render(sc(), secret={"name": name})
    assert f"Secret {name}" in warnings(report)
    assert "labels" in warnings(report) and "deleteStrategy" in warnings(report)
    _, mine = render(sc(), secret={"name": "pxkeys"})
    assert "owned by the Portworx operator" not in warnings(mine)


@pytest.mark.parametrize("name", ["px-system-secrets", "px-shared-secret", "px-admin-token"])
def test_secret_create_refuses_an_operator_owned_name(name):
    """component/auth.go would overwrite a generated Secret of that name on every reconcile."""
    with pytest.raises(PxsecError) as e:
        render(sc(), secret={"name": name, "create": True})
    assert f"secret.name {name}" in e.value.message and "pxsec-auth-keys" in e.value.message


# issue 10.2: misc-args as google/shlex reads them -------------------------------------------

def test_commented_out_flags_stay_commented_out():
    """operator util.go `MiscArgs` splits with google/shlex: `# -debug` is a comment. Python's shlex
    made it the words '#' and '-debug', so px-runc got '-debug'."""
    obj = sc(annotations={"portworx.io/misc-args": "-T px-storev2 # -debug"})
    out, _ = render(obj, usernameClaim="email")
    assert op.misc_args(out) == ["-T", "px-storev2", "-username_claim", "email"]
    assert goshlex.tokens(out["metadata"]["annotations"]["portworx.io/misc-args"])[1] == [" -debug"]


def test_backslash_in_double_quotes_is_read_as_the_operator_reads_it():
    """google/shlex drops a backslash inside double quotes (shlex.go escapingQuotedState)."""
    obj = sc(annotations={"portworx.io/misc-args": '-e "A=x\\y" -oidc_issuer https://old'})
    out, _ = render(obj, oidc={"issuer": "https://new.example.com", "clientId": "px"})
    assert op.misc_args(out)[:2] == ["-e", "A=xy"]
    assert op.misc_args(out).count("-oidc_issuer") == 1


def test_misc_args_the_operator_would_ignore_are_refused():
    """deployment.go: on a `MiscArgs` error the operator passes none of them (security flags too)."""
    with pytest.raises(PxsecError) as e:
        render(sc(annotations={"portworx.io/misc-args": '-a "open'}), usernameClaim="email")
    assert "ignore every argument" in e.value.message


def test_node_misc_args_carry_the_security_flags_with_a_warning():
    """The CRD says spec.nodes[].miscArgs 'overrides/adds onto' the annotation: the flags go to both."""
    obj = sc(nodes=[{"miscArgs": "-metadata /dev/sdb # -x"}])
    out, report = render(obj, usernameClaim="email")
    assert goshlex.split(out["spec"]["nodes"][0]["miscArgs"]) == ["-metadata", "/dev/sdb", "-username_claim", "email"]
    assert "spec.nodes[0].miscArgs may replace" in warnings(report)


# issue 10.3: the PX version, in the operator's order ---------------------------------------

VERSIONS = [
    # (image, annotations, extra spec, PX >= 2.6 as the operator decides, Stork >= 2.5, case)
    ("portworx/oci-monitor@sha256:" + "ab12" * 16, {"portworx.io/px-version": "2.5.8"}, {}, False, True, "digest"),
    ("portworx/oci-monitor:3.1.0", {}, {"env": [{"name": "PX_IMAGE", "value": "portworx/oci-monitor:2.5.1"}]},
     False, True, "PX_IMAGE wins over spec.image"),
    ("portworx/oci-monitor:2.5.0", {"portworx.io/px-version": "3.1.0"}, {}, False, True, "tag before annotation"),
    ("portworx/oci-monitor:2.6.0-rc1", {}, {}, False, True, "prerelease < 2.6.0"),
    ("portworx/oci-monitor:3.1.0", {}, {"stork": {"enabled": True, "image": "openstorage/stork:2.4.0"}},
     True, False, "Stork < 2.5 gets the stork issuer's key"),
    ("portworx/oci-monitor", {}, {"env": [{"name": "PX_RELEASE_MANIFEST_URL",
                                           "value": "https://edge-install.portworx.com/2.5.3/version"}]},
     False, True, "release manifest URL"),
    ("portworx/oci-monitor:2.13.5", {}, {}, True, True, "plain tag"),
    (None, {}, {"stork": {"enabled": True, "image": "openstorage/stork:2.4.0"}}, True, False,
     "old Stork decides even when the PX version is unknown"),
    (None, {}, {"stork": {"enabled": True, "image": "openstorage/stork:2.4.0"}}, False, False,
     "old Stork decides even when the PX version is unknown (pre-2.6)"),
]


@pytest.mark.parametrize("image,ann,extra,px26,stork25,case", VERSIONS, ids=[v[-1] for v in VERSIONS])
def test_stork_is_pinned_to_the_issuer_whose_key_portworx_gets(image, ann, extra, px26, stork25, case):
    """operator util.go `GetPortworxVersion` (PX_IMAGE, image tag, px-version annotation, release
    manifest URL) and `GetStorkVersion`; deployment.go `getEnvList` gives Portworx APPS_KEY only for
    PX >= 2.6.0 and Stork >= 2.5.0; stork.go applies spec.stork.env last."""
    out, _ = render(sc(image=image, annotations=ann, **extra))
    stork = op.stork_env(out, px_ge_2_6=px26)
    px = op.portworx_env(out, px_ge_2_6=px26, stork_ge_2_5=stork25)
    assert op.key_env_for_issuer(stork["PX_JWT_ISSUER"]["value"]) in px
    assert stork["PX_SHARED_SECRET"]["valueFrom"] == px[op.key_env_for_issuer(stork["PX_JWT_ISSUER"]["value"])]["valueFrom"]


@pytest.mark.parametrize("image,extra", [
    ("portworx/oci-monitor:3.1.0@sha256:" + "0f" * 32, {}),     # the tag is not after the last ':'
    (None, {"version": "2.5.0"}),                               # no image: the release manifest decides
    ("registry:5000/portworx/oci-monitor", {}),
    ("portworx/oci-monitor:3.1.0", {"env": [{"name": "PX_IMAGE", "valueFrom": {"configMapKeyRef": {
        "name": "px", "key": "image"}}}]}),                     # the operator reads PX_IMAGE's value: ""
])
def test_unknown_version_leaves_storks_pair_to_the_operator(image, extra):
    """util.go `GetPortworxVersion` falls back to the release manifest / max version: pxsec cannot
    know which key Portworx gets, so stale spec.stork.env entries go and the operator's own pair
    (`GetStorkEnvMap`, consistent with `getEnvList`) applies."""
    stale = [{"name": "PX_JWT_ISSUER", "value": "apps.portworx.io"},
             {"name": "PX_SHARED_SECRET", "valueFrom": {"secretKeyRef": {"name": "old", "key": "k"}}}]
    obj = sc(image=image, **extra)
    obj["spec"]["stork"]["env"] = stale
    out, report = render(obj)
    assert not out["spec"]["stork"].get("env")
    assert "leaves Stork's issuer to the operator" in warnings(report)
    for px26 in (True, False):
        assert op.stork_env(out, px26)["PX_SHARED_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "px-system-secrets"


# issue 10.4: autopilot's key --------------------------------------------------------------

@pytest.mark.parametrize("stale", [
    {"name": "PX_SHARED_SECRET", "value": "literal-key-literal-key-literal-key"},
    {"name": "PX_SHARED_SECRET", "valueFrom": {"secretKeyRef": {"name": "other", "key": "k"}}},
])
def test_autopilot_key_is_owned(stale):
    """component/autopilot.go `setDefaultAutopilotSecret` keeps a user PX_SHARED_SECRET: pxsec sets
    the operator's own apps key so autopilot can authenticate."""
    obj = sc(autopilot={"enabled": True, "env": [stale, {"name": "OTHER", "value": "x"}]})
    out, _ = render(obj)
    env = op.autopilot_env(out)
    assert env["PX_SHARED_SECRET"] == {"name": "PX_SHARED_SECRET", "valueFrom": {
        "secretKeyRef": {"name": "px-system-secrets", "key": "apps-secret"}}}
    assert env["PX_JWT_ISSUER"]["value"] == "apps.portworx.io" and env["OTHER"]["value"] == "x"


# issue 10.5: secrets in annotations -------------------------------------------------------

HELM_VARS = ('chart="portworx-daemonSet-2.13.5",clusterName="px",envVars="PORTWORX_AUTH_SYSTEM_KEY=abcdefgh12;'
             'FOO=bar",misc="-x -jwt_shared_secret qwertyuiop"')


def test_helm_vars_annotation_loses_the_key_values():
    """portworx/helm charts/portworx-daemonSet portworx-ds.yaml dumps every value into the annotation."""
    obj = {"metadata": {"annotations": {"portworx.com/helm-vars": HELM_VARS}}, "spec": {}}
    report = c.Report()
    helm_vars.scrub(obj, report)
    value = obj["metadata"]["annotations"]["portworx.com/helm-vars"]
    assert "abcdefgh12" not in value and "qwertyuiop" not in value and "FOO=bar" in value
    assert helm_vars.secrets_in(value) == []
    assert "abcdefgh12" not in warnings(report) and "PORTWORX_AUTH_SYSTEM_KEY" in warnings(report)


# issue 10.6 / 14.5: warnings and the guest-access default ----------------------------------

def test_oidc_only_warns_that_the_operator_still_accepts_hs256():
    """component/auth.go always creates the shared secret and signs px-admin-token with it."""
    _, report = render(sc(), selfSigned=None, oidc={"issuer": "https://idp.example.com", "clientId": "px"})
    assert "HS256" in warnings(report)
    _, shared = render(sc())
    assert "HS256" not in warnings(shared)


def test_minimal_spec_render_passes_check_strict():
    """portworx.go `setSecuritySpecDefaults` defaults guestAccess to Enabled (PXS016): pxsec writes
    Disabled when the spec is silent, and says so."""
    out, report = render(sc())
    assert out["spec"]["security"]["auth"]["guestAccess"] == "Disabled"
    assert "neither the pxsec spec nor the StorageCluster sets guestAccess" in warnings(report)
    import yaml
    findings = audit.check([("out.yaml", yaml.safe_dump(out))]).findings
    assert [f.rule_id for f in findings if f.severity in ("error", "warning")] == []
