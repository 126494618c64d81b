"""Rule 8: the same idempotency key and input return the first result without redoing the work.

The record is written in the same transaction as the work, so a result exists exactly when the
work committed. Of two concurrent first calls with one key, the loser collides on the unique
index or is refused by the rule the winner's change now breaks (the listing is reserved, the
status moved): either way it rolls back and reads the winner's result.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.errors import DomainError, ErrorCode
from app.models import IdempotencyRecord


class _KeyTaken(Exception):
    """Another transaction stored a result under this key while ours ran."""


Work = Callable[[AsyncSession], Awaitable[dict[str, Any]]]


def request_hash(operation: str, request: dict[str, Any]) -> str:
    canonical = json.dumps([operation, request], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def run_once(
    sessions: async_sessionmaker[AsyncSession],
    *,
    scope: str,
    key: str | None,
    operation: str,
    request: dict[str, Any],
    work: Work,
) -> dict[str, Any]:
    """Run ``work`` in one transaction, or return the result stored under ``key``."""
    if key is None:
        async with sessions.begin() as session:
            return await work(session)
    if not 1 <= len(key) <= 200:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "An idempotency key has 1 to 200 characters.",
            field="idempotencyKey",
        )
    digest = request_hash(operation, request)
    for _attempt in range(2):
        try:
            async with sessions.begin() as session:
                stored = await _stored(session, scope, key, operation, digest)
                if stored is not None:
                    return stored
                result = await work(session)
                record = IdempotencyRecord(
                    scope=scope, key=key, operation=operation, request_hash=digest, result=result
                )
                session.add(record)
                try:
                    await session.flush()
                except IntegrityError as exc:
                    raise _KeyTaken from exc
                return result
        except _KeyTaken:
            continue  # another call with this key committed first: read its result
        except DomainError as refusal:
            # A retry racing its first call waits for the row lock, then finds the row already
            # moved by that call and is refused; the first call's stored result answers it.
            if refusal.code is ErrorCode.IDEMPOTENCY_CONFLICT:
                raise
            async with sessions() as session:
                stored = await _stored(session, scope, key, operation, digest)
            if stored is None:
                raise
            return stored
    async with sessions() as session:
        stored = await _stored(session, scope, key, operation, digest)
    if stored is None:  # pragma: no cover - the unique index guarantees a row
        raise RuntimeError("idempotency record vanished")
    return stored


async def _stored(
    session: AsyncSession, scope: str, key: str, operation: str, digest: str
) -> dict[str, Any] | None:
    record = await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    )
    if record is None:
        return None
    if record.operation != operation or record.request_hash != digest:
        raise DomainError(
            ErrorCode.IDEMPOTENCY_CONFLICT,
            "This idempotency key was already used with a different request.",
            field="idempotencyKey",
        )
    return dict(record.result)
