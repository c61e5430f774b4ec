"""A real Kubernetes API server for the end-to-end tests: etcd and kube-apiserver on 127.0.0.1.

The session fixture `cluster` starts, once per pytest session:

- etcd (Debian's `etcd-server`), client and peer ports free on 127.0.0.1, data in a temp dir;
- kube-apiserver (built by scripts/install-tools.sh from tools/kube-apiserver) on a free
  127.0.0.1 port, serving certificates self-generated in a temp `--cert-dir`, a service-account
  key pair made here, an admin token (`--token-auth-file`, group system:masters), RBAC, and
  `--allow-privileged=true` (Portworx pods are privileged);
- a kubeconfig file for helm and kubectl (`Cluster.env()` puts it in KUBECONFIG);
- `HookJobController`: a stand-in for the job controller, which does not run here.

No controller manager, scheduler or kubelet runs: nothing reconciles Deployments or DaemonSets,
no Pod ever starts, a namespace never finishes deleting. Helm waits for its hook Jobs to finish,
so HookJobController marks every new Job complete through the `status` subresource, the way the
job controller would report a Job whose one pod succeeded. It changes nothing else.

Everything stops at the end of the session, and etcd's data dir is removed; the logs stay in
pytest's temp dir. A missing etcd or kube-apiserver skips the tests that use the cluster (fails
them under PXSEC_REQUIRE_E2E=1).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from .support import REPO, need

SHARED = REPO.parent / "shared"  # the team's corpus and CRDs, beside the checkout (never copied in)
CHART_CRD = SHARED / "crds" / "chart-9.1.1_core_v1_storagecluster_crd.yaml"  # Portworx chart 9.1.1
CORPUS_CRD = SHARED / "corpus" / "operator" / "core_v1_storagecluster_crd.yaml"  # an older operator copy
STORAGECLUSTER_CRD = "storageclusters.core.libopenstorage.org"
START_TIMEOUT = 180  # seconds: kube-apiserver on 2 busy cores can take a minute to be ready


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _service_account_keys(directory: Path) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = directory / "sa.key", directory / "sa.pub"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    private.chmod(0o600)
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


class Process:
    """A server process with its log file; stop() terminates it (its process group)."""

    def __init__(self, name: str, argv: list[str], log: Path):
        self.name, self.log = name, log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def failure(self, what: str) -> str:
        return f"{self.name} {what} (exit {self.proc.poll()}); last lines of its log:\n{_tail(self.log)}"

    def stop(self) -> None:
        if not self.alive():
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


class Cluster:
    def __init__(self, workdir: Path, etcd: str, apiserver: str):
        self.dir = workdir
        self.token = secrets.token_hex(24)
        self.port = free_port()
        self.server = f"https://127.0.0.1:{self.port}"
        self.cert_dir = workdir / "certs"
        self.kubeconfig = workdir / "kubeconfig"
        self.processes: list[Process] = []
        self._ssl: ssl.SSLContext | None = None
        self.crd: Path | None = None  # the StorageCluster CRD file installed (install_crd)
        try:
            self._start_etcd(etcd)
            self._start_apiserver(apiserver)
        except BaseException:
            self.stop()
            raise
        self._write_kubeconfig()

    # --- start / stop -----------------------------------------------------------------------
    def _start_etcd(self, etcd: str) -> None:
        client, peer = free_port(), free_port()
        self.etcd_url = f"http://127.0.0.1:{client}"
        proc = Process("etcd", [
            etcd, "--name", "pxsec-e2e", "--data-dir", str(self.dir / "etcd"),
            "--listen-client-urls", self.etcd_url, "--advertise-client-urls", self.etcd_url,
            "--listen-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-cluster", f"pxsec-e2e=http://127.0.0.1:{peer}",
            "--listen-metrics-urls", f"http://127.0.0.1:{free_port()}"], self.dir / "etcd.log")
        self.processes.append(proc)
        self._wait(proc, lambda: json.loads(urllib.request.urlopen(f"{self.etcd_url}/health", timeout=5).read())
                   .get("health") == "true")

    def _start_apiserver(self, apiserver: str) -> None:
        self.cert_dir.mkdir()
        sa_key, sa_pub = _service_account_keys(self.dir)
        tokens = self.dir / "tokens.csv"
        tokens.write_text(f'{self.token},admin,admin-uid,"system:masters"\n')
        tokens.chmod(0o600)
        proc = Process("kube-apiserver", [
            apiserver, "--etcd-servers", self.etcd_url,
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={self.port}",
            f"--cert-dir={self.cert_dir}", f"--token-auth-file={tokens}",
            f"--service-account-key-file={sa_pub}", f"--service-account-signing-key-file={sa_key}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--service-cluster-ip-range=10.96.0.0/16", "--authorization-mode=RBAC", "--allow-privileged=true",
            "--enable-priority-and-fairness=false", "--profiling=false", "--v=1"], self.dir / "kube-apiserver.log")
        self.processes.append(proc)
        self._wait(proc, lambda: self._get_text("/readyz") == "ok")

    def _wait(self, proc: Process, ready) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not proc.alive():
                raise RuntimeError(proc.failure("exited while starting"))
            try:
                if ready():
                    return
            except (OSError, ValueError, urllib.error.URLError):
                pass
            time.sleep(0.5)
        raise RuntimeError(proc.failure(f"was not ready after {START_TIMEOUT}s"))

    def _write_kubeconfig(self) -> None:
        self.kubeconfig.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "pxsec-e2e", "preferences": {},
            "clusters": [{"name": "pxsec-e2e", "cluster": {
                "server": self.server, "certificate-authority": str(self.cert_dir / "apiserver.crt")}}],
            "users": [{"name": "admin", "user": {"token": self.token}}],
            "contexts": [{"name": "pxsec-e2e", "context": {"cluster": "pxsec-e2e", "user": "admin"}}]}))
        self.kubeconfig.chmod(0o600)

    def stop(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()
        shutil.rmtree(self.dir / "etcd", ignore_errors=True)

    # --- clients ------------------------------------------------------------------------------
    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """`base` (default: this process's environment) pointed at this cluster."""
        env = dict(os.environ if base is None else base)
        env["KUBECONFIG"] = str(self.kubeconfig)
        env["KUBECACHEDIR"] = str(self.dir / "kube-cache")
        return env

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:  # the certificate exists once kube-apiserver listens
            self._ssl = ssl.create_default_context(cafile=str(self.cert_dir / "apiserver.crt"))
        return self._ssl

    def _request(self, method: str, path: str, body: bytes | None = None,
                 content_type: str = "application/json") -> bytes:
        req = urllib.request.Request(self.server + path, data=body, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": content_type, "Accept": "application/json"})
        with urllib.request.urlopen(req, context=self._context(), timeout=30) as resp:
            return resp.read()

    def _get_text(self, path: str) -> str:
        return self._request("GET", path).decode()

    def get(self, path: str) -> dict:
        return json.loads(self._request("GET", path))

    def merge_patch(self, path: str, patch: dict) -> dict:
        return json.loads(self._request("PATCH", path, json.dumps(patch).encode(), "application/merge-patch+json"))

    def create_namespace(self, name: str) -> None:
        body = json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}).encode()
        try:
            self._request("POST", "/api/v1/namespaces", body)
        except urllib.error.HTTPError as err:
            if err.code != 409:  # already there
                raise


    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([need("kubectl"), *args], env=self.env(), input=input, capture_output=True,
                              text=True, timeout=300)
        if check and proc.returncode != 0:
            pytest.fail(f"kubectl {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}", pytrace=False)
        return proc

    def install_crd(self, path: Path) -> None:
        """Make `path` the cluster's StorageCluster CRD (deleting any other copy, and its objects)."""
        if self.crd == path:
            return
        self.kubectl("delete", "crd", STORAGECLUSTER_CRD, "--ignore-not-found", "--wait=true")
        self.crd = None
        self.kubectl("create", "-f", str(path))  # too big for client-side apply's annotation
        deadline = time.monotonic() + 120
        while not any(c["type"] == "Established" and c["status"] == "True" for c in self.get(
                f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{STORAGECLUSTER_CRD}")
                .get("status", {}).get("conditions") or []):
            if time.monotonic() > deadline:
                pytest.fail(f"{STORAGECLUSTER_CRD} from {path.name} was not Established after 120s", pytrace=False)
            time.sleep(0.2)
        self.crd = path


def require_shared(path: Path) -> Path:
    """A file of ../shared: skip without it locally, fail in CI (like tests/conftest.py require_corpus)."""
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI must have ../shared beside the checkout", pytrace=False)
        pytest.skip(f"{path} not found (../shared sits beside the checkout in the team's workspace)")
    return path


class HookJobController(threading.Thread):
    """Stand-in for the job controller (which does not run here): marks each unfinished Job
    complete through its status subresource, as if its one pod had succeeded. Helm's hooks
    wait for exactly that. `completed` lists the (namespace, name) of every Job it completed."""

    def __init__(self, cluster: Cluster, interval: float = 0.2):
        super().__init__(name="hook-job-controller", daemon=True)
        self.cluster, self.interval = cluster, interval
        self.completed: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self._halt = threading.Event()

    @staticmethod
    def finished(job: dict) -> bool:
        return any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
                   for c in (job.get("status") or {}).get("conditions") or [])

    def complete(self, job: dict) -> None:
        meta = job["metadata"]
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        condition = {"status": "True", "lastProbeTime": now, "lastTransitionTime": now}
        self.cluster.merge_patch(
            f"/apis/batch/v1/namespaces/{meta['namespace']}/jobs/{meta['name']}/status",
            {"status": {"startTime": now, "completionTime": now, "succeeded": 1, "active": 0, "ready": 0,
                        "conditions": [dict(condition, type="SuccessCriteriaMet", reason="CompletionsReached"),
                                       dict(condition, type="Complete", reason="CompletionsReached")]}})
        self.completed.append((meta["namespace"], meta["name"]))

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            try:
                for job in self.cluster.get("/apis/batch/v1/jobs").get("items") or []:
                    if not self.finished(job) and job["metadata"].get("deletionTimestamp") is None:
                        self.complete(job)
            except (OSError, ValueError, urllib.error.URLError) as err:
                self.errors.append(str(err))  # a Job deleted meanwhile, or the server stopping

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=10)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """The session's API server (see the module docstring); `cluster.jobs` is its HookJobController."""
    etcd, apiserver = need("etcd"), need("kube-apiserver")
    for _ in range(3):  # a free port may be taken by someone else before the server binds it
        try:
            running = Cluster(tmp_path_factory.mktemp("cluster"), etcd, apiserver)
            break
        except RuntimeError as err:
            failure = err
    else:
        pytest.fail(f"could not start the test cluster (3 attempts): {failure}", pytrace=False)
    running.jobs = HookJobController(running)
    running.jobs.start()
    try:
        yield running
    finally:
        try:
            running.jobs.stop()
        finally:
            running.stop()


@pytest.fixture
def storagecluster_crd(cluster) -> Path:
    """The Portworx chart's StorageCluster CRD, installed (when another copy is, it is replaced)."""
    cluster.install_crd(require_shared(CHART_CRD))
    return CHART_CRD
