"""Never destroy: after an error no mode may exit 0 (with empty output Helm 3 would install
nothing, kpt would delete every file's resources, Argo CD would prune everything).

Every mode x {a broken spec, secret.create: true with PORTWORX_AUTH_* unset, malformed YAML}
must exit non-zero, say why where the orchestrator shows it (Helm 4 hides stderr: the
PXSEC_LOG_FILE must say it), and leave files alone (kpt).
"""
from __future__ import annotations

import shutil

import pytest
import yaml

from .support import (CASES, CHART, KUSTOMIZE_BASE, assert_failed,
                      copy_kustomize_base, helm_template_args, install_helm4_plugin, install_kustomize_plugin,
                      need, post_renderer_args, run, snapshot)

pytestmark = pytest.mark.e2e  # runs real helm/kustomize/kpt/kubectl binaries

FAILURES = ["broken-spec", "missing-env-secret", "malformed-yaml"]
# The same setup without a fault must succeed: proves each failure comes from the fault alone.
CASES_AND_CONTROL = FAILURES + ["control"]
BROKEN_ISSUER = "https://not a plain name"
MALFORMED = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata:\n  key: [unclosed\n"
# What reaches pxsec's own parser (no orchestrator in front): a Portworx DaemonSet it must
# secure. A broken document pxsec does not touch is scanned, not parsed, and passes through
# byte for byte (tests/cases/untouched-invalid-yaml); whoever parses it next refuses it.
MALFORMED_TARGET = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: portworx\n data: [unclosed\n"
KRM_FUNCTION = {"config.kubernetes.io/function": "exec:\n  path: pxsec\n"}

# What pxsec says, when the orchestrator lets it through (malformed YAML is usually caught by
# the orchestrator itself before pxsec runs; either way the exit is non-zero).
REASON = {"broken-spec": "spec.selfSigned.issuer", "missing-env-secret": "PORTWORX_AUTH_SYSTEM_KEY is not set"}


def spec_for(failure: str, krm: bool = False) -> dict:
    spec = yaml.safe_load((CASES / "kpt" / "spec.yaml").read_text())
    spec["spec"]["secret"]["create"] = failure == "missing-env-secret"
    if failure == "broken-spec":
        spec["spec"]["selfSigned"]["issuer"] = BROKEN_ISSUER
    if krm:
        spec["metadata"]["annotations"] = dict(KRM_FUNCTION)
    return spec


def write_spec(e2e, failure: str, krm: bool = False, name: str = "spec.yaml"):
    path = e2e.tmp / name
    path.write_text(yaml.safe_dump(spec_for(failure, krm), sort_keys=False))
    return path


def env_for(e2e, failure: str, **extra):
    return e2e.env(secrets=failure != "missing-env-secret", **extra)


def kustomize_overlay(e2e, failure: str, krm: bool):
    base = e2e.tmp / "base"
    shutil.copytree(KUSTOMIZE_BASE, base)
    if failure == "malformed-yaml":
        (base / "broken.yaml").write_text(MALFORMED)
        k = yaml.safe_load((base / "kustomization.yaml").read_text())
        k["resources"].append("broken.yaml")
        (base / "kustomization.yaml").write_text(yaml.safe_dump(k))
    overlay = e2e.tmp / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump({"resources": ["../base"],
                                                                 "transformers": ["pxsec.yaml"]}))
    write_spec(e2e, failure, krm, "overlay/pxsec.yaml")
    return overlay


def check_reason(proc, failure: str, text: str | None = None) -> None:
    if failure == "control":
        assert proc.returncode == 0, proc.stderr
        return
    assert_failed(proc)
    if failure in REASON:
        assert REASON[failure] in (proc.stderr if text is None else text), proc.stderr


@pytest.mark.parametrize("failure", CASES_AND_CONTROL)
def test_helm3_post_renderer(e2e, failure):
    helm3 = need("helm3")
    extra = ["--set", "brokenYaml=true"] if failure == "malformed-yaml" else []
    proc = run([helm3, *helm_template_args(), *extra, "--post-renderer", "pxsec",
                *post_renderer_args(write_spec(e2e, failure))], env_for(e2e, failure), check=False)
    check_reason(proc, failure)


@pytest.mark.parametrize("failure", CASES_AND_CONTROL)
def test_helm4_post_renderer_plugin(e2e, failure):
    helm4 = need("helm4")
    install_helm4_plugin(e2e, helm4)
    extra = ["--set", "brokenYaml=true"] if failure == "malformed-yaml" else []
    proc = run([helm4, *helm_template_args(kube_version=False), *extra, "--post-renderer", "pxsec",
                *post_renderer_args(write_spec(e2e, failure))], env_for(e2e, failure), check=False)
    check_reason(proc, failure, e2e.log())  # Helm 4 swallows stderr: the log file is the diagnosis


@pytest.mark.parametrize("failure", CASES_AND_CONTROL)
def test_kustomize_krm_function(e2e, failure):
    kustomize = need("kustomize")
    overlay = kustomize_overlay(e2e, failure, krm=True)
    proc = run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec", str(overlay)],
               env_for(e2e, failure), check=False)
    check_reason(proc, failure)


@pytest.mark.parametrize("binary", ["kustomize", "kubectl"])
@pytest.mark.parametrize("failure", CASES_AND_CONTROL)
def test_kustomize_legacy_plugin(e2e, failure, binary):
    build = [need("kubectl"), "kustomize"] if binary == "kubectl" else [need("kustomize"), "build"]
    install_kustomize_plugin(e2e)
    overlay = kustomize_overlay(e2e, failure, krm=False)
    proc = run([*build, "--enable-alpha-plugins", str(overlay)], env_for(e2e, failure), check=False)
    check_reason(proc, failure)


@pytest.mark.parametrize("failure", CASES_AND_CONTROL)
def test_kpt_fn_eval_leaves_files_untouched(e2e, failure):
    kpt = need("kpt")
    package = copy_kustomize_base(e2e.tmp / "pkg")
    if failure == "malformed-yaml":
        (package / "broken.yaml").write_text(MALFORMED)
    before = snapshot(package)
    proc = run([kpt, "fn", "eval", str(package), "--exec", "pxsec", "--fn-config", str(write_spec(e2e, failure))],
               env_for(e2e, failure), check=False)
    check_reason(proc, failure)
    if failure == "control":
        assert snapshot(package) != before
    else:
        assert snapshot(package) == before


@pytest.mark.parametrize("source", ["helm", "kustomize"])
@pytest.mark.parametrize("failure", CASES_AND_CONTROL)
def test_argocd_generate(e2e, failure, source):
    """Through Argo CD's own cmp-server and GenerateManifests (test_argocd.py): an error, never a list."""
    from .argocd_cmp import CmpServer, generate

    repo = e2e.tmp / "repo"
    app = repo / "app"
    if source == "helm":
        shutil.copytree(CHART, app)
        plugin_env = {"HELM_ARGS": "--set brokenYaml=true"} if failure == "malformed-yaml" else {}
    else:
        shutil.copytree(KUSTOMIZE_BASE, app)
        plugin_env = {}
        if failure == "malformed-yaml":
            (app / "broken.yaml").write_text(MALFORMED)
            k = yaml.safe_load((app / "kustomization.yaml").read_text())
            k["resources"].append("broken.yaml")
            (app / "kustomization.yaml").write_text(yaml.safe_dump(k))
    (app / "pxsec-spec.yaml").write_text(yaml.safe_dump(spec_for(failure)))
    server = CmpServer(e2e, secrets=failure != "missing-env-secret")  # keys live in the sidecar's env
    try:
        result = generate(server, repo, "app", {"PXSEC_SPEC": "pxsec-spec.yaml", **plugin_env})
    finally:
        server.stop()
    if failure == "control":
        assert result.ok and result.manifests, result.error
        return
    assert not result.ok, f"Argo CD got {len(result.manifests)} manifests instead of an error"
    if failure in REASON:
        assert REASON[failure] in result.error, result.error


@pytest.mark.parametrize("failure", CASES_AND_CONTROL)
def test_standalone_pipe(e2e, failure):
    helm3 = need("helm3")
    env = env_for(e2e, failure)
    stream = run([helm3, *helm_template_args()], env).stdout
    if failure == "malformed-yaml":
        stream += "---\n" + MALFORMED_TARGET  # reaches pxsec's own parser
    proc = run(["pxsec", "render", "--spec", str(write_spec(e2e, failure))], env, input=stream, check=False)
    check_reason(proc, failure)
    if failure == "control":
        assert "PORTWORX_AUTH_SYSTEM_KEY" in proc.stdout
        return
    assert proc.stdout == ""
    if failure == "malformed-yaml":
        assert "invalid YAML" in proc.stderr


def resource_list(items_text: str, function_config: dict) -> str:
    items = [d for d in yaml.safe_load_all(items_text) if d]
    return yaml.safe_dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items,
                           "functionConfig": function_config}, sort_keys=False)


@pytest.mark.parametrize("failure", CASES_AND_CONTROL)
def test_krm_function_called_directly(e2e, failure):
    """What kustomize/kpt see: exit 1, error results, and never an empty item list."""
    stream = "".join(f.read_text() if f.read_text().startswith("---") else "---\n" + f.read_text()
                     for f in sorted(KUSTOMIZE_BASE.glob("*.yaml")) if f.name != "kustomization.yaml")
    payload = resource_list(stream, spec_for(failure))
    if failure == "malformed-yaml":
        payload = payload.replace("items:\n", "items:\n- {unclosed: [\n", 1)
    proc = run(["pxsec"], env_for(e2e, failure), input=payload, check=False)
    check_reason(proc, failure)
    if failure == "malformed-yaml":
        assert proc.returncode == 1 and proc.stdout == "" and "invalid YAML" in proc.stderr
        return
    out = yaml.safe_load(proc.stdout)
    if failure == "control":
        assert len(out["items"]) == 3 and "PORTWORX_AUTH_SYSTEM_KEY" in proc.stdout
        assert {r["severity"] for r in out["results"]} == {"info"}
        return
    assert proc.returncode == 1
    assert len(out["items"]) == 3  # the input items, untouched
    assert "PORTWORX_AUTH_SYSTEM_KEY" not in yaml.safe_dump(out["items"])
    (result,) = out["results"]
    assert result["severity"] == "error"
    assert result["resourceRef"] == {"apiVersion": "pxsec.io/v1alpha1", "kind": "PortworxSecurity",
                                     "name": "px-security"}
    assert result["field"]["path"] == ("spec.selfSigned.issuer" if failure == "broken-spec" else "spec.secret.create")


@pytest.mark.parametrize("failure", CASES_AND_CONTROL)
def test_legacy_plugin_called_directly(e2e, failure):
    stream = "".join("---\n" + f.read_text() for f in sorted(KUSTOMIZE_BASE.glob("*.yaml"))
                     if f.name != "kustomization.yaml")
    if failure == "malformed-yaml":
        stream += "---\n" + MALFORMED_TARGET
    proc = run(["pxsec", str(write_spec(e2e, failure))], env_for(e2e, failure), input=stream, check=False)
    check_reason(proc, failure)
    assert ("PORTWORX_AUTH_SYSTEM_KEY" in proc.stdout) if failure == "control" else (proc.stdout == "")
