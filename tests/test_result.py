"""render's result (pxsec.render.result, pxsec.render.pipeline.render_stream): one document pair per input
document, so no caller parses render's text again.

The pairs are what check's drift, `pxsec patches`, the KRM function and the legacy plugin
compare; these tests pin what a pair holds."""
from __future__ import annotations

import ast
from pathlib import Path

import yaml

from pxsec.render import pipeline
from pxsec import spec as specmod
from pxsec.render.stream import Stream

ROOT = Path(__file__).resolve().parent.parent
SPEC = specmod.from_document(yaml.safe_load("""
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
metadata: {name: s}
spec:
  stork: {enabled: false}
  selfSigned: {issuer: openstorage.io, sharedSecret: true}
"""), "<spec>")
CREATE = specmod.from_document(yaml.safe_load("""
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
metadata: {name: s}
spec:
  secret: {create: true}
  stork: {enabled: false}
  selfSigned: {issuer: openstorage.io, sharedSecret: true}
"""), "<spec>")
DS = """apiVersion: apps/v1
kind: DaemonSet
metadata: {name: portworx, namespace: kube-system}
spec:
  template:
    spec:
      containers:
      - name: portworx
        image: portworx/oci-monitor:2.9.0
        args: ["-c", "px"]
"""
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {ratio: 100%}\n"
LIST = ("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: x}}\n"
        + "- " + DS.replace("\n", "\n  ").rstrip() + "\n")


def _env(obj):
    [ct] = obj["spec"]["template"]["spec"]["containers"]
    return [e["name"] for e in ct.get("env", [])]


def test_one_pair_per_input_document_in_order():
    result = pipeline.render([("in.yaml", "# head\n---\n" + CM + "---\n" + DS)], SPEC)
    assert [(p.before["kind"], p.changed) for p in result.pairs] == [("ConfigMap", False), ("DaemonSet", True)]
    cm, ds = result.pairs
    assert cm.after is cm.before and cm.before == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                                    "data": {"ratio": "100%"}}
    assert cm.report is None
    assert _env(ds.before) == [] and "PORTWORX_AUTH_SYSTEM_KEY" in _env(ds.after)
    assert ds.after["spec"]["template"]["spec"]["containers"][0]["args"][-2:] == ["-jwt_issuer", "openstorage.io"]
    assert "added env PORTWORX_AUTH_SYSTEM_KEY" in ds.report.changes


def test_a_document_render_passed_over_is_read_when_a_caller_asks():
    """render composes only the documents it may change; `before` composes the others on demand."""
    result = pipeline.render([("in.yaml", CM + "---\n" + DS)], SPEC)
    cm = result.pairs[0]
    assert cm.document.node is None and cm.before["data"] == {"ratio": "100%"}


def test_list_items_get_their_own_pairs():
    [pair] = pipeline.render([("in.yaml", LIST)], SPEC).pairs
    assert pair.changed and [(p.item, p.changed) for p in pair.items] == [(0, False), (1, True)]
    assert pair.items[1].location.field == "items[1]"
    assert "PORTWORX_AUTH_SYSTEM_KEY" in _env(pair.items[1].after) and _env(pair.items[1].before) == []
    assert pair.items[0].after == pair.items[0].before


def test_changed_pairs_are_the_pairs_render_changed_made_alone():
    """check's drift reads only these: no Pair for each document render passed over."""
    text = "# head\n---\n" + CM + "---\n" + LIST + "---\n" + DS + "---\n" + CM
    alone = pipeline.render([("in.yaml", text)], SPEC)
    changed = alone.changed_pairs
    assert alone._pairs is None  # made without the whole list
    assert [(p.document.index, p.changed, [i.changed for i in p.items]) for p in changed] == \
        [(1, True, [False, True]), (2, True, [])]
    full = pipeline.render([("in.yaml", text)], SPEC)
    assert [(p.document.index, p.changed) for p in full.pairs if p.changed] == \
        [(p.document.index, p.changed) for p in full.changed_pairs] == [(1, True), (2, True)]
    assert [p.after for p in changed] == [p.after for p in full.changed_pairs]


def test_generated_documents_carry_their_objects():
    env = {var: "x" * 64 for _, var in __import__("pxsec.render.generated_secret").render.generated_secret.needed(CREATE)}
    result = pipeline.render([("in.yaml", DS)], CREATE, environ=env)
    [gen] = result.generated_documents
    assert gen.generated and gen.obj["kind"] == "Secret" and gen.obj["metadata"]["namespace"] == "kube-system"
    assert len(result.pairs) == 1  # generated documents are not input pairs


def test_render_stream_takes_a_stream_parsed_by_the_caller():
    """A stream parsed without render's role function (as check parses) renders the same."""
    text = CM + "---\n" + LIST + "---\n" + DS
    stream = Stream.from_sources([("in.yaml", text)])
    assert pipeline.render_stream(stream, SPEC).text == pipeline.render([("in.yaml", text)], SPEC).text


def test_no_caller_reads_renders_text_back():
    """drift, Flux, KRM and legacy compare pairs: none of them parses `result.text`, and none
    has its own "does not line up" error."""
    for rel in ("audit/drift.py", "flux/__init__.py", "adapters/krm.py", "adapters/legacy.py"):
        source = (ROOT / "renderer" / rel).read_text(encoding="utf-8")
        assert "does not line up" not in source, rel
        tree = ast.parse(source)
        written = {id(n) for call in ast.walk(tree) if isinstance(call, ast.Call)
                   and getattr(call.func, "id", None) == "write_stream" for n in ast.walk(call)}
        read = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "text"
                and isinstance(n.value, ast.Name) and n.value.id == "result" and id(n) not in written]
        assert read == [], (rel, read)
