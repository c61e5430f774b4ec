"""Changed documents are edited in place: comments, quoting and flow style elsewhere survive."""
from __future__ import annotations

import yaml

from conftest import CORPUS, require_corpus
from pxsec.kubeyaml import kyaml
from pxsec.render import patch, pipeline, stream
from pxsec import spec as specmod

SPEC = specmod.build({"selfSigned": {"issuer": "openstorage.io", "sharedSecret": True}, "usernameClaim": "email"})


def edit(text, mutate):
    """Compose and construct as the render path does: Kubernetes' reading (kyaml)."""
    node = yaml.compose(text, Loader=stream._SyntaxLoader)
    old = kyaml.construct(node)
    new = kyaml.unshare(kyaml.construct(node))
    mutate(new)
    return patch.patch(text, node, old, new), new


def test_comments_inside_a_secured_daemonset_survive():
    require_corpus()
    path = CORPUS / "manifests" / "px-daemonset-spec-all-components-csi-stork-autopilot-px2.8.yaml"
    out = pipeline.render([(path.name, path.read_text())], SPEC).text
    docs = {(d.kind, d.name): d for d in stream.parse(out, "out")}
    ds = docs[("DaemonSet", "portworx")].text
    assert "initialDelaySeconds: 840 # allow image pull in slow networks" in ds
    assert '- name: "PX_TEMPLATE_VERSION"' in ds  # original quoting kept
    assert '["-c", "px-cluster", "-a", "-b", "-x", "kubernetes", "-jwt_issuer", "openstorage.io", ' \
           '"-username_claim", "email"]' in ds


def test_appends_to_block_sequence_and_inserts_keys():
    text = "a:\n  # keep me\n  list:\n  - x: 1  # one\n  - x: 2\nb: c\n"
    out, new = edit(text, lambda o: (o["a"]["list"].append({"x": 3}), o["a"].__setitem__("added", ["v"])))
    assert out == "a:\n  # keep me\n  list:\n  - x: 1  # one\n  - x: 2\n  - x: 3\n  added:\n  - v\nb: c\n"


def test_crlf_documents_stay_crlf():
    text = "a:\r\n  b: 1\r\n"
    out, _ = edit(text, lambda o: o["a"].__setitem__("c", 2))
    assert out == "a:\r\n  b: 1\r\n  c: 2\r\n"


def test_removed_key_rewrites_only_that_mapping():
    text = "env:\n- name: A  # first\n  value: x\n- name: B\n  value: y  # second\n"
    out, _ = edit(text, lambda o: o["env"][1].pop("value") and o["env"][1].__setitem__("valueFrom", {"k": 1}))
    assert out.startswith("env:\n- name: A  # first\n  value: x\n")
    assert yaml.safe_load(out) == {"env": [{"name": "A", "value": "x"}, {"name": "B", "valueFrom": {"k": 1}}]}


def test_merge_keys_are_rewritten_locally_and_render_stays_right():
    # a mapping with a merge key cannot be edited key by key: that mapping alone is rewritten
    text = ("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: portworx}  # note\nspec:\n  template:\n"
            "    spec:\n      containers:\n      - {name: portworx, image: portworx/oci-monitor:3.1.0}\n"
            "      x: &m {a: 1}\n      w:\n        <<: *m\n        b: 2\n")
    out, new = edit(text, lambda o: o["spec"]["template"]["spec"]["w"].__setitem__("b", 3))
    assert out == text.replace("        <<: *m\n        b: 2\n", "        a: 1\n        b: 3\n")
    rendered = pipeline.render([("in", text)], SPEC).text
    obj = yaml.safe_load(rendered)
    assert obj["spec"]["template"]["spec"]["containers"][0]["args"] == ["-jwt_issuer", "openstorage.io",
                                                                         "-username_claim", "email"]
    assert "metadata: {name: portworx}  # note" in rendered


def test_overlapping_or_unverifiable_edits_are_declined():
    # a document that is one flow mapping with nested values has no block to rewrite: declined,
    # and render falls back to dumping the whole document
    text = "{a: {b: 1}}\n"
    node = yaml.compose(text, Loader=yaml.CSafeLoader)
    assert patch.patch(text, node, {"a": {"b": 1}}, {"a": {"b": 2}, "c": [{"d": 1}]}) is None
    flow_ds = ('{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: portworx}, spec: {template: {spec: '
               '{containers: [{name: portworx, image: "portworx/oci-monitor:3.1.0"}]}}}}\n')
    obj = yaml.safe_load(pipeline.render([("in", flow_ds)], SPEC).text)
    assert obj["spec"]["template"]["spec"]["containers"][0]["env"][0]["name"] == "PORTWORX_AUTH_SYSTEM_KEY"


def test_render_patches_each_changed_document_once(monkeypatch):
    """Render's proof reads back the text join then writes: Document.emit makes it once (it
    patched and re-read each target twice before), and both see the same text."""
    require_corpus()
    path = CORPUS / "manifests" / "px-daemonset-spec-all-components-csi-stork-autopilot-px2.8.yaml"
    calls: list[str] = []
    real = patch.patch_read

    def counting(text, *args):
        calls.append(text)
        return real(text, *args)

    monkeypatch.setattr(patch, "patch_read", counting)
    result = pipeline.render([(path.name, path.read_text())], SPEC)
    out = result.text
    changed = [d for d in result.documents if d.changed and not d.generated]
    assert len(changed) >= 3 and len(calls) == len(changed)
    assert all(d.emit() in out for d in changed)
    assert len(calls) == len(changed)  # asked again, not made again
