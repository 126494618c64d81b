"""The domain's enums registered as GraphQL enums: one definition, the same names everywhere."""

from __future__ import annotations

import strawberry

from app.domain.errors import ErrorCode
from app.domain.statuses import (
    BlacklistStatus,
    CosmeticGrade,
    DeviceStatus,
    LockStatus,
    LotStatus,
    OrganizationKind,
)

for _enum in (
    ErrorCode,
    OrganizationKind,
    DeviceStatus,
    LockStatus,
    BlacklistStatus,
    CosmeticGrade,
    LotStatus,
):
    strawberry.enum(_enum)

__all__ = [
    "BlacklistStatus",
    "CosmeticGrade",
    "DeviceStatus",
    "ErrorCode",
    "LockStatus",
    "LotStatus",
    "OrganizationKind",
]
