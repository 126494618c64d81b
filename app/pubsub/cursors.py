"""A position in the event log, and the opaque string clients see.

The position is ``(txid, id)``: the writing transaction's id (0 on SQLite) and the event's id.
Positions compare as tuples; the string form is only ever compared by the server.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

_PREFIX = "ev1"


@dataclass(frozen=True, order=True, slots=True)
class Cursor:
    txid: int
    id: int

    def encode(self) -> str:
        raw = f"{_PREFIX}:{self.txid}:{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def __str__(self) -> str:
        return self.encode()


START = Cursor(0, 0)
"""Before the first event: reading after it reads the whole log."""


class InvalidCursor(ValueError):
    """The string is not a cursor this server gave out."""


def decode_cursor(text: str) -> Cursor:
    padded = text.strip() + "=" * (-len(text.strip()) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor(text) from exc
    prefix, _, rest = raw.partition(":")
    txid, _, event_id = rest.partition(":")
    if prefix != _PREFIX or not txid.isdigit() or not event_id.isdigit():
        raise InvalidCursor(text)
    return Cursor(int(txid), int(event_id))
