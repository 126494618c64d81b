"""What a client sees of an error it cannot act on.

Parse and validation errors and PublicErrors are for clients and pass unchanged. A database
that cannot be reached (or, on SQLite, stays locked past the busy timeout) is not a bug: the
client gets ``extensions.code`` UNAVAILABLE and retries (a mutation retried with its
idempotency key cannot apply twice, even if the lost connection hid a commit). Any other
exception is a bug and is masked as "Unexpected error." (it is logged in full).
"""

from __future__ import annotations

from graphql import GraphQLError
from sqlalchemy.exc import DBAPIError, OperationalError
from strawberry.extensions import MaskErrors

from app.schema.errors import PublicError

UNAVAILABLE_MESSAGE = (
    "The database cannot be reached right now. Retry shortly; a mutation retried with the "
    "same idempotency key is applied at most once."
)


CONNECTION_SQLSTATES = ("08", "57P")
"""PostgreSQL's connection exceptions, and a server shutting down, restarting or starting up
(``57P01``-``57P03``): asyncpg raises these with a ``sqlstate``, and SQLAlchemy wraps some of
them in a plain DBAPIError."""


def is_unavailable(exc: BaseException) -> bool:
    """True for a lost or refused database connection, or a lock wait that timed out."""
    if isinstance(exc, OperationalError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 5:  # the error, what it wraps, what caused that
        if isinstance(current, (ConnectionError, TimeoutError)):
            return True
        if str(getattr(current, "sqlstate", "") or "").startswith(CONNECTION_SQLSTATES):
            return True
        wrapped = getattr(current, "orig", None) if isinstance(current, DBAPIError) else None
        current = wrapped or current.__cause__ or current.__context__
        seen += 1
    return False


class MaskUnexpectedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=_should_mask, error_message="Unexpected error.")

    def _process_result(self, result: object) -> None:
        # The parent checks a runtime Protocol with isinstance for every result, about 30 µs
        # a message on a subscription; reading the attribute does the same.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is not None and is_unavailable(original):
            return GraphQLError(
                UNAVAILABLE_MESSAGE,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions={"code": "UNAVAILABLE"},
            )
        return super().anonymise_error(error)


def is_unexpected(error: GraphQLError) -> bool:
    """An error no client caused: a resolver's exception that is not a PublicError (a bug or
    an outage). Parse and validation errors and refusals with a code are the client's."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    return not isinstance(original, PublicError)


_should_mask = is_unexpected
