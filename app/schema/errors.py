"""Expected failures as typed results: every one carries a code, a sentence and its facts."""

from __future__ import annotations

import strawberry

from app.domain.errors import DomainError, ErrorCode


@strawberry.interface(description="A refused action: what went wrong, for people and programs.")
class Error:
    code: ErrorCode
    message: str


@strawberry.type(description="The input is malformed; `field` names the input that is wrong.")
class InvalidInputError(Error):
    field: str | None


@strawberry.type(description="A device with this IMEI or serial was already received.")
class DuplicateDeviceError(Error):
    field: str | None


@strawberry.type(description="Something the input refers to does not exist or is not visible.")
class NotFoundError(Error):
    field: str | None


@strawberry.type(description="The entity is not in a status that allows this action.")
class InvalidTransitionError(Error):
    current_status: str | None
    current_version: int | None


@strawberry.type(description="The device or listing was taken or left sale before this action.")
class NotAvailableError(Error):
    current_status: str | None


@strawberry.type(description="Someone changed the entity since the version the caller sent.")
class StaleError(Error):
    current_version: int | None


@strawberry.type(description="Nobody is signed in, or the signed-in role may not do this.")
class ForbiddenError(Error):
    pass


AnyError = (
    InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError
)


def error_result(error: DomainError) -> AnyError:
    """The one place that turns a domain refusal into its API type."""
    code = error.code
    facts = error.facts
    match error.code:
        case ErrorCode.DUPLICATE_IMEI | ErrorCode.DUPLICATE_SERIAL:
            return DuplicateDeviceError(code=code, message=error.message, field=facts.get("field"))
        case ErrorCode.NOT_FOUND | ErrorCode.UNKNOWN_CLIENT | ErrorCode.UNKNOWN_LOT:
            return NotFoundError(code=code, message=error.message, field=facts.get("field"))
        case ErrorCode.INVALID_TRANSITION:
            return InvalidTransitionError(
                code=code,
                message=error.message,
                current_status=facts.get("current_status"),
                current_version=facts.get("current_version"),
            )
        case ErrorCode.NOT_AVAILABLE | ErrorCode.LISTING_NOT_AVAILABLE:
            return NotAvailableError(
                code=code, message=error.message, current_status=facts.get("current_status")
            )
        case ErrorCode.STALE:
            return StaleError(
                code=code, message=error.message, current_version=facts.get("current_version")
            )
        case ErrorCode.FORBIDDEN | ErrorCode.UNAUTHENTICATED:
            return ForbiddenError(code=code, message=error.message)
        case _:
            return InvalidInputError(code=code, message=error.message, field=facts.get("field"))


class PublicError(Exception):
    """An error meant for the client of a query, shown with ``extensions.code``.

    Unexpected exceptions are masked; these are not.
    """

    def __init__(self, code: str, message: str, **extensions: object) -> None:
        super().__init__(message)
        self.extensions = {"code": code, **extensions}


def query_error(error: DomainError) -> PublicError:
    return PublicError(error.code.value, error.message, **error.facts)
