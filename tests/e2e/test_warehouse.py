"""The warehouse's app: receive a lot by scanning, reconcile it, grade and quarantine."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.e2e.support import go, open_trade, sign_in
from tests.support.factories import make_imei
from tests.support.markers import only

if TYPE_CHECKING:
    from tests.e2e.conftest import PageOpener
    from tests.support.graphql import GraphQLClient
    from tests.support.server import RunningServer

pytestmark = only("sqlite")


async def test_receives_a_lot_by_scanning_then_grades_and_quarantines(
    server: RunningServer,
    sessions: async_sessionmaker[AsyncSession],
    graphql: GraphQLClient,
    open_page: PageOpener,
    screenshots: Path,
) -> None:
    from playwright.async_api import expect

    trade = await open_trade(sessions, graphql)
    first, second = make_imei(910_001), make_imei(910_002)
    opened = await open_page()
    page = opened.page
    await sign_in(page, server.url, trade.world.warehouse, "Devices")
    await go(page, "Receiving")
    await expect(page.get_by_text("No lot yet")).to_be_visible()

    # Open a lot for the client's batch of three.
    await page.get_by_label("Client id").fill(str(trade.world.client.id))
    await page.get_by_label("Reference").fill("ASN-1001")
    await page.get_by_label("Expected devices").fill("3")
    await page.get_by_role("button", name="Open lot").click()
    await expect(page.get_by_text("Lot ASN-1001 is open: scan its devices.")).to_be_visible()
    scanner = page.get_by_role("region", name="Receive into ASN-1001")
    progress = scanner.get_by_test_id("scanner-progress")
    await expect(progress).to_have_text("Received 0 of 3 · 3 missing")

    await scanner.get_by_label("Make").fill("Apple")
    await scanner.get_by_label("Model").fill("iPhone 12")
    await scanner.get_by_label("Storage (GB)").fill("64")
    await scanner.get_by_label("Location").fill("A-01")
    scan = scanner.get_by_label("Scan IMEI")

    # A misread barcode is caught as typed and never sent.
    await scan.focus()
    await page.keyboard.type(first[:-1] + str((int(first[-1]) + 1) % 10))
    await expect(scanner.get_by_text("This IMEI fails its check digit")).to_be_visible()
    await expect(scan).to_have_attribute("aria-invalid", "true")
    await page.keyboard.press("Enter")
    assert not [body for body in opened.log.posted if "ReceiveDevice" in body]

    # A scanner types the digits and Enter; the field is ready for the next one at once.
    await scan.fill("")
    for imei in (first, second):
        await page.keyboard.type(imei)
        await expect(scanner.get_by_text("Check digit OK: press Enter to receive.")).to_be_visible()
        await page.keyboard.press("Enter")
        await expect(scan).to_have_value("")
        await expect(scan).to_be_focused()
    await expect(progress).to_have_text("Received 2 of 3 · 1 missing")
    await expect(scanner.locator(".scan--ok")).to_have_count(2)

    # The same IMEI twice is refused with the reason.
    await page.keyboard.type(first)
    await page.keyboard.press("Enter")
    await expect(scanner.locator(".scan--error")).to_contain_text(
        f"A device with IMEI {first} was already received."
    )
    await expect(progress).to_have_text("Received 2 of 3 · 1 missing")
    lot_row = page.locator("tr[data-lot-id]").filter(has_text="ASN-1001")
    await expect(lot_row).to_contain_text("Receiving")
    await page.screenshot(path=str(screenshots / "warehouse-receiving.png"), full_page=True)

    await lot_row.get_by_role("button", name="Reconcile ASN-1001").click()
    await expect(
        page.get_by_role("status").filter(has_text="ASN-1001 reconciled: Received 2 of 3")
    ).to_be_visible()
    await expect(lot_row).to_contain_text("Reconciled")

    # Grade the first device; quarantine the second, then clear it.
    await go(page, "Devices")
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(2)
    await page.get_by_role("button", name=f"Open IMEI {first}").click()
    panel = page.locator("[data-device-panel]")
    await panel.get_by_role("radio", name="A").check()
    await panel.get_by_label("Battery health (%)").fill("101")
    await panel.get_by_role("button", name="Save grade").click()
    await expect(
        panel.get_by_text("Battery health is a whole number from 0 to 100.")
    ).to_have_count(1)
    await panel.get_by_label("Battery health (%)").fill("91")
    await expect(panel.get_by_text("With this grade the device may be listed.")).to_be_visible()
    await panel.get_by_role("button", name="Save grade").click()
    await expect(panel.get_by_role("status").filter(has_text="Graded A.")).to_be_visible()
    first_row = page.locator("tr").filter(has_text=first)
    await expect(first_row).to_contain_text("Graded")
    await expect(first_row.locator('td[data-label="Grade"]')).to_have_text("A")
    await page.screenshot(path=str(screenshots / "warehouse-grading.png"), full_page=True)

    await page.get_by_role("button", name=f"Open IMEI {second}").click()
    await panel.get_by_label("Reason").fill("Activation lock on")
    await panel.get_by_role("checkbox", name="Locked", exact=True).check()
    await panel.get_by_role("button", name="Quarantine device").click()
    second_row = page.locator("tr").filter(has_text=second)
    await expect(second_row).to_contain_text("Quarantined")
    # Clearing needs a grade first: the refusal says so.
    await panel.get_by_role("button", name="Clear quarantine").click()
    await expect(panel.get_by_role("alert")).to_have_text(
        "This device was never graded: record a grade before clearing it."
    )
    await panel.get_by_role("radio", name="C").check()
    await panel.get_by_role("button", name="Save grade").click()
    await expect(panel.get_by_role("status").filter(has_text="Graded C.")).to_be_visible()
    await expect(second_row).to_contain_text("Quarantined")
    await expect(second_row.locator('td[data-label="Grade"]')).to_have_text("C")
    await panel.get_by_role("button", name="Clear quarantine").click()
    await expect(panel.get_by_role("status").filter(has_text="Cleared")).to_be_visible()
    await expect(second_row).to_contain_text("Graded")
    opened.log.assert_clean()
