"""kustomize: the spec as a KRM exec function (transformers:), and as a legacy exec plugin
installed by `pxsec install kustomize-plugin` (kustomize and kubectl kustomize)."""
from __future__ import annotations

import pytest

import os

import yaml

from .support import (CASES, assert_golden, by_kind, container_env_names, install_kustomize_plugin, need,
                      run)

pytestmark = pytest.mark.e2e  # runs real helm/kustomize/kpt/kubectl binaries

KRM = CASES / "kustomize-krm"
LEGACY = CASES / "kustomize-legacy"
PLUGIN_PATH = ("pxsec.io", "v1alpha1", "portworxsecurity", "PortworxSecurity")


def kustomize_krm(e2e, directory=KRM, check=True, **env):
    kustomize = need("kustomize")
    return run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec", str(directory)],
               e2e.env(**env), check=check)


def kustomize_legacy(e2e, directory=LEGACY, binary="kustomize", check=True, **env):
    install_kustomize_plugin(e2e)
    if binary == "kubectl":
        argv = [need("kubectl"), "kustomize", "--enable-alpha-plugins", str(directory)]
    else:
        argv = [need("kustomize"), "build", "--enable-alpha-plugins", str(directory)]
    return run(argv, e2e.env(**env), check=check)


def test_krm_function_golden(e2e):
    out = kustomize_krm(e2e, secrets=True).stdout
    assert_golden("kustomize-krm", out)
    (ds,) = by_kind(out, "DaemonSet")
    assert "PORTWORX_AUTH_SYSTEM_KEY" in container_env_names(ds)
    (stork,) = by_kind(out, "Deployment")
    assert "PX_SHARED_SECRET" in container_env_names(stork)
    (secret,) = by_kind(out, "Secret")
    annotations = secret["metadata"]["annotations"]
    assert not any(k.startswith("config.kubernetes.io/") for k in annotations), annotations  # no function/local-config
    assert "kustomize.config.k8s.io/id" not in out and "internal.config.kubernetes.io" not in out


def test_krm_function_is_silently_skipped_without_enable_exec(e2e):
    """kustomize#4399: the documented recipe must say --enable-exec; this is what happens without it."""
    kustomize = need("kustomize")
    out = run([kustomize, "build", "--enable-alpha-plugins", str(KRM)], e2e.env(secrets=True)).stdout
    assert "PORTWORX_AUTH_SYSTEM_KEY" not in out


def test_legacy_plugin_installed_by_pxsec_install(e2e):
    target = install_kustomize_plugin(e2e)
    assert target == e2e.xdg_config.joinpath("kustomize", "plugin", *PLUGIN_PATH)
    assert os.access(target, os.X_OK)
    script = target.read_text()
    assert script.startswith("#!/bin/sh\n") and 'exec ' in script and '"$@"' in script


def test_legacy_plugin_install_dir_option_and_kustomize_plugin_home(e2e):
    custom = e2e.tmp / "plugins"
    out = run(["pxsec", "install", "kustomize-plugin", "--dir", str(custom)], e2e.env()).stdout.strip()
    assert out == str(custom.joinpath(*PLUGIN_PATH))
    home = e2e.tmp / "kph"
    out = run(["pxsec", "install", "kustomize-plugin"], e2e.env(KUSTOMIZE_PLUGIN_HOME=str(home))).stdout.strip()
    assert out == str(home.joinpath(*PLUGIN_PATH))


def test_legacy_plugin_kustomize_golden(e2e):
    out = kustomize_legacy(e2e).stdout
    assert_golden("kustomize-legacy", out)
    (ds,) = by_kind(out, "DaemonSet")
    assert "PORTWORX_AUTH_SYSTEM_KEY" in container_env_names(ds)
    assert "kustomize.config.k8s.io/id" not in out  # kept for kustomize, which strips it


def test_legacy_plugin_kubectl_kustomize_golden(e2e):
    out = kustomize_legacy(e2e, binary="kubectl").stdout
    assert_golden("kustomize-legacy", out, "want-kubectl.yaml")
    (ds,) = by_kind(out, "DaemonSet")
    assert "PORTWORX_AUTH_SYSTEM_KEY" in container_env_names(ds)


def test_legacy_plugin_generated_secret_and_kustomize_ids(e2e, tmp_path):
    """secret.create: true through the legacy plugin: kustomize adds the new Secret."""
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    spec = yaml.safe_load((LEGACY / "pxsec.yaml").read_text())
    spec["spec"]["secret"]["create"] = True
    (overlay / "pxsec.yaml").write_text(yaml.safe_dump(spec))
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump({
        "resources": [os.path.relpath(CASES.parent / "fixtures" / "kustomize-base", overlay)],
        "transformers": ["pxsec.yaml"]}))
    out = kustomize_legacy(e2e, overlay, secrets=True).stdout
    (secret,) = by_kind(out, "Secret")
    assert secret["metadata"]["namespace"] == "kube-system"
    assert sorted(d["kind"] for d in yaml.safe_load_all(out)) == ["ConfigMap", "DaemonSet", "Deployment", "Secret"]


def test_check_strict_is_the_gate_that_catches_a_skipped_function(e2e):
    """The README's gate: `kustomize build ... | pxsec check --strict --spec pxsec.yaml`. Without
    --enable-exec kustomize skips pxsec and exits 0; the gate must fail on that output, and pass
    on the output of the build that ran the function."""
    kustomize = need("kustomize")
    gate = ["pxsec", "check", "--strict", "--spec", str(KRM / "pxsec.yaml")]
    skipped = run([kustomize, "build", "--enable-alpha-plugins", str(KRM)], e2e.env(secrets=True)).stdout
    assert run(gate, e2e.env(secrets=True), input=skipped, check=False).returncode == 1
    secured = kustomize_krm(e2e, secrets=True).stdout
    r = run(gate, e2e.env(secrets=True), input=secured, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
