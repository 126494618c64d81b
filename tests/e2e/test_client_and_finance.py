"""The client's portal (devices and grades live, sales, settlements) and finance's
settlements (a refusal in words, void and generate again)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.e2e.support import GRADE, gid, go, ok, open_trade, sell_and_deliver, sign_in
from tests.support.markers import only
from tests.support.trade import create_device, create_listing

if TYPE_CHECKING:
    from tests.e2e.conftest import PageOpener
    from tests.support.graphql import GraphQLClient
    from tests.support.server import RunningServer

pytestmark = only("sqlite")


async def test_the_client_sees_its_devices_grades_and_sales_change(
    server: RunningServer,
    sessions: async_sessionmaker[AsyncSession],
    graphql: GraphQLClient,
    open_page: PageOpener,
    screenshots: Path,
) -> None:
    from playwright.async_api import expect

    trade = await open_trade(sessions, graphql)
    world = trade.world
    device = await create_device(sessions, world.client, make="Apple", model="iPad Air")
    listing = await create_listing(sessions, world.client, price_minor=45_000, model="iPhone 13")
    opened = await open_page()
    page = opened.page
    await sign_in(page, server.url, world.client_user, "My devices")
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(2)
    ipad = page.locator(f'tr[data-device-id="{gid("Device", device.id)}"]')
    await expect(ipad.locator('td[data-label="Grade"]')).to_have_text("B")
    # The client sees no buyer and no other client: there is no Client column for it.
    await expect(page.get_by_role("columnheader", name="Client")).to_have_count(0)

    data = await trade.call(
        sessions,
        world.warehouse,
        GRADE,
        {
            "input": {
                "deviceId": gid("Device", device.id),
                "cosmetic": "A",
                "functionalPass": True,
                "dataWiped": True,
            }
        },
    )
    ok(data, "recordGrade", "RecordGradePayload")
    await expect(ipad.locator('td[data-label="Grade"]')).to_have_text("A")
    await expect(ipad).to_have_class("row row--changed")
    await page.screenshot(path=str(screenshots / "client-devices.png"), full_page=True)

    await go(page, "My sales")
    await expect(page.get_by_text("None of your devices has been sold yet.")).to_be_visible()
    await sell_and_deliver(trade, sessions, listing)
    sold = page.locator(f'tr[data-device-id="{gid("Device", listing.device_id)}"]')
    await expect(sold).to_contain_text("Delivered")
    await expect(sold).to_contain_text("Not settled yet")
    await page.screenshot(path=str(screenshots / "client-sales.png"), full_page=True)
    opened.log.assert_clean()


async def test_finance_settles_voids_and_settles_again(
    server: RunningServer,
    sessions: async_sessionmaker[AsyncSession],
    graphql: GraphQLClient,
    open_page: PageOpener,
    screenshots: Path,
) -> None:
    from playwright.async_api import expect

    trade = await open_trade(sessions, graphql)
    world = trade.world
    for model, price in (("iPhone 13", 45_000), ("iPhone 12", 30_001)):
        listing = await create_listing(sessions, world.client, price_minor=price, model=model)
        await sell_and_deliver(trade, sessions, listing, tracking=f"TRACK-{model}")
    opened = await open_page()
    page = opened.page
    await sign_in(page, server.url, trade.finance, "Settlements")
    await expect(page.get_by_label("Client")).to_have_value(trade.client_id)
    await page.get_by_role("button", name="Generate draft").click()
    # 750.01 gross; commission 15% per line, half up: 67.50 + 45.00 (45.0015); fees 2 x 2.00.
    await expect(
        page.get_by_role("status").filter(has_text="2 devices, net €633.51")
    ).to_be_visible()
    card = page.locator("li[data-settlement-id]")
    await expect(card.get_by_test_id("settlement-net")).to_have_text("€633.51")
    await expect(card.get_by_role("table").locator("tbody tr")).to_have_count(2)
    await page.screenshot(path=str(screenshots / "finance-settlements.png"), full_page=True)

    # Nothing left to settle in the period: the refusal is a sentence.
    await page.get_by_role("button", name="Generate draft").click()
    await expect(page.get_by_role("alert")).to_contain_text("Nothing to settle:")
    await expect(page.get_by_role("alert")).to_contain_text(world.client.name)

    # Void it; its devices can be settled again.
    await card.get_by_role("button", name="Void").click()
    await expect(page.get_by_role("status").filter(has_text="Voided")).to_be_visible()
    await expect(card).to_have_count(0)
    await page.get_by_role("button", name="Generate draft").click()
    await expect(
        page.get_by_role("status").filter(has_text="2 devices, net €633.51")
    ).to_be_visible()
    await card.get_by_role("button", name="Approve").click()
    await expect(card).to_contain_text("Approved")
    await card.get_by_role("button", name="Mark paid").click()
    await expect(page.get_by_role("status").filter(has_text="Paid €633.51")).to_be_visible()
    await page.get_by_role("button", name="Paid", exact=True).click()
    await expect(card).to_have_count(1)
    await expect(card).to_contain_text("Paid")
    opened.log.assert_clean()
