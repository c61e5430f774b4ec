"""Argo CD's own parts for test_argocd.py: the plugin sidecar server and the repo-server client.

Both are built from tools/argocd-cmp by scripts/install-tools.sh (Argo CD's Go module at the
pinned version):

- `argocd-cmp-server` is the sidecar's server. It reads argocd/plugin.yaml (this checkout's, as
  is), listens on `<socket folder>/pxsec.sock` and runs the generate command with its own
  environment plus what Argo CD sends (ARGOCD_APP_*, KUBE_VERSION, ARGOCD_ENV_*). So, as in the
  sidecar image, its PATH has pxsec, helm and kustomize, and the PORTWORX_AUTH_* key values for
  `secret.create: true` are in its environment.
- `argocd-generate` calls Argo CD's reposerver/repository.GenerateManifests for a `plugin:
  {name: pxsec, env: [...]}` source: discovery of the socket, CheckPluginConfiguration, the
  repository streamed as a tar.gz, the repo-server's post-processing. It prints the manifests as
  Argo CD holds them (JSON), or Argo CD's error text on stderr with exit 1.

Unix socket paths must stay under ~108 bytes, so the socket folder is a short mkdtemp under
/tmp rather than pytest's (long) tmp_path. SIGTERM only removes the socket and leaves the server
running: it is stopped with SIGKILL.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from .support import REPO, E2E, need

PLUGIN_DIR = REPO / "argocd"  # the server reads PLUGIN_DIR/plugin.yaml
SOCKET = "pxsec.sock"  # <metadata.name>.sock (plugin.yaml has no spec.version)
START_DEADLINE = 60.0  # seconds to wait for the socket (two shared cores can be slow)


class CmpServer:
    """One argocd-cmp-server with argocd/plugin.yaml and the sidecar's environment."""

    def __init__(self, e2e: E2E, helm: str = "helm4", secrets: bool = False, **env: str):
        e2e.link("helm", need(helm))
        e2e.link("kustomize", need("kustomize"))
        binary = need("argocd-cmp-server")
        self.sockdir = Path(tempfile.mkdtemp(prefix="cmp", dir="/tmp" if os.path.isdir("/tmp") else None))
        workdir = e2e.tmp / "cmp-work"  # the server deletes $ARGOCD_CMP_WORKDIR/_cmp_server at start
        workdir.mkdir()
        self.log_path = e2e.tmp / "cmp-server.log"
        server_env = e2e.env(secrets=secrets, ARGOCD_PLUGINSOCKFILEPATH=str(self.sockdir),
                             ARGOCD_CMP_WORKDIR=str(workdir), **env)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([binary, "--config-dir-path", str(PLUGIN_DIR), "--logformat", "text"],
                                         env=server_env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_for_socket()

    def _wait_for_socket(self) -> None:
        deadline = time.monotonic() + START_DEADLINE
        while not (self.sockdir / SOCKET).is_socket():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"argocd-cmp-server did not listen on {SOCKET}:\n{self.log()}", pytrace=False)
            time.sleep(0.05)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.sockdir, ignore_errors=True)


class Generated:
    """What GenerateManifests returned: the manifests (objects), or Argo CD's error."""

    def __init__(self, proc: subprocess.CompletedProcess):
        self.proc = proc
        self.ok = proc.returncode == 0
        self.error = proc.stderr
        self.manifests: list[dict] = []
        self.source_type = None
        if self.ok:
            out = json.loads(proc.stdout)
            self.source_type = out["sourceType"]
            self.manifests = [json.loads(m) for m in out["manifests"]]

    def of_kind(self, kind: str) -> list[dict]:
        return [m for m in self.manifests if m.get("kind") == kind]


def generate(server: CmpServer, repo: Path, path: str, plugin_env: dict[str, str], *, kube_version: str = "1.29.0",
             api_versions: str = "", app_label_key: str = "", app_name: str = "rel",
             namespace: str = "kube-system", params: dict[str, str] | None = None,
             announce: bool = False) -> Generated:
    """Argo CD's repo-server generating the manifests of `repo`/`path` with the pxsec plugin.

    The client's own environment carries nothing of the plugin's: no PATH to pxsec, no keys.
    """
    argv = [need("argocd-generate"), "--repo-root", str(repo), "--path", path, "--plugin", "pxsec",
            "--app-name", app_name, "--namespace", namespace, "--kube-version", kube_version,
            "--api-versions", api_versions, "--app-label-key", app_label_key]
    for name, value in plugin_env.items():
        argv += ["--env", f"{name}={value}"]
    for name, value in (params or {}).items():  # spec.source.plugin.parameters (string parameters)
        argv += ["--param", f"{name}={value}"]
    if announce:  # the parameter announcement (repo-server GetAppDetails) instead of the manifests
        argv.append("--announce")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(server.log_path.parent),
           "ARGOCD_PLUGINSOCKFILEPATH": str(server.sockdir)}
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    if announce:
        assert proc.returncode == 0, f"the parameter announcement failed:\n{proc.stderr}"
        return json.loads(proc.stdout)
    result = Generated(proc)
    if not result.ok:
        assert proc.returncode == 1 and proc.stdout == "", (
            f"argocd-generate failed without Argo CD's error (exit {proc.returncode}):\n{proc.stderr}")
    return result
