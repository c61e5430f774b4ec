"""sources.write_atomic, the one file writer (render -o, keys generate, token generate, install):
atomic, never clobbering without being told to, never following a symlink, and with the mode
the caller asked for or, for a new file without one, what the umask allows."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pxsec.errors import PxsecError
from pxsec.sources import write_atomic

REPO = Path(__file__).resolve().parent.parent


def mode(p: Path) -> int:
    return stat.S_IMODE(p.lstat().st_mode)


@pytest.fixture
def umask():
    """Set the process umask for one test; restored after."""
    saved = []

    def set_(value: int) -> None:
        saved.append(os.umask(value))

    yield set_
    if saved:
        os.umask(saved[0])


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o027, 0o002])
def test_a_new_file_without_a_mode_honours_the_umask(tmp_path, umask, mask):
    umask(mask)
    target = tmp_path / "out.yaml"
    write_atomic(target, b"x")
    assert mode(target) == 0o666 & ~mask


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077])
def test_an_explicit_mode_is_exact_whatever_the_umask(tmp_path, umask, mask):
    umask(mask)
    for m in (0o600, 0o640, 0o755):
        target = tmp_path / f"f{m:o}"
        write_atomic(target, b"x", m)
        assert mode(target) == m


def test_a_replaced_file_keeps_its_mode_unless_one_is_given(tmp_path, umask):
    umask(0o022)
    target = tmp_path / "out.yaml"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new" and mode(target) == 0o640
    write_atomic(target, b"secret", 0o600)
    assert mode(target) == 0o600


def test_no_clobber_refuses_an_existing_target_and_cleans_up(tmp_path):
    target = tmp_path / "k.pem"
    write_atomic(target, b"one", 0o600, replace=False)
    with pytest.raises(PxsecError, match="k.pem: already exists"):
        write_atomic(target, b"two", 0o600, replace=False)
    assert target.read_bytes() == b"one"
    assert [p.name for p in tmp_path.iterdir()] == ["k.pem"]  # no temporary file left behind
    write_atomic(target, b"two", 0o640)
    assert target.read_bytes() == b"two" and mode(target) == 0o640


def test_a_symlink_is_never_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("untouched")
    link = tmp_path / "link.pem"
    link.symlink_to(victim)
    with pytest.raises(PxsecError, match="already exists"):
        write_atomic(link, b"secret", replace=False)
    write_atomic(link, b"secret", 0o600)  # replaces the link itself
    assert victim.read_text() == "untouched" and not link.is_symlink() and link.read_bytes() == b"secret"


def test_errors_name_the_file_and_leave_nothing(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(PxsecError, match=r"d: cannot write: Is a directory"):
        write_atomic(tmp_path / "d", b"x")
    assert [p.name for p in (tmp_path / "d").iterdir()] == []
    write_atomic(tmp_path / "new" / "sub" / "f", b"x")  # parents are created
    assert (tmp_path / "new" / "sub" / "f").read_bytes() == b"x"


@pytest.mark.parametrize("mask", [0o077, 0o002])
def test_render_output_file_honours_the_umask(tmp_path, mask):
    """`pxsec render -o` (no Secret data in this output) through the entry point."""
    spec = tmp_path / "spec.yaml"
    spec.write_text("apiVersion: pxsec.io/v1alpha1\nkind: PortworxSecurity\nspec:\n"
                    "  selfSigned: {issuer: openstorage.io, sharedSecret: true}\n")
    (tmp_path / "in.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PXSEC_", "PORTWORX_AUTH_"))}
    r = subprocess.run(["sh", "-c", f"umask {mask:03o} && exec \"$0\" -m pxsec render --spec \"$1\" -o \"$2\" \"$3\"",
                        sys.executable, str(spec), str(tmp_path / "out.yaml"), str(tmp_path / "in.yaml")],
                       cwd=REPO, capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert mode(tmp_path / "out.yaml") == 0o666 & ~mask
