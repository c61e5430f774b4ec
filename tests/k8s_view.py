"""Kubernetes' view of a manifest stream: the k8sread oracle (tools/k8sread) from Python.

`read(text)` returns the objects `kubectl apply -f` would send to the API server (go-yaml via
sigs.k8s.io/yaml, merge keys resolved, tags decoded, lists flattened), or raises K8sReadError.
`read_many(texts)` reads many streams in one k8sread process (the robustness suite reads
thousands): a list with, per stream, its objects or a K8sReadError. A K8sReadError carries
`.docs`, the objects kubectl apply would still apply despite the error (it applies what it
could decode, then reports the errors), so invariants can be checked on them too.

The binary is found like the end-to-end tools (tests/e2e/support.py): on PATH, else in
scripts/install-tools.sh's cache. Missing: the test skips, or fails under PXSEC_REQUIRE_E2E=1.
"""
from __future__ import annotations

import base64
import json
import subprocess

import pytest

from e2e.support import find_tool, require_e2e, tools_bin_dir

BATCH = 2000  # streams per k8sread process


class K8sReadError(Exception):
    def __init__(self, message: str, docs: list | None = None):
        super().__init__(message)
        self.docs = docs or []


def binary() -> str:
    path = find_tool("k8sread")
    if path:
        return path
    message = (f"k8sread is not on PATH nor in {tools_bin_dir()}: run `bash scripts/install-tools.sh` "
               "and put its bin dir on PATH")
    if require_e2e():
        pytest.fail(f"{message} (PXSEC_REQUIRE_E2E=1: missing binaries are failures)")
    pytest.skip(message)


def _bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")


def read(text: str | bytes) -> list:
    """The objects kubectl would apply; K8sReadError when kubectl reports any error."""
    p = subprocess.run([binary()], input=_bytes(text), capture_output=True, timeout=120)
    if p.returncode != 0:
        raise K8sReadError(p.stderr.decode("utf-8", "replace").strip())
    return json.loads(p.stdout)


def read_many(texts) -> list:
    """Per stream, its objects or a K8sReadError (with the objects still applied)."""
    texts = list(texts)
    out: list = []
    for start in range(0, len(texts), BATCH):
        chunk = texts[start:start + BATCH]
        payload = json.dumps([base64.b64encode(_bytes(t)).decode("ascii") for t in chunk]).encode()
        p = subprocess.run([binary(), "-batch"], input=payload, capture_output=True, timeout=600)
        if p.returncode != 0:
            raise RuntimeError(f"k8sread -batch failed ({p.returncode}): {p.stderr.decode('utf-8', 'replace')}")
        results = json.loads(p.stdout)
        assert len(results) == len(chunk), "k8sread -batch answered a different number of streams"
        out += [K8sReadError(r["error"], r["docs"]) if r.get("error") else r["docs"] for r in results]
    return out
