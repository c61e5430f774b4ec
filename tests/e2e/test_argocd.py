"""Argo CD: the pxsec plugin through Argo CD's own cmp-server and repo-server code.

Each test starts Argo CD's argocd-cmp-server with argocd/plugin.yaml and asks Argo CD's
reposerver/repository.GenerateManifests for an application's manifests (see argocd_cmp.py). What
Argo CD gets must be, as data, what `helm template | pxsec render` / `kustomize build | pxsec
render` gives for the same input; every failure must reach Argo CD as an error (which it shows,
and never syncs or prunes on), never as an empty manifest list.
"""
from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import CORPUS, require_corpus  # tests/conftest.py (rootdir on sys.path)
from .argocd_cmp import PLUGIN_DIR, CmpServer, generate
from .support import CASES, CHART, KUSTOMIZE_BASE, REPO, TEST_KEYS, run

pytestmark = pytest.mark.e2e  # runs real Argo CD, helm, kustomize binaries

APP = "apps/portworx"  # spec.source.path inside the repository
CORPUS_FILE = "manifests/px-daemonset-spec-all-components-csi-stork-autopilot-px2.8.yaml"
# A template that shows what helm was told about the cluster (KUBE_VERSION, KUBE_API_VERSIONS).
CAPABILITIES = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-capabilities
  namespace: {{ .Release.Namespace }}
data:
  kubeVersion: {{ .Capabilities.KubeVersion.Version | quote }}
  hasExampleApi: {{ .Capabilities.APIVersions.Has "pxsec.example.com/v1alpha1" | quote }}
"""


@pytest.fixture
def sidecar(e2e):
    """start(**kw) -> a running argocd-cmp-server (killed at teardown)."""
    servers: list[CmpServer] = []

    def start(**kw) -> CmpServer:
        servers.append(CmpServer(e2e, **kw))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def chart_app(e2e, spec: Path = CASES / "argocd-helm" / "pxsec-spec.yaml") -> tuple[Path, Path]:
    """(repository, app dir): the project's chart plus a capabilities template and a values file."""
    repo = e2e.tmp / "repo"
    app = repo / APP
    shutil.copytree(CHART, app)
    (app / "templates" / "capabilities.yaml").write_text(CAPABILITIES)
    (app / "values-prod.yaml").write_text("clusterName: prod-cluster\n")
    shutil.copy(spec, app / "pxsec-spec.yaml")
    return repo, app


def kustomize_app(e2e, resources: list[str], spec: Path = CASES / "argocd-kustomize" / "pxsec-spec.yaml"):
    repo = e2e.tmp / "repo"
    app = repo / APP
    app.mkdir(parents=True)
    (app / "kustomization.yaml").write_text(yaml.safe_dump(
        {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources}))
    shutil.copy(spec, app / "pxsec-spec.yaml")
    return repo, app


def pxsec_render(e2e, app: Path, build: str, secrets: bool = False) -> list[dict]:
    """`<build> | pxsec render --spec pxsec-spec.yaml` run directly in the app dir, as objects."""
    out = run(["bash", "-c", f"set -euo pipefail; {build} | pxsec render --spec pxsec-spec.yaml"],
              e2e.env(secrets=secrets), cwd=app).stdout
    return [d for d in yaml.safe_load_all(out) if d is not None]


def assert_ok(result) -> None:
    assert result.ok, f"GenerateManifests failed:\n{result.error}"
    assert result.source_type == "Plugin"
    assert result.manifests, "GenerateManifests returned an empty manifest list"


def first_args(workload: dict) -> list[str]:
    return workload["spec"]["template"]["spec"]["containers"][0]["args"]


def test_plugin_yaml_is_a_config_management_plugin():
    plugin = yaml.safe_load((PLUGIN_DIR / "plugin.yaml").read_text())
    assert plugin["apiVersion"] == "argoproj.io/v1alpha1" and plugin["kind"] == "ConfigManagementPlugin"
    assert plugin["metadata"] == {"name": "pxsec"}  # the socket is pxsec.sock; Applications name `pxsec`
    assert "discover" not in plugin["spec"]  # opt-in only: no repository is picked up by accident
    assert "set -euo pipefail" in plugin["spec"]["generate"]["args"][-1]


@pytest.mark.parametrize("helm", ["helm4", "helm3"])
def test_helm_app_through_argocd_equals_pxsec_render(e2e, sidecar, helm):
    repo, app = chart_app(e2e)
    server = sidecar(helm=helm)
    result = generate(server, repo, APP, {"PXSEC_SPEC": "pxsec-spec.yaml", "HELM_VALUES": "values-prod.yaml",
                                          "HELM_ARGS": "--set stork.replicas=5"},
                      kube_version="v1.31.4", api_versions="v1,apps/v1,pxsec.example.com/v1alpha1")
    assert_ok(result)
    want = pxsec_render(e2e, app, "helm template rel . --namespace kube-system --include-crds --kube-version 1.31.4 "
                        "--api-versions v1,apps/v1,pxsec.example.com/v1alpha1 --values values-prod.yaml "
                        "--set stork.replicas=5")
    assert result.manifests == want
    # ... and the Application's settings reached helm, as Argo CD passes them:
    (caps,) = [m for m in result.of_kind("ConfigMap") if m["metadata"]["name"] == "rel-capabilities"]
    assert caps["data"] == {"kubeVersion": "v1.31.4", "hasExampleApi": "true"}  # KUBE_VERSION, KUBE_API_VERSIONS
    (ds,) = result.of_kind("DaemonSet")
    assert ds["metadata"]["namespace"] == "kube-system"  # ARGOCD_APP_NAMESPACE
    assert "prod-cluster" in first_args(ds)  # HELM_VALUES
    assert "-oidc_issuer" in first_args(ds)  # pxsec ran (ARGOCD_ENV_PXSEC_SPEC)
    assert result.of_kind("Deployment")[0]["spec"]["replicas"] == 5  # HELM_ARGS


def test_kustomize_app_over_corpus_through_argocd_equals_pxsec_render(e2e, sidecar):
    require_corpus()
    repo, app = kustomize_app(e2e, [f"../../corpus/{Path(CORPUS_FILE).name}"])
    (repo / "corpus").mkdir()
    shutil.copy(CORPUS / CORPUS_FILE, repo / "corpus")  # outside the app dir: needs KUSTOMIZE_ARGS
    server = sidecar()
    args = "--load-restrictor LoadRestrictionsNone"
    result = generate(server, repo, APP, {"PXSEC_SPEC": "pxsec-spec.yaml", "KUSTOMIZE_ARGS": args})
    assert_ok(result)
    assert result.manifests == pxsec_render(e2e, app, f"kustomize build . {args}")
    (stork,) = [d for d in result.of_kind("Deployment") if d["metadata"]["name"] == "stork"]
    assert "PX_SHARED_SECRET" in [e["name"] for e in stork["spec"]["template"]["spec"]["containers"][0]["env"]]
    portworx = [d for d in result.of_kind("DaemonSet") if d["metadata"]["name"] == "portworx"]
    assert portworx and "-oidc_client_id" in first_args(portworx[0])
    # KUSTOMIZE_ARGS is what let kustomize read outside the app dir: without it, Argo CD gets an error.
    without = generate(server, repo, APP, {"PXSEC_SPEC": "pxsec-spec.yaml"})
    assert not without.ok and "kustomize build" in without.error and "is not in or below" in without.error, (
        without.error)


def test_argocd_tracking_is_added_to_what_pxsec_rendered(e2e, sidecar):
    repo, app = kustomize_app(e2e, [f.name for f in sorted(KUSTOMIZE_BASE.glob("*.yaml"))
                                    if f.name != "kustomization.yaml"])
    for f in KUSTOMIZE_BASE.glob("*.yaml"):
        if f.name != "kustomization.yaml":
            shutil.copy(f, app)
    result = generate(sidecar(), repo, APP, {"PXSEC_SPEC": "pxsec-spec.yaml"},
                      app_label_key="app.kubernetes.io/instance", app_name="portworx", namespace="argocd")
    assert_ok(result)
    tracking = "argocd.argoproj.io/tracking-id"
    for m in result.manifests:
        assert m["metadata"]["annotations"].pop(tracking).startswith("portworx:")
        if not m["metadata"]["annotations"]:
            del m["metadata"]["annotations"]
    assert result.manifests == pxsec_render(e2e, app, "kustomize build .")


def test_secret_create_through_argocd_reads_keys_from_the_sidecar_environment(e2e, sidecar):
    repo, app = chart_app(e2e, CASES / "argocd-helm" / "pxsec-spec-create.yaml")
    server = sidecar(secrets=True)  # the keys are the sidecar's env; the Application carries none
    result = generate(server, repo, APP, {"PXSEC_SPEC": "pxsec-spec.yaml"})
    assert_ok(result)
    assert result.manifests == pxsec_render(e2e, app, "helm template rel . --namespace kube-system --include-crds "
                                            "--kube-version 1.29.0", secrets=True)
    (secret,) = result.of_kind("Secret")
    values = {base64.b64decode(v).decode() for v in secret["data"].values()}
    assert values == set(TEST_KEYS.values())
    log = server.log()  # Argo CD logs the command and, on success, its stderr (pxsec's summary)
    assert "Plugin command successful" in log
    for value in TEST_KEYS.values():
        assert value not in log and base64.b64encode(value.encode()).decode() not in log


@pytest.mark.parametrize("short_var", sorted(TEST_KEYS))
def test_key_values_never_appear_in_argocd_errors(e2e, sidecar, short_var):
    repo, _ = chart_app(e2e, CASES / "argocd-helm" / "pxsec-spec-create.yaml")
    keys = dict(TEST_KEYS, **{short_var: "short-key-value"})  # too short: pxsec refuses it
    server = sidecar(secrets=True, **keys)
    result = generate(server, repo, APP, {"PXSEC_SPEC": "pxsec-spec.yaml"})
    assert not result.ok and short_var in result.error
    for value in keys.values():
        for form in (value, base64.b64encode(value.encode()).decode()):
            assert form not in result.error
            assert form not in server.log()


def _broken_spec(app: Path) -> tuple[dict, str]:
    (app / "pxsec-spec.yaml").write_text("apiVersion: pxsec.io/v1alpha1\nkind: PortworxSecurity\n"
                                         "metadata: {name: px}\nspec: {secret: {create: maybe}}\n")
    return {"PXSEC_SPEC": "pxsec-spec.yaml"}, "pxsec-spec.yaml"


def _no_spec_variable(app: Path) -> tuple[dict, str]:
    return {}, "set PXSEC_SPEC"


def _helm_template_fails(app: Path) -> tuple[dict, str]:
    return {"PXSEC_SPEC": "pxsec-spec.yaml", "HELM_VALUES": "values-missing.yaml"}, "values-missing.yaml"


@pytest.mark.parametrize("case", [_broken_spec, _no_spec_variable, _helm_template_fails],
                         ids=["broken-spec", "no-PXSEC_SPEC", "helm-template-fails"])
def test_never_destroy_chart_app_errors_reach_argocd(e2e, sidecar, case):
    repo, app = chart_app(e2e)
    plugin_env, needle = case(app)
    result = generate(sidecar(), repo, APP, plugin_env)
    assert not result.ok, f"GenerateManifests returned {len(result.manifests)} manifests instead of an error"
    assert "CMP processing failed" in result.error and needle in result.error, result.error


def test_never_destroy_kustomize_build_failure_reaches_argocd(e2e, sidecar):
    repo, app = kustomize_app(e2e, ["portworx-daemonset.yaml", "missing.yaml"])
    shutil.copy(KUSTOMIZE_BASE / "portworx-daemonset.yaml", app)
    result = generate(sidecar(), repo, APP, {"PXSEC_SPEC": "pxsec-spec.yaml"})
    assert not result.ok, f"GenerateManifests returned {len(result.manifests)} manifests instead of an error"
    assert "CMP processing failed" in result.error and "missing.yaml" in result.error, result.error


def test_sidecar_image_has_what_these_tests_run():
    """argocd/Dockerfile: the plugin config, bash, and the Helm 4 / kustomize the tests pin."""
    dockerfile = (PLUGIN_DIR / "Dockerfile").read_text()
    pins = dict(re.findall(r"^([A-Z0-9_]+)_VERSION=(\S+)$", (REPO / "scripts" / "install-tools.sh").read_text(),
                           re.M))
    assert f"ARG HELM_VERSION={pins['HELM4']}\n" in dockerfile
    assert f"ARG KUSTOMIZE_VERSION={pins['KUSTOMIZE']}\n" in dockerfile
    assert "helm.sh/helm/v4/cmd/helm@" in dockerfile
    assert "COPY argocd/plugin.yaml /home/argocd/cmp-server/config/plugin.yaml\n" in dockerfile
    assert re.search(r"^FROM python:\$\{PYTHON_VERSION\}-slim$", dockerfile, re.M)  # Debian: has bash
    assert "ENTRYPOINT [\"/var/run/argocd/argocd-cmp-server\"]" in dockerfile


# --- per-cluster parameters (issue 24) -------------------------------------------------------------
# Argo CD passes spec.source.plugin.parameters as ARGOCD_APP_PARAMETERS (JSON) and PARAM_<NAME>
# (argo-cd pkg/apis/application/v1alpha1 types.go ApplicationSourcePluginParameters.Environ; the
# repo-server adds them in reposerver/repository getPluginParamEnvs); pxsec writes each over the
# spec's field before validating it (renderer/spec/argocd_params.py).


def test_plugin_announces_the_parameters_pxsec_reads(e2e, sidecar):
    """Through Argo CD's GetParametersAnnouncement (what the UI shows): plugin.yaml's static
    parameters, exactly renderer/spec/argocd_params.py PARAMETERS, each a string."""
    from pxsec.spec.argocd_params import PARAMETERS

    repo, _ = chart_app(e2e)
    announced = generate(sidecar(), repo, APP, {"PXSEC_SPEC": "pxsec-spec.yaml"}, announce=True)
    assert [a["name"] for a in announced] == list(PARAMETERS)
    assert all(a.get("itemType") == "string" and a.get("collectionType") == "string" for a in announced)
    assert [a["title"] for a in announced] == list(PARAMETERS.values())


def test_each_cluster_gets_its_own_issuer_from_parameters(e2e, sidecar):
    """One repository and spec file, two Applications (as an ApplicationSet makes them) with their
    own oidc.issuer/oidc.clientId: each gets what `pxsec render` makes with that value in the spec."""
    repo, app = chart_app(e2e)
    server = sidecar()
    base = yaml.safe_load((app / "pxsec-spec.yaml").read_text())
    for cluster, issuer in (("a", "https://idp.cluster-a.example.com"), ("b", "https://idp.cluster-b.example.com")):
        params = {"oidc.issuer": issuer, "oidc.clientId": f"px-{cluster}", "secret.name": f"px-keys-{cluster}"}
        result = generate(server, repo, APP, {"PXSEC_SPEC": "pxsec-spec.yaml"}, params=params)
        assert_ok(result)
        spec = dict(base, spec=dict(base["spec"], oidc={"issuer": issuer, "clientId": f"px-{cluster}"},
                                    secret=dict(base["spec"]["secret"], name=f"px-keys-{cluster}")))
        (app / f"spec-{cluster}.yaml").write_text(yaml.safe_dump(spec))
        want = run(["bash", "-c", "set -euo pipefail; helm template rel . --namespace kube-system --include-crds "
                    f"--kube-version 1.29.0 | pxsec render --spec spec-{cluster}.yaml"], e2e.env(), cwd=app).stdout
        assert result.manifests == [d for d in yaml.safe_load_all(want) if d is not None]
        (ds,) = result.of_kind("DaemonSet")
        args = first_args(ds)
        assert args[args.index("-oidc_issuer") + 1] == issuer
        assert args[args.index("-oidc_client_id") + 1] == f"px-{cluster}"
        refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in ds["spec"]["template"]["spec"]["containers"][0]["env"]
                if "valueFrom" in e and "secretKeyRef" in e["valueFrom"]}
        assert refs == {f"px-keys-{cluster}"}


def test_empty_parameter_keeps_the_spec_value(e2e, sidecar):
    repo, app = chart_app(e2e)
    result = generate(sidecar(), repo, APP, {"PXSEC_SPEC": "pxsec-spec.yaml"}, params={"oidc.issuer": ""})
    assert_ok(result)
    assert result.manifests == pxsec_render(e2e, app, "helm template rel . --namespace kube-system --include-crds "
                                            "--kube-version 1.29.0")


@pytest.mark.parametrize("params,needles", [
    ({"oidc.issuer": "http://idp.insecure.example.com"}, ["spec.oidc.issuer", "https://", "Argo CD parameters"]),
    ({"usernameClaim": "phone"}, ["spec.usernameClaim"]),
    ({"oidc.isuer": "https://idp.example.com"}, ["ARGOCD_APP_PARAMETERS", "unknown parameter 'oidc.isuer'",
                                                  "did you mean oidc.issuer"]),
], ids=["insecure-issuer", "bad-claim", "misspelt-name"])
def test_never_destroy_a_parameter_that_breaks_the_spec_reaches_argocd(e2e, sidecar, params, needles):
    """A parameter that makes the spec invalid: Argo CD gets the error naming the field, no manifests."""
    repo, _ = chart_app(e2e)
    result = generate(sidecar(), repo, APP, {"PXSEC_SPEC": "pxsec-spec.yaml"}, params=params)
    assert not result.ok, f"GenerateManifests returned {len(result.manifests)} manifests instead of an error"
    assert "CMP processing failed" in result.error
    for needle in needles:
        assert needle in result.error, result.error


def test_pxsec_policy_env_adds_the_admission_policy_for_the_clusters_own_spec(e2e, sidecar):
    """PXSEC_POLICY=Deny: the manifests end with `pxsec policy` for the same spec, parameters
    included, so each cluster's API server enforces that cluster's issuer."""
    repo, app = chart_app(e2e)
    issuer = "https://idp.cluster-a.example.com"
    server = sidecar()
    result = generate(server, repo, APP, {"PXSEC_SPEC": "pxsec-spec.yaml", "PXSEC_POLICY": "Deny"},
                      params={"oidc.issuer": issuer})
    assert_ok(result)
    (vap,) = result.of_kind("ValidatingAdmissionPolicy")
    (binding,) = result.of_kind("ValidatingAdmissionPolicyBinding")
    assert binding["spec"]["validationActions"] == ["Deny"]
    assert any(f"-oidc_issuer {issuer}" in v["message"] for v in vap["spec"]["validations"])
    spec = yaml.safe_load((app / "pxsec-spec.yaml").read_text())
    spec["spec"]["oidc"]["issuer"] = issuer
    (app / "spec-a.yaml").write_text(yaml.safe_dump(spec))
    want = run(["pxsec", "policy", "--spec", "spec-a.yaml"], e2e.env(), cwd=app).stdout
    assert result.manifests[-2:] == list(yaml.safe_load_all(want))
    bad = generate(server, repo, APP, {"PXSEC_SPEC": "pxsec-spec.yaml", "PXSEC_POLICY": "Block"})
    assert not bad.ok and "--action 'Block'" in bad.error
