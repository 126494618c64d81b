"""THE STORY (DOMAIN.md) in five browsers: a sale reaches the other buyer's board at once, an
offer on the sold device is refused with its reason, and the order goes on to tracking,
delivery and the client's settlement, each screen changing without a reload."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.statuses import CosmeticGrade
from tests.e2e.support import (
    WATCH_CLICK,
    WATCH_ROW,
    SocketGate,
    confirm,
    gid,
    go,
    mark_page,
    open_trade,
    sign_in,
    was_not_reloaded,
)
from tests.support.markers import only
from tests.support.trade import create_listing

if TYPE_CHECKING:
    from tests.e2e.conftest import PageOpener
    from tests.support.graphql import GraphQLClient
    from tests.support.server import RunningServer

pytestmark = only("sqlite")

TRACKING = "JD014600006281"


async def test_the_story(
    server: RunningServer,
    sessions: async_sessionmaker[AsyncSession],
    graphql: GraphQLClient,
    open_page: PageOpener,
    screenshots: Path,
) -> None:
    from playwright.async_api import expect

    trade = await open_trade(sessions, graphql)
    world = trade.world
    listing = await create_listing(
        sessions,
        world.client,
        price_minor=45_000,
        make="Apple",
        model="iPhone 13",
        storage_gb=128,
        colour="Midnight",
        cosmetic=CosmeticGrade.B,
    )
    await create_listing(
        sessions, world.client, price_minor=39_900, make="Samsung", model="Galaxy S22"
    )
    listing_id = gid("Listing", listing.id)
    row = f'[data-listing-id="{listing_id}"]'

    # Minute 0: buyer B watches the board; on a second screen B has the listing open, behind
    # a slow connection (what the server sends reaches that screen late).
    board_b = await open_page()
    await sign_in(board_b.page, server.url, world.buyer_b, "Board")
    await expect(board_b.page.locator(f"{row}")).to_have_count(1)
    await expect(board_b.page.locator("tbody tr")).to_have_count(2)

    slow_b = await open_page()
    gate = SocketGate()
    await gate.install(slow_b.page)
    await sign_in(slow_b.page, server.url, world.buyer_b, "Board")
    await slow_b.page.goto(f"{server.url}/listings/{listing_id}")
    await expect(slow_b.page.get_by_role("heading", name="Make an offer")).to_be_visible()
    gate.delay()

    # Minute 12: buyer A buys the device.
    buyer_a = await open_page()
    await sign_in(buyer_a.page, server.url, world.buyer_a, "Board")
    await buyer_a.page.get_by_role("link", name="Apple iPhone 13").click()
    buy_button = buyer_a.page.get_by_role("button", name="Buy for €450.00")
    await expect(buy_button).to_be_visible()
    await buyer_a.page.evaluate(WATCH_CLICK, "Buy for")
    await board_b.page.evaluate(WATCH_ROW, [row, "data-state", "leaving"])
    await buy_button.click()

    # ...and it leaves B's board at once, marked while it goes.
    await board_b.page.wait_for_function("window.__changedAt !== null", timeout=10_000)
    clicked_at = await buyer_a.page.evaluate("window.__clickedAt")
    changed_at = await board_b.page.evaluate("window.__changedAt")
    elapsed = changed_at - clicked_at
    print(f"\nA's purchase reached B's board in {elapsed} ms")
    assert 0 <= elapsed < 3_000
    leaving = board_b.page.locator(row)
    await expect(leaving).to_contain_text("Reserved")
    await board_b.page.screenshot(path=str(screenshots / "story-1-board-b-leaving.png"))
    await expect(board_b.page.locator(row)).to_have_count(0, timeout=5_000)
    await expect(board_b.page.locator("tbody tr")).to_have_count(1)
    await expect(board_b.page.get_by_text("1 listing.")).to_be_visible()

    # Minute 47: B, on the screen that has not heard yet, offers on the sold device: refused,
    # with the reason; the screen then shows the listing as it is.
    slow = slow_b.page
    await slow.get_by_label("Your offer (EUR)").fill("400")
    await slow.get_by_role("button", name="Make offer").click()
    await expect(slow.get_by_role("alert")).to_have_text(
        "This listing is reserved: it takes no offers."
    )
    await expect(slow.get_by_test_id("unavailable")).to_have_text(
        "This listing is reserved: it is not for sale any more."
    )
    await expect(slow.get_by_role("button", name="Make offer")).to_have_count(0)
    await slow.screenshot(path=str(screenshots / "story-2-offer-refused.png"), full_page=True)
    gate.release()

    # A is on the order's page: reserved, not shipped yet.
    page_a = buyer_a.page
    await expect(page_a.get_by_role("heading", name="Apple iPhone 13")).to_be_visible()
    await expect(page_a.get_by_test_id("order-status")).to_contain_text("Reserved for you")
    await expect(page_a.get_by_test_id("no-tracking")).to_be_visible()
    order_id = unquote(page_a.url.rsplit("/", 1)[-1])
    await confirm(trade, sessions, order_id)
    await expect(page_a.get_by_test_id("order-status")).to_contain_text("Confirmed")
    await mark_page(page_a)

    # The warehouse ships it: A's order shows the tracking number without a reload.
    warehouse = await open_page()
    wpage = warehouse.page
    await sign_in(wpage, server.url, world.warehouse, "Devices")
    await go(wpage, "Shipping")
    card = wpage.locator("li[data-order-id]").filter(has_text=world.buyer_a.organization.name)
    await expect(card).to_have_count(1)
    await expect(card).to_contain_text("Apple iPhone 13")
    await card.get_by_label("Carrier").fill("DHL")
    await card.get_by_label("Tracking number").fill(TRACKING)
    await wpage.screenshot(path=str(screenshots / "story-3-warehouse-ships.png"), full_page=True)
    await card.get_by_role("button", name="Ship order").click()
    await expect(wpage.get_by_role("status").filter(has_text="Shipped with DHL")).to_be_visible()
    await expect(page_a.get_by_test_id("tracking-number")).to_have_text(TRACKING)
    await expect(page_a.get_by_test_id("order-status")).to_contain_text("Shipped")
    assert await was_not_reloaded(page_a)
    await page_a.screenshot(path=str(screenshots / "story-4-order-tracking.png"), full_page=True)

    # Delivered (warehouse), so finance may settle it.
    await wpage.get_by_role("button", name="In transit").click()
    await card.get_by_role("button", name="Mark delivered").click()
    await expect(wpage.get_by_role("status").filter(has_text="Delivered to")).to_be_visible()
    await expect(page_a.get_by_test_id("order-status")).to_have_text("Delivered.")

    # The client watches its settlements while finance generates, approves and pays one.
    client = await open_page()
    cpage = client.page
    await sign_in(cpage, server.url, world.client_user, "My devices")
    await go(cpage, "My settlements")
    await expect(cpage.get_by_text("No settlement yet")).to_be_visible()

    finance = await open_page()
    fpage = finance.page
    await sign_in(fpage, server.url, trade.finance, "Settlements")
    await expect(fpage.get_by_label("Client")).to_have_value(trade.client_id)
    await fpage.get_by_role("button", name="Generate draft").click()
    # 450.00 gross, 15% commission 67.50, fee 2.00: 380.50 to the client.
    await expect(
        fpage.get_by_role("status").filter(has_text="1 device, net €380.50")
    ).to_be_visible()
    settlement = fpage.locator("li[data-settlement-id]")
    await expect(settlement.get_by_role("table")).to_contain_text("Apple iPhone 13")
    await expect(settlement.get_by_test_id("settlement-net")).to_have_text("€380.50")
    await fpage.screenshot(path=str(screenshots / "story-5-finance-review.png"), full_page=True)

    client_card = cpage.locator("li[data-settlement-id]")
    await expect(client_card).to_contain_text("Draft")
    await expect(client_card.get_by_test_id("settlement-net")).to_have_text("€380.50")

    await settlement.get_by_role("button", name="Approve").click()
    await expect(client_card).to_contain_text("Approved")
    await settlement.get_by_role("button", name="Mark paid").click()
    await expect(fpage.get_by_role("status").filter(has_text="Paid €380.50")).to_be_visible()
    await expect(client_card).to_contain_text("Paid")
    await expect(client_card.get_by_role("table")).to_contain_text("€450.00")
    await expect(client_card.get_by_role("table")).to_contain_text("€67.50")
    await cpage.screenshot(path=str(screenshots / "story-6-client-settlement.png"), full_page=True)

    for opened in (board_b, slow_b, buyer_a, warehouse, client, finance):
        opened.log.assert_clean()
