"""`pxsec patches`: argument parsing and printing only; the work is in pxsec.flux."""
from __future__ import annotations

import os
from enum import Enum
from typing import List, Optional

import typer

SPEC_ENV = "PXSEC_SPEC"


class Form(str, Enum):
    kustomization = "kustomization"
    helmrelease = "helmrelease"


def register(app: typer.Typer) -> None:
    @app.command()
    def patches(
        paths: List[str] = typer.Argument(
            None, metavar="PATH", help="Files or directories (*.yaml, *.yml, sorted), e.g. `helm template` output; '-' or nothing reads stdin."),
        spec: Optional[str] = typer.Option(None, "--spec", "-s", metavar="FILE", help=f"PortworxSecurity spec file (or env {SPEC_ENV})."),
        form: Form = typer.Option(
            ..., "--for", metavar="kustomization|helmrelease",
            help="kustomization: a list for a kustomization's `patches:`; helmrelease: a `postRenderers:` block "
                 "for a Flux HelmRelease's spec."),
        output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write here (atomically) instead of stdout."),
    ) -> None:
        """Print kustomize patches (for Flux) that make the stream what `pxsec render` makes of it.

        Example: helm template px ./chart -n kube-system | pxsec patches --spec pxsec.yaml --for helmrelease
        """
        from .. import flux, sources
        from .. import spec as specmod
        from ..errors import PxsecError, UsageError
        from ..log import log_warning

        path = spec or os.environ.get(SPEC_ENV)
        if not path:
            raise UsageError("no spec: pass --spec FILE or set PXSEC_SPEC")
        loaded = specmod.load(path)
        patch_set = flux.compute(sources.read_inputs(paths or ["-"]), loaded)
        if not patch_set.patches:  # one line: the reason, not render's "nothing was secured" too
            raise PxsecError("nothing to patch: render would change no workload in the input (no Portworx "
                             "DaemonSet or StorageCluster, or already secured as the spec asks)")
        for w in patch_set.warnings:
            log_warning(w)
        sources.write_output(flux.format_patches(patch_set, form.value), output)
