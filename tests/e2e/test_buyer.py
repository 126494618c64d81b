"""The buyer's app: the board (filters, sort, live changes), offers and their live status,
reconnecting without stale data, polling when the server has no stream, a narrow screen."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.statuses import CosmeticGrade
from tests.e2e.support import (
    COUNTER,
    CREATE_LISTING,
    GRADE,
    PUBLISH,
    REPRICE,
    LaggingStream,
    NoSubscriptions,
    SocketGate,
    buy,
    gid,
    go,
    make_offer,
    no_sideways_scroll,
    ok,
    open_trade,
    sign_in,
)
from tests.support.markers import only
from tests.support.trade import create_device, create_listing

if TYPE_CHECKING:
    from tests.e2e.conftest import PageOpener
    from tests.e2e.support import Trade
    from tests.support.graphql import GraphQLClient
    from tests.support.server import RunningServer

pytestmark = only("sqlite")

Sessions = async_sessionmaker[AsyncSession]


async def publish_new_listing(
    trade: Trade, sessions: Sessions, *, model: str, price_minor: int
) -> str:
    """Sales lists a freshly graded device (draft, then published): a new row on the board."""
    device = await create_device(sessions, trade.world.client, make="Google", model=model)
    sales = trade.world.sales
    created = await trade.call(
        sessions,
        sales,
        CREATE_LISTING,
        {"input": {"deviceId": gid("Device", device.id), "price": str(price_minor)}},
    )
    listing = ok(created, "createListing", "ListingPayload")["listing"]
    published = await trade.call(
        sessions,
        sales,
        PUBLISH,
        {"input": {"listingId": listing["id"], "expectedVersion": listing["version"]}},
    )
    ok(published, "publishListing", "ListingPayload")
    listing_id: str = listing["id"]
    return listing_id


async def test_the_board_filters_sorts_and_shows_changes_live(
    server: RunningServer,
    sessions: Sessions,
    graphql: GraphQLClient,
    open_page: PageOpener,
    screenshots: Path,
) -> None:
    from playwright.async_api import expect

    trade = await open_trade(sessions, graphql)
    client = trade.world.client
    iphone = await create_listing(
        sessions, client, price_minor=45_000, model="iPhone 13", cosmetic=CosmeticGrade.A
    )
    newer = await create_listing(
        sessions,
        client,
        price_minor=52_000,
        model="iPhone 14",
        storage_gb=256,
        cosmetic=CosmeticGrade.B,
    )
    await create_listing(
        sessions,
        client,
        price_minor=30_000,
        make="Samsung",
        model="Galaxy S22",
        cosmetic=CosmeticGrade.C,
    )
    opened = await open_page()
    page = opened.page
    await sign_in(page, server.url, trade.world.buyer_a, "Board")
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(3)

    # Filters, each reflected in the address.
    await page.get_by_label("Make").fill("Samsung")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Galaxy S22")
    assert "make=Samsung" in page.url
    await page.get_by_role("button", name="Clear filters").click()
    await expect(rows).to_have_count(3)

    await page.get_by_role("checkbox", name="A", exact=True).check()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("iPhone 13")
    await page.get_by_role("checkbox", name="A", exact=True).uncheck()

    await page.get_by_label("Storage").select_option("256")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("iPhone 14")
    await page.get_by_label("Storage").select_option("")

    await page.get_by_label("Price from (EUR)").fill("400")
    await expect(rows).to_have_count(2)
    await page.get_by_label("Price up to (EUR)").fill("500")
    await expect(rows).to_have_count(1)
    await page.get_by_label("Price up to (EUR)").fill("4OO")
    await expect(
        page.get_by_text("Enter an amount in figures, such as 450 or 450.50.")
    ).to_have_count(1)
    await page.get_by_role("button", name="Clear filters").click()
    await expect(rows).to_have_count(3)

    await page.get_by_label("Sort").select_option("PRICE_ASC")
    await expect(rows.first).to_contain_text("Galaxy S22")
    await expect(rows.last).to_contain_text("iPhone 14")
    await page.get_by_label("Sort").select_option("NEWEST")
    await expect(rows.first).to_contain_text("Galaxy S22")

    # Live: a new price, a new grade and a new listing, each marked as it arrives.
    data = await trade.call(
        sessions,
        trade.world.sales,
        REPRICE,
        {"input": {"listingId": gid("Listing", iphone.id), "price": "42000"}},
    )
    ok(data, "repriceListing", "ListingPayload")
    repriced = page.locator(f'[data-listing-id="{gid("Listing", iphone.id)}"]')
    await expect(repriced).to_have_attribute("data-state", "changed")
    await expect(repriced.locator(".money.changed")).to_have_text("€420.00")
    await expect(repriced.locator("s.was")).to_have_text("€450.00")

    data = await trade.call(
        sessions,
        trade.world.warehouse,
        GRADE,
        {
            "input": {
                "deviceId": gid("Device", newer.device_id),
                "cosmetic": "C",
                "functionalPass": True,
                "dataWiped": True,
                "batteryHealthPct": 84,
            }
        },
    )
    ok(data, "recordGrade", "RecordGradePayload")
    regraded = page.locator(f'[data-listing-id="{gid("Listing", newer.id)}"]')
    await expect(regraded.locator(".changed")).to_have_text("Grade C")
    await expect(regraded).to_contain_text("was B")
    await expect(regraded).to_contain_text("Battery 84%")

    new_id = await publish_new_listing(trade, sessions, model="Pixel 8", price_minor=39_900)
    fresh = page.locator(f'[data-listing-id="{new_id}"]')
    await expect(fresh).to_have_attribute("data-state", "new")
    await expect(fresh).to_contain_text("Google Pixel 8")
    await expect(fresh).to_contain_text("New")
    await expect(rows).to_have_count(4)
    await page.screenshot(path=str(screenshots / "buyer-board-live.png"), full_page=True)
    opened.log.assert_clean()


async def test_offers_show_counters_acceptance_and_invalidation_live(
    server: RunningServer,
    sessions: Sessions,
    graphql: GraphQLClient,
    open_page: PageOpener,
    screenshots: Path,
) -> None:
    from playwright.async_api import expect

    trade = await open_trade(sessions, graphql)
    world = trade.world
    iphone = await create_listing(sessions, world.client, price_minor=45_000, model="iPhone 13")
    pixel = await create_listing(
        sessions, world.client, price_minor=30_000, make="Google", model="Pixel 7"
    )
    opened = await open_page()
    page = opened.page
    await sign_in(page, server.url, world.buyer_b, "Board")

    # An offer from the listing's page, checked as typed, then sent.
    await page.get_by_role("link", name="Apple iPhone 13").click()
    amount = page.get_by_label("Your offer (EUR)")
    await amount.fill("460")
    await page.get_by_role("button", name="Make offer").click()
    await expect(page.get_by_text("An offer is at most the list price, €450.00.")).to_be_visible()
    await expect(amount).to_have_attribute("aria-invalid", "true")
    await amount.fill("400")
    await amount.press("Enter")
    sent = page.get_by_role("status").filter(has_text="Offer of €400.00 sent")
    await expect(sent).to_be_visible()

    await go(page, "My offers")
    offers = page.locator("li[data-offer-id]")
    await expect(offers).to_have_count(1)
    await expect(offers.first).to_contain_text("Waiting for the seller's answer.")
    offer_id = await offers.first.get_attribute("data-offer-id")
    assert offer_id is not None

    # Sales counters: the offer shows as countered and the counter arrives, live.
    data = await trade.call(
        sessions, world.sales, COUNTER, {"input": {"offerId": offer_id, "amount": "43000"}}
    )
    ok(data, "counterOffer", "CounterOfferPayload")
    await expect(offers).to_have_count(2)
    counter = offers.filter(has_text="Seller's counter")
    await expect(counter).to_contain_text("€430.00")
    await expect(counter).to_contain_text("The seller's counter: your turn to answer.")
    await expect(page.locator(f'[data-offer-id="{offer_id}"]')).to_have_attribute(
        "data-status", "COUNTERED"
    )

    # Another pending offer of B's, on a device that A then buys: invalidated, live.
    await make_offer(trade, sessions, world.buyer_b, pixel, 28_000)
    await expect(offers).to_have_count(3)
    pixel_offer = offers.filter(has_text="Google Pixel 7")
    await expect(pixel_offer).to_have_attribute("data-status", "PENDING")
    await buy(trade, sessions, world.buyer_a, pixel)
    await expect(pixel_offer).to_have_attribute("data-status", "INVALIDATED")
    await expect(pixel_offer).to_contain_text("Invalidated: the device is no longer for sale.")
    await page.screenshot(path=str(screenshots / "buyer-offers.png"), full_page=True)

    # B accepts the seller's counter: an order reserves the device.
    await counter.get_by_role("button", name="Accept the offer of €430.00").click()
    await counter.get_by_role("link", name="See the order").click()
    await expect(page.get_by_test_id("order-status")).to_contain_text("Reserved for you")
    await expect(page.locator(".total")).to_contain_text("€430.00")
    await page.get_by_role("link", name="← My orders").click()
    await expect(page.locator("li[data-order-id]")).to_have_count(1)
    await expect(page.locator("li[data-order-id]")).to_contain_text("€430.00")
    assert iphone.id > 0
    opened.log.assert_clean()


async def test_after_a_dropped_connection_the_board_catches_up(
    server: RunningServer,
    sessions: Sessions,
    graphql: GraphQLClient,
    open_page: PageOpener,
) -> None:
    from playwright.async_api import expect

    trade = await open_trade(sessions, graphql)
    sold = await create_listing(sessions, trade.world.client, price_minor=45_000)
    opened = await open_page()
    page = opened.page
    gate = SocketGate()
    await gate.install(page)
    await sign_in(page, server.url, trade.world.buyer_b, "Board")
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(1)

    await gate.drop()
    await expect(page.locator(".connection")).not_to_have_attribute("data-status", "live")
    await expect(page.get_by_test_id("offline-banner")).to_be_visible()
    # What happens meanwhile never reaches this page as an event...
    await buy(trade, sessions, trade.world.buyer_a, sold)
    fresh_id = await publish_new_listing(trade, sessions, model="Pixel 8", price_minor=39_900)
    await page.wait_for_timeout(300)
    await expect(page.locator(f'[data-listing-id="{gid("Listing", sold.id)}"]')).to_have_count(1)

    # ...so once the connection is back the page fetches again: nothing stale stays.
    await gate.restore()
    await expect(page.locator(".connection")).to_have_attribute(
        "data-status", "live", timeout=15_000
    )
    await expect(page.get_by_test_id("offline-banner")).to_have_count(0)
    await expect(page.locator(f'[data-listing-id="{fresh_id}"]')).to_have_count(1)
    await expect(page.locator(f'[data-listing-id="{gid("Listing", sold.id)}"]')).to_have_count(
        0, timeout=5_000
    )
    # And the stream is live again.
    other = await publish_new_listing(trade, sessions, model="Pixel 7a", price_minor=29_900)
    await expect(page.locator(f'[data-listing-id="{other}"]')).to_have_attribute(
        "data-state", "new"
    )
    assert opened.log.page_errors == []
    assert opened.log.console_errors == []


async def test_the_board_subscribes_again_for_a_new_filter_and_after_falling_behind(
    server: RunningServer,
    sessions: Sessions,
    graphql: GraphQLClient,
    open_page: PageOpener,
) -> None:
    from playwright.async_api import expect

    trade = await open_trade(sessions, graphql)
    sold = await create_listing(sessions, trade.world.client, price_minor=45_000, make="Apple")
    await create_listing(
        sessions, trade.world.client, price_minor=39_900, make="Samsung", model="Galaxy S22"
    )
    sold_row = f'[data-listing-id="{gid("Listing", sold.id)}"]'
    opened = await open_page()
    page = opened.page
    stream = LaggingStream("listingBoard")
    await stream.install(page)
    await sign_in(page, server.url, trade.world.buyer_b, "Board")
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(2)
    first = len(stream.subscribes)
    assert first >= 1

    # Another filter is another subscription: its snapshot replaces the list.
    await page.get_by_label("Make", exact=True).fill("Samsung")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Galaxy S22")
    assert len(stream.subscribes) > first
    await page.get_by_role("button", name="Clear filters").click()
    await expect(rows).to_have_count(2)

    # The board falls behind: the sale never reaches it...
    stream.hold()
    before_lag = len(stream.subscribes)
    await buy(trade, sessions, trade.world.buyer_a, sold)
    await page.wait_for_timeout(500)
    await expect(page.locator(sold_row)).to_have_count(1)
    # ...until the server says LAGGED: the page subscribes again and the new snapshot is
    # the catch-up.
    stream.lag()
    await expect(page.locator(sold_row)).to_have_count(0, timeout=5_000)
    await expect(rows).to_have_count(1)
    assert len(stream.subscribes) == before_lag + 1
    await expect(page.locator("[data-live-mode=polling]")).to_have_count(0)
    opened.log.assert_clean()


async def test_without_the_stream_the_board_polls_and_says_so(
    server: RunningServer,
    sessions: Sessions,
    graphql: GraphQLClient,
    open_page: PageOpener,
) -> None:
    from playwright.async_api import expect

    trade = await open_trade(sessions, graphql)
    await create_listing(sessions, trade.world.client, price_minor=45_000)
    opened = await open_page()
    page = opened.page
    older_server = NoSubscriptions()
    await older_server.install(page)
    await sign_in(page, server.url, trade.world.buyer_b, "Board")
    await expect(page.locator("[data-live-mode=polling]")).to_have_text(
        "Live updates are unavailable: refreshing every few seconds."
    )
    fresh = await publish_new_listing(trade, sessions, model="Pixel 8", price_minor=39_900)
    await expect(page.locator(f'[data-listing-id="{fresh}"]')).to_have_count(1, timeout=10_000)
    assert older_server.refused >= 1

    # The server gains the stream: the board switches the live path back on by itself.
    older_server.refusing = False
    await expect(page.locator("[data-live-mode=polling]")).to_have_count(0, timeout=30_000)
    other = await publish_new_listing(trade, sessions, model="Pixel 7a", price_minor=29_900)
    await expect(page.locator(f'[data-listing-id="{other}"]')).to_have_attribute(
        "data-state", "new", timeout=3_000
    )
    opened.log.assert_clean()


async def test_the_buyer_app_works_on_a_narrow_screen(
    server: RunningServer,
    sessions: Sessions,
    graphql: GraphQLClient,
    open_page: PageOpener,
    screenshots: Path,
) -> None:
    from playwright.async_api import expect

    trade = await open_trade(sessions, graphql)
    for model, price in (("iPhone 13", 45_000), ("iPhone 12 mini", 29_900)):
        await create_listing(sessions, trade.world.client, price_minor=price, model=model)
    opened = await open_page(width=390, height=844)
    page = opened.page
    await sign_in(page, server.url, trade.world.buyer_a, "Board")
    await expect(page.locator("tbody tr")).to_have_count(2)
    await no_sideways_scroll(page)
    await page.screenshot(path=str(screenshots / "buyer-board-narrow.png"), full_page=True)

    await page.get_by_role("link", name="Apple iPhone 12 mini").click()
    await page.get_by_role("button", name="Buy for €299.00").click()
    await expect(page.get_by_test_id("order-status")).to_contain_text("Reserved for you")
    await no_sideways_scroll(page)
    await page.screenshot(path=str(screenshots / "buyer-order-narrow.png"), full_page=True)
    opened.log.assert_clean()
