"""`pxsec policy`: argument parsing and printing only; the work is in pxsec.policy."""
from __future__ import annotations

from typing import List, Optional

import typer

SPEC_ENV = "PXSEC_SPEC"


def register(app: typer.Typer) -> None:
    @app.command()
    def policy(
        spec: Optional[str] = typer.Option(None, "--spec", "-s", metavar="FILE", help=f"PortworxSecurity spec file (or env {SPEC_ENV})."),
        action: List[str] = typer.Option(
            None, "--action", metavar="Deny|Warn|Audit",
            help="The binding's validationActions (repeatable; default Deny; Warn and Audit may be combined)."),
        namespace_selector: List[str] = typer.Option(
            None, "--namespace-selector", metavar="LABEL=VALUE",
            help="Enforce only in namespaces with these labels (repeatable; matchLabels). Default: every namespace."),
        name: str = typer.Option("pxsec-portworx-security", "--name", metavar="NAME",
                                 help="Name of the policy and of its binding."),
        output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write here (atomically) instead of stdout."),
    ) -> None:
        """Print a ValidatingAdmissionPolicy and its binding: the API server refuses Portworx workloads not secured as the spec says."""
        from .. import policy as policymod, sources
        from .. import spec as specmod

        actions = policymod.check_actions(action)
        labels = policymod.parse_selector(namespace_selector)
        loaded = specmod.resolve_spec(spec)
        sources.write_output(policymod.to_yaml(policymod.build(loaded, name, actions, labels)), output)
