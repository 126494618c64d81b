"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.models.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column(
            "entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("entity_version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column(
            "changes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "audiences",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_entity", ["entity_type", "entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_type"), ["type"], unique=False)

    op.create_table(
        "idempotency_records",
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("operation", sa.String(length=100), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_records")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_idempotency_records_scope_key")),
    )
    op.create_table(
        "organizations",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "OPERATOR",
                "CLIENT",
                "BUYER",
                name="org_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("commission_bps", sa.Integer(), nullable=True),
        sa.Column("fee_per_device_minor", sa.BigInteger(), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "commission_bps BETWEEN 0 AND 10000", name=op.f("ck_organizations_commission_bps_range")
        ),
        sa.CheckConstraint(
            "fee_per_device_minor >= 0", name=op.f("ck_organizations_fee_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("name", name=op.f("uq_organizations_name")),
    )
    op.create_table(
        "api_keys",
        sa.Column(
            "organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "scopes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_api_keys_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_keys_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "lots",
        sa.Column(
            "client_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("expected_count", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "OPEN",
                "RECEIVING",
                "RECONCILED",
                "CLOSED",
                name="lot_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("expected_count >= 0", name=op.f("ck_lots_expected_non_negative")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["organizations.id"], name=op.f("fk_lots_client_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
        sa.UniqueConstraint("client_id", "reference", name=op.f("uq_lots_client_id_reference")),
    )
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lots_client_id"), ["client_id"], unique=False)

    op.create_table(
        "orders",
        sa.Column("buyer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "CONFIRMED",
                "SHIPPED",
                "DELIVERED",
                "COMPLETED",
                "CANCELLED",
                name="order_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["organizations.id"], name=op.f("fk_orders_buyer_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint(
            "buyer_id", "idempotency_key", name=op.f("uq_orders_buyer_id_idempotency_key")
        ),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_buyer_id"), ["buyer_id"], unique=False)

    op.create_table(
        "settlements",
        sa.Column(
            "client_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "DRAFT",
                "APPROVED",
                "PAID",
                "VOID",
                name="settlement_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "period_start <= period_end", name=op.f("ck_settlements_period_ordered")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["organizations.id"], name=op.f("fk_settlements_client_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlements")),
    )
    with op.batch_alter_table("settlements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_settlements_client_id"), ["client_id"], unique=False)

    op.create_table(
        "users",
        sa.Column(
            "organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "ADMIN",
                "WAREHOUSE",
                "SALES",
                "FINANCE",
                "VIEWER",
                "BUYER",
                name="user_role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_users_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_users_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "devices",
        sa.Column("imei", sa.String(length=15), nullable=True),
        sa.Column("serial", sa.String(length=40), nullable=True),
        sa.Column("make", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("storage_gb", sa.Integer(), nullable=True),
        sa.Column("colour", sa.String(length=50), nullable=True),
        sa.Column(
            "client_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("location", sa.String(length=50), nullable=True),
        sa.Column(
            "lock_status",
            sa.Enum(
                "UNLOCKED", "LOCKED", name="lock_status", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column(
            "blacklist_status",
            sa.Enum(
                "CLEAN",
                "BLACKLISTED",
                name="blacklist_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "current_grade_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "status",
            sa.Enum(
                "RECEIVED",
                "GRADED",
                "QUARANTINED",
                "AVAILABLE",
                "RESERVED",
                "SOLD",
                "SHIPPED",
                "DELIVERED",
                name="device_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("received_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "imei IS NOT NULL OR serial IS NOT NULL", name=op.f("ck_devices_identified")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["organizations.id"], name=op.f("fk_devices_client_id_organizations")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_devices_lot_id_lots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("imei", name=op.f("uq_devices_imei")),
        sa.UniqueConstraint("serial", name=op.f("uq_devices_serial")),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_devices_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_devices_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index("ix_devices_status_id", ["status", "id"], unique=False)

    op.create_table(
        "shipments",
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("carrier", sa.String(length=100), nullable=False),
        sa.Column("tracking_number", sa.String(length=100), nullable=False),
        sa.Column("tracking_url", sa.String(length=2000), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "LABEL_CREATED",
                "IN_TRANSIT",
                "DELIVERED",
                "EXCEPTION",
                name="shipment_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("shipped_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_shipments_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipments_order_id"), ["order_id"], unique=False)

    op.create_table(
        "grades",
        sa.Column(
            "device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "cosmetic",
            sa.Enum(
                "A", "B", "C", "D", name="cosmetic_grade", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("functional_pass", sa.Boolean(), nullable=False),
        sa.Column(
            "failed_checks",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("battery_health_pct", sa.Integer(), nullable=True),
        sa.Column("data_wiped", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.String(length=2000), nullable=True),
        sa.Column(
            "graded_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("graded_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.CheckConstraint(
            "battery_health_pct BETWEEN 0 AND 100", name=op.f("ck_grades_battery_range")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_grades_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["graded_by_id"], ["users.id"], name=op.f("fk_grades_graded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grades")),
    )
    with op.batch_alter_table("grades", schema=None) as batch_op:
        batch_op.create_index("ix_grades_device_graded", ["device_id", "graded_at"], unique=False)

    # devices and grades refer to each other: the device's current grade is added last.
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_devices_current_grade_id_grades"), "grades", ["current_grade_id"], ["id"]
        )

    op.create_table(
        "listings",
        sa.Column(
            "device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "DRAFT",
                "ACTIVE",
                "PAUSED",
                "RESERVED",
                "SOLD",
                "WITHDRAWN",
                name="listing_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("price_minor > 0", name=op.f("ck_listings_price_positive")),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_listings_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listings")),
    )
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_listings_device_id"), ["device_id"], unique=False)
        batch_op.create_index("ix_listings_status_id", ["status", "id"], unique=False)
        batch_op.create_index(
            "uq_listings_device_open",
            ["device_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('DRAFT', 'ACTIVE', 'PAUSED', 'RESERVED')"),
            postgresql_where=sa.text("status IN ('DRAFT', 'ACTIVE', 'PAUSED', 'RESERVED')"),
        )

    op.create_table(
        "offers",
        sa.Column(
            "listing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("buyer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "ACCEPTED",
                "REJECTED",
                "COUNTERED",
                "EXPIRED",
                "WITHDRAWN",
                "INVALIDATED",
                name="offer_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "parent_offer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "from_party",
            sa.Enum(
                "BUYER", "SELLER", name="offer_party", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("expires_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_offers_amount_positive")),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["organizations.id"], name=op.f("fk_offers_buyer_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["listings.id"], name=op.f("fk_offers_listing_id_listings")
        ),
        sa.ForeignKeyConstraint(
            ["parent_offer_id"], ["offers.id"], name=op.f("fk_offers_parent_offer_id_offers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offers_buyer_id"), ["buyer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_offers_listing_id"), ["listing_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_offers_parent_offer_id"), ["parent_offer_id"], unique=False
        )
        batch_op.create_index("ix_offers_status_expires", ["status", "expires_at"], unique=False)
        batch_op.create_index(
            "uq_offers_pending_buyer_listing",
            ["listing_id", "buyer_id"],
            unique=True,
            sqlite_where=sa.text("status = 'PENDING'"),
            postgresql_where=sa.text("status = 'PENDING'"),
        )

    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "listing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.CheckConstraint("price_minor > 0", name=op.f("ck_order_lines_price_positive")),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_order_lines_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["listings.id"], name=op.f("fk_order_lines_listing_id_listings")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
    )
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_lines_device_id"), ["device_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_lines_listing_id"), ["listing_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_lines_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            "uq_order_lines_device_active",
            ["device_id"],
            unique=True,
            sqlite_where=sa.text("released = 0"),
            postgresql_where=sa.text("released = false"),
        )

    op.create_table(
        "settlement_lines",
        sa.Column(
            "settlement_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "order_line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("gross_minor", sa.BigInteger(), nullable=False),
        sa.Column("commission_minor", sa.BigInteger(), nullable=False),
        sa.Column("fees_minor", sa.BigInteger(), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.CheckConstraint(
            "commission_minor >= 0", name=op.f("ck_settlement_lines_commission_non_negative")
        ),
        sa.CheckConstraint("fees_minor >= 0", name=op.f("ck_settlement_lines_fees_non_negative")),
        sa.CheckConstraint("gross_minor >= 0", name=op.f("ck_settlement_lines_gross_non_negative")),
        sa.CheckConstraint(
            "net_minor = gross_minor - commission_minor - fees_minor",
            name=op.f("ck_settlement_lines_net_is_difference"),
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_settlement_lines_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_settlement_lines_order_line_id_order_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["settlements.id"],
            name=op.f("fk_settlement_lines_settlement_id_settlements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_lines")),
    )
    with op.batch_alter_table("settlement_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_settlement_lines_device_id"), ["device_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_settlement_lines_order_line_id"), ["order_line_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_settlement_lines_settlement_id"), ["settlement_id"], unique=False
        )
        batch_op.create_index(
            "uq_settlement_lines_device_active",
            ["device_id"],
            unique=True,
            sqlite_where=sa.text("released = 0"),
            postgresql_where=sa.text("released = false"),
        )


def downgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_devices_current_grade_id_grades"), type_="foreignkey"
        )
    with op.batch_alter_table("settlement_lines", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_settlement_lines_device_active",
            sqlite_where=sa.text("released = 0"),
            postgresql_where=sa.text("released = false"),
        )
        batch_op.drop_index(batch_op.f("ix_settlement_lines_settlement_id"))
        batch_op.drop_index(batch_op.f("ix_settlement_lines_order_line_id"))
        batch_op.drop_index(batch_op.f("ix_settlement_lines_device_id"))

    op.drop_table("settlement_lines")
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_order_lines_device_active",
            sqlite_where=sa.text("released = 0"),
            postgresql_where=sa.text("released = false"),
        )
        batch_op.drop_index(batch_op.f("ix_order_lines_order_id"))
        batch_op.drop_index(batch_op.f("ix_order_lines_listing_id"))
        batch_op.drop_index(batch_op.f("ix_order_lines_device_id"))

    op.drop_table("order_lines")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_offers_pending_buyer_listing",
            sqlite_where=sa.text("status = 'PENDING'"),
            postgresql_where=sa.text("status = 'PENDING'"),
        )
        batch_op.drop_index("ix_offers_status_expires")
        batch_op.drop_index(batch_op.f("ix_offers_parent_offer_id"))
        batch_op.drop_index(batch_op.f("ix_offers_listing_id"))
        batch_op.drop_index(batch_op.f("ix_offers_buyer_id"))

    op.drop_table("offers")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_listings_device_open",
            sqlite_where=sa.text("status IN ('DRAFT', 'ACTIVE', 'PAUSED', 'RESERVED')"),
            postgresql_where=sa.text("status IN ('DRAFT', 'ACTIVE', 'PAUSED', 'RESERVED')"),
        )
        batch_op.drop_index("ix_listings_status_id")
        batch_op.drop_index(batch_op.f("ix_listings_device_id"))

    op.drop_table("listings")
    with op.batch_alter_table("grades", schema=None) as batch_op:
        batch_op.drop_index("ix_grades_device_graded")

    op.drop_table("grades")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipments_order_id"))

    op.drop_table("shipments")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index("ix_devices_status_id")
        batch_op.drop_index(batch_op.f("ix_devices_lot_id"))
        batch_op.drop_index(batch_op.f("ix_devices_client_id"))

    op.drop_table("devices")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_organization_id"))

    op.drop_table("users")
    with op.batch_alter_table("settlements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlements_client_id"))

    op.drop_table("settlements")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_buyer_id"))

    op.drop_table("orders")
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lots_client_id"))

    op.drop_table("lots")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_organization_id"))

    op.drop_table("api_keys")
    op.drop_table("organizations")
    op.drop_table("idempotency_records")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_type"))
        batch_op.drop_index("ix_events_entity")

    op.drop_table("events")
