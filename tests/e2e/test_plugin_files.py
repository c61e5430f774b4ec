"""The plugin files themselves: plugin.yaml (Helm 4, strict), versions, the installed console script."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
import yaml

from pxsec import __version__

from .support import REPO, require_e2e, run

# helm/helm v4.2.4 internal/plugin/metadata_v1.go (decoded with KnownFields(true))
TOP_LEVEL = {"apiVersion", "type", "name", "version", "runtime", "sourceURL", "config", "runtimeConfig"}
RUNTIME_CONFIG = {"platformCommand", "platformHooks"}  # protocolCommands: getter plugins only
COMMAND = {"os", "arch", "command", "args"}
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
                    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$")


def plugin() -> dict:
    return yaml.safe_load((REPO / "plugin.yaml").read_text())


def pyproject_version() -> str:
    text = (REPO / "pyproject.toml").read_text()
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        match = re.search(r'(?m)^version\s*=\s*"([^"]+)"', text)
        assert match
        return match.group(1)
    return tomllib.loads(text)["project"]["version"]


def test_plugin_yaml_has_only_helm4_v1_fields():
    p = plugin()
    assert set(p) <= TOP_LEVEL, set(p) - TOP_LEVEL
    assert p["apiVersion"] == "v1"
    assert p["type"] == "postrenderer/v1"
    assert p["name"] == "pxsec" and re.fullmatch(r"[A-Za-z0-9_-]+", p["name"])
    assert p["runtime"] == "subprocess"
    assert "config" not in p  # the postrenderer/v1 config struct is empty: any key is rejected
    assert set(p["runtimeConfig"]) <= RUNTIME_CONFIG
    for cmd in p["runtimeConfig"]["platformCommand"]:
        assert set(cmd) <= COMMAND and cmd["command"]
        assert " " not in cmd["command"]  # Helm splits command on spaces


def test_plugin_version_is_the_package_version():
    version = plugin()["version"]
    assert isinstance(version, str) and SEMVER.match(version), f"not strict SemVer: {version!r}"
    assert version == __version__ == pyproject_version()


def test_plugin_runs_the_pxsec_console_script_with_the_user_arguments_only():
    (cmd,) = plugin()["runtimeConfig"]["platformCommand"]
    assert cmd["command"] == "pxsec" and not cmd.get("args")


def installed_pxsec() -> Path | None:
    script = Path(sys.executable).parent / "pxsec"
    return script if script.is_file() and os.access(script, os.X_OK) else None


def test_installed_console_script_matches_the_checkout(e2e):
    script = installed_pxsec()
    if script is None:
        message = f"no pxsec console script next to {sys.executable} (pip install . installs one)"
        if require_e2e():
            pytest.fail(message)
        pytest.skip(message)
    env = e2e.env()
    env["PATH"] = os.pathsep.join([str(script.parent), env["PATH"]])
    assert run([str(script), "version"], env).stdout.strip() == __version__
    # the kustomize wrapper installed from the console script execs it by absolute path
    out = Path(run([str(script), "install", "kustomize-plugin"], env).stdout.strip())
    assert f"exec '{script}' \"$@\"" in out.read_text() or f'exec {script} "$@"' in out.read_text()


def test_missing_binary_skips_or_fails_under_require_e2e(monkeypatch, tmp_path):
    from . import support

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PXSEC_TOOLS_DIR", str(tmp_path / "no-tools"))
    monkeypatch.delenv("PXSEC_REQUIRE_E2E", raising=False)
    with pytest.raises(pytest.skip.Exception, match="helm4 is not on PATH"):
        support.need("helm4")
    monkeypatch.setenv("PXSEC_REQUIRE_E2E", "1")
    with pytest.raises(pytest.fail.Exception, match="PXSEC_REQUIRE_E2E=1"):
        support.need("helm4")
    tool = tmp_path / "no-tools" / "bin" / "helm4"
    support.write_script(tool, "#!/bin/sh\n")
    assert support.need("helm4") == str(tool)  # the install-tools.sh cache is searched after PATH
