"""The KRM function's `results` for every golden case, checked against
tests/cases/<case>/results.yaml, as the kpt function catalog checks each function example's
`.expected/results.yaml`.

Each case's input documents become the items of a ResourceList (composed and re-serialized as
nodes, as kpt sends them), its spec the functionConfig; the function runs in process. A case
whose input is no set of KRM objects (not YAML, or a document that is not a mapping) cannot be a
ResourceList: those are named in NOT_KRM, and a test fails if that list goes stale.
Regenerate with PXSEC_UPDATE_GOLDEN=1 and review the diff. Results name objects and fields,
never values: a test checks the case's env values never appear."""
from __future__ import annotations

import io
import os

import pytest
import yaml

from conftest import ROOT, read_env_file
from pxsec import portworx as px
from pxsec.adapters import krm
from pxsec.errors import PxsecError

CASES = ROOT / "tests" / "cases"
UPDATE = os.environ.get("PXSEC_UPDATE_GOLDEN") == "1"
ALL = sorted([p.name for p in CASES.iterdir() if p.is_dir() and p.name != "errors"]
             + [f"errors/{p.name}" for p in (CASES / "errors").iterdir() if p.is_dir()])
# inputs that are not a set of KRM objects (a syntax error, a bare scalar, ...): no ResourceList
# The one case whose exit differs in KRM mode: kpt and kustomize read the functionConfig with
# go-yaml v3, which refuses a duplicate key before pxsec runs; PyYAML (pxsec's reader here) keeps
# the last value, so pxsec itself sees a valid spec.
# Stream-level refusals (apimachinery's splitting) do not exist in KRM mode: kpt/kustomize hand
# pxsec items, already split.
EXIT = {"errors/spec-duplicate-key": 0, "errors/cr-only-document-markers": 0, "errors/directives-after-end-marker": 0}
NOT_KRM = {"errors/malformed-yaml", "errors/not-utf8", "errors/nul-character", "passthrough",
           "errors/invalid-separator", "k8s-json-stream"}


def items_of(raw: bytes) -> list | None:
    try:
        text = raw.decode("utf-8")
        nodes = [n for n in yaml.compose_all(text, Loader=yaml.CSafeLoader) if n is not None]
    except (UnicodeDecodeError, yaml.YAMLError):
        return None
    if not all(isinstance(n, yaml.MappingNode) for n in nodes):
        return None
    stack, seen = list(nodes), set()
    while stack:  # block style, as kpt writes items: a plain scalar stays plain (`12:30`, `=`)
        node = stack.pop()
        if id(node) in seen:  # an alias: shared, not walked again (alias bombs)
            continue
        seen.add(id(node))
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            node.flow_style = False
            stack += [c for kv in node.value for c in kv] if isinstance(node, yaml.MappingNode) else node.value
    return nodes


def resource_list(case: str) -> bytes:
    d = CASES / case
    items = items_of((d / "input.yaml").read_bytes())
    spec = yaml.compose((d / "spec.yaml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    root = yaml.MappingNode("tag:yaml.org,2002:map", [
        (yaml.ScalarNode("tag:yaml.org,2002:str", "apiVersion"), yaml.ScalarNode("tag:yaml.org,2002:str",
                                                                                 "config.kubernetes.io/v1")),
        (yaml.ScalarNode("tag:yaml.org,2002:str", "kind"), yaml.ScalarNode("tag:yaml.org,2002:str", "ResourceList")),
        (yaml.ScalarNode("tag:yaml.org,2002:str", "items"), yaml.SequenceNode("tag:yaml.org,2002:seq", items)),
        (yaml.ScalarNode("tag:yaml.org,2002:str", "functionConfig"), spec)])
    return yaml.serialize(root, Dumper=yaml.CSafeDumper, allow_unicode=True).encode()


def test_not_krm_names_exactly_the_cases_that_cannot_be_a_resource_list():
    cannot = {c for c in ALL if items_of((CASES / c / "input.yaml").read_bytes()) is None}
    assert cannot == NOT_KRM


@pytest.mark.parametrize("case", [c for c in ALL if c not in NOT_KRM])
def test_results(case, monkeypatch):
    d = CASES / case
    env = read_env_file(d / "env")
    for name in px.SECRET_ENV:
        monkeypatch.delenv(name, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(d)  # spec paths (public keys) are relative to the case, as for `render`
    out = io.BytesIO()
    try:
        code = krm.run(io.BytesIO(resource_list(case)), out)
    except PxsecError:
        code = 1
    assert code == EXIT.get(case, 1 if case.startswith("errors/") else 0)
    root = yaml.compose(out.getvalue().decode(), Loader=yaml.CSafeLoader)
    [found] = [v for k, v in root.value if k.value == "results"]
    results = yaml.safe_dump(yaml.safe_load(yaml.serialize(found)), sort_keys=False, allow_unicode=True,
                             width=1 << 16)
    for value in env.values():
        assert value not in results
    golden = d / "results.yaml"
    if UPDATE:
        golden.write_text(results, encoding="utf-8")
    assert golden.is_file(), f"missing golden file {golden}; run with PXSEC_UPDATE_GOLDEN=1"
    assert results == golden.read_text(encoding="utf-8")
