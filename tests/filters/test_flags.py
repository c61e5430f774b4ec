"""px-runc flags in a container's argv: the filters read them with `portworx.scan_flags`, the
one argv reader, and add theirs before a `--` terminator.

Go's flag package stops at `--` and leaves every later token as a positional argument
(golang/go src/flag/flag.go, `(*FlagSet).parseOne`: `if len(s) == 2 { // "--" terminates the
flags`); px-runc receives `command` + `args` as one argv (kubelet `ExpandContainerCommandAndArgs`).
A flag pxsec appended after `--` would never reach px-runc's flag parser, and Portworx would start
without PX-Security."""
from __future__ import annotations

from pxsec import portworx as px
from pxsec.render import redact
from pxsec.render.filters import common as c

OWNED = px.OWNED_FLAGS
ISSUER = px.SETTINGS["jwt_issuer"][0]


def test_added_flags_go_before_the_terminator():
    args = ["-c", "px", "--", "-jwt_issuer", "not-a-flag", "tail"]
    changes = c.set_flags(args, [(ISSUER, "openstorage.io")], OWNED)
    assert args == ["-c", "px", ISSUER, "openstorage.io", "--", "-jwt_issuer", "not-a-flag", "tail"]
    assert changes == [f"added arg {ISSUER}"]
    flags, end = px.scan_flags(args, frozenset(OWNED))
    assert [(f.flag, f.value) for f in flags] == [(ISSUER, "openstorage.io")] and args[end] == "--"


def test_flags_before_the_terminator_are_edited_and_the_tail_is_kept():
    args = ["--jwt_issuer=old", "-x", "-jwt_shared_secret", "s3cret", "--", "-jwt_shared_secret", "positional"]
    changes = c.set_flags(args, [(ISSUER, "openstorage.io")], OWNED)
    assert args == [ISSUER, "openstorage.io", "-x", "--", "-jwt_shared_secret", "positional"]
    assert changes == [f"set arg {ISSUER}", "removed arg -jwt_shared_secret (it carried a secret)"]
    assert c.set_flags(args, [(ISSUER, "openstorage.io")], OWNED) == []  # idempotent


def test_without_a_terminator_flags_are_appended():
    args = ["-c", "px"]
    c.set_flags(args, [(ISSUER, "i")], OWNED)
    assert args == ["-c", "px", ISSUER, "i"]


def test_a_flag_ending_command_takes_its_value_from_args():
    command, args = ["/px-oci-mon", "-jwt_issuer"], ["old", "-c", "px"]
    changes = c.strip_command_flags(command, args, OWNED)
    assert command == ["/px-oci-mon"] and args == ["-c", "px"] and changes == ["removed command-line flag -jwt_issuer"]


def test_redaction_reads_flags_as_portworx_flag_name_does():
    """`--jwt_shared_secret v` is the same flag to Go as `-jwt_shared_secret v`: its value is masked."""
    masked = redact.value(["--jwt_shared_secret", "s3cret", "-auth_system_key=k3y", "-c", "px"])
    assert masked == ["--jwt_shared_secret", redact.LITERAL, f"-auth_system_key={redact.LITERAL}", "-c", "px"]
