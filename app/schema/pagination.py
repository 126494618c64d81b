"""Opaque cursors for keyset pagination and the bounds on page size."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from strawberry import relay

from app.domain.errors import DomainError, ErrorCode


def encode_cursor(key: list[Any]) -> str:
    """A row's position, e.g. [sort value, id], as an opaque string."""
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        key = None
    if not isinstance(key, list) or not key:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "The cursor is not one this API gave.", field="after"
        )
    return key


def page_size(first: int | None, maximum: int) -> int:
    if first is None:
        return min(50, maximum)
    if not 0 <= first <= maximum:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"first must be between 0 and {maximum}.", field="first"
        )
    return first


def page_info(cursors: list[str], *, has_next: bool, has_previous: bool) -> relay.PageInfo:
    """The Relay page info of a page whose edges carry ``cursors``, in order."""
    return relay.PageInfo(
        has_next_page=has_next,
        has_previous_page=has_previous,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
