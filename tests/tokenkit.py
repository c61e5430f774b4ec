"""Shared helpers of the token tests (test_tokens_*.py): fixed keys and clock, token builders,
a real OIDC provider on 127.0.0.1 (http or https with a private CA), and the in-process CLI."""
from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import http.server
import io
import json
import ssl
import sys
import threading
from collections import Counter
from pathlib import Path

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from pxsec import portworx as px
from pxsec import spec as specmod, tokens
from pxsec.main import main

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "tokens"
NOW = 1_750_000_000
SECRET = "9mLq2yX0c4GZk3mR8Vd7Jt1pWs6Hn5BfQe2Ua4Lx8Ko3Ti9Yr1Ec7Nw5Pg0Dz6Sv"
OTHER_SECRET = "wrong-but-long-enough-wrong-but-long-enough-wrong-but-long-enough"
STORK_KEY = "Zs8pQ2nW4vY6xA1cE3gI5kM7oR9tU0bD2fH4jL6nP8rT0vX2zB4dF6hJ8lN0pR2t"

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
EC_OTHER = ec.generate_private_key(ec.SECP256R1())
EC_P384 = ec.generate_private_key(ec.SECP384R1())


def pem_public(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def pem_private(key, password: bytes | None = None) -> bytes:
    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


DROP = object()


def claims(**over) -> dict:
    c = {"iss": "openstorage.io", "sub": "u-1", "name": "User One", "email": "u1@example.com",
         "roles": ["system.user"], "groups": ["team"], "iat": NOW - 60, "exp": NOW + 3600}
    c.update(over)
    return {k: v for k, v in c.items() if v is not DROP}


def hs(payload: dict, secret: str = SECRET, alg: str = "HS256", headers: dict | None = None) -> str:
    return jwt.encode(payload, secret, algorithm=alg, headers=headers)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def forge(header: dict, payload: dict, sign=None) -> str:
    """A token built by hand, for what pyjwt refuses to make (alg none, HMAC over a public key)."""
    head = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    return head + "." + (b64(sign(head.encode())) if sign else "")


def hmac_with(key: bytes):
    return lambda msg: hmac.new(key, msg, hashlib.sha256).digest()


def signed_raw(payload_json: str, secret: str = SECRET) -> str:
    """An HS256 token over payload text exactly as given (pyjwt would re-encode it): for numbers
    JSON parsers disagree on, such as NaN and 1e400."""
    head = b64(b'{"alg":"HS256","typ":"JWT"}') + "." + b64(payload_json.encode())
    return head + "." + b64(hmac_with(secret.encode())(head.encode()))


SELF_SIGNED = {"selfSigned": {"issuer": "openstorage.io", "sharedSecret": True,
                              "rsaPublicKey": {"secretName": "rsa", "key": "k"},
                              "ecdsaPublicKey": {"secretName": "ec", "key": "k"}}}


def make_spec(spec: dict = SELF_SIGNED, **extra) -> specmod.Spec:
    return specmod.build({**spec, **extra}, "spec.yaml")


def all_keys(**over) -> tokens.VerifyKeys:
    k = dict(shared_secret=SECRET.encode(), stork_key=STORK_KEY.encode(),
             rsa_public_key=RSA_KEY.public_key(), ecdsa_public_key=EC_KEY.public_key())
    k.update(over)
    return tokens.VerifyKeys(**k)


def check(token: str, spec=None, keys=None, now=NOW, leeway=tokens.DEFAULT_LEEWAY) -> tokens.Verdict:
    return tokens.verify(token, spec or make_spec(), keys or all_keys(), now=now, leeway=leeway)


def rejected(token: str, match: str, **kw) -> tokens.Verdict:
    v = check(token, **kw)
    assert not v.valid, v
    assert match in v.reason, v.reason
    return v


REQUIRE = {"require": ["iss", "sub", "name", "email", "iat", "exp"]}


class OidcProvider:
    """Discovery document + JWKS on 127.0.0.1, http or https, counting requests per path."""

    def __init__(self, tls: ssl.SSLContext | None = None):
        self.hits: Counter = Counter()
        self.jwks: dict = {"keys": []}
        self.discovery_extra: dict = {"id_token_signing_alg_values_supported": ["RS256", "ES256"]}
        self.redirect_jwks_to: str | None = None
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                provider.hits[self.path] += 1
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": provider.issuer, "jwks_uri": provider.issuer + "/keys",
                            **provider.discovery_extra}
                elif self.path == "/keys" and provider.redirect_jwks_to:
                    self.send_response(302)
                    self.send_header("Location", provider.redirect_jwks_to)
                    self.end_headers()
                    return
                elif self.path == "/keys":
                    body = provider.jwks
                else:
                    self.send_error(404)
                    return
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def issuer(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    def publish(self, *entries):
        """entries: (kid, private key[, extra JWK fields])."""
        keys = []
        for kid, key, *extra in entries:
            jwk = json.loads(jwt.algorithms.get_default_algorithms()["RS256" if isinstance(key, rsa.RSAPrivateKey)
                                                                    else "ES256"].to_jwk(key.public_key()))
            jwk.update({"kid": kid, "use": "sig", **(extra[0] if extra else {})})
            keys.append(jwk)
        self.jwks = {"keys": keys}

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


NS = "https://pxsec.test/"


def oidc_spec(issuer: str, **extra) -> specmod.Spec:
    return specmod.build({"oidc": {"issuer": issuer, "clientId": "portworx", "customClaimNamespace": NS}, **extra},
                         "oidc-spec.yaml")


def oidc_claims(issuer: str, **over) -> dict:
    return claims(**{"iss": issuer, "aud": ["portworx", "other"], **over})


@pytest.fixture
def provider():
    with OidcProvider() as p:
        p.publish(("k1", RSA_KEY), ("e1", EC_KEY))
        yield p


def oidc_keys(p: OidcProvider) -> tokens.VerifyKeys:
    return tokens.VerifyKeys(jwks=tokens.Jwks(p.issuer, allow_insecure=True))


def _tls_pair(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pxsec test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM) + pem_private(key))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "server.pem")
    return ctx, tmp_path / "ca.pem"


SPEC_YAML = """\
apiVersion: pxsec.io/v1alpha1
kind: PortworxSecurity
spec:
  tokenLifetime: 2h
  selfSigned:
    issuer: openstorage.io
    sharedSecret: true
    rsaPublicKey: {secretName: px-rsa, key: rsa.pem}
    ecdsaPublicKey: {secretName: px-ec, key: ec.pem}
"""


@pytest.fixture
def cli(monkeypatch, capsys):
    for var in ("PXSEC_SPEC", px.SHARED_KEY, px.STORK_KEY, "PORTWORX_AUTH_SYSTEM_APPS_KEY",
                tokens.ENV_INSECURE_OIDC, tokens.ENV_PASSPHRASE):
        monkeypatch.delenv(var, raising=False)

    def run(*args, stdin: str = "", env: dict | None = None):
        for k, v in (env or {}).items():
            monkeypatch.setenv(k, v)
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        for k in env or {}:
            monkeypatch.delenv(k)
        return code, out, err

    return run


@pytest.fixture
def files(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC_YAML)
    (tmp_path / "rsa.key").write_bytes(pem_private(RSA_KEY))
    (tmp_path / "rsa.pub").write_bytes(pem_public(RSA_KEY))
    (tmp_path / "ec.key").write_bytes(pem_private(EC_KEY))
    (tmp_path / "ec.pub").write_bytes(pem_public(EC_KEY))
    return tmp_path


HS_ENV = {px.SHARED_KEY: SECRET}


class TricklingProvider:
    """An OIDC provider on 127.0.0.1 that answers `slow_path` one byte every `interval` seconds,
    either from the status line on ("head") or after complete headers ("body"); any other path
    is answered at once. Every byte arrives well within a per-read timeout, so only an overall
    deadline ends the fetch."""

    def __init__(self, slow_path: str, where: str = "head", interval: float = 2.0,
                 tls: ssl.SSLContext | None = None):
        import socketserver

        self.stop = threading.Event()
        self.slow_path, self.where, self.interval = slow_path, where, interval
        self.bytes_sent = 0
        self.requests: Counter = Counter()
        provider = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                conn = self.request
                if tls is not None:
                    conn = tls.wrap_socket(conn, server_side=True)
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                path = head.split(b" ", 2)[1].decode()
                provider.requests[path] += 1
                body = json.dumps({"issuer": provider.issuer, "jwks_uri": provider.issuer + "/keys",
                                   "keys": [], "padding": "x" * 200}).encode()
                response = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                            + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
                try:
                    if path != provider.slow_path:
                        conn.sendall(response)
                        return
                    start = 0 if provider.where == "head" else response.index(b"\r\n\r\n") + 4
                    conn.sendall(response[:start])
                    for i in range(start, len(response)):
                        conn.sendall(response[i:i + 1])
                        provider.bytes_sent += 1
                        if provider.stop.wait(provider.interval):
                            return
                except OSError:
                    return

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.scheme = "https" if tls else "http"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def issuer(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
