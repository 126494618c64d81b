"""The self-hosted GraphiQL in Chromium: it renders and runs a query with nothing off-machine."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from tests.e2e.conftest import sign_in
from tests.support.markers import only

if TYPE_CHECKING:
    from playwright.async_api import Page

    from tests.e2e.conftest import PageOpener, Person
    from tests.support.server import RunningServer

pytestmark = only("sqlite")


async def expect_graphiql(page: Page) -> None:
    from playwright.async_api import expect

    await expect(page.locator(".graphiql-container")).to_be_visible()
    await expect(page.locator(".graphiql-query-editor .monaco-editor")).to_be_visible()
    await expect(page.get_by_text("Loading...")).to_have_count(0)


async def test_graphiql_renders_and_runs_a_query_as_the_signed_in_person(
    server: RunningServer, warehouse_user: Person, open_page: PageOpener, screenshots: Path
) -> None:
    from playwright.async_api import expect

    opened = await open_page(width=1280, height=760)
    page = opened.page
    await sign_in(page, server.url, warehouse_user)
    await page.goto(f"{server.url}/graphiql")
    await expect_graphiql(page)
    # The default tab holds a devices query: run it against the app, with the app's session.
    await expect(page.locator(".graphiql-query-editor")).to_contain_text("devices")
    await page.get_by_role("button", name=re.compile("Execute query")).click()
    response = page.locator(".graphiql-response")
    await expect(response).to_contain_text('"totalCount": 0')
    await expect(response).to_contain_text(f'"name": "{warehouse_user.name}"')

    await page.screenshot(path=str(screenshots / "graphiql.png"))
    assert any(url.endswith("/graphql") for url in opened.log.requests)
    opened.log.assert_clean()


async def test_a_browser_on_graphql_gets_the_self_hosted_graphiql(
    server: RunningServer, open_page: PageOpener
) -> None:
    """A person typing /graphql sends Accept: text/html: strawberry's CDN page never shows."""
    opened = await open_page()
    page = opened.page
    await page.goto(f"{server.url}/graphql")
    await expect_graphiql(page)
    assert page.url == f"{server.url}/graphiql"
    opened.log.assert_clean()
