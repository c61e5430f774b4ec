"""Every command the README shows, and every command pxsec prints in a message or a help page,
runs as written (issue 25): placeholders filled with real values in a temporary workspace, and
each one succeeds or fails as documented.

- README: every line of its `sh` code blocks (continuations joined, comments dropped), and every
  inline `pxsec ...` span that carries an option. Each is listed in README_COMMANDS with what the
  test does with it, so a command added to the README without an entry here fails
  `test_every_readme_command_is_listed`; an entry the README no longer shows fails too.
- Messages: every `pxsec <command> ...` in a string of renderer/ (f-strings included, docstrings
  not) is listed in MESSAGE_COMMANDS, filled in by hand (an f-string's values cannot be
  extracted); a bare `pxsec <command>` (a name, no options) must be a command that exists.

`kubectl` steps need an API server, so the pipe stops before kubectl and the test checks that
what kubectl would read is a Kubernetes object with kind and name (`kubectl apply -f FILE`:
the file). Commands that need helm, kustomize, kpt or Argo CD are e2e-tested elsewhere: their
entry names the test (Covered), and `test_covered_commands_name_real_tests` checks it exists.
`kubectl get -o yaml` (`audit_input`) is the applied objects as a `v1 List` (LiveCheck, Saved); a
`kubectl get secret` the walkthrough exports from must name the spec's Secret and key (Env). A
message that only names a command in a sentence (`pxsec render refuses this`) is listed as Prose:
a rule that skipped such text would also skip a real command with a bare-word argument.
"""
from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, clean_env
from test_cli_conventions import command_paths

README = ROOT / "README.md"
EXAMPLES = ROOT / "examples"
SHARED = "x" * 64  # a test value for PORTWORX_AUTH_JWT_SHAREDSECRET (never a real key)
SUBCOMMANDS = "|".join(p[0] for p in command_paths() if len(p) == 1)  # every top-level command, as the CLI has them


# --- the actions ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    """Run `shell` (bash, pipefail) in the workspace; expect exit `code`. `kubectl`: the command's
    stdout is what a `| kubectl apply -f -` after it would read. `stdin`: a workspace file."""
    shell: str
    code: int = 0
    stdin: str | None = None
    kubectl: bool = False
    fresh: tuple[str, ...] = ()  # workspace files removed first (a command that creates them)
    writes: str | None = None  # a workspace file the command writes: it must hold Kubernetes objects
    then: str | None = None  # a shell check of what the command wrote (exit 0)


@dataclass(frozen=True)
class Apply:
    """`kubectl apply -f FILE`: FILE holds Kubernetes objects (the API server is not needed)."""
    file: str


@dataclass(frozen=True)
class Env:
    """`export NAME="$(kubectl -n NS get secret S -o jsonpath='{.data.K}' | base64 -d)"`: the value
    comes from the test instead; S and K must be the Secret and key the workspace's spec (the one
    `pxsec init` writes, which `keys generate` turns into that Secret) names for the shared secret."""
    name: str
    value: str = SHARED


@dataclass(frozen=True)
class Saved:
    """`audit_input ... > FILE`: FILE gets what `kubectl get -o yaml` returns, a `v1 List` of the
    applied objects (secured.yaml)."""
    files: tuple[str, ...]


@dataclass(frozen=True)
class Prose:
    """Not a command: a sentence naming one (`pxsec render refuses this`). The command it names
    must exist (`pxsec render --help` exits 0)."""


@dataclass(frozen=True)
class LiveCheck:
    """`kubectl get ... -o yaml | pxsec check -`: pxsec reads a `v1 List` of the applied objects,
    as the API server returns it; `code` as documented (0: no error finding)."""
    shell: str
    code: int = 0


@dataclass(frozen=True)
class Covered:
    """Needs helm, kustomize, kpt, Argo CD or a network install: e2e-tested by `test`."""
    test: str


@dataclass(frozen=True)
class Shell:
    """Shell plumbing with no effect on its own (`set -o pipefail`)."""


# --- README --------------------------------------------------------------------------------------

HELM3 = Covered("tests/e2e/test_helm3.py")
HELM4 = Covered("tests/e2e/test_helm4.py")
KUSTOMIZE = Covered("tests/e2e/test_kustomize.py")
FLUX = Covered("tests/e2e/test_flux.py")
FLEET = Covered("tests/e2e/test_cluster_fleet_audit.py")  # runs the README's PXSEC_KINDS and audit_input as written
PY = f"'{sys.executable}'"
PXSEC_KINDS = ("PXSEC_KINDS='daemonsets.apps|deployments.apps|storageclusters.core.libopenstorage.org|"
               "storageclasses.storage.k8s.io|volumesnapshotclasses.snapshot.storage.k8s.io|persistentvolumeclaims|"
               "(clusterpairs|migrations|migrationschedules|applicationbackups|applicationrestores|"
               "volumesnapshotschedules).stork.libopenstorage.org'")

README_COMMANDS: dict[str, object] = {
    # the opening commands
    "python3 -m venv .venv && . .venv/bin/activate && pip install . && pxsec render -v --spec examples/spec.yaml "
    "examples/portworx.yaml": Run("pxsec render -v --spec examples/spec.yaml examples/portworx.yaml"),
    "bash scripts/test.sh": Covered("scripts/test.sh"),  # how CI (.ci/run) runs this very suite
    # First deployment
    'pip install "git+https://github.com/pxsec/pxsec"': Covered("scripts/test.sh"),  # pip install . of the same tree
    "pxsec init -o pxsec.yaml": Run("pxsec init -o pxsec.yaml", fresh=("pxsec.yaml",)),
    "pxsec validate pxsec.yaml": Run("pxsec validate pxsec.yaml"),
    "pxsec keys generate --spec pxsec.yaml -n kube-system -o px-keys.yaml":
        Run("pxsec keys generate --spec pxsec.yaml -n kube-system -o px-keys.yaml"),
    "kubectl apply -f px-keys.yaml": Apply("px-keys.yaml"),
    "pxsec render -v --spec pxsec.yaml portworx.yaml -o secured.yaml":
        Run("pxsec render -v --spec pxsec.yaml portworx.yaml -o secured.yaml"),
    "export PORTWORX_AUTH_JWT_SHAREDSECRET=\"$(kubectl -n kube-system get secret pxsec-auth-keys -o "
    "jsonpath='{.data.shared-secret}' | base64 -d)\"": Env("PORTWORX_AUTH_JWT_SHAREDSECRET"),  # also in Keys and tokens
    "pxsec token generate --spec pxsec.yaml --role system.user --secret px-user-token -n kube-system | "
    "kubectl apply -f -": Run("pxsec token generate --spec pxsec.yaml --role system.user --secret px-user-token "
                              "-n kube-system", kubectl=True),
    "kubectl apply -f secured.yaml": Apply("secured.yaml"),
    "pxsec check --strict --spec pxsec.yaml secured.yaml": Run("pxsec check --strict --spec pxsec.yaml secured.yaml"),
    "kubectl get daemonsets,deployments,storageclusters -A -o yaml | pxsec check -": LiveCheck("pxsec check -"),
    "pxsec token generate --spec pxsec.yaml --role system.admin -o admin.jwt":
        Run("pxsec token generate --spec pxsec.yaml --role system.admin -o admin.jwt", fresh=("admin.jwt",)),
    "pxsec token verify --spec pxsec.yaml admin.jwt": Run("pxsec token verify --spec pxsec.yaml admin.jwt"),
    # Plugin modes
    "helm upgrade --install px ./chart -n kube-system --post-renderer pxsec --post-renderer-args render "
    "--post-renderer-args --spec=pxsec.yaml": HELM4,
    "helm plugin install /path/to/pxsec": Covered("tests/e2e/test_install_helm_plugin.py"),
    "pxsec last-error": Run("pxsec last-error"),
    "kustomize build --enable-alpha-plugins --enable-exec .": KUSTOMIZE,
    "set -o pipefail": Shell(),
    "kustomize build --enable-alpha-plugins --enable-exec . | pxsec check --strict --spec pxsec.yaml": KUSTOMIZE,
    "pxsec install kustomize-plugin": Run("pxsec install kustomize-plugin"),
    "kubectl kustomize --enable-alpha-plugins .": KUSTOMIZE,
    "kpt fn eval my-package --exec pxsec --fn-config pxsec.yaml": Covered("tests/e2e/test_kpt.py"),
    "helm template px ./chart -n kube-system | pxsec render --spec pxsec.yaml": HELM3,
    "kustomize build overlays/prod | pxsec render --spec pxsec.yaml -o secured.yaml": Covered("tests/e2e/test_standalone.py"),
    # Flux
    "helm template px ./chart -n kube-system -f values.yaml > rendered.yaml": FLUX,
    "pxsec patches --spec pxsec.yaml --for helmrelease rendered.yaml":
        Run("pxsec patches --spec pxsec.yaml --for helmrelease rendered.yaml"),
    "pxsec patches --spec pxsec.yaml --for kustomization rendered.yaml":
        Run("pxsec patches --spec pxsec.yaml --for kustomization rendered.yaml"),
    "set -euo pipefail": Shell(),
    "mkdir -p flux-check": Run("mkdir -p flux-check"),
    "helm template px ./chart -n kube-system -f values.yaml > flux-check/rendered.yaml": FLUX,
    "{ echo 'resources: [rendered.yaml]'; echo 'patches:'; cat pxsec-patches.yaml; } > flux-check/kustomization.yaml":
        Run("{ echo 'resources: [rendered.yaml]'; echo 'patches:'; cat pxsec-patches.yaml; } > "
            "flux-check/kustomization.yaml"),
    "kustomize build flux-check | pxsec check --spec pxsec.yaml": FLUX,
    "pxsec patches ... | diff -u pxsec-patches.yaml -":
        Run("pxsec patches --spec pxsec.yaml --for kustomization rendered.yaml | diff -u pxsec-patches.yaml -"),
    # Audit (deploy/px.yaml is the unsecured example: exit 1 on its error findings, as documented)
    "helm template px ./chart -n kube-system | pxsec check --spec pxsec.yaml --strict": HELM3,
    "pxsec check --format sarif -o pxsec.sarif deploy/": Run("pxsec check --format sarif -o pxsec.sarif deploy/", 1),
    "pxsec check --format junit=pxsec-junit.xml --format text deploy/":
        Run("pxsec check --format junit=pxsec-junit.xml --format text deploy/ > check.txt", 1,
            fresh=("pxsec-junit.xml",),
            then=f"grep -q 'error PXS001' check.txt && {PY} -c \"import xml.etree.ElementTree as E; "
                 "r = E.parse('pxsec-junit.xml').getroot(); assert r.tag == 'testsuites' and r.get('failures') == '2'\""),
    "pxsec check --format github deploy/":
        Run("pxsec check --format github deploy/ > check.txt", 1, then="grep -q '^::error file=deploy/px.yaml,line=' check.txt"),
    "pxsec check --create-baseline pxsec-baseline.json deploy/":
        Run("pxsec check --create-baseline pxsec-baseline.json deploy/", fresh=("pxsec-baseline.json",),
            then=f"{PY} -c \"import json; b = json.load(open('pxsec-baseline.json')); "
                 "assert sorted(f['rule'] for f in b['findings']) == ['PXS001', 'PXS004']\""),
    # exit 0 with the baseline, where the same check without it exits 1 (the entries above)
    "pxsec check --baseline pxsec-baseline.json deploy/": Run("pxsec check --baseline pxsec-baseline.json deploy/"),
    "pxsec check --quiet --ignore PXS021 deploy/": Run("pxsec check --quiet --ignore PXS021 deploy/", 1),
    "pxsec render --check --diff --spec pxsec.yaml deploy/px.yaml":
        Run("pxsec render --check --diff --spec pxsec.yaml deploy/px.yaml", 1),
    # Audit a running cluster: audit_input needs an API server; what it prints is a v1 List
    PXSEC_KINDS: FLEET,
    "audit_input() {": FLEET,
    'kinds=$(kubectl "$@" api-resources --verbs=list -o name | grep -xE "$PXSEC_KINDS" | paste -sd, -)': FLEET,
    'kubectl "$@" get "$kinds" -A -o yaml': FLEET,
    "}": FLEET,
    "audit_input | pxsec check --require-workload -": LiveCheck("pxsec check --require-workload -"),
    'for ctx in prod stage; do audit_input --context "$ctx" > "$ctx.yaml"; done': Saved(("prod.yaml", "stage.yaml")),
    "pxsec check --require-workload --cluster prod=prod.yaml --cluster stage=stage.yaml --format junit=pxsec-fleet.xml "
    "--format text": Run("pxsec check --require-workload --cluster prod=prod.yaml --cluster stage=stage.yaml "
                         "--format junit=pxsec-fleet.xml --format text > fleet.txt", fresh=("pxsec-fleet.xml",),
                         then="grep -q '^cluster prod: 0 errors' fleet.txt && grep -q '^cluster stage: 0 errors' fleet.txt "
                              "&& grep -q 'testsuite name=\"\\[stage\\] PXS001' pxsec-fleet.xml"),
    # Enforce it in every cluster (tests/e2e/test_cluster_policy.py applies the policy to an API server)
    "pxsec policy --spec pxsec.yaml | kubectl apply -f -": Run("pxsec policy --spec pxsec.yaml", kubectl=True),
    "pxsec policy --spec pxsec.yaml --action Warn --namespace-selector pxsec.io/enforce=true -o pxsec-policy.yaml":
        Run("pxsec policy --spec pxsec.yaml --action Warn --namespace-selector pxsec.io/enforce=true "
            "-o pxsec-policy.yaml", fresh=("pxsec-policy.yaml",), writes="pxsec-policy.yaml",
            then=f"{PY} -c \"import yaml; (b,) = [d for d in yaml.safe_load_all(open('pxsec-policy.yaml')) "
                 "if d['kind'] == 'ValidatingAdmissionPolicyBinding']; assert b['spec']['validationActions'] == ['Warn']; "
                 "assert b['spec']['matchResources']['namespaceSelector']['matchLabels'] == {'pxsec.io/enforce': 'true'}\""),
    "pxsec policy --spec clusters/prod-a/pxsec.yaml > clusters/prod-a/pxsec-policy.yaml":
        Run("pxsec policy --spec clusters/prod-a/pxsec.yaml > clusters/prod-a/pxsec-policy.yaml",
            writes="clusters/prod-a/pxsec-policy.yaml"),
    "pxsec policy --spec clusters/prod-a/pxsec.yaml | diff -u clusters/prod-a/pxsec-policy.yaml -":
        Run("pxsec policy --spec clusters/prod-a/pxsec.yaml | diff -u clusters/prod-a/pxsec-policy.yaml -"),
    # Volumes, snapshots and migrations: a token Secret per tenant namespace
    "pxsec token generate --spec pxsec.yaml --role system.user --secret px-user-token -n tenant-a | kubectl apply -f -":
        Run("pxsec token generate --spec pxsec.yaml --role system.user --secret px-user-token -n tenant-a",
            kubectl=True),
    # Keys and tokens (its `export ... get secret pxsec-auth-keys ...` is First deployment's, continued on two lines)
    "pxsec keys generate --format env": Run("pxsec keys generate --format env"),
    "pxsec keys generate --spec pxsec.yaml --rsa --key-dir keys/": Run("pxsec keys generate --spec pxsec.yaml --rsa "
                                                                        "--key-dir keys/"),
    "pxsec token auth-config -o admin.yaml": Run("pxsec token auth-config -o admin.yaml", fresh=("admin.yaml",)),
    "pxsec token generate --spec pxsec.yaml --auth-config admin.yaml --lifetime 1d > admin.jwt":
        Run("pxsec token generate --spec pxsec.yaml --auth-config admin.yaml --lifetime 1d > admin.jwt"),
    # inline, in the text (fragments of a sentence: the rest of the command filled in here)
    "pxsec --help": Run("pxsec --help"),
    "pxsec --version": Run("pxsec --version"),
    "pxsec --install-completion": Covered("tests/test_cli_conventions.py"),  # writes to the user's shell rc
    "pxsec check -": LiveCheck("pxsec check -"),
    "pxsec check --strict": Run("pxsec check --strict", stdin="secured.yaml"),
    "pxsec render --diff": Run("pxsec render --diff --spec pxsec.yaml portworx.yaml"),
    "pxsec install helm-plugin --dir ~/.local/share/helm4/plugins": Covered("tests/e2e/test_install_helm_plugin.py"),
    "pxsec keys generate --spec pxsec.yaml -n kube-system":
        Run("pxsec keys generate --spec pxsec.yaml -n kube-system", kubectl=True),
}


def _drop_comment(line: str) -> str:
    return re.sub(r"\s+#\s.*$", "", line).strip()


def readme_commands() -> list[tuple[str, str]]:
    """(section, command) in README order: every line of the `sh` blocks, and inline `pxsec ...`
    spans with an option (a span with [, |, ... or / is a synopsis, and says which command exists)."""
    found, section = [], ""
    block = None  # the open fence's language ("" for a bare fence), None outside a block
    lines = README.read_text().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = line.strip()
        if fence.startswith("```"):
            block = fence[3:].strip() if block is None else None
            i += 1
            continue
        if block is not None and block not in ("sh", "bash"):
            i += 1
            continue
        if block is not None:
            while line.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                line = line.rstrip()[:-1].rstrip() + " " + lines[i].strip()
            command = _drop_comment(line)
            if command:
                found.append((section, command))
        else:
            if line.startswith("## "):
                section = line[3:].strip()
            for span in re.findall(r"`(pxsec [^`]*)`", line):
                if " -" in span and not re.search(r"\[|\\\||\.\.\. |/ |CONFIG", span.replace("pxsec patches ...", "")):
                    found.append((section, span))
                elif span == "pxsec patches ... | diff -u pxsec-patches.yaml -":
                    found.append((section, span))
        i += 1
    return found


def test_readme_extraction_finds_the_walkthrough():
    """The extractor itself: the walkthrough's commands and the inline token command are found."""
    got = [c for _, c in readme_commands()]
    assert "pxsec token verify --spec pxsec.yaml admin.jwt" in got
    assert ("pxsec token generate --spec pxsec.yaml --role system.user --secret px-user-token -n kube-system | "
            "kubectl apply -f -") in got
    assert got[0].startswith("python3 -m venv .venv") and got[1] == "bash scripts/test.sh"


def test_every_readme_command_is_listed():
    shown = {c for _, c in readme_commands()}
    missing = sorted(shown - README_COMMANDS.keys())
    assert not missing, f"README commands without an entry in README_COMMANDS (say how they are tested): {missing}"
    stale = sorted(README_COMMANDS.keys() - shown)
    assert not stale, f"README_COMMANDS entries the README no longer shows: {stale}"


# --- the workspace -------------------------------------------------------------------------------

def _pxsec_env(home: Path) -> dict:
    """An empty home, and `pxsec` on PATH: this interpreter's pxsec (the checkout under test)."""
    env = clean_env({"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
                     "XDG_CACHE_HOME": str(home / ".cache"), "HELM_CACHE_HOME": str(home / ".cache" / "helm")})
    bin_dir = home / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / "pxsec"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m pxsec "$@"\n')
    shim.chmod(0o755)
    env["PATH"] = str(bin_dir) + os.pathsep + env.get("PATH", "")
    return env


def _sh(shell: str, cwd: Path, env: dict, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-o", "pipefail", "-c", shell], cwd=cwd, env=env, input=stdin,
                          capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def base_workspace(tmp_path_factory):
    """A folder as a newcomer has it: the bundled example as portworx.yaml (and as deploy/px.yaml,
    rendered.yaml, manifests/), a spec from `pxsec init`, its rendered output, an admin token and
    committed Flux patches. Built once; each test gets a copy."""
    root = tmp_path_factory.mktemp("documented")
    ws, home = root / "ws", root / "home"
    home.mkdir()
    shutil.copytree(EXAMPLES, ws / "examples")
    example = (EXAMPLES / "portworx.yaml").read_bytes()
    for name in ("portworx.yaml", "deploy/px.yaml", "rendered.yaml", "manifests/portworx.yaml"):
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_bytes(example)
    (ws / "clusters" / "prod-a").mkdir(parents=True)
    env = _pxsec_env(home)
    env["PORTWORX_AUTH_JWT_SHAREDSECRET"] = SHARED
    for setup in ("pxsec init -o pxsec.yaml",
                  "pxsec render --spec pxsec.yaml portworx.yaml -o secured.yaml",
                  "pxsec token generate --spec pxsec.yaml --role system.admin -o admin.jwt",
                  "pxsec patches --spec pxsec.yaml --for kustomization rendered.yaml > pxsec-patches.yaml"):
        r = _sh(setup, ws, env)
        assert r.returncode == 0, (setup, r.stderr.decode())
    shutil.copy(ws / "pxsec.yaml", ws / "clusters" / "prod-a" / "pxsec.yaml")  # one cluster's spec (Flux)
    return ws


@pytest.fixture
def workspace(base_workspace, tmp_path):
    """A copy of the base workspace, with an empty home; the shared secret is not set (a README
    section that needs it exports it)."""
    ws, home = tmp_path / "ws", tmp_path / "home"
    shutil.copytree(base_workspace, ws)
    home.mkdir()
    return ws, _pxsec_env(home)


def _objects(text: str, what: str) -> list[dict]:
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    assert docs, f"{what}: no objects for kubectl"
    for d in docs:
        assert isinstance(d, dict) and d.get("apiVersion") and d.get("kind") and (d.get("metadata") or {}).get("name"), \
            f"{what}: not a Kubernetes object: {str(d)[:80]}"
    return docs


def perform(action, shown: str, ws: Path, env: dict) -> None:
    """Do what `action` says for the command `shown`; assert it behaved as documented."""
    if isinstance(action, (Covered, Shell)):
        return
    if isinstance(action, Env):
        m = re.search(r"get secret (\S+) .*\{\.data\.([^}]+)\}", shown)
        assert m, f"{shown}: no `get secret NAME ... {{.data.KEY}}`"
        secret = yaml.safe_load((ws / "pxsec.yaml").read_text())["spec"]["secret"]
        assert (m[1], m[2]) == (secret["name"], secret["keys"]["jwtSharedSecret"]), \
            f"{shown}: reads Secret {m[1]} key {m[2]}, but the spec's keys are in {secret['name']}"
        env[action.name] = action.value
        return
    if isinstance(action, Prose):
        name = re.match(r"pxsec [a-z-]+", shown)[0]
        r = _sh(f"{name} --help", ws, env)
        assert r.returncode == 0, f"`{shown}` names `{name}`, but `{name} --help` exits {r.returncode}"
        return
    if isinstance(action, Apply):
        _objects((ws / action.file).read_text(), shown)
        return
    if isinstance(action, (LiveCheck, Saved)):
        applied = _objects((ws / "secured.yaml").read_text(), "secured.yaml")
        live = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": applied})
        if isinstance(action, Saved):
            for name in action.files:
                (ws / name).write_text(live)
            return
        r = _sh(action.shell, ws, env, stdin=live.encode())
        assert r.returncode == action.code, (shown, r.stderr.decode())
        return
    assert isinstance(action, Run), action
    for name in action.fresh:
        (ws / name).unlink(missing_ok=True)
    stdin = (ws / action.stdin).read_bytes() if action.stdin else None
    r = _sh(action.shell, ws, env, stdin)
    assert r.returncode == action.code, f"`{shown}` exited {r.returncode}, not {action.code}: {r.stderr.decode()}"
    assert b"Traceback" not in r.stderr, shown
    if action.kubectl:
        assert r.returncode == 0
        _objects(r.stdout.decode(), shown)
    if action.writes:
        _objects((ws / action.writes).read_text(), shown)
    if action.then:
        r = _sh(action.then, ws, env)
        assert r.returncode == 0, f"`{shown}`: {action.then} exited {r.returncode}: {r.stderr.decode()}"


def _sections() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for section, command in readme_commands():
        out.setdefault(section, []).append(command)
    return out


@pytest.mark.parametrize("section", sorted(_sections()))
def test_readme_commands_run_as_written(section, workspace):
    """Each README section's commands, in order, in a fresh workspace (a reader follows one section).
    `pxsec init` sections start without a spec; the others with the one `pxsec init` writes."""
    ws, env = workspace
    commands = _sections()[section]
    if not any(isinstance(README_COMMANDS[c], Env) for c in commands):  # exported in an earlier section
        env["PORTWORX_AUTH_JWT_SHAREDSECRET"] = SHARED
    if any(c.startswith("pxsec init") for c in commands):
        (ws / "pxsec.yaml").unlink()
    if any("px-keys.yaml" in c and "-o px-keys.yaml" in c for c in commands):
        (ws / "px-keys.yaml").unlink(missing_ok=True)
    for command in commands:
        perform(README_COMMANDS[command], command, ws, env)


def test_the_walkthrough_token_is_the_one_render_asks_for(workspace):
    """The token Secret the walkthrough makes is what the StorageClasses name: px-user-token in
    kube-system, key auth-token, a token for role system.user named after the Secret, as the
    operator names its own (libopenstorage/operator component/auth.go `createToken`: name
    `<secret>`, email `<secret>@<issuer>`)."""
    import base64

    import jwt

    ws, env = workspace
    env = dict(env, PORTWORX_AUTH_JWT_SHAREDSECRET=SHARED)
    r = _sh("pxsec token generate --spec pxsec.yaml --role system.user --secret px-user-token -n kube-system", ws, env)
    assert r.returncode == 0, r.stderr.decode()
    (secret,) = _objects(r.stdout.decode(), "token Secret")
    assert (secret["kind"], secret["metadata"]["name"], secret["metadata"]["namespace"]) == \
        ("Secret", "px-user-token", "kube-system")
    claims = jwt.decode(base64.b64decode(secret["data"]["auth-token"]), SHARED, algorithms=["HS256"])
    assert (claims["name"], claims["email"], claims["roles"]) == \
        ("px-user-token", "px-user-token@openstorage.io", ["system.user"])
    sc = [d for d in _objects((ws / "secured.yaml").read_text(), "secured") if d["kind"] == "StorageClass"]
    assert sc and all(d["parameters"]["csi.storage.k8s.io/provisioner-secret-name"] == "px-user-token" for d in sc)


def test_covered_commands_name_real_tests():
    for action in README_COMMANDS.values():
        if isinstance(action, Covered):
            assert (ROOT / action.test.split("::")[0]).is_file(), action.test


# --- pxsec's own messages and help pages ---------------------------------------------------------

_CMD = re.compile(rf"pxsec (?:{SUBCOMMANDS})\b[^`\n]*")


def _strings(tree: ast.AST):
    """Every string constant and f-string (values as {}) of a module, docstrings left out."""
    skip = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                isinstance(body[0].value, ast.Constant) and isinstance(node, (ast.Module, ast.ClassDef,
                                                                               ast.FunctionDef, ast.AsyncFunctionDef)):
            skip.add(id(body[0].value))
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values)
            yield "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node.value


def _trim(text: str) -> str:
    """A command's end: a comment (two spaces), a sentence mark, a closing paren, `&&` or a pipe
    into something other than kubectl."""
    text = re.split(r"\s{2,}|; |\)|, | && |(?<!\.)\.$", text)[0]
    return text.strip()


def message_commands() -> set[str]:
    found = set()
    for path in sorted((ROOT / "renderer").rglob("*.py")):
        for s in _strings(ast.parse(path.read_text(), str(path))):
            for m in _CMD.finditer(s):
                found.add(_trim(m.group(0)))
    return found


def _is_a_name(text: str) -> bool:
    return re.fullmatch(rf"pxsec (?:{SUBCOMMANDS})(?: [a-z][a-z-]*)?", text) is not None and " -" not in text


# Filled by hand: SPEC/FILE/{path} -> pxsec.yaml, a manifest -> portworx.yaml, {} as the message fills it.
MESSAGE_COMMANDS: dict[str, object] = {
    "pxsec render --spec FILE": Run("pxsec render --spec pxsec.yaml", stdin="portworx.yaml"),
    "pxsec render --spec SPEC FILE": Run("pxsec render --spec pxsec.yaml portworx.yaml"),
    "pxsec render --spec SPEC FILE ...": Run("pxsec render --spec pxsec.yaml portworx.yaml deploy/px.yaml"),
    "pxsec render --spec SPEC": Run("pxsec render --spec pxsec.yaml", stdin="portworx.yaml"),
    "pxsec render --spec FILE [PATH ...]": Run("pxsec render --spec pxsec.yaml portworx.yaml"),
    "pxsec version and exit": Run("pxsec version"),  # --version's help: "Print the pxsec version and exit."
    "pxsec validate {}": Run("pxsec validate pxsec.yaml"),
    "pxsec render --spec pxsec.yaml manifests/ -o secured.yaml": Run("pxsec render --spec pxsec.yaml manifests/ -o "
                                                                    "secured.yaml"),
    "pxsec render --spec pxsec.yaml": Run("pxsec render --spec pxsec.yaml", stdin="portworx.yaml"),
    "pxsec validate pxsec.yaml": Run("pxsec validate pxsec.yaml"),
    "pxsec init --mode kustomize -o pxsec.yaml": Run("pxsec init --mode kustomize -o pxsec.yaml", fresh=("pxsec.yaml",)),
    "pxsec schema > portworxsecurity.schema.json": Run("pxsec schema > portworxsecurity.schema.json && "
                                                       "python3 -m json.tool portworxsecurity.schema.json > /dev/null"),
    "pxsec check --strict --spec pxsec.yaml --ignore PXS021": Run("pxsec check --strict --spec pxsec.yaml "
                                                                  "--ignore PXS021", stdin="secured.yaml"),
    "pxsec token generate --spec pxsec.yaml --name admin --email admin@example.com -r system.admin":
        Run("PORTWORX_AUTH_JWT_SHAREDSECRET=" + SHARED + " pxsec token generate --spec pxsec.yaml --name admin "
            "--email admin@example.com -r system.admin"),
    "pxsec token generate --spec pxsec.yaml --name admin --email admin@example.com -r system.admin --lifetime 1d":
        Run("PORTWORX_AUTH_JWT_SHAREDSECRET=" + SHARED + " pxsec token generate --spec pxsec.yaml --name admin "
            "--email admin@example.com -r system.admin --lifetime 1d"),
    "pxsec token verify --spec pxsec.yaml admin.jwt":
        Run("PORTWORX_AUTH_JWT_SHAREDSECRET=" + SHARED + " pxsec token verify --spec pxsec.yaml admin.jwt"),
    "pxsec keys generate --spec pxsec.yaml -n kube-system -o px-keys.yaml":
        Run("pxsec keys generate --spec pxsec.yaml -n kube-system -o px-keys.yaml", fresh=("px-keys.yaml",)),
    "pxsec install helm-plugin --helm helm4": Covered("tests/e2e/test_install_helm_plugin.py"),
    "pxsec patches --spec pxsec.yaml --for helmrelease": Run("pxsec patches --spec pxsec.yaml --for helmrelease",
                                                             stdin="portworx.yaml"),
    "pxsec keys generate --spec SPEC{}": Run("pxsec keys generate --spec pxsec.yaml -n kube-system", kubectl=True),
    "pxsec check --spec": Run("pxsec check --spec pxsec.yaml", stdin="secured.yaml"),
    "pxsec token generate --private-key": Covered("tests/test_tokens.py"),  # ::test_cli_generate_private_key...
    "pxsec token generate --spec SPEC --role system.user --secret {} -n {} | kubectl apply -f -":
        Run("PORTWORX_AUTH_JWT_SHAREDSECRET=" + SHARED + " pxsec token generate --spec pxsec.yaml --role system.user "
            "--secret px-user-token -n kube-system", kubectl=True),
    "pxsec check --strict --spec {path}": Run("pxsec check --strict --spec pxsec.yaml", stdin="secured.yaml"),
    "pxsec render --spec {path} -o secured.yaml": Run("pxsec render --spec pxsec.yaml -o secured.yaml",
                                                      stdin="portworx.yaml"),
    "pxsec check --strict --spec {path} secured.yaml": Run("pxsec check --strict --spec pxsec.yaml secured.yaml"),
    # operator_warnings: "create it (pxsec token generate --secret)"
    "pxsec token generate --secret": Run("PORTWORX_AUTH_JWT_SHAREDSECRET=" + SHARED + " pxsec token generate --spec "
                                         "pxsec.yaml --role system.user --secret px-user-token -n kube-system",
                                         kubectl=True),
    # `pxsec policy --help`'s example
    "pxsec policy --spec pxsec.yaml --namespace-selector pxsec.io/enforce=true | kubectl apply -f -":
        Run("pxsec policy --spec pxsec.yaml --namespace-selector pxsec.io/enforce=true", kubectl=True),
    # the policy's denial messages say what render does with such an object: sentences, not commands
    "pxsec render refuses StorageClusters with this spec: {}": Prose(),
    "pxsec render refuses this": Prose(),
    "pxsec render removes it": Prose(),
    "pxsec render removes them": Prose(),
}


def test_every_message_command_is_listed():
    found = {c for c in message_commands() if not _is_a_name(c)}
    missing = sorted(found - MESSAGE_COMMANDS.keys())
    assert not missing, f"commands in pxsec's messages without an entry in MESSAGE_COMMANDS: {missing}"
    stale = sorted(MESSAGE_COMMANDS.keys() - found)
    assert not stale, f"MESSAGE_COMMANDS entries no message prints any more: {stale}"


def test_message_extraction_finds_the_token_secret_command():
    assert "pxsec token generate --spec SPEC --role system.user --secret {} -n {} | kubectl apply -f -" in \
        message_commands()


def test_every_command_a_message_names_exists(workspace):
    ws, env = workspace
    names = sorted(c for c in message_commands() if _is_a_name(c))
    assert "pxsec keys generate" in names
    for name in names:
        r = _sh(f"{name} --help", ws, env)
        assert r.returncode == 0, f"`{name}` is named in a message but `{name} --help` exits {r.returncode}"


@pytest.mark.parametrize("shown", sorted(MESSAGE_COMMANDS))
def test_message_commands_run_as_written(shown, workspace):
    ws, env = workspace
    perform(MESSAGE_COMMANDS[shown], shown, ws, env)
