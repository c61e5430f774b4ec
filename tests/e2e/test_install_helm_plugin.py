"""`pxsec install helm-plugin` with the real Helm 3 and Helm 4: it writes the plugin where Helm 4
looks (`helm env HELM_PLUGINS`), and refuses a dir that a Helm 3 binary also reads, because
Helm 3 then loads none of its plugins. Also the README's recovery after that mistake."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from .support import (CASES, assert_failed, by_kind, container_env_names, helm_template_args, need,
                      post_renderer_args, run, write_script)

pytestmark = pytest.mark.e2e  # runs real helm binaries

SPEC = CASES / "helm3" / "spec.yaml"


def own_helm4(e2e, plugins: Path) -> Path:
    """A `helm4` for this test that reads its own plugins dir (as the README tells users to set up)."""
    return write_script(e2e.bin / "helm4", f"#!/bin/sh\nHELM_PLUGINS='{plugins}' exec '{need('helm4')}' \"$@\"\n")


def separate_env(e2e) -> dict:
    env = e2e.env()
    del env["HELM_PLUGINS"]  # Helm 3 reads $HELM_DATA_HOME/plugins; the helm4 wrapper its own dir
    return env


def test_installs_where_helm4_looks_and_helm4_post_renders_with_it(e2e):
    need("helm3")
    plugins = e2e.tmp / "helm4-plugins"
    helm4 = own_helm4(e2e, plugins)
    env = separate_env(e2e)
    out = run(["pxsec", "install", "helm-plugin", "--helm", helm4], env).stdout.strip()
    assert out == str((plugins / "pxsec").resolve())
    meta = yaml.safe_load((plugins / "pxsec" / "plugin.yaml").read_text())
    assert meta["type"] == "postrenderer/v1" and meta["name"] == "pxsec"
    listed = run([helm4, "plugin", "list"], env).stdout
    assert any(line.split()[:3] == ["pxsec", "0.1.0", "postrenderer/v1"] for line in listed.splitlines()), listed
    rendered = run([helm4, *helm_template_args(kube_version=False), "--post-renderer", "pxsec",
                    *post_renderer_args(SPEC)], env).stdout
    (ds,) = by_kind(rendered, "DaemonSet")
    assert "PORTWORX_AUTH_SYSTEM_KEY" in container_env_names(ds)
    assert run([need("helm3"), "plugin", "list"], env).returncode == 0  # Helm 3 unaffected
    # running it again upgrades in place
    assert run(["pxsec", "install", "helm-plugin", "--helm", helm4], env).stdout.strip() == out


def test_refuses_the_dir_a_helm3_binary_also_reads(e2e):
    need("helm3")
    env = e2e.env()  # both majors read $HELM_PLUGINS: the default situation on one machine
    proc = run(["pxsec", "install", "helm-plugin", "--helm", need("helm4")], env, check=False)
    assert_failed(proc, "is also the plugins dir of Helm 3")
    assert proc.returncode == 1 and proc.stdout == "" and len(proc.stderr.splitlines()) == 1
    assert not Path(env["HELM_PLUGINS"], "pxsec").exists()
    # also a Helm 3 that is not on PATH, named with --helm3, and an explicit --dir
    env["PATH"] = env["PATH"].replace(str(Path(need("helm3")).parent), "/nonexistent")
    plugins = e2e.tmp / "shared"
    helm3 = write_script(e2e.tmp / "elsewhere" / "h3", f"#!/bin/sh\nHELM_PLUGINS='{plugins}' exec '{need('helm3')}' \"$@\"\n")
    proc = run(["pxsec", "install", "helm-plugin", "--dir", plugins, "--helm3", helm3], env, check=False)
    assert_failed(proc, f"({helm3})")
    assert not (plugins / "pxsec").exists()


def test_refuses_helm3_as_the_target_and_a_checkout_link(e2e):
    proc = run(["pxsec", "install", "helm-plugin", "--helm", need("helm3")], e2e.env(), check=False)
    assert_failed(proc, "is Helm 3, not Helm 4", "needs no plugin")
    plugins = e2e.tmp / "helm4-plugins"
    helm4 = own_helm4(e2e, plugins)
    plugins.mkdir()
    (plugins / "pxsec").symlink_to(e2e.tmp)  # what `helm plugin install <checkout>` leaves
    proc = run(["pxsec", "install", "helm-plugin", "--helm", helm4], separate_env(e2e), check=False)
    assert_failed(proc, "helm plugin uninstall pxsec")


@pytest.mark.parametrize("recovery", ["helm4 plugin uninstall", "rm helm3 env dir"])
def test_readme_recovery_after_installing_into_helm3s_dir(e2e, recovery):
    # The mistake: Helm 4's plugin in the dir both majors read (e.g. `helm4 plugin install` of a checkout
    # with default settings). Helm 3 then fails on every command and cannot uninstall it; Helm 4 can.
    helm3, helm4 = need("helm3"), need("helm4")
    env = e2e.env()
    shared = Path(env["HELM_PLUGINS"]) / "pxsec"
    shared.mkdir(parents=True)
    plugin = (Path(__file__).resolve().parents[2] / "plugin.yaml").read_text()
    (shared / "plugin.yaml").write_text(plugin)
    broken = run([helm3, "plugin", "list"], env, check=False)
    assert broken.returncode != 0 and 'unknown field "apiVersion"' in broken.stderr
    assert run([helm3, "plugin", "uninstall", "pxsec"], env, check=False).returncode != 0
    if recovery == "helm4 plugin uninstall":
        run([helm4, "plugin", "uninstall", "pxsec"], env)
    else:  # rm -rf "$(helm3 env HELM_PLUGINS)/pxsec": `helm3 env` still answers
        shutil.rmtree(Path(run([helm3, "env", "HELM_PLUGINS"], env).stdout.strip()) / "pxsec")
    assert not shared.exists()
    assert run([helm3, "plugin", "list"], env).returncode == 0
