"""kustomize legacy exec plugin mode: `pxsec CONFIG_FILE` with the resources on stdin.

kustomize (`kustomize build --enable-alpha-plugins`, `kubectl kustomize --enable-alpha-plugins`)
runs `<plugin home>/pxsec.io/v1alpha1/portworxsecurity/PortworxSecurity CONFIG_FILE` -- the
wrapper `pxsec install kustomize-plugin` writes -- where CONFIG_FILE is a temporary copy of the
transformer config (the PortworxSecurity spec), stdin is every resource of the build as a YAML
stream, each with a `kustomize.config.k8s.io/id` annotation, and stdout must be the resulting
resources. kustomize matches the output back to its resources by current id, so the id
annotation is kept (the core keeps metadata; an object the core rebuilt gets it back here).
"""
from __future__ import annotations

import os
from typing import BinaryIO


from ..render import pipeline
from .. import spec as specmod
from ..errors import Location, PxsecError
from ..log import log_warning
from ..sources import decode, read_bytes, write_stream
from . import nodes

RESOURCES_SOURCE = "<kustomize resources>"
NOT_A_CONFIG = ("`pxsec FILE` is the kustomize legacy exec plugin mode, where FILE is the PortworxSecurity "
                "transformer config; to secure a manifest run `pxsec render --spec SPEC FILE`")


def load_config(path: str) -> specmod.Spec:
    """The transformer config: the PortworxSecurity object, minus the orchestrator's annotations."""
    raw = read_bytes(path, "the plugin config")
    text = decode(raw, path)
    doc = specmod.parse_document(text, path, hint=NOT_A_CONFIG)
    if not isinstance(doc, dict) or doc.get("kind") != specmod.KIND:
        kind = doc.get("kind") if isinstance(doc, dict) else None
        raise PxsecError(f"not a {specmod.KIND} config{f' (kind {kind!r})' if kind else ''}; {NOT_A_CONFIG}",
                         Location(file=path))
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    # The temporary file's name means nothing to the user: name the transformer instead.
    source = f"kustomize transformer {doc.get('kind') if isinstance(doc, dict) else '?'}/{name or '?'}"
    return specmod.from_document(nodes.strip_config_annotations(doc), source, raw=raw)


def restore_annotations(result: pipeline.RenderResult) -> None:
    """Put back on each changed output object any orchestrator annotation its input had and lost
    (the core keeps metadata on every object it edits; this is the guard for one it rebuilt), in
    the pairs, before the output text is written: unchanged documents stay byte for byte."""
    for pair in result.pairs:
        if pair.changed and pair.document.obj is not None:
            nodes.restore_annotations_of(pair.before, pair.after)


def run(config_path: str, stdin: BinaryIO, stdout: BinaryIO) -> int:
    spec = load_config(config_path)
    text = decode(stdin.read(), RESOURCES_SOURCE)
    result = pipeline.render([(RESOURCES_SOURCE, text)], spec, environ=os.environ)
    restore_annotations(result)
    for w in result.warnings:
        log_warning(w)
    write_stream(stdout, result.text.encode("utf-8"))
    return 0
