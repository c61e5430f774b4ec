"""Helm 3: `--post-renderer pxsec` (the executable on PATH) with `--post-renderer-args render ...`."""
from __future__ import annotations

import pytest

from .support import (CASES, CHART, assert_golden, by_kind, container_env_names, helm_template_args,
                      need, post_renderer_args, run)

pytestmark = pytest.mark.e2e  # runs real helm/kustomize/kpt/kubectl binaries

SPEC = CASES / "helm3" / "spec.yaml"


def helm3_post_render(e2e, *extra, spec=SPEC, env=None):
    helm3 = need("helm3")
    return run([helm3, *helm_template_args(), *extra, "--post-renderer", "pxsec", *post_renderer_args(spec)],
               env or e2e.env())


def test_helm3_template_post_renderer_golden(e2e):
    out = helm3_post_render(e2e).stdout
    assert_golden("helm3", out)
    (ds,) = by_kind(out, "DaemonSet")
    assert "PORTWORX_AUTH_SYSTEM_KEY" in container_env_names(ds)


def test_helm3_spec_from_env_var_is_the_same(e2e):
    by_arg = helm3_post_render(e2e).stdout
    by_env = helm3_post_render(e2e, spec=None, env=e2e.env(PXSEC_SPEC=str(SPEC))).stdout
    assert by_env == by_arg


def test_helm3_source_comments_survive_so_show_only_finds_the_daemonset(e2e):
    out = helm3_post_render(e2e, "--show-only", "templates/portworx-daemonset.yaml").stdout
    assert out.startswith("---\n# Source: portworx-ds/templates/portworx-daemonset.yaml\n")
    (ds,) = by_kind(out, "DaemonSet")
    assert "PORTWORX_AUTH_SYSTEM_KEY" in container_env_names(ds)
    assert "-jwt_issuer" in ds["spec"]["template"]["spec"]["containers"][0]["args"]


def test_helm3_untouched_documents_are_byte_identical(e2e):
    helm3 = need("helm3")
    plain = run([helm3, *helm_template_args(), "--show-only", "templates/configmap.yaml"], e2e.env()).stdout
    rendered = helm3_post_render(e2e, "--show-only", "templates/configmap.yaml").stdout
    assert rendered == plain
    assert '"1:20"' in rendered and "# Not Portworx" in rendered


def test_helm3_hooks_are_not_post_rendered_and_stay_in_the_output(e2e):
    out = helm3_post_render(e2e).stdout
    (job,) = by_kind(out, "Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"


def test_helm3_chart_fixture_is_what_the_tests_assume():
    # guards the fixture against edits that would make the assertions above vacuous
    names = sorted(p.name for p in (CHART / "templates").iterdir())
    assert names == ["broken.yaml", "configmap.yaml", "hook-job.yaml", "portworx-daemonset.yaml",
                     "stork-deployment.yaml"]
