"""`pxsec patches` without binaries: the JSON6902 ops, the targets, what is refused and why.
(tests/e2e/test_flux.py applies the patches with the real kustomize.)"""
from __future__ import annotations

import pytest
import yaml

from conftest import ROOT, run_pxsec
from pxsec import flux
from pxsec.kubeyaml import jsonpatch
from pxsec import spec as specmod
from pxsec.errors import PxsecError

SPEC = """
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
metadata: {name: s}
spec:
  selfSigned: {issuer: openstorage.io, sharedSecret: true}
"""
LITERAL = "literal-system-key-that-must-never-be-printed-0123"
ARG_SECRET = "shared-secret-on-the-command-line-0123456789"
DS = f"""apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: px.cluster, namespace: kube-system}}
spec:
  template:
    spec:
      containers:
      - name: sidecar
        image: busybox
      - name: portworx
        image: portworx/oci-monitor:2.9.0
        args: ["-c", "px", "-jwt_shared_secret", "{ARG_SECRET}", "-x", "kubernetes"]
        env:
        - {{name: KEEP, value: "1"}}
        - {{name: PORTWORX_AUTH_SYSTEM_KEY, value: {LITERAL}}}
        - {{name: PORTWORX_AUTH_OIDC_ISSUER, value: https://old.example.com}}
"""


def spec_of(text: str = SPEC):
    return specmod.from_document(yaml.safe_load(text), "<spec>")


def compute(text: str, spec_text: str = SPEC) -> flux.PatchSet:
    return flux.compute([("in.yaml", text)], spec_of(spec_text))


def test_ops_reach_the_container_by_index_behind_a_name_test_and_append_with_dash():
    (patch,) = compute(DS).patches
    ops = patch.ops
    assert ops[0] == {"op": "test", "path": "/spec/template/spec/containers/1/name", "value": "portworx"}
    assert {"op": "add", "path": "/spec/template/spec/containers/1/args/-", "value": "-jwt_issuer"} in ops
    env_ops = [o for o in ops if "/env" in o["path"]]
    # the literal secret is replaced (after a name test), the stale OIDC twin removed, keys appended
    assert env_ops[0] == {"op": "test", "path": "/spec/template/spec/containers/1/env/1/name",
                          "value": "PORTWORX_AUTH_SYSTEM_KEY"}
    assert env_ops[1]["op"] == "replace" and "valueFrom" in env_ops[1]["value"]
    assert {"op": "remove", "path": "/spec/template/spec/containers/1/env/2"} in env_ops
    assert env_ops[-1]["path"].endswith("/env/-")


def test_no_secret_value_reaches_a_patch_or_a_warning():
    patch_set = compute(DS)
    text = flux.format_patches(patch_set, flux.KUSTOMIZATION) + "\n".join(patch_set.warnings)
    assert LITERAL not in text and ARG_SECRET not in text
    assert "-jwt_shared_secret" in text  # the flag (not its value) is tested before it is removed


def test_the_target_names_exactly_this_object():
    (patch,) = compute(DS).patches
    assert patch.target == {"group": "apps", "version": "v1", "kind": "DaemonSet", "name": r"px\.cluster",
                            "namespace": "kube-system"}


def test_ops_reproduce_the_rendered_object_when_applied():
    from pxsec.render import pipeline

    rendered = pipeline.render([("in.yaml", DS)], spec_of()).text
    (patch,) = compute(DS).patches
    assert jsonpatch.apply(yaml.safe_load(DS), patch.ops) == yaml.safe_load(rendered)


def test_named_lists_keep_order_and_generic_lists_take_an_edit_script():
    old = {"env": [{"name": "a"}, {"name": "b", "value": "1"}, {"name": "c"}], "args": ["-x", "1", "-y", "2", "-z"]}
    new = {"env": [{"name": "a"}, {"name": "n"}, {"name": "c"}, {"name": "z"}], "args": ["-x", "1", "-y", "3", "-z", "-w"]}
    ops = jsonpatch.json6902(old, new)
    assert jsonpatch.apply(old, ops) == new
    assert {"op": "add", "path": "/env/1", "value": {"name": "n"}} in ops
    assert {"op": "add", "path": "/env/-", "value": {"name": "z"}} in ops
    assert {"op": "add", "path": "/args/-", "value": "-w"} in ops
    assert {"op": "test", "path": "/args/2", "value": "-y"} in ops  # "2" is not printable: guard by the flag


def test_pointer_escapes_and_null_members():
    old = {"metadata": {"annotations": None, "labels": {"a/b~c": "1"}}}
    new = {"metadata": {"annotations": {"portworx.io/misc-args": "-x"}, "labels": {"a/b~c": "2"}}}
    ops = jsonpatch.json6902(old, new)
    assert ops == [{"op": "add", "path": "/metadata/annotations", "value": {"portworx.io/misc-args": "-x"}},
                   {"op": "replace", "path": "/metadata/labels/a~1b~0c", "value": "2"}]


def test_apply_fails_a_test_op():
    with pytest.raises(ValueError):
        jsonpatch.apply({"a": ["x"]}, [{"op": "test", "path": "/a/0", "value": "y"}])


def test_non_string_keys_cannot_be_a_patch():
    with pytest.raises(jsonpatch.CannotPatch):
        jsonpatch.json6902({"data": {1: "a"}}, {"data": {1: "b", "k": "c"}})


def test_list_items_are_their_own_targets():
    listed = "apiVersion: v1\nkind: List\nitems:\n" + "".join(
        "- " + line if i == 0 else "  " + line
        for i, line in enumerate(DS.replace("px.cluster", "px").splitlines(True)))
    (patch,) = compute(listed).patches
    assert patch.target["name"] == "px" and patch.ops[0]["path"].startswith("/spec/")


@pytest.mark.parametrize("text, needle", [
    (DS.replace("{name: px.cluster, namespace: kube-system}", "{namespace: kube-system}"), "metadata.name"),
    (DS.replace(", namespace: kube-system", "") + "---\n" + DS.replace(", namespace: kube-system", ", namespace: b"),
     "would match the same patch target"),
    (DS.replace("  template:\n", "  template: {}\n  template:\n"), "duplicate key 'template' at line 6"),
])
def test_refused_inputs_name_the_document(text, needle):
    with pytest.raises(PxsecError) as e:
        compute(text)
    assert needle in str(e.value) and "in.yaml: document 1" in str(e.value)


def test_a_generated_secret_is_left_out_with_a_warning_and_never_read(monkeypatch):
    monkeypatch.setenv("PORTWORX_AUTH_SYSTEM_KEY", "x")  # too short for render: patches never reads it
    create = SPEC.replace("spec:\n", "spec:\n  secret: {name: pxkeys, create: true}\n")
    patch_set = compute(DS, create)
    assert [p.target["kind"] for p in patch_set.patches] == ["DaemonSet"]
    (warning,) = [w for w in patch_set.warnings if "Secret" in w and "SOPS" in w]
    assert warning.startswith("Secret kube-system/pxkeys: render generates this Secret")
    assert flux.PLACEHOLDER not in flux.format_patches(patch_set, flux.HELMRELEASE)


def test_helmrelease_form_is_a_post_renderers_block():
    text = flux.format_patches(compute(DS), flux.HELMRELEASE)
    (entry,) = yaml.safe_load(text)["postRenderers"]
    (patch,) = entry["kustomize"]["patches"]
    assert patch["target"]["kind"] == "DaemonSet" and yaml.safe_load(patch["patch"])[0]["op"] == "test"


def test_cli_writes_the_file_and_reads_the_spec_from_the_environment(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC)
    out = tmp_path / "patches.yaml"
    proc = run_pxsec(["patches", "--for", "kustomization", "-o", str(out), "-"], stdin=DS.encode(),
                     env={"PXSEC_SPEC": str(tmp_path / "spec.yaml")})
    assert proc.returncode == 0 and proc.stdout == b"", proc.stderr
    assert yaml.safe_load(out.read_text())[0]["target"]["kind"] == "DaemonSet"


def test_cli_already_secured_input_is_nothing_to_patch(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC)
    rendered = run_pxsec(["render", "--spec", str(tmp_path / "spec.yaml")], stdin=DS.encode()).stdout
    proc = run_pxsec(["patches", "--spec", str(tmp_path / "spec.yaml"), "--for", "helmrelease"], stdin=rendered)
    assert proc.returncode == 1 and proc.stdout == b""
    assert proc.stderr.decode().startswith("pxsec: error: nothing to patch") and proc.stderr.count(b"\n") == 1


def test_cli_render_refusal_is_the_same_one_line_error(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC.replace("spec:\n", "spec:\n  stork: {enabled: false}\n"))
    stork = (ROOT / "examples" / "portworx.yaml").read_bytes()
    proc = run_pxsec(["patches", "--spec", str(tmp_path / "spec.yaml"), "--for", "kustomization"], stdin=stork)
    render = run_pxsec(["render", "--spec", str(tmp_path / "spec.yaml")], stdin=stork)
    assert proc.returncode == render.returncode == 1 and proc.stdout == b""
    assert proc.stderr == render.stderr and proc.stderr.count(b"\n") == 1


def test_a_multi_line_value_stays_on_one_line_and_reads_back():
    value = "two\nlines \u00e9\t 'q' \"d\" " + "x" * 200
    ops = [{"op": "add", "path": "/metadata/annotations/a~1b", "value": value}]
    patch_set = flux.PatchSet([flux.Patch({"version": "v1", "kind": "ConfigMap", "name": "c"}, ops, "ConfigMap c")], [])
    for form in (flux.KUSTOMIZATION, flux.HELMRELEASE):
        text = flux.format_patches(patch_set, form)  # raises unless it reads back exactly
        assert value not in text and text.count("\n- {") + text.count(" - {") == 1


def test_an_unnamed_list_item_is_guarded_by_a_member_the_edit_keeps():
    old = {"nodes": [{"selector": {"pool": "fast"}, "miscArgs": "-a secret-ish"}]}
    new = {"nodes": [{"selector": {"pool": "fast"}, "miscArgs": "-a"}]}
    ops = jsonpatch.json6902(old, new)
    assert ops == [{"op": "test", "path": "/nodes/0/selector", "value": {"pool": "fast"}},
                   {"op": "replace", "path": "/nodes/0/miscArgs", "value": "-a"}]
