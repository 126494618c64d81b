"""Applying a status machine: a transition not in the table is refused with the facts."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from app.domain.errors import DomainError, ErrorCode

S = TypeVar("S", bound=StrEnum)


def ensure_transition(
    table: Mapping[S, frozenset[S]],
    *,
    entity: str,
    current: S,
    target: S,
    version: int,
) -> S:
    """Return ``target`` if ``current -> target`` is in ``table``; refuse otherwise."""
    if target not in table[current]:
        raise DomainError(
            ErrorCode.INVALID_TRANSITION,
            f"A {entity.lower()} that is {current.value} cannot become {target.value}.",
            current_status=current.value,
            current_version=version,
        )
    return target


def ensure_version(*, entity: str, expected: int | None, actual: int) -> None:
    """Rule 9: a caller that says which version it saw is refused if it changed since."""
    if expected is not None and expected != actual:
        raise DomainError(
            ErrorCode.STALE,
            f"The {entity.lower()} changed since you loaded it (version {expected}, now "
            f"{actual}): reload and try again.",
            current_version=actual,
        )
