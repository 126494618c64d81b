"""The web app in Chromium: the device list, receiving a device, IMEI checks as typed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.statuses import OrganizationKind
from app.models import Organization
from tests.e2e.conftest import sign_in
from tests.support.markers import only

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

    from tests.e2e.conftest import PageOpener, Person
    from tests.support.graphql import GraphQLClient
    from tests.support.server import RunningServer

pytestmark = only("sqlite")

FIRST_IMEI = "490154203237518"
SECOND_IMEI = "356938035643809"
RECEIVE = """
mutation Receive($input: ReceiveDeviceInput!) {
  receiveDevice(input: $input) {
    __typename
    ... on Error { code message }
  }
}
"""


async def add_client(sessions: async_sessionmaker[AsyncSession], name: str) -> Organization:
    client = Organization(
        name=name,
        kind=OrganizationKind.CLIENT,
        currency="EUR",
        commission_bps=1500,
        fee_per_device_minor=500,
    )
    async with sessions.begin() as session:
        session.add(client)
    return client


SIGN_IN = """
mutation SignIn($email: String!, $password: String!) {
  signIn(email: $email, password: $password) {
    __typename
    ... on SignInPayload { token }
  }
}
"""


async def receive_over_api(graphql: GraphQLClient, person: Person, **device: Any) -> None:
    signed_in = await graphql(SIGN_IN, {"email": person.email, "password": person.password})
    token = signed_in["data"]["signIn"]["token"]
    payload = await graphql(
        RECEIVE, {"input": device}, headers={"authorization": f"Bearer {token}"}
    )
    assert payload["data"]["receiveDevice"]["__typename"] == "ReceiveDevicePayload", payload


def device_rows(page: Page) -> Locator:
    return page.get_by_role("table").locator("tbody tr")


def receive_form(page: Page) -> Locator:
    return page.get_by_role("region", name="Receive device")


async def test_lists_devices_and_receives_one_through_the_form(
    server: RunningServer,
    sessions: async_sessionmaker[AsyncSession],
    graphql: GraphQLClient,
    warehouse_user: Person,
    open_page: PageOpener,
    screenshots: Path,
) -> None:
    from playwright.async_api import expect

    client = await add_client(sessions, "Acme Phones BV")
    await receive_over_api(
        graphql,
        warehouse_user,
        clientId=str(client.id),
        make="Apple",
        model="iPhone 12",
        imei=FIRST_IMEI,
        storageGb=128,
    )
    opened = await open_page()
    page = opened.page
    await sign_in(page, server.url, warehouse_user)

    await expect(page.get_by_role("link", name="DeviceGraph")).to_be_visible()
    await expect(page.get_by_role("heading", name="Devices", exact=True)).to_be_visible()
    await expect(page.locator(".connection")).to_have_attribute("data-status", "live")
    await expect(page.locator(".connection")).to_have_text("Live updates: Live")
    rows = device_rows(page)
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(FIRST_IMEI)
    await expect(rows.first).to_contain_text("Apple")
    await expect(rows.first).to_contain_text("iPhone 12")
    await expect(rows.first).to_contain_text("128 GB")
    await expect(rows.first).to_contain_text("Received")
    await expect(rows.first).to_contain_text("Acme Phones BV")

    # Receive a second device with the keyboard only: labels, tab order, Enter submits.
    form = receive_form(page)
    await form.get_by_label("Client id").focus()
    await page.keyboard.type(str(client.id))
    for value in ("Samsung", "Galaxy S21", "3569 3803 5643 809"):
        await page.keyboard.press("Tab")
        await page.keyboard.type(value)
    await expect(form.get_by_text("Check digit OK.")).to_be_visible()
    await page.keyboard.press("Enter")

    await expect(form.get_by_role("status")).to_have_text(
        f"Received Samsung Galaxy S21, IMEI {SECOND_IMEI}."
    )
    await expect(rows).to_have_count(2)
    await expect(page.get_by_role("table")).to_contain_text(SECOND_IMEI)
    # The client id stays for the next device of the same consignment; the rest is cleared.
    await expect(form.get_by_label("Client id")).to_have_value(str(client.id))
    await expect(form.get_by_label("IMEI")).to_have_value("")

    status_filter = page.get_by_label("Status", exact=True)
    await status_filter.select_option("GRADED")
    await expect(page.get_by_text("No device is graded.")).to_be_visible()
    await status_filter.select_option("RECEIVED")
    await expect(rows).to_have_count(2)
    await status_filter.select_option("")
    await expect(rows).to_have_count(2)

    await page.screenshot(path=str(screenshots / "devices.png"), full_page=True)
    opened.log.assert_clean()


async def test_checks_the_imei_as_typed_and_sends_nothing_invalid(
    server: RunningServer,
    sessions: async_sessionmaker[AsyncSession],
    graphql: GraphQLClient,
    warehouse_user: Person,
    open_page: PageOpener,
) -> None:
    from playwright.async_api import expect

    client = await add_client(sessions, "Bad Typists Ltd")
    opened = await open_page()
    page = opened.page
    await sign_in(page, server.url, warehouse_user)
    form = receive_form(page)
    imei = form.get_by_label("IMEI")

    await imei.fill("4901")
    await expect(form.get_by_text("4 of 15 digits.")).to_be_visible()
    await expect(imei).not_to_have_attribute("aria-invalid", "true")

    await imei.fill("490154203237519")
    message = form.get_by_text("This IMEI fails its check digit: it was probably mistyped.")
    await expect(message).to_be_visible()
    await expect(imei).to_have_attribute("aria-invalid", "true")

    await imei.fill("49015420323751x")
    await expect(form.get_by_text("An IMEI has digits only")).to_be_visible()

    # Submitting a short IMEI says why and keeps the request in the browser.
    await form.get_by_label("Client id").fill(str(client.id))
    await form.get_by_label("Make").fill("Apple")
    await form.get_by_label("Model").fill("iPhone 13")
    await imei.fill("4901542")
    await form.get_by_role("button", name="Receive device").click()
    await expect(form.get_by_text("An IMEI has 15 digits; this has 7.")).to_be_visible()
    await expect(imei).to_be_focused()
    assert not [body for body in opened.log.posted if "ReceiveDevice" in body]
    await expect(page.get_by_text("No device yet.")).to_be_visible()
    opened.log.assert_clean()


async def test_shows_the_servers_refusal_as_a_sentence(
    server: RunningServer,
    sessions: async_sessionmaker[AsyncSession],
    graphql: GraphQLClient,
    warehouse_user: Person,
    open_page: PageOpener,
) -> None:
    from playwright.async_api import expect

    client = await add_client(sessions, "Twice Sent GmbH")
    await receive_over_api(
        graphql,
        warehouse_user,
        clientId=str(client.id),
        make="Apple",
        model="iPhone 12",
        imei=FIRST_IMEI,
    )
    opened = await open_page()
    page = opened.page
    await sign_in(page, server.url, warehouse_user)
    form = receive_form(page)

    await form.get_by_label("Client id").fill("999999")
    await form.get_by_label("Make").fill("Apple")
    await form.get_by_label("Model").fill("iPhone 12")
    await form.get_by_label("IMEI").fill(SECOND_IMEI)
    await form.get_by_role("button", name="Receive device").click()
    await expect(form.get_by_role("alert")).to_have_text("No client has that id.")
    await expect(form.get_by_label("Client id")).to_have_attribute("aria-invalid", "true")

    await form.get_by_label("Client id").fill(str(client.id))
    await form.get_by_label("IMEI").fill(FIRST_IMEI)
    await form.get_by_role("button", name="Receive device").click()
    await expect(form.get_by_role("alert")).to_have_text(
        f"A device with IMEI {FIRST_IMEI} was already received."
    )
    await expect(device_rows(page)).to_have_count(1)
    opened.log.assert_clean()


async def test_works_on_a_narrow_screen(
    server: RunningServer,
    sessions: async_sessionmaker[AsyncSession],
    graphql: GraphQLClient,
    warehouse_user: Person,
    open_page: PageOpener,
    screenshots: Path,
) -> None:
    from playwright.async_api import expect

    client = await add_client(sessions, "Pocket Devices SA")
    for imei, model in ((FIRST_IMEI, "iPhone 12"), (SECOND_IMEI, "iPhone 12 mini")):
        await receive_over_api(
            graphql,
            warehouse_user,
            clientId=str(client.id),
            make="Apple",
            model=model,
            imei=imei,
            storageGb=64,
        )
    opened = await open_page(width=390, height=844)
    page = opened.page
    await sign_in(page, server.url, warehouse_user)
    await expect(device_rows(page)).to_have_count(2)
    # Nothing is wider than the screen: no sideways scrolling.
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    await page.screenshot(path=str(screenshots / "devices-narrow.png"), full_page=True)
    opened.log.assert_clean()


async def test_signs_in_stays_signed_in_and_signs_out(
    server: RunningServer, warehouse_user: Person, open_page: PageOpener, screenshots: Path
) -> None:
    from playwright.async_api import expect

    opened = await open_page()
    page = opened.page
    await page.goto(f"{server.url}/")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_label("Email").fill(warehouse_user.email)
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    await expect(page.get_by_label("Password")).to_have_value("")
    await page.screenshot(path=str(screenshots / "sign-in.png"))

    await sign_in(page, server.url, warehouse_user)
    header = page.get_by_role("banner")
    await expect(header).to_contain_text("Wendy Wills")
    await expect(header).to_contain_text("Warehouse · Refurb Co")
    await page.reload()
    await expect(page.get_by_role("heading", name="Devices", exact=True)).to_be_visible()

    await header.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(header).not_to_contain_text("Wendy Wills")
    await page.reload()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    opened.log.assert_clean()


async def test_the_indicator_shows_offline_when_the_server_goes_away(
    server: RunningServer, open_page: PageOpener
) -> None:
    from playwright.async_api import expect

    opened = await open_page()
    page = opened.page
    await page.goto(f"{server.url}/")
    indicator = page.locator(".connection")
    await expect(indicator).to_have_attribute("data-status", "live")

    server.server.should_exit = True  # the fixture's teardown waits for the shutdown
    await expect(indicator).to_have_attribute("data-status", "offline", timeout=15_000)
    await expect(indicator).to_contain_text("Offline")
    # Chromium logs each refused reconnection as a console error: expected here.
    assert opened.log.page_errors == []
    assert opened.log.foreign_requests() == []
