"""Issue-9 regressions outside the golden cases: the KRM mode's local-config rule, and `check`
reading what Kubernetes reads (flags in `command`, merge keys, `!!binary`)."""
from __future__ import annotations

import json

import yaml

from conftest import ROOT, run_pxsec

CASES = ROOT / "tests" / "cases"
SPEC = CASES / "k8s-merge-key" / "spec.yaml"


def _resource_list(item_text: str) -> bytes:
    spec = yaml.safe_load(SPEC.read_text())
    rl = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
          "items": [yaml.safe_load(item_text)], "functionConfig": spec}
    return yaml.safe_dump(rl).encode()


def test_local_config_is_secured_by_render_and_left_alone_by_a_krm_function():
    text = (CASES / "k8s-local-config" / "input.yaml").read_text()
    rendered = run_pxsec(["render", "--spec", str(SPEC), "-"], stdin=text.encode())
    assert rendered.returncode == 0 and b"PORTWORX_AUTH_SYSTEM_KEY" in rendered.stdout
    krm = run_pxsec([], stdin=_resource_list(text))
    assert krm.returncode == 0, krm.stderr.decode()
    out = yaml.safe_load(krm.stdout)
    container = out["items"][0]["spec"]["template"]["spec"]["containers"][0]
    assert "env" not in container and container["args"] == ["-c", "px-cluster"]


def _check(*files):
    r = run_pxsec(["check", "--format", "json", *map(str, files)])
    return r.returncode, json.loads(r.stdout)


def _rules(report):
    return {(f["rule_id"], f.get("field")) for f in report["findings"]}


def test_check_reads_flags_in_command(tmp_path):
    f = tmp_path / "ds.yaml"
    f.write_text("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: portworx, namespace: kube-system}\n"
                 "spec:\n  template:\n    spec:\n      containers:\n      - name: portworx\n"
                 "        image: portworx/oci-monitor:3.1.0\n"
                 "        command: [/px-oci-mon, -c, x, -jwt_issuer, openstorage.io, -auth_system_key, not-a-key-0123]\n"
                 "        env: [{name: PORTWORX_AUTH_SYSTEM_KEY, valueFrom: {secretKeyRef: {name: s, key: k}}}]\n")
    code, findings = _check(f)
    assert code == 1
    assert ("PXS008", "spec.template.spec.containers[0].command[5]") in _rules(findings)
    assert not any(rule == "PXS001" for rule, _ in _rules(findings))  # the issuer in command counts


def test_check_sees_portworx_built_by_merge_keys_and_tags():
    for case in ("k8s-merge-key", "k8s-binary-tag"):
        code, findings = _check(CASES / case / "input.yaml")
        assert code == 1 and ("PXS001", "spec.template.spec.containers[0]") in _rules(findings), case
