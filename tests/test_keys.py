"""`pxsec keys generate` and pxsec.tokens.keys: random shared keys, key pairs, Secret manifests, files
(the writer itself, sources.write_atomic, is tested in test_write_atomic.py)."""
from __future__ import annotations

import base64
import io
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from hypothesis import given, settings, strategies as st

from pxsec.tokens import keys as keysmod
from pxsec import spec as specmod
from pxsec.errors import PxsecError
from pxsec.main import main

REPO = Path(__file__).resolve().parent.parent
URLSAFE = re.compile(r"[A-Za-z0-9_-]{64}")

SPEC = """\
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
spec:
  secret:
    name: pxkeys
    keys: {system: sys-key, stork: stork-key, jwtSharedSecret: jwt-key}
  selfSigned:
    issuer: openstorage.io
    sharedSecret: true
    rsaPublicKey: {secretName: px-rsa-pub, key: rsa.pem}
"""


@pytest.fixture
def cli(monkeypatch, capsys):
    """Run pxsec in-process: (exit code, stdout, stderr)."""
    monkeypatch.delenv("PXSEC_SPEC", raising=False)

    def run(*args, stdin: str = ""):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def spec_file(tmp_path):
    p = tmp_path / "spec.yaml"
    p.write_text(SPEC)
    return p


def _secret_values(doc: dict) -> dict[str, str]:
    return {k: base64.b64decode(v).decode("utf-8") for k, v in doc["data"].items()}


# --- random keys -----------------------------------------------------------------------------

def test_random_key_is_64_urlsafe_chars_of_384_random_bits():
    keys = {keysmod.random_key() for _ in range(200)}
    assert len(keys) == 200  # no repeats
    for k in keys:
        assert URLSAFE.fullmatch(k)
        assert len(base64.urlsafe_b64decode(k)) == 48  # 384 bits, the operator's 64 base64 chars' worth


def test_shared_keys_use_the_spec_names_and_differ(spec_file):
    keys = keysmod.generate_shared_keys(specmod.load(str(spec_file)))
    data = keys.secret_data()
    assert set(data) == {"sys-key", "stork-key", "jwt-key"}
    assert len(set(data.values())) == 3
    assert set(keys.env()) == {"PORTWORX_AUTH_SYSTEM_KEY", "PORTWORX_AUTH_STORK_KEY", "PORTWORX_AUTH_JWT_SHAREDSECRET"}


def test_roles_sharing_a_secret_key_share_one_value():
    spec = specmod.build({"secret": {"keys": {"system": "k", "stork": "k"}}})
    keys = keysmod.generate_shared_keys(spec)
    env = keys.env()
    assert env["PORTWORX_AUTH_SYSTEM_KEY"] == env["PORTWORX_AUTH_STORK_KEY"]
    assert env["PORTWORX_AUTH_JWT_SHAREDSECRET"] != env["PORTWORX_AUTH_SYSTEM_KEY"]
    assert keys.secret_data() == {"k": env["PORTWORX_AUTH_SYSTEM_KEY"], "shared-secret": env["PORTWORX_AUTH_JWT_SHAREDSECRET"]}


@given(st.lists(st.text(min_size=1), min_size=3, max_size=3))
def test_env_lines_quote_any_value(values):
    entries = tuple((var, f"k{i}", v) for i, (var, v) in enumerate(zip(
        ("PORTWORX_AUTH_SYSTEM_KEY", "PORTWORX_AUTH_STORK_KEY", "PORTWORX_AUTH_JWT_SHAREDSECRET"), values)))
    text = keysmod.env_lines(keysmod.SharedKeys(entries))
    words = shlex.split(text)
    assert words[0::2] == ["export"] * 3
    assert dict(w.split("=", 1) for w in words[1::2]) == {var: v for var, _, v in entries}


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_env_lines_evaluate_in_a_real_shell():
    entries = (("PORTWORX_AUTH_SYSTEM_KEY", "a", "it's $HOME `x` \"q\""),
               ("PORTWORX_AUTH_STORK_KEY", "b", keysmod.random_key()),
               ("PORTWORX_AUTH_JWT_SHAREDSECRET", "c", "line1\nline2"))
    script = keysmod.env_lines(keysmod.SharedKeys(entries)) + \
        'printf "%s\\0%s\\0%s" "$PORTWORX_AUTH_SYSTEM_KEY" "$PORTWORX_AUTH_STORK_KEY" "$PORTWORX_AUTH_JWT_SHAREDSECRET"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, check=True).stdout.decode()
    assert out.split("\0") == [v for _, _, v in entries]


# --- Secret manifests ------------------------------------------------------------------------

names = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True)


@given(names, st.dictionaries(st.from_regex(r"[-._a-zA-Z0-9]{1,30}", fullmatch=True).filter(lambda k: k not in (".", "..")),
                              st.text() | st.binary(), min_size=1, max_size=4),
       st.none() | names)
def test_secret_manifest_round_trips_any_value(name, data, namespace):
    text = keysmod.secret_manifest(name, data, namespace)
    doc = yaml.load(text, Loader=yaml.CSafeLoader)
    assert doc["apiVersion"] == "v1" and doc["kind"] == "Secret" and doc["type"] == "Opaque"
    assert doc["metadata"]["name"] == name
    assert doc["metadata"].get("namespace") == namespace
    want = {k: v.encode("utf-8") if isinstance(v, str) else v for k, v in data.items()}
    assert {k: base64.b64decode(v) for k, v in doc["data"].items()} == want


def test_object_and_namespace_names_are_checked():
    assert keysmod.check_object_name("px-user-token", "--secret") == "px-user-token"
    for bad in ("Upper", "-lead", "a_b", "", "x" * 254):
        with pytest.raises(PxsecError):
            keysmod.check_object_name(bad, "--secret")
    with pytest.raises(PxsecError):
        keysmod.check_namespace("kube.system")
    assert keysmod.check_namespace(None) is None


# --- CLI: shared keys ------------------------------------------------------------------------

def test_cli_default_is_shell_export_lines(cli):
    code, out, err = cli("keys", "generate")
    assert code == 0, err
    lines = out.splitlines()
    assert [ln.split("=")[0] for ln in lines] == [
        "export PORTWORX_AUTH_SYSTEM_KEY", "export PORTWORX_AUTH_STORK_KEY", "export PORTWORX_AUTH_JWT_SHAREDSECRET"]
    values = [shlex.split(ln)[1].split("=", 1)[1] for ln in lines]
    assert all(URLSAFE.fullmatch(v) for v in values) and len(set(values)) == 3
    assert err == ""


def test_cli_secret_matches_the_spec(cli, spec_file):
    code, out, err = cli("keys", "generate", "--spec", spec_file, "-n", "kube-system")
    assert code == 0, err
    doc = yaml.load(out, Loader=yaml.CSafeLoader)
    assert doc["metadata"] == {"name": "pxkeys", "namespace": "kube-system",
                               "annotations": {"stork.libopenstorage.org/skip-resource": "true"}}
    values = _secret_values(doc)
    assert set(values) == {"sys-key", "stork-key", "jwt-key"}
    assert all(URLSAFE.fullmatch(v) for v in values.values())
    for v in values.values():
        assert v not in err


def test_cli_secret_without_spec_uses_the_defaults(cli):
    code, out, _ = cli("keys", "generate", "--format", "secret")
    assert code == 0
    doc = yaml.load(out, Loader=yaml.CSafeLoader)
    assert doc["metadata"]["name"] == "pxsec-auth-keys"
    assert set(doc["data"]) == {"system-secret", "stork-secret", "shared-secret"}


def test_cli_spec_from_environment_and_env_format(cli, spec_file, monkeypatch):
    monkeypatch.setenv("PXSEC_SPEC", str(spec_file))
    code, out, _ = cli("keys", "generate")
    assert code == 0 and yaml.load(out, Loader=yaml.CSafeLoader)["metadata"]["name"] == "pxkeys"
    code, out, _ = cli("keys", "generate", "--format", "env")
    assert code == 0 and out.startswith("export PORTWORX_AUTH_SYSTEM_KEY=")


def test_cli_output_file_is_private_and_never_clobbered(cli, tmp_path):
    target = tmp_path / "keys.env"
    code, out, err = cli("keys", "generate", "-o", target)
    assert code == 0 and out == ""
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    first = target.read_text()
    assert first.count("export ") == 3

    code, out, err = cli("keys", "generate", "-o", target)
    assert code == 1 and "already exists; pass --force" in err and err.count("\n") == 1
    assert target.read_text() == first

    code, _, err = cli("keys", "generate", "-o", target, "--force")
    assert code == 0, err
    assert target.read_text() != first and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["keys.env"]  # no temporary files left behind


def test_cli_rejects_a_bad_namespace(cli):
    code, out, err = cli("keys", "generate", "-n", "Kube_System")
    # a malformed option value is a usage error (exit 2), as click's own checks are (issue 25)
    assert code == 2 and out == "" and err.startswith("pxsec: error: --namespace: ")


# --- CLI: key pairs --------------------------------------------------------------------------

def _umask() -> int:
    old = os.umask(0o022)
    os.umask(old)
    return old


@pytest.mark.parametrize("kind", ["rsa", "ecdsa"])
def test_cli_key_pair_files_and_public_key_secret(cli, tmp_path, spec_file, kind):
    code, out, err = cli("keys", "generate", f"--{kind}", "--key-dir", tmp_path, "--spec", spec_file, "-n", "px")
    assert code == 0, err
    # The spec names the RSA Secret; the ECDSA one falls back to the README's spec example.
    want = ("px-rsa-pub", "rsa.pem") if kind == "rsa" else ("px-jwt-keys", "ecdsa.pub")
    private = tmp_path / f"jwt-{kind}-private.pem"
    public = tmp_path / f"jwt-{kind}-public.pem"
    manifest = tmp_path / f"secret-{want[0]}.yaml"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([private.name, public.name, manifest.name,
                                                                 spec_file.name])
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(public.stat().st_mode) == 0o666 & ~_umask()  # no secret: the umask decides

    priv = load_pem_private_key(private.read_bytes(), password=None)
    pub = load_pem_public_key(public.read_bytes())
    if kind == "rsa":
        assert isinstance(priv, rsa.RSAPrivateKey) and priv.key_size >= 3072
        assert private.read_bytes().startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    else:
        assert isinstance(priv, ec.EllipticCurvePrivateKey) and priv.curve.name == "secp256r1"
        assert private.read_bytes().startswith(b"-----BEGIN EC PRIVATE KEY-----")
    assert pub.public_numbers() == priv.public_key().public_numbers()

    doc = yaml.load(manifest.read_text(), Loader=yaml.CSafeLoader)
    assert (doc["metadata"]["name"], list(doc["data"])) == (want[0], [want[1]])
    assert doc["metadata"]["namespace"] == "px"
    assert base64.b64decode(doc["data"][want[1]]) == public.read_bytes()

    # stdout is the line to paste under spec.selfSigned, and it parses to what the Secret holds;
    # the shared keys are not made unless asked for (--shared).
    field = "rsaPublicKey" if kind == "rsa" else "ecdsaPublicKey"
    assert out.count("\n") == 1
    assert yaml.load(out, Loader=yaml.CSafeLoader) == {field: {"secretName": want[0], "key": want[1]}}
    assert "PRIVATE" not in err and private.name in err and manifest.name in err


def test_cli_key_pair_line_matches_the_readme_spec_example(cli, tmp_path):
    """Without a spec the Secret/key names are the README's: the printed lines paste into it."""
    readme = (REPO / "README.md").read_text()
    spec_example = readme.split("## The spec", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    example = yaml.load(spec_example, Loader=yaml.CSafeLoader)["spec"]["selfSigned"]
    code, out, err = cli("keys", "generate", "--rsa", "--ecdsa", "--key-dir", tmp_path)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2
    printed = yaml.load(out, Loader=yaml.CSafeLoader)
    assert printed == {k: example[k] for k in ("rsaPublicKey", "ecdsaPublicKey")} == {
        "rsaPublicKey": {"secretName": "px-jwt-keys", "key": "rsa.pub"},
        "ecdsaPublicKey": {"secretName": "px-jwt-keys", "key": "ecdsa.pub"}}
    assert f"```yaml\n{lines[0]}\n```" in readme  # the Keys and tokens section shows the exact line
    # One Secret holds both keys, so applying it never drops the other one.
    doc = yaml.load((tmp_path / "secret-px-jwt-keys.yaml").read_text(), Loader=yaml.CSafeLoader)
    assert sorted(doc["data"]) == ["ecdsa.pub", "rsa.pub"]
    assert base64.b64decode(doc["data"]["rsa.pub"]) == (tmp_path / "jwt-rsa-public.pem").read_bytes()


def test_cli_key_pair_keeps_the_other_key_in_a_shared_secret(cli, tmp_path):
    assert cli("keys", "generate", "--rsa", "--key-dir", tmp_path)[0] == 0
    code, _, err = cli("keys", "generate", "--ecdsa", "--key-dir", tmp_path)
    assert code == 1 and "secret-px-jwt-keys.yaml: already exists; pass --force" in err
    assert not (tmp_path / "jwt-ecdsa-private.pem").exists()
    code, _, err = cli("keys", "generate", "--ecdsa", "--key-dir", tmp_path, "--force")
    assert code == 0, err
    doc = yaml.load((tmp_path / "secret-px-jwt-keys.yaml").read_text(), Loader=yaml.CSafeLoader)
    assert base64.b64decode(doc["data"]["rsa.pub"]) == (tmp_path / "jwt-rsa-public.pem").read_bytes()
    assert base64.b64decode(doc["data"]["ecdsa.pub"]) == (tmp_path / "jwt-ecdsa-public.pem").read_bytes()
    assert "rsa.pub (rsa, kept from" in err


def test_cli_key_pair_with_shared_keys_only_when_asked(cli, tmp_path, spec_file):
    code, out, err = cli("keys", "generate", "--rsa", "--shared", "--key-dir", tmp_path, "--spec", spec_file)
    assert code == 0, err
    doc = yaml.load(out, Loader=yaml.CSafeLoader)
    assert doc["kind"] == "Secret" and set(doc["data"]) == {"sys-key", "stork-key", "jwt-key"}
    assert "paste under spec.selfSigned: rsaPublicKey: " in err  # stdout carries the keys: the line goes to stderr
    for value in _secret_values(doc).values():
        assert value not in err

    code, out, err = cli("keys", "generate", "--rsa", "-o", tmp_path / "k.yaml", "--key-dir", tmp_path / "x")
    assert code == 2 and "add --shared" in err and out == ""
    assert not (tmp_path / "x").exists() and not (tmp_path / "k.yaml").exists()


def test_cli_refuses_the_same_key_for_both_public_keys(cli, tmp_path):
    spec = tmp_path / "same.yaml"
    spec.write_text(SPEC.replace("    rsaPublicKey: {secretName: px-rsa-pub, key: rsa.pem}\n",
                                 "    rsaPublicKey: {secretName: s, key: k}\n    ecdsaPublicKey: {secretName: s, key: k}\n"))
    code, out, err = cli("keys", "generate", "--rsa", "--spec", spec, "--key-dir", tmp_path)
    assert code == 1 and out == "" and "both name key k of Secret s" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same.yaml"]


def test_cli_key_pair_refuses_to_overwrite_and_writes_nothing(cli, tmp_path):
    (tmp_path / "jwt-ecdsa-public.pem").write_text("keep me")
    code, out, err = cli("keys", "generate", "--rsa", "--ecdsa", "--key-dir", tmp_path)
    assert code == 1 and out == ""
    assert "jwt-ecdsa-public.pem: already exists; pass --force" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jwt-ecdsa-public.pem"]  # checked before writing anything
    assert (tmp_path / "jwt-ecdsa-public.pem").read_text() == "keep me"

    code, _, err = cli("keys", "generate", "--ecdsa", "--key-dir", tmp_path, "--force")
    assert code == 0, err
    assert b"BEGIN PUBLIC KEY" in (tmp_path / "jwt-ecdsa-public.pem").read_bytes()


def test_entry_point_writes_a_private_key_with_mode_0600(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PXSEC_SPEC"}
    old = os.umask(0)
    try:
        r = subprocess.run([sys.executable, "-m", "pxsec", "keys", "generate", "--ecdsa", "--key-dir", str(tmp_path)],
                           cwd=REPO, capture_output=True, text=True, env=env)
    finally:
        os.umask(old)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE((tmp_path / "jwt-ecdsa-private.pem").stat().st_mode) == 0o600
    assert "Traceback" not in r.stderr


def test_key_dir_is_created_private(tmp_path):
    """`--key-dir keys/` as the README writes it: created, owner-only, holding the pair."""
    from conftest import run_pxsec

    target = tmp_path / "new" / "keys"
    r = run_pxsec(["keys", "generate", "--ecdsa", "--key-dir", str(target)], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert sorted(p.name for p in target.iterdir()) == ["jwt-ecdsa-private.pem", "jwt-ecdsa-public.pem",
                                                        "secret-px-jwt-keys.yaml"]


def test_shared_keys_load_neither_jwt_nor_cryptography():
    """pxsec.tokens re-exports lazily: `keys generate` of shared keys needs only tokens.keys, and
    importing jwt and cryptography for it cost about 50 ms of its start-up."""
    from clirunner import run_python

    code = ("import sys; from pxsec.main import main; rc = main(['keys', 'generate', '-f', 'env']); "
            "print(sorted(m for m in ('jwt', 'cryptography') if m in sys.modules), file=sys.stderr); sys.exit(rc)")
    r = run_python(code)
    assert r.returncode == 0 and r.stderr.strip().endswith(b"[]"), r.stderr


def test_every_lazy_token_name_is_its_module_s_object():
    import importlib

    from pxsec import tokens

    for module, names in tokens.EXPORTS.items():
        owner = importlib.import_module(f"pxsec.tokens.{module}")
        for name in names:
            assert getattr(tokens, name) is getattr(owner, name), (module, name)
    assert set(dir(tokens)) >= {n for names in tokens.EXPORTS.values() for n in names}
    with pytest.raises(AttributeError):
        tokens.no_such_name  # noqa: B018
