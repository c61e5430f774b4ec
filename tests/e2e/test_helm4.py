"""Helm 4: the repository root is a postrenderer/v1 plugin named pxsec (plugin.yaml)."""
from __future__ import annotations

import pytest

import os
import re

import yaml

from .support import (CASES, REPO, assert_failed, assert_golden, by_kind, container_env_names,
                      helm_template_args, install_helm4_plugin, need, post_renderer_args, run)

pytestmark = pytest.mark.e2e  # runs real helm/kustomize/kpt/kubectl binaries

SPEC = CASES / "helm4" / "spec.yaml"
FILENAME = "postrenderer.helm.sh/postrender-filename"


def helm4_post_render(e2e, *extra, spec=SPEC, env=None, check=True):
    helm4 = need("helm4")
    install_helm4_plugin(e2e, helm4)
    return run([helm4, *helm_template_args(kube_version=False), *extra, "--post-renderer", "pxsec",
                *post_renderer_args(spec)], env or e2e.env(secrets=True), check=check)


def test_helm4_plugin_golden(e2e):
    out = helm4_post_render(e2e).stdout
    assert_golden("helm4", out)
    (ds,) = by_kind(out, "DaemonSet")
    assert "PORTWORX_AUTH_SYSTEM_KEY" in container_env_names(ds)
    (secret,) = by_kind(out, "Secret")
    assert secret["metadata"]["annotations"]["pxsec.io/generated"] == "true"


def test_helm4_resolves_the_plugin_by_metadata_name_not_directory_name(e2e):
    helm4 = need("helm4")
    checkout = e2e.tmp / "some-checkout-name"
    os.symlink(REPO, checkout)
    install_helm4_plugin(e2e, helm4, checkout)
    installed = e2e.tmp / "helm" / "data" / "plugins"
    assert [p.name for p in installed.iterdir()] == ["some-checkout-name"]  # dev mode: a symlink
    assert (installed / "some-checkout-name").is_symlink()
    listed = run([helm4, "plugin", "list"], e2e.env()).stdout
    assert any(line.split()[:3] == ["pxsec", "0.1.0", "postrenderer/v1"] for line in listed.splitlines()), listed
    out = run([helm4, *helm_template_args(kube_version=False), "--post-renderer", "pxsec",
               *post_renderer_args(CASES / "helm3" / "spec.yaml")], e2e.env()).stdout
    assert "PORTWORX_AUTH_SYSTEM_KEY" in out


def test_helm4_generated_secret_is_filed_under_the_daemonset_template(e2e):
    # Helm 4 strips its postrender-filename annotation and prints each document under the
    # file it names: the Secret pxsec made for the DaemonSet lands in the DaemonSet's file.
    out = helm4_post_render(e2e, "--show-only", "templates/portworx-daemonset.yaml").stdout
    assert sorted(d["kind"] for d in by_kind(out, "Secret") + by_kind(out, "DaemonSet")) == ["DaemonSet", "Secret"]
    assert FILENAME not in out
    assert "generated-by-postrender" not in helm4_post_render(e2e).stdout


def test_helm4_filename_annotation_is_kept_on_the_stream_pxsec_sees(e2e):
    # What Helm 4 hands the post-renderer (every document annotated) must come back annotated.
    helm4 = need("helm4")
    install_helm4_plugin(e2e, helm4)
    capture = e2e.tmp / "seen"
    tee = e2e.bin / "tee-pxsec"
    tee.write_text(f"#!/bin/sh\npxsec \"$@\" | tee '{capture}'\n")
    tee.chmod(0o755)
    plugin = e2e.tmp / "helm" / "data" / "plugins" / "pxsec-tee"
    plugin.mkdir(parents=True)
    (plugin / "plugin.yaml").write_text(yaml.safe_dump({
        "apiVersion": "v1", "type": "postrenderer/v1", "name": "pxsec-tee", "version": "0.1.0",
        "runtime": "subprocess", "runtimeConfig": {"platformCommand": [{"command": str(tee)}]}}))
    run([helm4, *helm_template_args(kube_version=False), "--post-renderer", "pxsec-tee",
         *post_renderer_args(SPEC)], e2e.env(secrets=True))
    docs = [d for d in yaml.safe_load_all(capture.read_text()) if d]
    files = {(d["kind"], d["metadata"]["name"]): d["metadata"]["annotations"][FILENAME] for d in docs}
    assert files == {
        ("ConfigMap", "rel-settings"): "portworx-ds/templates/configmap.yaml",
        ("DaemonSet", "portworx"): "portworx-ds/templates/portworx-daemonset.yaml",
        ("Deployment", "stork"): "portworx-ds/templates/stork-deployment.yaml",
        ("Job", "rel-preflight"): "portworx-ds/templates/hook-job.yaml",
        ("Secret", "px-system-secrets"): "portworx-ds/templates/portworx-daemonset.yaml",
    }


def test_helm4_hooks_pass_through_untouched(e2e):
    helm4 = need("helm4")
    plain = run([helm4, *helm_template_args(kube_version=False), "--show-only", "templates/hook-job.yaml"],
                e2e.env()).stdout
    rendered = helm4_post_render(e2e, "--show-only", "templates/hook-job.yaml").stdout
    assert yaml.safe_load(rendered) == yaml.safe_load(plain)
    assert by_kind(rendered, "Job")[0]["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"


def test_helm4_failure_is_diagnosable_through_pxsec_log_file(e2e):
    proc = helm4_post_render(e2e, env=e2e.env(secrets=False), check=False)
    assert_failed(proc, 'post-renderer plugin "pxsec"')
    assert "PORTWORX_AUTH_SYSTEM_KEY" not in proc.stderr  # Helm 4 hides the post-renderer's stderr...
    assert "pxsec: error:" in e2e.log() and "PORTWORX_AUTH_SYSTEM_KEY is not set" in e2e.log()  # ...the log has it


def test_helm4_without_pxsec_on_path_fails(e2e):
    helm4 = need("helm4")
    install_helm4_plugin(e2e, helm4)
    env = e2e.env()
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != str(e2e.pxsec_bin))
    if any(os.access(os.path.join(p, "pxsec"), os.X_OK) for p in env["PATH"].split(os.pathsep) if p):
        env["PATH"] = os.path.dirname(helm4)  # an installed pxsec elsewhere on PATH: hide it too
    proc = run([helm4, *helm_template_args(kube_version=False), "--post-renderer", "pxsec",
                *post_renderer_args(SPEC)], env, check=False)
    assert_failed(proc, "pxsec")


def test_helm4_plugin_yaml_breaks_helm3_in_a_shared_plugins_dir(e2e):
    """Why the README says: never install plugin.yaml where a Helm 3 binary looks for plugins."""
    helm3 = need("helm3")
    need("helm4")
    install_helm4_plugin(e2e, need("helm4"))
    proc = run([helm3, "plugin", "list"], e2e.env(), check=False)
    assert "failed to load plugins" in proc.stderr and 'unknown field "apiVersion"' in proc.stderr, proc.stderr


def test_helm4_failure_is_kept_for_pxsec_last_error_without_any_setup(e2e):
    """Helm 4 hides stderr; run as its plugin (HELM_PLUGIN_NAME/DIR set), pxsec always keeps
    the last error under Helm's cache dir, and `pxsec last-error` prints it (no PXSEC_LOG_FILE)."""
    env = e2e.env(secrets=False)
    del env["PXSEC_LOG_FILE"]
    env.update({"PORTWORX_AUTH_STORK_KEY": "e2e-fake-stork-key-0123456789abcdef0"})  # a value that must not leak
    proc = helm4_post_render(e2e, env=env, check=False)
    assert_failed(proc, 'post-renderer plugin "pxsec"')
    kept = e2e.tmp / "helm" / "cache" / "pxsec" / "last-error.log"  # $HELM_CACHE_HOME/pxsec/last-error.log
    assert kept.is_file(), "no last-error file under HELM_CACHE_HOME"
    shown = run(["pxsec", "last-error"], env).stdout
    assert shown == kept.read_text()
    assert "PORTWORX_AUTH_SYSTEM_KEY is not set" in shown and "(pxsec render --spec=" in shown
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[pid \d+\] ", shown), shown
    assert "e2e-fake-stork-key" not in shown
    assert run(["pxsec", "last-error", "--path"], env).stdout.strip() == str(kept)
    # a later successful run does not pretend the old error is new, and the next failure replaces it
    helm4_post_render(e2e, env=e2e.env(secrets=True))
    helm4_post_render(e2e, spec=CASES / "helm3" / "nope.yaml", env=env, check=False)
    assert "nope.yaml" in kept.read_text() and "PORTWORX_AUTH_SYSTEM_KEY" not in kept.read_text()
