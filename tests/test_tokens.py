"""`pxsec token generate|verify` through the CLI, in-process and through the entry point.

CLI runs use the real clock with margins of minutes or hours, never timing assertions."""
from __future__ import annotations

import base64
import datetime
import json
import os
import stat
import subprocess
import sys

import jwt
import yaml
import pytest

from pxsec import portworx as px
from pxsec import tokens
from tokenkit import (  # fixtures too: cli, files
    EC_KEY, FIXTURES, HS_ENV, NS, OTHER_SECRET, OidcProvider, REPO, REQUIRE, RSA_KEY, SECRET,
    SPEC_YAML, STORK_KEY, TricklingProvider, _tls_pair, claims, cli, files, forge, hs, pem_private,
    signed_raw)  # noqa: F401


@pytest.mark.parametrize("sign_args,alg,pyjwt_key", [
    ((), "HS256", SECRET),
    (("--private-key", "rsa.key"), "RS256", RSA_KEY.public_key()),
    (("--private-key", "ec.key"), "ES256", EC_KEY.public_key()),
])
def test_cli_generate_then_verify(cli, files, sign_args, alg, pyjwt_key):
    sign_args = [files / a if a.endswith(".key") else a for a in sign_args]
    code, out, err = cli("token", "generate", "--spec", files / "spec.yaml", "--auth-config",
                         FIXTURES / "admin-auth-config.yaml", *sign_args, env=HS_ENV)
    assert code == 0 and err == "", err
    token = out.strip()
    assert out == token + "\n"
    decoded = jwt.decode(token, pyjwt_key, algorithms=[alg], options=REQUIRE)
    assert decoded["exp"] - decoded["iat"] == 2 * 3600 + tokens.IAT_BACKDATE  # the spec's tokenLifetime
    assert (decoded["roles"], decoded["groups"], decoded["iss"]) == (["system.admin"], ["*"], "openstorage.io")

    code, out, err = cli("token", "verify", "--spec", files / "spec.yaml", "--rsa-public-key", files / "rsa.pub",
                         "--ecdsa-public-key", files / "ec.pub", "-", stdin=token + "\n", env=HS_ENV)
    assert code == 0, err
    assert out.splitlines()[0].startswith("valid:")
    assert "user:    admin@example.com/admin (sub)" in out and f"(self-signed, {alg})" in out
    assert "roles:   system.admin" in out and "groups:  *" in out and "expires: " in out
    assert token not in out + err and SECRET not in out + err


def test_cli_verify_json_and_token_argument(cli, files):
    token = hs(claims(iat=int(datetime.datetime.now().timestamp()) - 5,
                      exp=int(datetime.datetime.now().timestamp()) + 7200))
    code, out, err = cli("token", "verify", token, "--spec", files / "spec.yaml", "--json", env=HS_ENV)
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert doc["valid"] is True and doc["user"] == "u-1" and doc["roles"] == ["system.user"]
    assert 3600 < doc["expires_in_seconds"] <= 7200


def test_cli_verify_invalid_prints_one_line_on_stderr_only(cli, files):
    token = hs(claims(), OTHER_SECRET)
    code, out, err = cli("token", "verify", "--spec", files / "spec.yaml", stdin=token, env=HS_ENV)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("pxsec: error: invalid token: the signature does not verify")
    assert token not in err and SECRET not in err and OTHER_SECRET not in err

    code, out, err = cli("token", "verify", "--spec", files / "spec.yaml", "--json", stdin=token, env=HS_ENV)
    assert code == 1 and err == ""
    assert json.loads(out) == {"valid": False, "reason": "the signature does not verify with the shared secret "
                                                         "(PORTWORX_AUTH_JWT_SHAREDSECRET)"}


def test_cli_verify_expiry_and_leeway(cli, files):
    now = int(datetime.datetime.now().timestamp())
    token = hs(claims(iat=now - 7200, exp=now - 1800))  # expired half an hour ago
    code, _, err = cli("token", "verify", "--spec", files / "spec.yaml", stdin=token, env=HS_ENV)
    assert code == 1 and "expired at" in err and "leeway 60s" in err
    code, out, err = cli("token", "verify", "--spec", files / "spec.yaml", "--leeway", "3600", stdin=token, env=HS_ENV)
    assert code == 0 and "ago, within the leeway" in out, err


def test_cli_verify_needs_the_secret_and_the_spec(cli, files):
    token = hs(claims())
    code, out, err = cli("token", "verify", "--spec", files / "spec.yaml", stdin=token)
    assert code == 1 and out == "" and px.SHARED_KEY in err and err.startswith("pxsec: error: ")
    code, _, err = cli("token", "verify", stdin=token)
    assert code == 2 and "no spec" in err
    code, _, err = cli("token", "verify", "--spec", files / "spec.yaml", "--rsa-public-key", files / "rsa.key",
                       stdin=token)
    assert code == 1 and "this is a private key" in err


def test_cli_generate_secret_for_storageclass(cli, files):
    code, out, err = cli("token", "generate", "--issuer", "openstorage.io", "--name", "k8s", "--email", "k8s@x",
                         "--role", "system.user", "--secret", "px-user-token", "-n", "default", "-l", "1y", env=HS_ENV)
    assert code == 0, err
    doc = yaml.load(out, Loader=yaml.CSafeLoader)
    assert doc["kind"] == "Secret" and doc["metadata"]["name"] == "px-user-token"
    assert doc["metadata"]["namespace"] == "default" and list(doc["data"]) == ["auth-token"]
    token = base64.b64decode(doc["data"]["auth-token"]).decode()
    decoded = jwt.decode(token, SECRET, algorithms=["HS256"], options=REQUIRE)
    assert decoded["exp"] - decoded["iat"] == 365 * 86400 + tokens.IAT_BACKDATE
    assert decoded["sub"] == tokens.default_subject("k8s", "k8s@x")


def test_cli_generate_output_file(cli, files):
    target = files / "admin.jwt"
    args = ("token", "generate", "--issuer", "openstorage.io", "--name", "a", "--email", "a@x", "-r", "system.admin",
            "-o", target)
    code, out, err = cli(*args, env=HS_ENV)
    assert code == 0 and out == "" and err == ""
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert jwt.decode(target.read_text().strip(), SECRET, algorithms=["HS256"])["roles"] == ["system.admin"]
    code, _, err = cli(*args, env=HS_ENV)
    assert code == 1 and "already exists" in err


# Usage errors (a missing or malformed option, a value given neither as an option nor in the
# environment) exit 2; bad input (a file's content) exits 1 (issue 25).
@pytest.mark.parametrize("args,env,code,message", [
    (("--issuer", "openstorage.io", "--name", "a", "--email", "b"), {}, 2, px.SHARED_KEY),
    (("--name", "a", "--email", "b"), HS_ENV, 2, "no issuer"),
    (("--issuer", "https://idp.example.com", "--name", "a", "--email", "b"), HS_ENV, 2, "not a URL"),
    (("--issuer", "openstorage.io", "--email", "b"), HS_ENV, 2, "needs a name"),
    (("--issuer", "openstorage.io", "--name", "a", "--email", "b", "-l", "1h30m"), HS_ENV, 2, "--lifetime"),
    (("--issuer", "openstorage.io", "--name", "a", "--email", "b", "--secret", "Bad_Name"), HS_ENV, 2, "--secret"),
    (("--issuer", "openstorage.io", "--name", "a", "--email", "b", "-n", "Bad_NS"), HS_ENV, 2, "--namespace"),
    (("--issuer", "openstorage.io", "--auth-config", "/nonexistent/auth.yaml"), HS_ENV, 1, "cannot read"),
])
def test_cli_generate_errors(cli, args, env, code, message):
    got, out, err = cli("token", "generate", *args, env=env)
    assert got == code and out == "" and message in err and err.count("\n") == 1
    assert SECRET not in err


def test_cli_generate_warns_when_the_spec_would_refuse(cli, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC_YAML.replace("    ecdsaPublicKey: {secretName: px-ec, key: ec.pem}\n", ""))
    key = tmp_path / "ec.key"
    key.write_bytes(pem_private(EC_KEY))
    code, out, err = cli("token", "generate", "--spec", spec, "--private-key", key, "--name", "a", "--email", "b",
                         "-r", "system.user")
    assert code == 0 and out.count(".") == 2
    assert "accepts no ES256 tokens" in err
    code, out, err = cli("token", "generate", "--spec", spec, "--issuer", "elsewhere.io", "--name", "a",
                         "--email", "b", "-r", "system.user", env=HS_ENV)
    assert code == 0 and "self-signed issuer is not 'elsewhere.io'" in err


def test_cli_oidc_only_spec_has_no_issuer_to_sign_for(cli, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("apiVersion: pxsec.io/v1alpha1\nkind: PortworxSecurity\nspec:\n"
                    "  oidc: {issuer: 'https://idp.example.com', clientId: px}\n")
    code, _, err = cli("token", "generate", "--spec", spec, "--name", "a", "--email", "b", env=HS_ENV)
    assert code == 1 and "no selfSigned issuer" in err


def test_cli_verify_stork_token(cli, files):
    now = int(datetime.datetime.now().timestamp())
    token = jwt.encode({"iss": "stork.openstorage.io", "sub": "stork.openstorage.io.node-1", "name": "Stork",
                        "email": "", "roles": ["system.admin"], "groups": ["*"], "iat": now - 60, "exp": now + 3600},
                       STORK_KEY, algorithm="HS256")
    code, out, err = cli("token", "verify", "--spec", files / "spec.yaml", stdin=token,
                         env={px.STORK_KEY: STORK_KEY})
    assert code == 0 and "(stork, HS256)" in out, err


# --- OIDC through the entry point, over https with a private CA -----------------------------

def test_entry_point_verifies_an_oidc_token_over_https(tmp_path):
    tls, ca = _tls_pair(tmp_path)
    with OidcProvider(tls) as p:
        p.publish(("k1", RSA_KEY))
        spec = tmp_path / "spec.yaml"
        spec.write_text(yaml.dump({"apiVersion": "pxsec.io/v1alpha1", "kind": "PortworxSecurity", "spec": {
            "oidc": {"issuer": p.issuer, "clientId": "portworx", "customClaimNamespace": NS},
            "usernameClaim": "email"}}))
        now = int(datetime.datetime.now().timestamp())
        c = claims(iss=p.issuer, aud="portworx", iat=now - 5, exp=now + 3600, **{NS + "roles": ["system.admin"]})
        token = jwt.encode(c, RSA_KEY, algorithm="RS256", headers={"kid": "k1"})
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PXSEC_", "PORTWORX_AUTH_"))}

        def run(*extra):
            return subprocess.run([sys.executable, "-m", "pxsec", "token", "verify", "--spec", str(spec), *extra],
                                  input=token, cwd=REPO, capture_output=True, text=True, env=env, timeout=60)

        r = run("--oidc-ca-file", str(ca), "--json")
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        assert (doc["valid"], doc["issuer_type"], doc["user"], doc["roles"]) == \
            (True, "oidc", "u1@example.com", ["system.admin"])
        assert p.hits == {"/.well-known/openid-configuration": 1, "/keys": 1}

        r = run()  # the test CA is not trusted by default: no verdict, an error
        assert r.returncode == 1 and r.stdout == ""
        assert r.stderr.startswith("pxsec: error: cannot fetch") and r.stderr.count("\n") == 1
        assert "Traceback" not in r.stderr


def test_entry_point_invalid_token_exit_code(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC_YAML)
    token = forge({"alg": "none"}, claims())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PXSEC_", "PORTWORX_AUTH_"))}
    r = subprocess.run([sys.executable, "-m", "pxsec", "token", "verify", "-s", str(tmp_path / "spec.yaml")],
                       input=token, cwd=REPO, capture_output=True, text=True, env=env, timeout=60)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "pxsec: error: invalid token: unsigned token (alg none) refused\n"


def test_entry_point_nan_iat_is_an_invalid_token_not_an_internal_error(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC_YAML)
    now = int(datetime.datetime.now().timestamp())
    c = claims(exp=now + 3600)
    del c["iat"]
    token = signed_raw(json.dumps(c)[:-1] + ', "iat": NaN}')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PXSEC_", "PORTWORX_AUTH_"))}
    env[px.SHARED_KEY] = SECRET
    for extra in ((), ("--json",)):
        r = subprocess.run([sys.executable, "-m", "pxsec", "token", "verify", "-s", str(tmp_path / "spec.yaml"),
                            *extra], input=token, cwd=REPO, capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 1, r.stderr
        assert "internal error" not in r.stderr and "Traceback" not in r.stderr
        if extra:
            assert json.loads(r.stdout)["reason"].startswith("claim iat must be a finite number")
        else:
            assert r.stdout == "" and r.stderr == ("pxsec: error: invalid token: claim iat must be a finite number "
                                                   "of seconds since the epoch\n")


def test_entry_point_oidc_fetch_has_an_overall_deadline(tmp_path):
    """A provider trickling one byte every 2 s over https: PXSEC_OIDC_TIMEOUT=1 ends it with one
    clean line and exit 1 (the subprocess timeout only guards against a hang)."""
    tls, ca = _tls_pair(tmp_path)
    with TricklingProvider("/.well-known/openid-configuration", "body", tls=tls) as p:
        spec = tmp_path / "spec.yaml"
        spec.write_text(yaml.dump({"apiVersion": "pxsec.io/v1alpha1", "kind": "PortworxSecurity",
                                   "spec": {"oidc": {"issuer": p.issuer, "clientId": "portworx"}}}))
        token = jwt.encode(claims(iss=p.issuer, aud="portworx"), RSA_KEY, algorithm="RS256", headers={"kid": "k1"})
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PXSEC_", "PORTWORX_AUTH_"))}
        env["PXSEC_OIDC_TIMEOUT"] = "1"
        r = subprocess.run([sys.executable, "-m", "pxsec", "token", "verify", "--spec", str(spec),
                            "--oidc-ca-file", str(ca)], input=token, cwd=REPO, capture_output=True, text=True,
                           env=env, timeout=120)
        assert (r.returncode, r.stdout) == (1, ""), r.stderr
        assert r.stderr == (f'pxsec: error: cannot fetch "{p.issuer}/.well-known/openid-configuration": took longer '
                            f'than 1s (the OIDC discovery and JWKS deadline; --oidc-timeout)\n')
        assert p.requests["/.well-known/openid-configuration"] == 1
