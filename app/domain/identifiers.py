"""Device identifiers: IMEI (15 digits with a Luhn check digit) and serial numbers."""

from __future__ import annotations

import re

from app.domain.errors import DomainError, ErrorCode

_IMEI = re.compile(r"[0-9]{15}")
_SERIAL = re.compile(r"[A-Z0-9][A-Z0-9\-]{3,39}")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def normalize_imei(raw: str) -> str:
    """Accept spaces and dashes as a scanner or a person types them; refuse anything else."""
    imei = re.sub(r"[\s\-]", "", raw)
    if not _IMEI.fullmatch(imei):
        raise DomainError(
            ErrorCode.INVALID_IMEI, f"An IMEI has 15 digits; {raw!r} does not.", field="imei"
        )
    if not luhn_valid(imei):
        raise DomainError(
            ErrorCode.INVALID_IMEI,
            f"IMEI {imei} fails its check digit: it was probably mistyped.",
            field="imei",
        )
    return imei


def normalize_serial(raw: str) -> str:
    serial = raw.strip().upper()
    if not _SERIAL.fullmatch(serial):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "A serial number has 4 to 40 letters, digits or dashes.",
            field="serial",
        )
    return serial
