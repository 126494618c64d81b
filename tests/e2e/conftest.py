"""Browser tests: Debian's Chromium driven by Playwright against the real app.

The app runs under the shared ``server`` fixture (uvicorn in this test's event loop), so the
tests use Playwright's async API. They need two things that a plain clone lacks:

- ``/usr/bin/chromium`` (``apt-get install -y chromium``; Playwright's own browser download is
  not used), and
- the built frontend, ``app/static/index.html`` (``cd frontend && npm ci && npm run build``),

and the ``playwright`` Python package (no browser download: ``pip install playwright`` only).
Without any of them they are skipped with the reason; with ``CI=true`` they fail instead.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.passwords import hash_password
from app.domain.statuses import OrganizationKind, Role
from app.models import Organization, User
from tests.support.databases import in_ci

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]
STATIC_INDEX = ROOT / "app" / "static" / "index.html"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = Path(os.environ.get("DEVICEGRAPH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def require(condition: bool, reason: str) -> None:
    """Skip with the reason on a developer's machine; fail in CI, where it must be there."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{reason} (required when CI=true)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_prerequisites() -> None:
    require(
        importlib.util.find_spec("playwright") is not None,
        "the playwright package is missing: pip install playwright (no browser download)",
    )
    require(
        CHROMIUM.exists(),
        f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium)",
    )
    require(
        STATIC_INDEX.exists(),
        "the frontend is not built (app/static/index.html): "
        "run `cd frontend && npm ci && npm run build`",
    )


@pytest.fixture(scope="session")
async def browser(browser_prerequisites: None) -> AsyncIterator[Browser]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield instance
        finally:
            await instance.close()


@dataclass
class PageLog:
    """What a page did that a test should look at: console errors, failures, requests."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    posted: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        """Requests to any host but this machine's loopback (data: and blob: URLs aside)."""
        foreign = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.hostname not in LOCAL_HOSTS:
                foreign.append(url)
        return foreign

    def assert_clean(self) -> None:
        assert self.page_errors == [], f"uncaught errors in the page: {self.page_errors}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"
        assert self.foreign_requests() == [], (
            f"requests off this machine: {self.foreign_requests()}"
        )


@dataclass
class BrowserPage:
    page: Page
    log: PageLog


PageOpener = Callable[..., Awaitable[BrowserPage]]


@pytest.fixture
async def open_page(browser: Browser) -> AsyncIterator[PageOpener]:
    """``await open_page(width=..., height=...)``: a fresh context and page that logs itself."""
    from playwright.async_api import BrowserContext, ConsoleMessage, Request

    contexts: list[BrowserContext] = []

    async def opener(width: int = 1280, height: int = 860) -> BrowserPage:
        context = await browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = await context.new_page()
        log = PageLog()

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                log.console_errors.append(f"{message.text} ({message.location})")

        def on_request(request: Request) -> None:
            log.requests.append(request.url)
            if request.method == "POST":
                log.posted.append(request.post_data or "")

        page.on("console", on_console)
        page.on("pageerror", lambda error: log.page_errors.append(str(error)))
        page.on("request", on_request)
        # Workers (Monaco's language services) make their own requests.
        page.on("worker", lambda worker: log.requests.append(worker.url))
        return BrowserPage(page=page, log=log)

    try:
        yield opener
    finally:
        for context in contexts:
            await context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


# --- People ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    email: str
    password: str
    name: str


@pytest.fixture
async def warehouse_user(sessions: async_sessionmaker[AsyncSession]) -> Person:
    """Someone of the refurbisher's warehouse: may see and receive devices."""
    person = Person(email="wendy@refurb.example", password="correct horse 42", name="Wendy Wills")
    async with sessions.begin() as session:
        operator = Organization(name="Refurb Co", kind=OrganizationKind.OPERATOR, currency="EUR")
        session.add(operator)
        await session.flush()
        session.add(
            User(
                organization_id=operator.id,
                email=person.email,
                name=person.name,
                role=Role.WAREHOUSE,
                password_hash=hash_password(person.password),
            )
        )
    return person


async def sign_in(page: Page, base_url: str, person: Person) -> None:
    """Sign in through the app's own form and wait for the Devices page."""
    from playwright.async_api import expect

    await page.goto(f"{base_url}/")
    await page.get_by_label("Email").fill(person.email)
    await page.get_by_label("Password").fill(person.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Devices", exact=True)).to_be_visible()
