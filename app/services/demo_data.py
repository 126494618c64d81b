"""What the demo is made of: organisations, people, the device catalogue, carriers, prices."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.identifiers import luhn_valid
from app.domain.statuses import CosmeticGrade, DeviceStatus, Role

CURRENCY = "EUR"
OPERATOR_NAME = "DeviceGraph Refurb"
OPERATOR_DOMAIN = "devicegraph.demo"


@dataclass(frozen=True, slots=True)
class Party:
    """A client (with its commercial terms) or a buyer, and its one portal user."""

    name: str
    slug: str
    contact: str
    commission_bps: int | None = None
    fee_per_device_minor: int | None = None


STAFF: tuple[tuple[Role, str], ...] = (
    (Role.ADMIN, "Ana Fischer"),
    (Role.WAREHOUSE, "Ben Okafor"),
    (Role.SALES, "Carla Jensen"),
    (Role.FINANCE, "David Moreau"),
)

CLIENTS = (
    Party("Northwind Telecom", "northwind", "Emma Schulz", 1500, 500),
    Party("Bluewave Mobile Leasing", "bluewave", "Farid Haddad", 1200, 400),
    Party("Contoso Corporate IT", "contoso", "Greta Lindqvist", 1800, 600),
)

BUYERS = (
    Party("Phonetrade Wholesale", "phonetrade", "Hugo Martin"),
    Party("ReCell Europe", "recell", "Ines Duarte"),
    Party("Mobile Outlet GmbH", "mobileoutlet", "Jonas Weber"),
    Party("TechRenew BV", "techrenew", "Karin de Vries"),
    Party("Second Life Devices", "secondlife", "Luca Romano"),
)


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """A model the refurbisher handles; ``tac`` (8 digits) for IMEI devices, else a serial."""

    make: str
    model: str
    storages: tuple[int, ...]
    colours: tuple[str, ...]
    base_price_minor: int
    """Grade A, smallest storage, in EUR cents."""
    tac: str | None = None
    serial_prefix: str = ""


CATALOG = (
    CatalogEntry("Apple", "iPhone 13", (128, 256, 512), ("Midnight", "Starlight", "Blue", "Pink"),
                 42900, tac="35391611"),
    CatalogEntry("Apple", "iPhone 14", (128, 256), ("Midnight", "Starlight", "Purple"),
                 52900, tac="35467921"),
    CatalogEntry("Apple", "iPhone 15", (128, 256), ("Black", "Blue", "Green", "Pink"),
                 64900, tac="35093877"),
    CatalogEntry("Apple", "iPhone 15 Pro", (128, 256, 512),
                 ("Natural Titanium", "Black Titanium", "Blue Titanium"), 82900, tac="35020412"),
    CatalogEntry("Samsung", "Galaxy S22", (128, 256), ("Phantom Black", "Phantom White", "Green"),
                 33900, tac="35081954"),
    CatalogEntry("Samsung", "Galaxy S23", (128, 256), ("Phantom Black", "Cream", "Lavender"),
                 46900, tac="35278640"),
    CatalogEntry("Samsung", "Galaxy A54 5G", (128,), ("Awesome Graphite", "Awesome Lime"),
                 21900, tac="35419733"),
    CatalogEntry("Google", "Pixel 7", (128, 256), ("Obsidian", "Snow", "Lemongrass"),
                 29900, tac="35684512"),
    CatalogEntry("Google", "Pixel 8", (128, 256), ("Obsidian", "Hazel", "Rose"),
                 42900, tac="35900263"),
    CatalogEntry("Apple", "iPad Air (5th generation) Wi-Fi + Cellular", (64, 256),
                 ("Space Grey", "Starlight", "Blue"), 52900, tac="35316728"),
    CatalogEntry("Apple", "iPad Air (5th generation) Wi-Fi", (64, 256),
                 ("Space Grey", "Purple", "Pink"), 44900, serial_prefix="DMP"),
    CatalogEntry("Samsung", "Galaxy Tab S8", (128, 256), ("Graphite", "Silver"),
                 37900, serial_prefix="R52"),
    CatalogEntry("Apple", "MacBook Air (M1, 2020)", (256, 512), ("Space Grey", "Gold", "Silver"),
                 59900, serial_prefix="C02"),
    CatalogEntry("Lenovo", "ThinkPad T14 Gen 2", (256, 512), ("Black",),
                 38900, serial_prefix="PF"),
)  # fmt: skip

STATUS_COUNTS: dict[DeviceStatus, int] = {
    DeviceStatus.RECEIVED: 20,
    DeviceStatus.GRADED: 25,
    DeviceStatus.QUARANTINED: 10,
    DeviceStatus.AVAILABLE: 60,
    DeviceStatus.RESERVED: 12,
    DeviceStatus.SOLD: 15,
    DeviceStatus.SHIPPED: 18,
    DeviceStatus.DELIVERED: 40,
}

COSMETIC_WEIGHTS = {
    CosmeticGrade.A: 35,
    CosmeticGrade.B: 40,
    CosmeticGrade.C: 20,
    CosmeticGrade.D: 5,
}
_COSMETIC_PERCENT = {
    CosmeticGrade.A: 100,
    CosmeticGrade.B: 88,
    CosmeticGrade.C: 76,
    CosmeticGrade.D: 60,
}

FAILED_CHECKS = ("battery", "camera", "touchscreen", "speaker", "microphone", "charging_port")


@dataclass(frozen=True, slots=True)
class Carrier:
    name: str
    tracking_url: str
    """With ``{}`` where the tracking number goes."""
    prefix: str
    digits: int


CARRIERS = (
    Carrier("DHL", "https://www.dhl.com/de-en/home/tracking.html?tracking-id={}", "", 10),
    Carrier("UPS", "https://www.ups.com/track?tracknum={}", "1Z9V8E", 12),
    Carrier("DPD", "https://tracking.dpd.de/status/en_US/parcel/{}", "0150", 10),
)


def with_check_digit(body: str) -> str:
    """``body`` (14 digits) plus the one digit that makes a Luhn-valid IMEI."""
    return next(body + digit for digit in "0123456789" if luhn_valid(body + digit))


def list_price_minor(entry: CatalogEntry, storage_gb: int, cosmetic: CosmeticGrade) -> int:
    """12% more per storage step, less for wear; ends in ...9.00, between 129 and 899 EUR."""
    step = entry.storages.index(storage_gb)
    raw = entry.base_price_minor * (100 + 12 * step) * _COSMETIC_PERCENT[cosmetic] // 10000
    return max(12900, min(89900, raw // 1000 * 1000 + 900))
