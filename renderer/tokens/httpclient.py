"""The one HTTP client `token verify` uses: GET a JSON document for OIDC discovery and JWKS.

- https only; plain http only for a loopback host, and only with PXSEC_ALLOW_INSECURE_OIDC=1.
  Redirects must pass the same rule. A loopback URL never goes through a proxy.
- At most 1 MiB per document.
- Two clocks: `timeout` bounds each connect/read, and a `Deadline` bounds everything fetched
  for one purpose (discovery plus the JWKS, redirects included). A server that trickles one byte
  every few seconds never trips a per-read timeout; the deadline shuts its socket down, so the
  blocked read returns at once and pxsec reports "took longer than Ns". (Name resolution is
  the one step a deadline cannot interrupt; the per-call timeout does not cover it either.)
"""
from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

from ..errors import Location, PxsecError
from .common import ENV_INSECURE_OIDC, MAX_DOCUMENT_BYTES, show

DEFAULT_TIMEOUT = 10.0  # seconds per connect or read
DEFAULT_DEADLINE = 30.0  # seconds for the whole of discovery + JWKS
ENV_OIDC_TIMEOUT = "PXSEC_OIDC_TIMEOUT"


class Deadline:
    """A wall-clock budget shared by several requests. Sockets opened under it are shut down
    when it runs out, which wakes any read blocked on them."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.expired = False
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return self._end - time.monotonic()

    def check(self, what: str) -> None:
        if self.expired or self.remaining() <= 0:
            self.expired = True
            raise PxsecError(f"cannot fetch {what}: took longer than {self.seconds:g}s "
                             f"(the OIDC discovery and JWKS deadline; --oidc-timeout)")

    def watch(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            if self.expired:
                _shutdown(sock)
            else:
                self._sockets.append(sock)
        return sock

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)
            self._sockets.clear()

    def cancel(self) -> None:
        self._timer.cancel()


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def is_loopback(host: str | None) -> bool:
    import ipaddress

    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, allow_insecure: bool) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and allow_insecure and is_loopback(parts.hostname):
        return
    raise PxsecError(f"refusing to fetch {show(url, 120)}: OIDC discovery needs https "
                     f"(plain http only for 127.0.0.1/localhost with {ENV_INSECURE_OIDC}=1)")


def _opener(deadline: Deadline, allow_insecure: bool, ca_file: str | None, direct: bool):
    import http.client
    import ssl
    import urllib.request

    def watched(conn_class):
        class Watched(conn_class):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                create = self._create_connection
                self._create_connection = lambda *a, **k: deadline.watch(create(*a, **k))
        return Watched

    http_conn, https_conn = watched(http.client.HTTPConnection), watched(http.client.HTTPSConnection)

    class _Http(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(http_conn, req)

    class _Https(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(https_conn, req, context=self._context)

    class _Redirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            check_url(newurl, allow_insecure)
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as e:
        raise PxsecError(f"cannot load CA file: {getattr(e, 'strerror', None) or e}", Location(file=ca_file)) from None
    handlers = [_Redirect(), _Http(), _Https(context=context)]
    if direct:
        handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)


def fetch_json(url: str, *, allow_insecure: bool = False, ca_file: str | None = None,
               timeout: float = DEFAULT_TIMEOUT, deadline: Deadline | None = None) -> Any:
    """GET a JSON document over https (or loopback http when allowed), following only redirects
    that pass the same rule, reading at most 1 MiB, within `timeout` per read and `deadline` in all."""
    import http.client
    import urllib.error
    from urllib.parse import urlsplit

    check_url(url, allow_insecure)
    own = deadline is None
    deadline = deadline or Deadline(DEFAULT_DEADLINE)
    shown = show(url, 120)
    try:
        deadline.check(shown)
        opener = _opener(deadline, allow_insecure, ca_file, is_loopback(urlsplit(url).hostname))
        request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "pxsec"})
        try:
            with opener.open(request, timeout=max(0.001, min(timeout, deadline.remaining()))) as resp:
                body = _read(resp, deadline)
        except urllib.error.HTTPError as e:
            deadline.check(shown)
            raise PxsecError(f"cannot fetch {shown}: HTTP {e.code}") from None
        except urllib.error.URLError as e:
            deadline.check(shown)
            raise PxsecError(f"cannot fetch {shown}: {e.reason}") from None
        except (OSError, ValueError, EOFError, http.client.HTTPException) as e:  # timeouts, resets, malformed responses
            deadline.check(shown)
            raise PxsecError(f"cannot fetch {shown}: {type(e).__name__}") from None
        deadline.check(shown)  # a shut-down socket reads as a short body
    finally:
        if own:
            deadline.cancel()
    if len(body) > MAX_DOCUMENT_BYTES:
        raise PxsecError(f"cannot fetch {shown}: larger than 1 MiB")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise PxsecError(f"{shown} did not return JSON") from None


def _read(resp, deadline: Deadline) -> bytes:
    chunks, size = [], 0
    while size <= MAX_DOCUMENT_BYTES:
        if deadline.expired:
            break
        chunk = resp.read1(64 * 1024) if hasattr(resp, "read1") else resp.read(64 * 1024)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
