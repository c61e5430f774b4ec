"""Kubernetes' API server as the oracle for what pxsec writes (the session's cluster, cluster.py).

- Every corpus file (../shared/corpus), rendered with each spec below, and every golden output
  (tests/cases/*/want.yaml, tests/e2e/cases/*/want*.yaml) goes through
  `kubectl apply --dry-run=server`: admission, defaulting, strict field validation, the
  StorageCluster CRD's schema. An error the input did not already have fails the test.
- Every field pxsec writes into a StorageCluster survives the CRD's pruning, for the corpus's
  copy of the CRD and the Portworx chart's (the server may add defaults).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import CORPUS, corpus_files, require_corpus

from pxsec.render import stream

from .cluster import CHART_CRD, CORPUS_CRD, require_shared
from .support import CASES as E2E_CASES, KUSTOMIZE_BASE, REPO, run

pytestmark = pytest.mark.e2e

UNIT_CASES = REPO / "tests" / "cases"
from test_corpus import SPECS as _CORPUS_SPECS  # noqa: E402 - the corpus specs, stated once

SPECS = {k: _CORPUS_SPECS[k] for k in ("example", "everything")}
CONTINUATIONS = {"ensure CRDs are installed first"}


# --- helpers ------------------------------------------------------------------------------------

def load_all(text: str) -> list[dict]:
    """Objects as Kubernetes reads them (kyaml), not PyYAML: `value: =` is a string there."""
    return [v for d in stream.parse(text, "<test>") if d.node is not None and isinstance(v := d.view(), dict)]


def ensure_namespaces(cluster, text: str) -> None:
    for ns in sorted({(d.get("metadata") or {}).get("namespace") for d in load_all(text)} - {None}):
        cluster.create_namespace(str(ns))


_errors: dict[tuple, set[str]] = {}  # (installed CRD, stream) -> errors: inputs recur across tests


def server_errors(cluster, text: str) -> set[str]:
    """The errors `kubectl apply --dry-run=server` reports for a stream (warnings aside); one
    error spans its continuation lines (`* field: ...`, `ensure CRDs are installed first`)."""
    key = (cluster.crd, text)
    if key not in _errors:
        _errors[key] = _server_errors(cluster, text)
    return _errors[key]


def _server_errors(cluster, text: str) -> set[str]:
    ensure_namespaces(cluster, text)
    proc = cluster.kubectl("apply", "--dry-run=server", "-o", "name", "-f", "-", input=text, check=False)
    errors: list[str] = []
    for line in proc.stderr.splitlines():
        if line.startswith("Warning:") or not line.strip():
            continue
        if errors and (line[0].isspace() or line.startswith("* ") or line in CONTINUATIONS):
            errors[-1] += "\n" + line
        else:
            errors.append(line)
    assert proc.returncode == 0 or errors, f"kubectl exited {proc.returncode} without an error:\n{proc.stderr}"
    return set(errors)


def render(e2e, spec_name: str, path: Path) -> str:
    spec = e2e.tmp / f"{spec_name}.yaml"
    spec.write_text(SPECS[spec_name])
    return run(["pxsec", "render", "--spec", str(spec), str(path)], e2e.env(secrets=True)).stdout


def assert_no_new_errors(before: set[str], after: set[str], what: str) -> None:
    new = sorted(after - before)
    assert not new, f"{what}: the API server rejects what pxsec wrote (the input had no such error):\n" + \
        "\n".join(new)


def tree_to_stream(text: str) -> str:
    """A kpt golden (files under `# === path ===` lines) as one YAML stream."""
    return re.sub(r"(?m)^# === .* ===\n", "---\n", text)


# --- corpus -------------------------------------------------------------------------------------

CORPUS_FILES = corpus_files()


@pytest.mark.parametrize("spec_name", sorted(SPECS))
@pytest.mark.parametrize("path", CORPUS_FILES, ids=[str(p.relative_to(CORPUS)) for p in CORPUS_FILES])
def test_corpus_output_is_accepted_by_the_api_server(e2e, cluster, storagecluster_crd, path, spec_name):
    assert_no_new_errors(server_errors(cluster, path.read_text()), server_errors(cluster, render(e2e, spec_name, path)),
                         f"{path.name} rendered with the {spec_name!r} spec")


def test_the_corpus_is_there():
    require_corpus()
    assert CORPUS_FILES


# --- goldens ------------------------------------------------------------------------------------

UNIT_GOLDENS = sorted(p for p in UNIT_CASES.glob("*/want.yaml") if (p.parent / "input.yaml").is_file())
E2E_GOLDENS = sorted(E2E_CASES.glob("*/want*.yaml"))


@pytest.mark.parametrize("want", UNIT_GOLDENS, ids=[p.parent.name for p in UNIT_GOLDENS])
def test_unit_golden_is_accepted_by_the_api_server(cluster, storagecluster_crd, want):
    assert_no_new_errors(server_errors(cluster, (want.parent / "input.yaml").read_text()),
                         server_errors(cluster, want.read_text()), str(want.relative_to(REPO)))


@pytest.mark.parametrize("want", E2E_GOLDENS, ids=[f"{p.parent.name}/{p.name}" for p in E2E_GOLDENS])
def test_e2e_golden_is_accepted_by_the_api_server(cluster, storagecluster_crd, want):
    base = "---\n".join(p.read_text() for p in sorted(KUSTOMIZE_BASE.glob("*.yaml"))
                        if p.name != "kustomization.yaml")  # the chart, rendered: every case's input
    text = want.read_text()
    assert_no_new_errors(server_errors(cluster, base),
                         server_errors(cluster, tree_to_stream(text) if want.parent.name == "kpt" else text),
                         str(want.relative_to(REPO)))


def test_goldens_are_found():
    assert len(UNIT_GOLDENS) >= 10 and len(E2E_GOLDENS) >= 6, (UNIT_GOLDENS, E2E_GOLDENS)


# --- YAML 1.1 scalars -----------------------------------------------------------------------------

SCALARS = REPO / "tests" / "e2e" / "fixtures" / "yaml11-scalars" / "workloads.yaml"


def env_values(obj: dict) -> dict[tuple, object]:
    spec = obj["spec"]
    if obj["kind"] == "StorageCluster":
        lists = {"spec.env": spec.get("env"), "spec.stork.env": (spec.get("stork") or {}).get("env")}
    else:
        lists = {c["name"]: c.get("env") for c in spec["template"]["spec"]["containers"]}
    return {(where, e["name"]): e.get("value", "") for where, env in lists.items() for e in env or []}  # "" is omitted


@pytest.mark.parametrize("spec_name", sorted(SPECS))
def test_quoted_yaml11_scalars_reach_the_api_server_as_the_same_strings(e2e, cluster, storagecluster_crd, spec_name):
    """`"y"`, `"on"`, `"0755"`... in the env lists and args pxsec rewrites: Kubernetes accepts the
    output and stores the very strings of the input (an unquoted `y` would be a bool, refused)."""
    source = SCALARS.read_text()
    assert server_errors(cluster, source) == set()
    out = render(e2e, spec_name, SCALARS)
    assert server_errors(cluster, out) == set()
    ensure_namespaces(cluster, out)
    printed = json.loads(cluster.kubectl("apply", "--dry-run=server", "-o", "json", "-f", "-", input=out).stdout)
    stored = {o["kind"]: o for o in printed["items"]}
    for doc in load_all(source):
        want = env_values(doc)
        got = env_values(stored[doc["kind"]])
        assert all(isinstance(v, str) for v in want.values()), want  # the fixture quotes them all
        assert {k: got.get(k) for k in want} == want, doc["kind"]
        if doc["kind"] == "DaemonSet":
            args = stored["DaemonSet"]["spec"]["template"]["spec"]["containers"][0]["args"]
            assert args[:8] == doc["spec"]["template"]["spec"]["containers"][0]["args"]


# --- StorageCluster pruning --------------------------------------------------------------------

def leaves(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from leaves(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from leaves(v, path + (i,))
    else:
        yield path, node


def storageclusters(text: str) -> dict[tuple, dict]:
    return {(d["metadata"].get("namespace"), d["metadata"]["name"]): d for d in load_all(text)
            if d.get("kind") == "StorageCluster"}


def storagecluster_inputs() -> list[Path]:
    found = [p for p in corpus_files() if "kind: StorageCluster" in p.read_text() and storageclusters(p.read_text())]
    return found + sorted(UNIT_CASES.glob("storagecluster*/input.yaml"))


def stored_storageclusters(cluster, text: str) -> dict[tuple, dict]:
    """The StorageClusters of `text` as the API server would store them: defaulted, and pruned of
    fields the CRD does not have (--validate=ignore: pruned silently, not refused)."""
    only = yaml.safe_dump_all(list(storageclusters(text).values()), sort_keys=False)
    ensure_namespaces(cluster, only)
    proc = cluster.kubectl("apply", "--dry-run=server", "--validate=ignore", "-o", "json", "-f", "-", input=only)
    printed = json.loads(proc.stdout)
    return {(o["metadata"].get("namespace"), o["metadata"]["name"]): o
            for o in (printed["items"] if printed.get("kind") == "List" else [printed])}


INPUTS = storagecluster_inputs()


# crd is the outer loop (the last decorator), so the CRD is swapped only twice
@pytest.mark.parametrize("path", INPUTS, ids=[p.name if p.is_relative_to(CORPUS) else p.parent.name for p in INPUTS])
@pytest.mark.parametrize("crd", [CORPUS_CRD, CHART_CRD], ids=["corpus-crd", "chart-9.1.1-crd"])
def test_every_field_pxsec_writes_into_a_storagecluster_survives_pruning(e2e, cluster, crd, path):
    """A field pxsec adds or changes must reach the operator. The only exception: a field the
    input already had that this CRD does not know (pruned from the input too); pxsec may keep
    such a field consistent (e.g. the old `auth.enabled`, or `nodes[].miscArgs` on old CRDs)."""
    cluster.install_crd(require_shared(crd))
    before = storageclusters(path.read_text())
    assert before, path
    before_kept = stored_storageclusters(cluster, path.read_text())
    lost, checked = [], 0
    for spec_name in sorted(SPECS):
        out = render(e2e, spec_name, path)
        stored = stored_storageclusters(cluster, out)
        for key, obj in storageclusters(out).items():
            old, old_kept = dict(leaves(before.get(key, {}))), dict(leaves(before_kept.get(key, {})))
            written = {p: v for p, v in leaves(obj) if p[:1] == ("spec",) and old.get(p, object()) != v
                       and not (p in old and p not in old_kept)}
            kept = dict(leaves(stored[key]))
            checked += len(written)
            lost += [f"[{spec_name}] {key}: {'.'.join(map(str, p))} = {v!r} -> {kept.get(p, '(pruned)')!r}"
                     for p, v in written.items() if kept.get(p, object()) != v]
    assert checked, "pxsec wrote no StorageCluster field: the test would prove nothing"
    assert not lost, "the API server dropped or changed fields pxsec wrote:\n" + "\n".join(lost)
