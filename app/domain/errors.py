"""Expected business outcomes: each refusal has a code the API shows to clients."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_IMEI = "INVALID_IMEI"
    DUPLICATE_IMEI = "DUPLICATE_IMEI"
    DUPLICATE_SERIAL = "DUPLICATE_SERIAL"
    NOT_FOUND = "NOT_FOUND"
    UNKNOWN_CLIENT = "UNKNOWN_CLIENT"
    UNKNOWN_LOT = "UNKNOWN_LOT"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    NOT_AVAILABLE = "NOT_AVAILABLE"
    LISTING_NOT_AVAILABLE = "LISTING_NOT_AVAILABLE"
    STALE = "STALE"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    FORBIDDEN = "FORBIDDEN"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"


class DomainError(Exception):
    """A refused action: a code, a sentence a person understands, and the facts around it."""

    def __init__(self, code: ErrorCode, message: str, **facts: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.facts = facts

    def __repr__(self) -> str:
        return f"DomainError({self.code}, {self.message!r}, {self.facts!r})"
