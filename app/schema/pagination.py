"""Opaque cursors for keyset pagination and the bounds on page size."""

from __future__ import annotations

import base64
import binascii

from app.domain.errors import DomainError, ErrorCode

_PREFIX = "cursor:"


def encode_cursor(entity_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{entity_id}".encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        if raw.startswith(_PREFIX):
            return int(raw.removeprefix(_PREFIX))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise DomainError(
        ErrorCode.INVALID_INPUT, "The cursor is not one this API gave.", field="after"
    )


def page_size(first: int | None, maximum: int) -> int:
    if first is None:
        return min(50, maximum)
    if not 0 <= first <= maximum:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"first must be between 0 and {maximum}.", field="first"
        )
    return first
