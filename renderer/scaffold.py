"""`pxsec init`: a commented spec to start from, and how to wire it into the tool you use.

The spec comes from templates/init-spec.yaml.j2 (values through the safe serializer, never
spliced as text) and is validated before it is written: `pxsec init` never writes a spec that
`pxsec render` would refuse.
"""
from __future__ import annotations

from . import portworx as px, spec as specmod, templating
from .errors import Location, PxsecError, UsageError

MODES = ("helm", "kustomize", "kpt", "argocd", "standalone")

SNIPPETS = {
    "helm": """\
# Helm 3: pxsec on PATH is the post-renderer
helm upgrade --install px ./chart -n kube-system \\
  --post-renderer pxsec --post-renderer-args render --post-renderer-args --spec={path}
# Helm 4: install the plugin once (pxsec install helm-plugin), then the same command
""",
    "kustomize": """\
# kustomization.yaml: {path} is the KRM function config (it carries the function annotation)
transformers:
  - {path}
# build with both flags (without --enable-exec kustomize skips the function silently), then gate:
#   kustomize build --enable-alpha-plugins --enable-exec . | pxsec check --strict --spec {path}
""",
    "kpt": """\
kpt fn eval my-package --exec pxsec --fn-config {path}
""",
    "argocd": """\
# Application: the pxsec config management plugin sidecar (argocd/plugin.yaml)
spec:
  source:
    plugin:
      name: pxsec
      env:
        - {{name: PXSEC_SPEC, value: {path}}}
""",
    "standalone": """\
helm template px ./chart -n kube-system | pxsec render --spec {path} -o secured.yaml
pxsec check --strict --spec {path} secured.yaml
""",
}


def spec_text(path: str, mode: str, secret: str = px.OPERATOR_SYSTEM_SECRET) -> str:
    """The commented spec for `mode`, checked against the schema before anyone sees it."""
    if mode not in MODES:
        raise UsageError(f"--mode: unknown mode {mode!r} (one of: {', '.join(MODES)})")
    text, doc = templating.render("init-spec.yaml.j2", path=path, secret=secret, krm=mode in ("kustomize", "kpt"))
    found = specmod.problems(doc)
    if found:  # the template and the schema disagree: a bug, never the user's fault
        raise PxsecError(f"internal error: the scaffold spec is invalid ({found[0]})", Location(file=path))
    return text


def snippet(path: str, mode: str) -> str:
    return SNIPPETS[mode].format(path=path)
