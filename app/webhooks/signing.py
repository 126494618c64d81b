"""Webhook signatures: HMAC-SHA256 over ``"<timestamp>.<body>"``, Stripe's scheme.

Every request carries ``DeviceGraph-Signature: t=<unix seconds>,v1=<hex digest>``. A receiver
recomputes the digest with the endpoint's secret over the raw body it received, compares in
constant time, and refuses a timestamp older (or newer) than the tolerance, so a captured
request cannot be replayed later. Several ``v1`` entries may appear; any one matching is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "DeviceGraph-Signature"
EVENT_ID_HEADER = "DeviceGraph-Event-Id"
DEFAULT_TOLERANCE = 300


class SignatureError(ValueError):
    """The signature is missing, malformed, wrong (tampered body, other secret) or stale."""


def _digest(secret: str, body: bytes, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for ``body`` signed at ``timestamp`` (now by default)."""
    at = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={at},v1={_digest(secret, body, at)}"


def verify(
    secret: str,
    body: bytes,
    header: str | None,
    tolerance: int = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> int:
    """Check ``header`` against ``body``; returns the signed timestamp, raises SignatureError."""
    if not header:
        raise SignatureError("no signature")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError("malformed signature header")
    expected = _digest(secret, body, timestamp)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureError("signature does not match the body")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError("signature timestamp is outside the tolerance")
    return timestamp
