"""Property tests of the KRM function mode (`pxsec` with no arguments, a ResourceList on stdin),
in-process. Skipped while renderer/adapters/krm.py does not exist.

Contract here (the KRM spec differs from `render` on failure): exit 0, 1 or 2; no traceback or
internal error; no canary secret on stderr; exit 1 prints one error line on stderr and either
nothing on stdout or a ResourceList whose items are the input items unchanged (never an empty
item list: kustomize/kpt would delete every resource) with an error result; exit 0 prints a
ResourceList that, fed back in, yields the same items again.

Budget: ResourceLists of random items with random specs 2,000 + raw malformed/odd stdin 800.
"""
from __future__ import annotations

import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from . import oracle
from . import strategies as s
from .harness import (CANARIES, SHORT_CANARIES, assert_no_crash, assert_one_line_error, count, hypothesis_settings,
                      known_bug, outcome, run_inprocess, scaled)


SETTINGS = hypothesis_settings()
BUDGET = scaled({"krm_lists": 2000, "krm_raw": 800})

ORCHESTRATOR_ANNOTATIONS = {
    "config.kubernetes.io/index": "0", "config.kubernetes.io/path": "px.yaml",
    "internal.config.kubernetes.io/index": "0", "internal.config.kubernetes.io/path": "px.yaml",
    "internal.config.kubernetes.io/id": "1", "config.k8s.io/id": "1",
}


def resource_list(r, items: list, spec: dict | None) -> dict:
    out: dict = {"apiVersion": r.choice(["config.kubernetes.io/v1", "config.kubernetes.io/v1beta1"]),
                 "kind": "ResourceList", "items": items}
    if spec is not None:
        if s.chance(r, 0.3) and isinstance(spec, dict) and isinstance(spec.get("metadata"), dict):
            spec = {**spec, "metadata": {**spec["metadata"], "annotations": {
                "config.kubernetes.io/function": "exec: {path: pxsec}", "config.kubernetes.io/local-config": "true"}}}
        out["functionConfig"] = spec
    return out


def gen_case(r):
    items = [o for o in s.manifest_objects(r) if isinstance(o, dict) or s.chance(r, 0.1)]
    for i, item in enumerate(items):
        if isinstance(item, dict) and isinstance(item.get("metadata"), dict) and s.chance(r, 0.5):
            ann = item["metadata"].setdefault("annotations", {})
            if isinstance(ann, dict):
                ann.update({k: (str(i) if "index" in k or "id" in k else v) for k, v in ORCHESTRATOR_ANNOTATIONS.items()})
    spec_kind = r.random()
    if spec_kind < 0.5:
        spec = s.gen_spec_doc(r)
    elif spec_kind < 0.8:
        spec = s.create_secret_spec(s.valid_spec_body(r))
    elif spec_kind < 0.9:
        spec = None  # no functionConfig: PXSEC_SPEC unset, an error
    else:
        spec = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "function-input"},
                "data": {"spec": r.choice(["missing.yaml", "", "/dev/null"])}}
    doc = resource_list(r, items, spec)
    text = yaml.dump(doc, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=r.choice([False, None]))
    return text, r.choice([CANARIES, SHORT_CANARIES])


def items_of(stdout: bytes):
    root = yaml.load(stdout.decode("utf-8"), Loader=yaml.CSafeLoader)
    assert isinstance(root, dict) and root.get("kind") == "ResourceList", f"not a ResourceList: {stdout[:300]!r}"
    return root


def check_krm(stdin: bytes, env: dict, name: str) -> None:
    o = run_inprocess([], stdin, env)
    assert_no_crash(o, env)
    outcome(name, o.code)
    if o.code == 1:
        assert_one_line_error(o)
        if o.stdout:
            root = items_of(o.stdout)
            assert any(isinstance(x, dict) and x.get("severity") == "error" for x in root.get("results") or []), \
                "exit 1 with a ResourceList but no error result"
            try:
                before = yaml.load(stdin.decode("utf-8"), Loader=yaml.CSafeLoader)
            except Exception:  # noqa: BLE001 - stdin the loader cannot construct: nothing to compare
                before = None
            if isinstance(before, dict) and isinstance(before.get("items"), list):
                assert root.get("items") == before["items"], "on failure the items must go back unchanged"
    if o.code == 0:
        first = items_of(o.stdout)
        assert isinstance(first.get("items"), list)
        again = run_inprocess([], o.stdout, env)
        assert_no_crash(again, env)
        assert again.code == 0, f"the output does not go through again: {again.stderr!r}"
        assert items_of(again.stdout)["items"] == first["items"], "items change on a second run (not idempotent)"
        try:
            fc = yaml.load(stdin.decode("utf-8"), Loader=yaml.CSafeLoader).get("functionConfig")
        except Exception:  # noqa: BLE001 - a functionConfig the checker cannot read: nothing to check against
            fc = None
        if isinstance(fc, dict) and fc.get("kind") == "PortworxSecurity":  # the spec is known: check the output
            oracle.record(name, "", stdin, o.stdout, krm=True)


@settings(max_examples=BUDGET["krm_lists"], **SETTINGS)
@given(case=s.seeds.map(gen_case))
def test_resource_lists(case):
    text, env = case
    assume(not known_bug(stream=text))
    assume(not known_bug(spec=text))  # the functionConfig is a spec
    count("krm_lists")
    check_krm(text.encode("utf-8"), env, "krm_lists")


RAW = st.one_of(
    s.malformed_bytes(),
    s.odd_yaml_bytes(),
    st.sampled_from([b"", b"\n", b"---\n", b"kind: ResourceList\n", b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n",
                     b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: 3\n",
                     b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [1]\n",
                     b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig: 3\n",
                     b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n---\nkind: ResourceList\n"]),
)


@settings(max_examples=BUDGET["krm_raw"], **SETTINGS)
@given(data=RAW)
def test_raw_stdin(data):
    assume(not known_bug(stream=data))
    count("krm_raw")
    check_krm(data, CANARIES, "krm_raw")
