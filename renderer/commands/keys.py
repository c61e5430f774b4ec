"""`pxsec keys generate`: argument parsing and printing only; the work is in pxsec.tokens.keys."""
import os
import sys
from enum import Enum
from typing import Optional

import typer

from ..log import log_info

app = typer.Typer(
    help="Make the keys PX-Security needs: shared keys, and key pairs for RS256/ES256 tokens.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

SPEC_ENV = "PXSEC_SPEC"


class Format(str, Enum):
    secret = "secret"
    env = "env"


@app.command()
def generate(
    spec: Optional[str] = typer.Option(
        None, "--spec", "-s", metavar="FILE", help=f"PortworxSecurity spec (or env {SPEC_ENV}): Secret names and keys from it."),
    fmt: Optional[Format] = typer.Option(
        None, "--format", "-f", metavar="secret|env",
        help="Shared keys as secret: a Secret manifest (default with a spec); env: shell export lines of the "
             "PORTWORX_AUTH_* variables (default without)."),
    namespace: Optional[str] = typer.Option(None, "--namespace", "-n", metavar="NAMESPACE", help="Namespace of the Secret manifests."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the shared keys to this file (mode 0600) instead of stdout."),
    rsa: bool = typer.Option(False, "--rsa", help="Write an RSA key pair (RS256) and its public-key Secret instead."),
    ecdsa: bool = typer.Option(False, "--ecdsa", help="Write an ECDSA P-256 key pair (ES256) and its public-key Secret instead."),
    shared: bool = typer.Option(False, "--shared", help="With --rsa/--ecdsa: also make the shared keys (printed, or --output)."),
    key_dir: str = typer.Option(".", "--key-dir", metavar="DIR", help="Directory for the key pair files (created mode 0700)."),
    force: bool = typer.Option(False, "--force", help="Overwrite files that exist."),
) -> None:
    """Random system, Stork and JWT shared-secret keys (384 bits each), as a Secret or env lines.

    With --rsa/--ecdsa instead: jwt-<type>-private.pem (mode 0600), jwt-<type>-public.pem and
    secret-<name>.yaml (the public-key Secret) in --key-dir, and on stdout the
    `rsaPublicKey: {secretName: ..., key: ...}` line to paste under spec.selfSigned. The
    shared keys are then made only with --shared. No file is overwritten without --force.

    \b
    Example: pxsec keys generate --spec pxsec.yaml -n kube-system -o px-keys.yaml
    """
    from ..tokens import keys as keysmod
    from .. import spec as specmod

    path = spec or os.environ.get(SPEC_ENV)
    loaded = specmod.load(path) if path else None
    kinds = [k for k, on in (("rsa", rsa), ("ecdsa", ecdsa)) if on]
    result = keysmod.generate(loaded, fmt=fmt.value if fmt else None, namespace=namespace, output=output,
                              kinds=kinds, key_dir=key_dir, shared=True if shared else None, force=force)
    sys.stdout.write(result.stdout)
    for note in result.notes:
        log_info(note)
