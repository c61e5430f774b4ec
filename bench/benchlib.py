"""Shared helpers of the benchmark scripts: inputs (generated in a temp dir, never in the repo),
the commands under test and their baselines, and per-child time/memory measurement.

Everything here uses the standard library, PyYAML and the public `kubectl`/`kustomize` binaries.
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "manifests"
PX_MANIFEST = CORPUS / "px-daemonset-spec-all-components-csi-stork-autopilot-px2.8.yaml"

# self-signed + Stork, Secret referenced (not created): the common install.
SPEC = """\
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
metadata:
  name: px-security
spec:
  secret:
    name: px-system-secrets
    create: false
    keys:
      system: system-secret
      stork: stork-secret
      jwtSharedSecret: shared-secret
  stork:
    enabled: true
    issuer: stork.openstorage.io
  selfSigned:
    issuer: openstorage.io
    sharedSecret: true
  usernameClaim: email
"""

# The same injection as kustomize JSON patches (what SPEC makes pxsec add to the PX 2.8 manifest).
SECRET = "px-system-secrets"


def _ref(name: str, key: str) -> dict:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": SECRET, "key": key}}}


PORTWORX_ENV = [
    _ref("PORTWORX_AUTH_SYSTEM_KEY", "system-secret"),
    _ref("PORTWORX_AUTH_STORK_KEY", "stork-secret"),
    _ref("PORTWORX_AUTH_JWT_SHAREDSECRET", "shared-secret"),
]
PORTWORX_ARGS = ["-jwt_issuer", "openstorage.io", "-username_claim", "email"]
STORK_ENV = [_ref("PX_SHARED_SECRET", "stork-secret"), {"name": "PX_JWT_ISSUER", "value": "stork.openstorage.io"}]


def pxsec_command() -> tuple[list[str], str]:
    """(argv prefix, description): $PXSEC_BENCH_CMD; else the `pxsec` console script on PATH;
    else pxsec as the README installs it (`pip install .`, not editable) into a venv cached under
    ~/.cache/pxsec-bench, made again when the sources change. An editable install is not what
    users run: its import hook costs every start-up of its interpreter about 15 ms."""
    override = os.environ.get("PXSEC_BENCH_CMD")
    if override:
        return override.split(), f"$PXSEC_BENCH_CMD ({override})"
    exe = shutil.which("pxsec")
    if exe:
        return [exe], exe
    venv = installed_venv()
    if venv is not None:
        return [str(venv / "bin" / "pxsec")], f"pxsec installed by `pip install .` in {venv}"
    return [sys.executable, "-m", "pxsec"], f"{sys.executable} -m pxsec"


def installed_venv() -> Path | None:
    """A venv with this checkout installed as users install it, reusing this interpreter's
    dependencies (--system-site-packages would bring the editable pxsec too, so they are
    installed into the venv from the local pip cache). The build runs on a copy of the sources:
    nothing is written into the checkout. None when that fails (offline)."""
    import hashlib
    import subprocess

    digest = hashlib.sha256()
    for path in sorted([REPO / "pyproject.toml"] + [p for d in ("renderer", "schemas", "templates")
                                                      for p in (REPO / d).rglob("*") if p.is_file()
                                                      and "__pycache__" not in p.parts]):
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pxsec-bench"
    venv = root / f"venv-{digest.hexdigest()[:16]}"
    if (venv / "bin" / "pxsec").exists():
        return venv
    shutil.rmtree(root, ignore_errors=True)
    print(f"bench: installing pxsec (pip install .) into {venv}", file=sys.stderr, flush=True)
    import tempfile

    try:
        with tempfile.TemporaryDirectory(prefix="pxsec-bench-src-") as src:  # the build writes nothing here
            for name in ("pyproject.toml", "README.md"):
                shutil.copy(REPO / name, src)
            for name in ("renderer", "schemas", "templates"):
                shutil.copytree(REPO / name, Path(src) / name, ignore=shutil.ignore_patterns("__pycache__"))
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", src], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"bench: could not install pxsec into a venv ({e}); measuring `python -m pxsec`", file=sys.stderr)
        shutil.rmtree(venv, ignore_errors=True)
        return None
    return venv


def interpreter_of(command: list[str]) -> str:
    """The Python that runs a pxsec command: the console script's shebang, else argv[0]."""
    if len(command) == 1:
        try:
            with open(command[0], "rb") as f:
                first = f.readline().decode("utf-8", "replace").strip()
            if first.startswith("#!") and "python" in first:
                return first[2:].split()[0]
        except OSError:
            pass
    return command[0] if "python" in os.path.basename(command[0]) else sys.executable


def yq_command() -> tuple[list[str], str] | None:
    """mikefarah/yq v4 (`go install github.com/mikefarah/yq/v4@v4.54.3`), on PATH or in the tools
    cache; other programs named yq (the Python jq wrapper) are not it."""
    root = os.environ.get("PXSEC_TOOLS_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "pxsec-tools")
    for exe in (shutil.which("yq"), os.path.join(root, "bin", "yq"), os.path.join(os.path.expanduser("~"), "go", "bin", "yq")):
        if exe and os.access(exe, os.X_OK):
            try:
                out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10).stdout
            except (OSError, subprocess.SubprocessError):
                continue
            if "mikefarah" in out and "version v4" in out:
                return [exe], exe
    return None


# The same injection as the bench spec, as one yq expression over the whole stream.
YQ_EXPR = " | ".join([
    '(select(.kind == "DaemonSet" and .metadata.name == "portworx") | .spec.template.spec.containers[] '
    '| select(.name == "portworx")) |= (.env += ['
    '{"name": "PORTWORX_AUTH_SYSTEM_KEY", "valueFrom": {"secretKeyRef": {"name": "px-system-secrets", "key": "system-secret"}}},'
    '{"name": "PORTWORX_AUTH_STORK_KEY", "valueFrom": {"secretKeyRef": {"name": "px-system-secrets", "key": "stork-secret"}}},'
    '{"name": "PORTWORX_AUTH_JWT_SHAREDSECRET", "valueFrom": {"secretKeyRef": {"name": "px-system-secrets", "key": "shared-secret"}}}]'
    ' | .args += ["-jwt_issuer", "openstorage.io"])',
    '(select(.kind == "Deployment" and .metadata.name == "stork") | .spec.template.spec.containers[] '
    '| select(.name == "stork")) |= (.env += ['
    '{"name": "PX_SHARED_SECRET", "valueFrom": {"secretKeyRef": {"name": "px-system-secrets", "key": "stork-secret"}}},'
    '{"name": "PX_JWT_ISSUER", "value": "stork.openstorage.io"}])',
])


def child_env(command: list[str] | None = None) -> dict:
    """The environment pxsec runs in. Only the `python -m pxsec` fallback needs the checkout
    on PYTHONPATH: an installed console script runs its installed package, as users run it (an
    extra path entry costs every import a lookup, about 20 ms of start-up here)."""
    env = dict(os.environ)
    if command is None or command[1:3] == ["-m", "pxsec"]:
        env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("PXSEC_DEBUG", None)
    return env


def kustomize_command() -> tuple[list[str], str] | None:
    """The baseline the issue names, `kubectl kustomize`; else a `kustomize build` on PATH."""
    exe = shutil.which("kubectl")
    if exe:
        return [exe, "kustomize"], f"{exe} kustomize"
    exe = shutil.which("kustomize")
    if exe:
        return [exe, "build"], f"{exe} build"
    return None


def standalone_kustomize() -> tuple[list[str], str] | None:
    """A standalone `kustomize build` (e.g. the pinned binary), reported as an extra reference."""
    exe = shutil.which("kustomize")
    return ([exe, "build"], f"{exe} build") if exe else None


@dataclass
class Run:
    seconds: float
    maxrss_kb: int
    returncode: int
    timed_out: bool = False


def run_child(argv: list[str], stdin_path: str | None = None, cwd: str | None = None, env: dict | None = None,
              timeout: float | None = None, stdout_path: str | None = None) -> Run:
    """Run one child process to completion: wall time, peak RSS (wait4; includes this process's own
    peak, see peak_rss_kb for the child alone), exit code."""
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    stdout = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    try:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=subprocess.DEVNULL, cwd=cwd, env=env)
        deadline = None if timeout is None else t0 + timeout
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG if deadline else 0)
            if pid:
                break
            if time.perf_counter() > deadline:
                p.kill()
                pid, status, usage = os.wait4(p.pid, 0)
                p.returncode = -9
                return Run(time.perf_counter() - t0, usage.ru_maxrss, -9, timed_out=True)
            time.sleep(0.05)
        elapsed = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        return Run(elapsed, usage.ru_maxrss, p.returncode)
    finally:
        if stdin_path:
            stdin.close()
        if stdout_path:
            stdout.close()


# A child's ru_maxrss starts from its parent's peak RSS (Linux copies the high-water mark of the
# address space it leaves at exec), so measuring from this process, which holds the generated
# streams, would report at least our own peak. This launcher (a bare `python -S -I`, ~8 MB) forks
# the command from a small address space and reports the grandchild's own rusage.
_LAUNCHER = """
import os, sys
out, argv, stdin = sys.argv[1], sys.argv[3:], sys.argv[2]
pid = os.fork()
if pid == 0:
    if stdin:
        fd = os.open(stdin, os.O_RDONLY)
        os.dup2(fd, 0)
    os.execvpe(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
with open(out, "w") as f:
    f.write("%d %d" % (usage.ru_maxrss, os.waitstatus_to_exitcode(status)))
"""


def peak_rss_kb(argv: list[str], stdin_path: str | None = None, env: dict | None = None,
                cwd: str | None = None) -> tuple[int, int]:
    """(peak RSS in KiB, exit code) of `argv` alone, measured through the small launcher."""
    import tempfile

    with tempfile.NamedTemporaryFile("r", suffix=".rss") as f:
        subprocess.run([sys.executable, "-S", "-I", "-c", _LAUNCHER, f.name, stdin_path or "", *argv],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=env, cwd=cwd, check=True)
        kb, code = (int(x) for x in f.read().split())
    return kb, code


def launcher_floor_kb() -> int:
    """What the launcher itself reports for a trivial child: the floor of peak_rss_kb."""
    return peak_rss_kb(["/bin/true"])[0]


# ---------------------------------------------------------------- the large stream

_WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma "
          "tau upsilon phi chi psi omega").split()


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n))


def _configmap(rng: random.Random, i: int) -> str:
    lines = "\n".join(f"    {_words(rng, rng.randint(3, 8))}" for _ in range(rng.randint(2, 6)))
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config-{i}\n  namespace: team-{i % 40}\n"
            f"  labels:\n    app: app-{i % 300}\ndata:\n  LOG_LEVEL: \"info\"\n  settings.ini: |\n{lines}\n")


def _deployment(rng: random.Random, i: int) -> str:
    script = "\n".join(f"          {_words(rng, rng.randint(3, 7))}" for _ in range(rng.randint(1, 3)))
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: team-{i % 40}
  labels: {{app: app-{i}, tier: "backend"}}
  annotations:
    description: >-
      {_words(rng, 6)}
      {_words(rng, 5)}
spec:
  replicas: {rng.randint(1, 5)}
  selector:
    matchLabels:
      app: app-{i}
  template:
    metadata:
      labels:
        app: app-{i}
    spec:
      containers:
      - name: app
        image: registry.example.com/team/app-{i % 97}:1.{i % 13}.{i % 7}
        args: ["--port", "8080", '--mode=fast']
        env:
        - name: GREETING
          value: "{_words(rng, 2)}"
        command:
        - sh
        - -c
        - |
{script}
"""


def large_stream(n_docs: int, seed: int = 6000) -> str:
    """About `n_docs` documents: the Portworx manifest first, then Deployments and ConfigMaps."""
    rng = random.Random(seed)
    px = PX_MANIFEST.read_text(encoding="utf-8")
    px_docs = sum(1 for ln in px.splitlines() if ln.startswith("---")) + 1
    parts = [px.rstrip("\n") + "\n"]
    for i in range(max(0, n_docs - px_docs)):
        parts.append("---\n" + (_deployment(rng, i) if i % 3 == 0 else _configmap(rng, i)))
    return "".join(parts)


def write_inputs(tmp: Path, sizes: tuple[int, ...] = (6000, 12000)) -> dict:
    """Spec, small manifest, large streams and the kustomize trees, all under `tmp`."""
    tmp.mkdir(parents=True, exist_ok=True)
    out = {"spec": tmp / "spec.yaml", "small": tmp / "small" / "px.yaml"}
    out["spec"].write_text(SPEC, encoding="utf-8")
    out["small"].parent.mkdir(exist_ok=True)
    shutil.copyfile(PX_MANIFEST, out["small"])
    write_kustomization(out["small"].parent, out["small"].name)
    for n in sizes:
        d = tmp / f"large{n}"
        d.mkdir(exist_ok=True)
        p = d / "stream.yaml"
        p.write_text(large_stream(n), encoding="utf-8")
        write_kustomization(d, p.name)
        out[f"large{n}"] = p
    return out


def _patch_ops(manifest: Path) -> tuple[list[dict], list[dict]]:
    """JSON6902 ops adding the pxsec env/args to DaemonSet portworx and Deployment stork."""
    import yaml

    ds_ops, stork_ops = [], []
    with open(manifest, encoding="utf-8") as f:
        for doc in yaml.load_all(f, Loader=yaml.CSafeLoader):
            if not isinstance(doc, dict):
                continue
            kind, name = doc.get("kind"), (doc.get("metadata") or {}).get("name")
            if (kind, name) not in (("DaemonSet", "portworx"), ("Deployment", "stork")):
                continue
            containers = doc["spec"]["template"]["spec"]["containers"]
            i = next(i for i, c in enumerate(containers) if c["name"] == name)
            base = f"/spec/template/spec/containers/{i}"
            ops = ds_ops if kind == "DaemonSet" else stork_ops
            env = PORTWORX_ENV if kind == "DaemonSet" else STORK_ENV
            if "env" not in containers[i]:
                ops.append({"op": "add", "path": f"{base}/env", "value": []})
            ops += [{"op": "add", "path": f"{base}/env/-", "value": e} for e in env]
            if kind == "DaemonSet":
                if "args" not in containers[i]:
                    ops.append({"op": "add", "path": f"{base}/args", "value": []})
                ops += [{"op": "add", "path": f"{base}/args/-", "value": a} for a in PORTWORX_ARGS]
    return ds_ops, stork_ops


def write_kustomization(directory: Path, resource: str) -> None:
    import json

    ds_ops, stork_ops = _patch_ops(PX_MANIFEST)
    text = (f"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- {resource}\npatches:\n"
            f"- target:\n    kind: DaemonSet\n    name: portworx\n    namespace: kube-system\n"
            f"  patch: '{json.dumps(ds_ops)}'\n"
            f"- target:\n    kind: Deployment\n    name: stork\n    namespace: kube-system\n"
            f"  patch: '{json.dumps(stork_ops)}'\n")
    (directory / "kustomization.yaml").write_text(text, encoding="utf-8")
