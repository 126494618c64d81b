"""Parsing ids given by clients into database ids, with a clear refusal."""

from __future__ import annotations

from strawberry.relay import GlobalID

from app.domain.errors import DomainError, ErrorCode


def parse_id(raw: str | None, field: str, *, type_name: str | None = None) -> int | None:
    """Accept a plain numeric id or a global id of the expected type."""
    if raw is None:
        return None
    text = str(raw).strip()
    if text.isdigit():
        return int(text)
    try:
        global_id = GlobalID.from_id(text)
    except Exception:
        global_id = None
    if (
        global_id is not None
        and global_id.node_id.isdigit()
        and (type_name is None or global_id.type_name == type_name)
    ):
        return int(global_id.node_id)
    raise DomainError(ErrorCode.INVALID_INPUT, f"{field} is not a valid id.", field=field)
