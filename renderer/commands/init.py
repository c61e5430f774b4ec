"""`pxsec init`: a commented spec to start from, and how to wire it into the tool you use.

The spec comes from templates/init-spec.yaml.j2 (values through the safe serializer, never
spliced as text) and is validated before it is written: `pxsec init` never writes a spec that
`pxsec render` would refuse.
"""
from __future__ import annotations

from .. import portworx as px, spec as specmod
from ..spec import templating
from ..errors import Location, PxsecError, UsageError

SCHEMA_FILE = "portworxsecurity.schema.json"
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


def spec_text(path: str, mode: str, secret: str | None = None) -> str:
    """The commented spec for `mode`, checked against the schema before anyone sees it."""
    if mode not in MODES:
        raise UsageError(f"--mode: unknown mode {mode!r} (one of: {', '.join(MODES)})")
    secret = secret or specmod.DEFAULTS["secret.name"]
    text, doc = templating.render("init-spec.yaml.j2", path=path, secret=secret, krm=mode in ("kustomize", "kpt"),
                                  schema_uri=schema_uri())
    found = specmod.problems(doc)
    if found:  # the template and the schema disagree: a bug, never the user's fault
        raise PxsecError(f"internal error: the scaffold spec is invalid ({found[0]})", Location(file=path))
    return text


def schema_path() -> str:
    """The spec's JSON Schema as installed with pxsec (the checkout's schemas/ in development)."""
    from ..data import data_file

    return data_file("schemas", SCHEMA_FILE)


def schema_uri() -> str:
    """A file:// URI of the installed schema, for the editors' `$schema=` comment: it resolves on
    this machine (no web host to depend on), and percent-encoding keeps it one word on one line."""
    from pathlib import Path

    uri = Path(schema_path()).resolve().as_uri()
    if not uri.isascii() or any(c.isspace() or not c.isprintable() for c in uri):  # as_uri() quotes them
        raise PxsecError(f"internal error: cannot write the schema's location as a URI ({uri!r})")
    return uri


def snippet(path: str, mode: str) -> str:
    return SNIPPETS[mode].format(path=path)


def init(output: str, mode: str, force: bool) -> None:
    """`pxsec init`: write the commented spec to `output` (refusing to overwrite it without
    `force`) and print how to use it with `mode`'s tool."""
    from .. import sources

    text = spec_text(output, mode)
    sources.write_atomic(output, text.encode("utf-8"), replace=force)
    print(f"# wrote {output}; check it with: pxsec validate {output}\n" + snippet(output, mode), end="")
