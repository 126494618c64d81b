"""The admin's integrations page: the live event stream with its cursor and lag, resuming
from the last cursor after a dropped connection (nothing missed, nothing twice); API keys
created (the secret shown once), used over HTTP, and revoked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.e2e.support import (
    REPRICE,
    SocketGate,
    buy,
    gid,
    go,
    no_sideways_scroll,
    ok,
    open_trade,
    sign_in,
    status,
)
from tests.support.markers import only
from tests.support.trade import create_listing

if TYPE_CHECKING:
    from tests.e2e.conftest import PageOpener
    from tests.support.graphql import GraphQLClient
    from tests.support.server import RunningServer

pytestmark = only("sqlite")


async def test_streams_events_with_cursor_and_lag_and_resumes_after_a_drop(
    server: RunningServer,
    sessions: async_sessionmaker[AsyncSession],
    graphql: GraphQLClient,
    open_page: PageOpener,
    screenshots: Path,
) -> None:
    from playwright.async_api import expect

    trade = await open_trade(sessions, graphql)
    world = trade.world
    listing = await create_listing(sessions, world.client, price_minor=45_000)
    listing_id = gid("Listing", listing.id)

    async def reprice(minor: int) -> None:
        data = await trade.call(
            sessions,
            world.sales,
            REPRICE,
            {"input": {"listingId": listing_id, "price": str(minor)}},
        )
        ok(data, "repriceListing", "ListingPayload")

    opened = await open_page()
    page = opened.page
    gate = SocketGate()
    await gate.install(page)
    await sign_in(page, server.url, world.admin, "Devices")
    await go(page, "Integrations")
    await expect(page.get_by_text("No event yet")).to_be_visible()
    await expect(page.get_by_text("No API key yet.")).to_be_visible()
    await expect(page.get_by_test_id("stream-state")).to_contain_text("Streaming")

    await reprice(44_000)
    events = page.locator("table.events tbody tr")
    await expect(events).to_have_count(1)
    await expect(events.first).to_have_attribute("data-event-type", "listing.price_changed")
    await expect(events.first).to_contain_text('"priceMinor":44000')
    await expect(page.get_by_test_id("stream-lag")).to_have_text(re.compile(r"^\d+ ms$"))
    first_cursor = await page.get_by_test_id("stream-cursor").text_content()
    assert first_cursor
    assert first_cursor.strip() != "— (live from now)"

    # The connection drops; two changes happen meanwhile; once back, the stream resumes after
    # the last cursor it had: both arrive, once each, in order.
    await gate.drop()
    await expect(page.get_by_test_id("stream-state")).to_contain_text("Waiting for the connection")
    await reprice(43_000)
    await reprice(42_000)
    await gate.restore()
    await expect(page.get_by_test_id("stream-state")).to_contain_text(
        "resumed from the last cursor once", timeout=15_000
    )
    await expect(events).to_have_count(3)
    await expect(events.nth(0)).to_contain_text('"priceMinor":42000')
    await expect(events.nth(1)).to_contain_text('"priceMinor":43000')
    await expect(page.get_by_test_id("stream-state")).to_contain_text("3 received")
    assert await page.get_by_test_id("stream-cursor").text_content() != first_cursor

    # Live again: a purchase is several events of one transaction.
    await buy(trade, sessions, world.buyer_a, listing)
    await expect(page.locator('tr[data-event-type="order.placed"]')).to_have_count(1)
    await expect(page.locator('tr[data-event-type="listing.reserved"]')).to_have_count(1)
    await page.screenshot(path=str(screenshots / "admin-integrations.png"), full_page=True)

    # A filter narrows the stream to the types named.
    await page.get_by_label("Event types").fill("listing.price_changed")
    await page.get_by_role("button", name="Apply").click()
    await expect(page.get_by_text("No event yet")).to_be_visible()
    assert opened.log.page_errors == []
    assert opened.log.console_errors == []


DEVICES = "query { devices(first: 1) { totalCount } }"


async def test_admin_creates_an_api_key_sees_it_once_uses_it_and_revokes_it(
    server: RunningServer,
    sessions: async_sessionmaker[AsyncSession],
    graphql: GraphQLClient,
    open_page: PageOpener,
    screenshots: Path,
) -> None:
    from playwright.async_api import expect

    trade = await open_trade(sessions, graphql)
    world = trade.world
    await create_listing(sessions, world.client, price_minor=45_000)

    opened = await open_page()
    page = opened.page
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    await sign_in(page, server.url, world.admin, "Devices")
    await go(page, "Integrations")
    await expect(page.get_by_text("No API key yet.")).to_be_visible()

    # Nothing chosen: a sentence, no request.
    await page.get_by_role("button", name="Create key").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "Give the key a name, e.g. the partner's system."
    )

    await page.get_by_label("Key name").fill("Client ERP")
    await page.get_by_label("Organisation id").fill(gid("Organization", world.client.id))
    await expect(page.get_by_role("checkbox", name="READ")).to_be_checked()
    await page.get_by_role("checkbox", name="SUBSCRIBE").check()
    await page.get_by_role("button", name="Create key").click()

    panel = page.get_by_test_id("api-key-secret")
    await expect(panel).to_be_focused()
    await expect(panel).to_contain_text("Copy this key now: it will not be shown again.")
    secret = (await panel.locator("code").text_content() or "").strip()
    assert re.fullmatch(r"dgk_[0-9a-f]{12}_\S+", secret), secret
    prefix = secret.split("_")[1]
    row = page.locator(f'tr[data-key-prefix="{prefix}"]')
    await expect(row).to_contain_text("Client ERP")
    await expect(row).to_contain_text(world.client.name)
    await expect(row).to_contain_text("READ, SUBSCRIBE")
    await expect(row).to_have_attribute("data-revoked", "false")

    await panel.get_by_role("button", name="Copy key").click()
    await expect(status(page, "Copied.")).to_be_visible()
    assert await page.evaluate("navigator.clipboard.readText()") == secret
    await page.screenshot(path=str(screenshots / "admin-api-keys.png"), full_page=True)

    # A narrow screen: no sideways scroll, the table stacks.
    await page.set_viewport_size({"width": 375, "height": 800})
    await no_sideways_scroll(page)
    await page.set_viewport_size({"width": 1280, "height": 900})

    async with httpx.AsyncClient(base_url=server.url) as http:

        async def as_key() -> dict[str, object]:
            response = await http.post(
                "/graphql",
                json={"query": DEVICES},
                headers={"Authorization": f"Bearer {secret}"},
            )
            assert response.status_code == 200
            body: dict[str, object] = response.json()
            return body

        body = await as_key()
        assert "errors" not in body, body
        assert body["data"] == {"devices": {"totalCount": 1}}

        # Once dismissed, the secret is nowhere on the page.
        await panel.get_by_role("button", name="I have stored it").click()
        await expect(panel).to_have_count(0)
        assert secret not in await page.content()

        # Revoke, with a confirmation (Escape keeps it; the keyboard is enough).
        await row.get_by_role("button", name="Revoke Client ERP").click()
        await expect(row.get_by_role("button", name="Yes, revoke")).to_be_focused()
        await page.keyboard.press("Escape")
        await expect(row.get_by_role("button", name="Revoke Client ERP")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(row.get_by_role("button", name="Yes, revoke")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(status(page, "is revoked: its next request is refused.")).to_be_visible()
        await expect(row).to_have_attribute("data-revoked", "true")
        await expect(row.get_by_role("button", name="Revoke Client ERP")).to_have_count(0)

        body = await as_key()
        errors = body.get("errors")
        assert isinstance(errors, list), body
        assert errors, body
        assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"

    assert opened.log.page_errors == []
    assert opened.log.console_errors == []
