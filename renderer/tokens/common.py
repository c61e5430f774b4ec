"""What every part of pxsec.tokens shares: environment variable names, size limits, and how
a claim or header value is shown in a message (quoted, shortened, never a key or a token)."""
from __future__ import annotations

import json
from typing import Any

__all__ = ["ENV_INSECURE_OIDC", "ENV_PASSPHRASE", "MAX_TOKEN_CHARS",
           "MAX_DOCUMENT_BYTES", "MIN_SECRET_BYTES", "show"]

ENV_INSECURE_OIDC = "PXSEC_ALLOW_INSECURE_OIDC"
ENV_PASSPHRASE = "PXSEC_PRIVATE_KEY_PASSPHRASE"

MAX_TOKEN_CHARS = 64 * 1024
MAX_DOCUMENT_BYTES = 1024 * 1024
MIN_SECRET_BYTES = 32


def show(value: Any, limit: int = 60) -> str:
    """A claim or header value for a message: JSON-quoted (no control characters), shortened."""
    text = json.dumps(value, ensure_ascii=True) if isinstance(value, str) else json.dumps(str(value))
    return text if len(text) <= limit else text[: limit - 4] + '..."'
