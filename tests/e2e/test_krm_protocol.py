"""The KRM function contract, checked by calling `pxsec` (no arguments) with ResourceLists
shaped like the ones kpt 1.0.0-beta.56 and kustomize 5.x send (see
/work/shared/docs/plugin-protocols.md section 3b)."""
from __future__ import annotations

import yaml

from .support import CASES, KUSTOMIZE_BASE, run

SPEC = yaml.safe_load((CASES / "kpt" / "spec.yaml").read_text())
NO_CREATE = {**SPEC, "spec": {**SPEC["spec"], "secret": {"name": "px-system-secrets", "create": False}}}


def kpt_annotations(path: str, index: int, ident: int) -> str:
    return (f"    config.kubernetes.io/index: '{index}'\n"
            f"    config.kubernetes.io/path: '{path}'\n"
            f"    internal.config.kubernetes.io/index: '{index}'\n"
            f"    internal.config.kubernetes.io/path: '{path}'\n"
            f"    internal.config.kubernetes.io/seqindent: 'compact'\n"
            f"    internal.config.kubernetes.io/id: '{ident}'\n"
            f"    config.k8s.io/id: '{ident}'\n")


def indent(text: str, by: str = "  ") -> str:
    return "".join(by + line if line.strip() else line for line in text.splitlines(True))


def item(text: str, path: str, index: int, ident: int) -> str:
    """A kpt-style item: the object with kpt's annotations added under metadata."""
    obj_lines = text.splitlines(True)
    out = []
    for line in obj_lines:
        out.append(line)
        if line.startswith("metadata:"):
            out.append("  annotations:\n" + kpt_annotations(path, index, ident))
    body = "".join(out)
    first, *rest = body.splitlines(True)
    return "- " + first + indent("".join(rest))


def base_file(name: str) -> str:
    text = (KUSTOMIZE_BASE / name).read_text()
    return "".join(line for line in text.splitlines(True) if not line.startswith("#"))


def resource_list(items: list[str], function_config: dict | None) -> str:
    out = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + "".join(items)
    if function_config is not None:
        out += yaml.safe_dump({"functionConfig": function_config}, sort_keys=False)
    return out


def base_items() -> list[str]:
    # the DaemonSet has annotations of its own already: add kpt's to them
    ds = base_file("portworx-daemonset.yaml").replace(
        "  annotations:\n", "  annotations:\n" + kpt_annotations("portworx-daemonset.yaml", 0, 1), 1)
    first, *rest = ds.splitlines(True)
    ds_item = "- " + first + indent("".join(rest))
    return [ds_item,
            item(base_file("configmap.yaml"), "configmap.yaml", 0, 2)]


def call(e2e, payload: str, check=True, secrets=True, **env):
    return run(["pxsec"], e2e.env(secrets=secrets, **env), input=payload, check=check)


def annotations(obj: dict) -> dict:
    return obj["metadata"].get("annotations") or {}


def test_items_keep_every_orchestrator_annotation_and_untouched_items_keep_their_bytes(e2e):
    payload = resource_list(base_items(), NO_CREATE)
    out = call(e2e, payload).stdout
    # scalars, quotes, key order as sent (block sequences come back compact; kyaml re-indents per seqindent)
    assert item(base_file("configmap.yaml"), "configmap.yaml", 0, 2) in out
    before = {d["kind"]: annotations(d) for d in yaml.safe_load(payload)["items"]}
    after = {d["kind"]: annotations(d) for d in yaml.safe_load(out)["items"]}
    assert after == before  # the DaemonSet changed, its annotations did not
    assert "PORTWORX_AUTH_SYSTEM_KEY" in yaml.safe_dump(yaml.safe_load(out)["items"][0])


def test_scalars_are_not_retyped(e2e):
    cm = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: scalars\ndata:\n"
          "  sexagesimal: 1:20\n  octal: 017\n  octal12: 0o17\n  date: 2001-12-14\n  bool11: yes\n"
          "  tilde: ~\n  float: 1e3\n")
    payload = resource_list(base_items() + [item(cm, "scalars.yaml", 0, 3)], NO_CREATE)
    out = call(e2e, payload).stdout
    assert item(cm, "scalars.yaml", 0, 3) in out


def test_local_config_items_are_skipped(e2e):
    ds = base_items()[0].replace("      config.kubernetes.io/index: '0'\n",
                                 "      config.kubernetes.io/index: '0'\n      config.kubernetes.io/local-config: 'true'\n", 1)
    assert "local-config" in ds
    payload = resource_list([ds], NO_CREATE)
    out = call(e2e, payload).stdout
    assert yaml.safe_load(out)["items"] == yaml.safe_load(payload)["items"]
    assert "PORTWORX_AUTH_SYSTEM_KEY" not in out


def test_success_results_name_each_object(e2e):
    out = yaml.safe_load(call(e2e, resource_list(base_items(), SPEC)).stdout)
    results = out["results"]
    assert all(r["severity"] == "info" for r in results)
    ds_result = next(r for r in results if r.get("resourceRef", {}).get("kind") == "DaemonSet")
    assert ds_result["resourceRef"] == {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "portworx",
                                        "namespace": "kube-system"}
    assert "added env PORTWORX_AUTH_SYSTEM_KEY" in ds_result["message"]
    assert any(r["message"] == "generated Secret kube-system/px-system-secrets" for r in results)


def test_generated_secret_carries_no_path_or_function_annotation(e2e):
    fc = {**SPEC, "metadata": {"name": "px-security", "annotations": {
        "config.kubernetes.io/function": "exec:\n  path: pxsec\n", "config.kubernetes.io/local-config": "true",
        "internal.config.kubernetes.io/path": "spec.yaml"}}}
    out = yaml.safe_load(call(e2e, resource_list(base_items(), fc)).stdout)
    (secret,) = [d for d in out["items"] if d["kind"] == "Secret"]
    assert not any(k.startswith(("config.kubernetes.io/", "internal.config.kubernetes.io/", "config.k8s.io/"))
                   for k in annotations(secret))


def test_a_secret_generated_earlier_keeps_its_place(e2e):
    """Second kpt run: the Secret written by the first run is rebuilt, with kpt's bookkeeping."""
    first = yaml.safe_load(call(e2e, resource_list(base_items(), SPEC)).stdout)
    (secret,) = [d for d in first["items"] if d["kind"] == "Secret"]
    secret["metadata"]["annotations"].update({
        "config.kubernetes.io/path": "kube-system/secret_px-system-secrets.yaml",
        "internal.config.kubernetes.io/path": "kube-system/secret_px-system-secrets.yaml",
        "config.kubernetes.io/index": "0", "internal.config.kubernetes.io/index": "0",
        "internal.config.kubernetes.io/id": "9", "config.k8s.io/id": "9"})
    second_in = {**first, "functionConfig": SPEC}
    second_in.pop("results")
    second = yaml.safe_load(call(e2e, yaml.safe_dump(second_in)).stdout)
    secrets = [d for d in second["items"] if d["kind"] == "Secret"]
    assert len(secrets) == 1
    assert annotations(secrets[0]) == annotations(secret)
    assert secrets[0]["data"] == secret["data"]


def test_error_in_an_item_points_at_it(e2e):
    # secret.create: true with a hand-made Secret of that name in the input is refused
    hand_made = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: px-system-secrets\n  namespace: kube-system\n"
                 "type: Opaque\n")
    payload = resource_list(base_items() + [item(hand_made, "secrets/px.yaml", 1, 7)], SPEC)
    proc = call(e2e, payload, check=False)
    assert proc.returncode == 1
    out = yaml.safe_load(proc.stdout)
    assert len(out["items"]) == 3
    (result,) = out["results"]
    assert result["severity"] == "error"
    assert result["resourceRef"] == {"apiVersion": "v1", "kind": "Secret", "name": "px-system-secrets",
                                     "namespace": "kube-system"}
    assert result["file"] == {"path": "secrets/px.yaml", "index": 1}
    assert "secret.create" in result["message"]
    assert "pxsec: error: secrets/px.yaml: document 2 (Secret/px-system-secrets)" in proc.stderr


def test_configmap_function_config_with_a_spec_path(e2e):
    spec_file = e2e.tmp / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(NO_CREATE))
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "function-input"},
          "data": {"spec": str(spec_file)}}
    by_path = call(e2e, resource_list(base_items(), cm)).stdout
    typed = call(e2e, resource_list(base_items(), NO_CREATE)).stdout
    assert yaml.safe_load(by_path)["items"] == yaml.safe_load(typed)["items"]


def test_configmap_function_config_errors(e2e):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "function-input"}, "data": {"specc": "x"}}
    proc = call(e2e, resource_list(base_items(), cm), check=False)
    assert proc.returncode == 1 and "needs data.spec" in proc.stderr
    cm["data"] = {"spec": str(e2e.tmp / "missing.yaml")}
    proc = call(e2e, resource_list(base_items(), cm), check=False)
    assert proc.returncode == 1 and "cannot read spec" in proc.stderr
    (result,) = yaml.safe_load(proc.stdout)["results"]
    assert result["resourceRef"]["kind"] == "ConfigMap" and "missing.yaml" in result["message"]


def test_no_function_config_uses_pxsec_spec(e2e):
    spec_file = e2e.tmp / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(NO_CREATE))
    out = call(e2e, resource_list(base_items(), None), PXSEC_SPEC=str(spec_file)).stdout
    assert "PORTWORX_AUTH_SYSTEM_KEY" in out
    proc = call(e2e, resource_list(base_items(), None), check=False)
    assert proc.returncode == 1 and "no functionConfig" in proc.stderr


def test_not_a_resource_list_says_how_to_render_a_stream(e2e):
    stream = (KUSTOMIZE_BASE / "portworx-daemonset.yaml").read_text()
    proc = call(e2e, stream, check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "not a KRM ResourceList" in proc.stderr and "pxsec render" in proc.stderr


def test_empty_item_list_is_not_an_error(e2e):
    out = yaml.safe_load(call(e2e, resource_list([], NO_CREATE).replace("items:\n", "items: []\n")).stdout)
    assert out["items"] == []
    assert out["results"][0]["message"] == "no Portworx or Stork workload found; nothing changed"
