"""kpt: `kpt fn eval DIR --exec pxsec --fn-config spec.yaml` edits the package in place."""
from __future__ import annotations

import pytest

import yaml

from .support import (CASES, assert_golden, by_kind, container_env_names, copy_kustomize_base, need, run,
                      snapshot, tree_text)

pytestmark = pytest.mark.e2e  # runs real helm/kustomize/kpt/kubectl binaries

SPEC = CASES / "kpt" / "spec.yaml"


def kpt_eval(e2e, package, *config, check=True, **env):
    kpt = need("kpt")
    return run([kpt, "fn", "eval", str(package), "--exec", "pxsec", *(config or ("--fn-config", str(SPEC)))],
               e2e.env(**env), check=check)


def test_kpt_fn_eval_golden(e2e):
    package = copy_kustomize_base(e2e.tmp / "pkg")
    proc = kpt_eval(e2e, package, secrets=True)
    assert_golden("kpt", tree_text(package))
    assert "[info] apps/v1/DaemonSet/kube-system/portworx: added env PORTWORX_AUTH_SYSTEM_KEY" in proc.stderr
    assert "generated Secret kube-system/px-system-secrets" in proc.stderr
    ds = yaml.safe_load((package / "portworx-daemonset.yaml").read_text())
    assert "PORTWORX_AUTH_SYSTEM_KEY" in container_env_names(ds)
    # kyaml put the comments back from the id annotations pxsec kept
    assert "initialDelaySeconds: 840 # allow image pull in slow networks" in (package / "portworx-daemonset.yaml").read_text()
    # the new Secret got kpt's default path, not another object's path/index
    assert (package / "kube-system" / "secret_px-system-secrets.yaml").is_file()


def test_kpt_second_eval_changes_nothing(e2e):
    package = copy_kustomize_base(e2e.tmp / "pkg")
    kpt_eval(e2e, package, secrets=True)
    first = snapshot(package)
    kpt_eval(e2e, package, secrets=True)
    assert snapshot(package) == first


def test_kpt_configmap_function_config_is_the_same_as_the_typed_one(e2e):
    typed = copy_kustomize_base(e2e.tmp / "typed")
    kpt_eval(e2e, typed, secrets=True)
    by_path = copy_kustomize_base(e2e.tmp / "by-path")
    kpt_eval(e2e, by_path, "--", f"spec={SPEC}", secrets=True)
    assert snapshot(by_path) == snapshot(typed)


def test_kpt_untouched_files_stay_byte_identical(e2e):
    package = copy_kustomize_base(e2e.tmp / "pkg")
    before = snapshot(package)
    kpt_eval(e2e, package, secrets=True)
    assert snapshot(package)["configmap.yaml"] == before["configmap.yaml"]


def test_kpt_skips_local_config_objects(e2e):
    package = copy_kustomize_base(e2e.tmp / "pkg")
    ds = yaml.safe_load((package / "portworx-daemonset.yaml").read_text())
    ds["metadata"]["name"] = "portworx-template"
    ds["metadata"]["annotations"]["config.kubernetes.io/local-config"] = "true"
    (package / "local.yaml").write_text(yaml.safe_dump(ds))
    before = (package / "local.yaml").read_text()
    kpt_eval(e2e, package, secrets=True)
    assert (package / "local.yaml").read_text() == before
    assert "PORTWORX_AUTH_SYSTEM_KEY" in (package / "portworx-daemonset.yaml").read_text()


def test_kpt_stdout_mode(e2e):
    package = copy_kustomize_base(e2e.tmp / "pkg")
    before = snapshot(package)
    out = kpt_eval(e2e, package, "--fn-config", str(SPEC), "-o", "stdout", secrets=True).stdout
    assert snapshot(package) == before
    items = yaml.safe_load(out)["items"]
    assert len(by_kind(yaml.safe_dump_all(items), "Secret")) == 1 and len(items) == 4
