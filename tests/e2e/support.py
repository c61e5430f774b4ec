"""End-to-end helpers (fixtures are in conftest.py): the real binaries, an isolated environment per test, golden files.

Binaries are found on PATH (CI puts scripts/install-tools.sh's bin dir first), else in that
script's cache dir ($PXSEC_TOOLS_DIR or ${XDG_CACHE_HOME:-~/.cache}/pxsec-tools, bin/). A missing
binary skips the test with the reason, unless PXSEC_REQUIRE_E2E=1 (CI), which fails it.

pxsec is invoked the way users invoke it: as `pxsec` on PATH. By default that is a wrapper
(`exec <this python> -m pxsec "$@"`: the package installed from this checkout, which conftest.py
checks is this checkout's sources) so the checkout is what is
tested; test_plugin_files.py also checks the installed console script when there is one.

Goldens: tests/e2e/cases/<mode>/want*.yaml; PXSEC_UPDATE_GOLDEN=1 rewrites them (commit them).
"""
from __future__ import annotations

import difflib
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
E2E = REPO / "tests" / "e2e"
FIXTURES = E2E / "fixtures"
CASES = E2E / "cases"
CHART = FIXTURES / "chart-portworx-ds"
KUSTOMIZE_BASE = FIXTURES / "kustomize-base"

RELEASE = "rel"
NAMESPACE = "kube-system"
KUBE_VERSION = "1.29.0"  # Go builds of Helm 3 have no version ldflags: always pass --kube-version

# Fixed, fake, long-enough values for secret.create: true (they end up base64'd in goldens).
TEST_KEYS = {
    "PORTWORX_AUTH_SYSTEM_KEY": "e2e-fake-system-key-0123456789abcdef",
    "PORTWORX_AUTH_STORK_KEY": "e2e-fake-stork-key-0123456789abcdef0",
    "PORTWORX_AUTH_JWT_SHAREDSECRET": "e2e-fake-shared-secret-0123456789ab",
}

# Annotations the orchestrators add for their own bookkeeping (compared modulo these).
ORCHESTRATOR_PREFIXES = (
    "postrenderer.helm.sh/",
    "kustomize.config.k8s.io/",
    "config.kubernetes.io/",
    "internal.config.kubernetes.io/",
    "config.k8s.io/",
)


# --- binaries ---------------------------------------------------------------------------------

def tools_bin_dir() -> Path:
    root = os.environ.get("PXSEC_TOOLS_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "pxsec-tools")
    return Path(root) / "bin"


def _helm_major(path: str) -> str | None:
    try:
        out = subprocess.run([path, "version", "--short"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip()[:2] or None


def find_tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    cached = tools_bin_dir() / name
    if cached.is_file() and os.access(cached, os.X_OK):
        return str(cached)
    if name in ("helm3", "helm4"):  # a plain `helm` of the right major will do
        helm = shutil.which("helm")
        if helm and _helm_major(helm) == "v" + name[-1]:
            return helm
    return None


def require_e2e() -> bool:
    return os.environ.get("PXSEC_REQUIRE_E2E") == "1"


def need(name: str) -> str:
    path = find_tool(name)
    if path:
        return path
    where = f"not on PATH nor in {tools_bin_dir()}"
    hint = "run `bash scripts/install-tools.sh` and put its bin dir on PATH" if name in (
        "helm3", "helm4", "kustomize", "argocd-cmp-server", "argocd-generate", "kube-apiserver", "k8sread") \
        else "install it (it comes with the google-cloud-cli packages)"
    if name == "etcd":
        hint = "install Debian's etcd-server (`bash scripts/install-tools.sh` does it when run as root)"
    message = f"{name} is {where}: {hint}"
    if require_e2e():
        pytest.fail(f"{message} (PXSEC_REQUIRE_E2E=1: missing binaries are failures)")
    pytest.skip(message)


# --- environment ------------------------------------------------------------------------------

def write_script(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


class E2E:
    """One test's isolated world: HOME-like dirs in tmp, pxsec first on PATH, no stray PXSEC_*."""

    def __init__(self, tmp: Path, pxsec_bin: Path):
        self.tmp = tmp
        self.pxsec_bin = pxsec_bin
        self.bin = tmp / "bin"  # per-test extra names (helm, kustomize) for Argo CD style runs
        self.bin.mkdir()
        self.helm_home = tmp / "helm"
        self.xdg_config = tmp / "xdg-config"
        self.log_file = tmp / "pxsec.log"

    def env(self, secrets: bool = False, **extra: str) -> dict[str, str]:
        drop = ("PXSEC_", "PORTWORX_AUTH_", "HELM_", "KUSTOMIZE_", "ARGOCD_", "KUBE_VERSION", "KUBE_API_VERSIONS")
        env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
        env["PATH"] = os.pathsep.join([str(self.pxsec_bin), str(self.bin), str(tools_bin_dir()),
                                       os.environ.get("PATH", "")])
        # Helm 4.2's `helm plugin install DIR` writes to $HELM_DATA_HOME/plugins whatever
        # HELM_PLUGINS says, so isolate the data home and point HELM_PLUGINS at its plugins dir.
        env["HELM_DATA_HOME"] = str(self.helm_home / "data")
        env["HELM_PLUGINS"] = str(self.helm_home / "data" / "plugins")
        env["HELM_CONFIG_HOME"] = str(self.helm_home / "config")
        env["HELM_CACHE_HOME"] = str(self.helm_home / "cache")
        env["XDG_CONFIG_HOME"] = str(self.xdg_config)
        env["PXSEC_LOG_FILE"] = str(self.log_file)
        if secrets:
            env.update(TEST_KEYS)
        env.update(extra)
        return env

    def link(self, name: str, target: str) -> None:
        """Make `name` on this test's PATH run `target` (e.g. helm -> helm4)."""
        os.symlink(target, self.bin / name)

    def log(self) -> str:
        return self.log_file.read_text() if self.log_file.exists() else ""


def run(argv: list[str], env: dict[str, str], cwd: Path | str | None = None, input: str | bytes | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    text = not isinstance(input, bytes)
    proc = subprocess.run([str(a) for a in argv], env=env, cwd=cwd, input=input, capture_output=True,
                          text=text, timeout=300)
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, argv))} exited {proc.returncode}\n--- stderr ---\n{proc.stderr}"
                    f"\n--- stdout (head) ---\n{str(proc.stdout)[:2000]}", pytrace=False)
    return proc


def assert_failed(proc: subprocess.CompletedProcess, *needles: str) -> None:
    """A failure must be a non-zero exit (never exit 0 with empty output), saying why."""
    assert proc.returncode != 0, f"exited 0 after an error; stdout:\n{proc.stdout[:2000]}\nstderr:\n{proc.stderr}"
    for needle in needles:
        assert needle in proc.stderr, f"{needle!r} not in stderr:\n{proc.stderr}"


# --- comparisons ------------------------------------------------------------------------------

def assert_golden(case: str, actual: str, name: str = "want.yaml") -> None:
    path = CASES / case / name
    if os.environ.get("PXSEC_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
        return
    if not path.exists():
        pytest.fail(f"{path} does not exist: run with PXSEC_UPDATE_GOLDEN=1, review and commit it", pytrace=False)
    want = path.read_text()
    if actual != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), actual.splitlines(True),
                                            str(path), "actual", n=2))
        pytest.fail(f"output differs from {path.relative_to(REPO)} "
                    f"(PXSEC_UPDATE_GOLDEN=1 rewrites it):\n{diff[:6000]}", pytrace=False)


def strip_orchestrator_annotations(obj):
    if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
        return obj
    ann = obj["metadata"].get("annotations")
    if isinstance(ann, dict):
        kept = {k: v for k, v in ann.items() if not k.startswith(ORCHESTRATOR_PREFIXES)}
        if kept:
            obj["metadata"]["annotations"] = kept
        else:
            del obj["metadata"]["annotations"]
    return obj


def documents(text: str) -> list:
    """The stream's objects, orchestrator annotations removed, in a canonical order."""
    docs = [strip_orchestrator_annotations(d) for d in yaml.safe_load_all(text) if d is not None]

    def key(d):
        meta = d.get("metadata", {}) if isinstance(d, dict) else {}
        return (str(d.get("apiVersion")), str(d.get("kind")), str(meta.get("namespace")), str(meta.get("name")))

    return sorted(docs, key=key)


def by_kind(text: str, kind: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict) and d.get("kind") == kind]


def container_env_names(workload: dict) -> list[str]:
    return [e["name"] for c in workload["spec"]["template"]["spec"]["containers"] for e in c.get("env") or []]


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def tree_text(directory: Path) -> str:
    """Every file of a directory, sorted, each under a `# === path ===` line (kpt goldens)."""
    parts = []
    for rel, data in snapshot(directory).items():
        parts.append(f"# === {rel} ===\n{data.decode('utf-8')}")
    return "".join(p if p.endswith("\n") else p + "\n" for p in parts)


# --- the modes, as users run them -------------------------------------------------------------

def helm_template_args(chart: Path = CHART, kube_version: bool = True) -> list[str]:
    args = ["template", RELEASE, str(chart), "--namespace", NAMESPACE]
    return args + (["--kube-version", KUBE_VERSION] if kube_version else [])


def post_renderer_args(spec: Path | None) -> list[str]:
    args = ["--post-renderer-args", "render"]
    return args + (["--post-renderer-args", f"--spec={spec}"] if spec else [])


def install_helm4_plugin(e2e: E2E, helm4: str, source: Path = REPO) -> None:
    """`helm plugin install <checkout>` as a user does (once per test)."""
    if not (Path(e2e.env()["HELM_PLUGINS"]) / source.name).exists():
        run([helm4, "plugin", "install", str(source)], e2e.env())


def install_kustomize_plugin(e2e: E2E) -> Path:
    out = run(["pxsec", "install", "kustomize-plugin"], e2e.env()).stdout.strip()
    return Path(out)


def copy_kustomize_base(dest: Path) -> Path:
    """The kustomize base's resource files (no kustomization.yaml): a kpt package."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in sorted(KUSTOMIZE_BASE.glob("*.yaml")):
        if f.name != "kustomization.yaml":
            shutil.copy(f, dest / f.name)
    return dest
