"""`helm install` and `helm upgrade --install` run the post-renderer too (Helm 3 and Helm 4).

There is no cluster here, so Helm talks to a tiny discovery-only API server on 127.0.0.1
(version, API groups, resource lists, an empty release-Secret list) and runs with
`--dry-run=client`: the install/upgrade code path, post-rendering included, up to the point of
creating objects. Helm prints the post-rendered manifest under `MANIFEST:`.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from .support import CASES, CHART, NAMESPACE, RELEASE, assert_failed, install_helm4_plugin, need, post_renderer_args, run

pytestmark = pytest.mark.e2e

SPEC = CASES / "helm3" / "spec.yaml"
RESOURCES = {
    "v1": [("configmaps", "ConfigMap"), ("secrets", "Secret"), ("services", "Service")],
    "apps/v1": [("daemonsets", "DaemonSet"), ("deployments", "Deployment")],
    "batch/v1": [("jobs", "Job")],
}


class _Discovery(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        path = self.path.split("?")[0]
        if path == "/version":
            body = {"major": "1", "minor": "29", "gitVersion": "v1.29.0", "platform": "linux/amd64"}
        elif path == "/api":
            body = {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
        elif path == "/apis":
            body = {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": f"{g}/v1", "version": "v1"}],
                 "preferredVersion": {"groupVersion": f"{g}/v1", "version": "v1"}} for g in ("apps", "batch")]}
        elif path in ("/api/v1", "/apis/apps/v1", "/apis/batch/v1"):
            gv = path.split("/", 2)[2]
            body = {"kind": "APIResourceList", "groupVersion": gv, "resources": [
                {"name": n, "singularName": "", "namespaced": True, "kind": k,
                 "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}
                for n, k in RESOURCES[gv]]}
        elif path.startswith("/api/v1/namespaces/") and path.endswith("/secrets"):
            body = {"kind": "SecretList", "apiVersion": "v1", "metadata": {}, "items": []}  # no releases yet
        else:
            self.send_response(404)
            self.end_headers()
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def kubeconfig(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Discovery)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "namespace": NAMESPACE}}],
        "users": [{"name": "u", "user": {}}]}))
    yield str(path)
    server.shutdown()
    server.server_close()


def manifest(stdout: str) -> list[dict]:
    assert "MANIFEST:\n" in stdout, stdout[:2000]
    text = stdout.split("MANIFEST:\n", 1)[1].split("\nNOTES:", 1)[0]
    return [d for d in yaml.safe_load_all(text) if d]


def helm(e2e, major, kubeconfig, *command, spec=SPEC, check=True):
    exe = need(major)
    if major == "helm4":
        install_helm4_plugin(e2e, exe)
    return run([exe, *command, RELEASE, str(CHART), "--namespace", NAMESPACE, "--dry-run=client",
                "--disable-openapi-validation", "--post-renderer", "pxsec", *post_renderer_args(spec)],
               e2e.env(KUBECONFIG=kubeconfig), check=check)


@pytest.mark.parametrize("command", [["install"], ["upgrade", "--install"]], ids=["install", "upgrade"])
@pytest.mark.parametrize("major", ["helm3", "helm4"])
def test_install_and_upgrade_post_render(e2e, kubeconfig, major, command):
    docs = manifest(helm(e2e, major, kubeconfig, *command).stdout)
    (ds,) = [d for d in docs if d["kind"] == "DaemonSet"]
    px = ds["spec"]["template"]["spec"]["containers"][0]
    assert "PORTWORX_AUTH_SYSTEM_KEY" in [e["name"] for e in px["env"]]
    assert "-jwt_issuer" in px["args"]
    (stork,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "stork"]
    assert "PX_SHARED_SECRET" in [e["name"] for e in stork["spec"]["template"]["spec"]["containers"][0]["env"]]


@pytest.mark.parametrize("major", ["helm3", "helm4"])
def test_install_fails_when_the_render_fails(e2e, kubeconfig, tmp_path, major):
    broken = tmp_path / "broken-spec.yaml"
    broken.write_text("apiVersion: pxsec.io/v1alpha1\nkind: PortworxSecurity\nspec: {usernameClaim: upn}\n")
    proc = helm(e2e, major, kubeconfig, "install", spec=broken, check=False)
    assert "MANIFEST:" not in proc.stdout
    if major == "helm3":  # Helm 3 shows the post-renderer's stderr
        assert_failed(proc, "spec: at least one of selfSigned and oidc is required")
    else:  # Helm 4 hides it: the reason is in PXSEC_LOG_FILE
        assert_failed(proc)
        assert "spec: at least one of selfSigned and oidc is required" in e2e.log()
