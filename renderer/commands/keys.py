"""`pxsec keys generate`: argument parsing and printing only; the work is in renderer.keys."""
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
        None, "--spec", "-s", metavar="FILE", help=f"PortworxSecurity spec (or env {SPEC_ENV}): Secret name and keys from it."),
    fmt: Optional[Format] = typer.Option(
        None, "--format", "-f", metavar="secret|env",
        help="secret: a Secret manifest (default with a spec); env: shell export lines of the "
             "PORTWORX_AUTH_* variables (default without)."),
    namespace: Optional[str] = typer.Option(None, "--namespace", "-n", metavar="NAMESPACE", help="Namespace of the Secret manifests."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write to this file (mode 0600) instead of stdout."),
    rsa: bool = typer.Option(False, "--rsa", help="Also write an RSA key pair (RS256) and its public-key Secret."),
    ecdsa: bool = typer.Option(False, "--ecdsa", help="Also write an ECDSA P-256 key pair (ES256) and its public-key Secret."),
    key_dir: str = typer.Option(".", "--key-dir", metavar="DIR", help="Directory for the key pair files."),
    force: bool = typer.Option(False, "--force", help="Overwrite files that exist."),
) -> None:
    """Random system, Stork and JWT shared-secret keys (384 bits each), as a Secret or env lines.

    With --rsa/--ecdsa also jwt-<type>-private.pem (mode 0600), jwt-<type>-public.pem and
    jwt-<type>-public-secret.yaml (the Secret selfSigned.rsaPublicKey/ecdsaPublicKey names)
    in --key-dir. No file is overwritten without --force.
    """
    from .. import keys as keysmod, spec as specmod

    path = spec or os.environ.get(SPEC_ENV)
    loaded = specmod.load(path) if path else None
    keysmod.check_namespace(namespace)
    fmt = fmt or (Format.secret if loaded else Format.env)
    kinds = [k for k, on in (("rsa", rsa), ("ecdsa", ecdsa)) if on]
    if kinds and not os.path.isdir(key_dir):
        try:  # a new key directory holds a private key: only its owner may read it
            os.makedirs(key_dir, mode=0o700)
        except OSError as e:
            from ..errors import Location, PxsecError

            raise PxsecError(f"cannot create key directory: {e.strerror}", Location(file=key_dir)) from None
    files = {kind: keysmod.key_pair_files(kind, key_dir) for kind in kinds}
    targets = [p for f in files.values() for p in (f.private, f.public, f.manifest)]
    if output and output != "-":
        targets.append(output)
    keysmod.check_writable(targets, force)

    shared = keysmod.generate_shared_keys(loaded)
    if fmt is Format.secret:
        text = keysmod.dump_yaml(keysmod.shared_keys_secret(shared, loaded, namespace))
    else:
        text = keysmod.env_lines(shared)

    for kind in kinds:
        pair = keysmod.generate_key_pair(kind)
        ref = keysmod.public_key_ref(kind, loaded)
        f = files[kind]
        keysmod.write_file(f.private, pair.private_pem, mode=0o600, force=force)
        keysmod.write_file(f.public, pair.public_pem, mode=0o644, force=force)
        manifest = keysmod.dump_yaml(keysmod.public_key_secret(pair, ref, namespace))
        keysmod.write_file(f.manifest, manifest.encode("utf-8"), mode=0o644, force=force)
        field = "rsaPublicKey" if kind == "rsa" else "ecdsaPublicKey"
        log_info(f"wrote {f.private} (private key, mode 0600: sign {pair.algorithm} tokens with "
                 f"`pxsec token generate --private-key`), {f.public} and {f.manifest} "
                 f"(Secret {ref.secret_name}, key {ref.key}: spec.selfSigned.{field})")

    if output and output != "-":
        keysmod.write_file(output, text.encode("utf-8"), mode=0o600, force=force)
    else:
        sys.stdout.write(text)
