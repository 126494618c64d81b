"""The board's response cache through the real server, on SQLite and PostgreSQL: a repeated
board query costs no SQL, a mutation here is read back at once, a change committed elsewhere
arrives with the tail, viewers of another scope get their own answer, and only error-free
board queries are kept, for at most their max age."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import Listing
from app.observability.metrics import RESPONSE_CACHE
from app.settings import Settings
from app.web.response_cache import ResponseCache, cacheable_body
from tests.support.databases import count_statements
from tests.support.graphql import GraphQLClient
from tests.support.server import RunningServer, make_app, serve_app
from tests.support.trade import (
    World,
    bearer,
    create_listing,
    create_world,
    global_id,
    reprice_in_database,
)

Sessions = async_sessionmaker[AsyncSession]

BOARD = (
    "query Board { listings(first: 50) { totalCount edges { node { id status version "
    "price { amountMinor } device { make currentGrade { cosmetic } } } } } }"
)
REPRICE = """
mutation($input: RepriceListingInput!) {
  repriceListing(input: $input) { __typename ... on ListingPayload { listing { version } } }
}
"""


@pytest.fixture
async def world(sessions: Sessions) -> World:
    return await create_world(sessions)


def hits() -> float:
    return RESPONSE_CACHE.labels("hit")._value.get()  # type: ignore[attr-defined,no-any-return]


def misses() -> float:
    return RESPONSE_CACHE.labels("miss")._value.get()  # type: ignore[attr-defined,no-any-return]


async def board(http: httpx.AsyncClient, token: str, query: str = BOARD) -> httpx.Response:
    response = await http.post("/graphql", json={"query": query}, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response


def prices(response: httpx.Response) -> dict[str, str]:
    edges = response.json()["data"]["listings"]["edges"]
    return {edge["node"]["id"]: edge["node"]["price"]["amountMinor"] for edge in edges}


async def test_a_repeated_board_query_is_answered_without_sql(
    server: RunningServer, http: httpx.AsyncClient, sessions: Sessions, world: World
) -> None:
    await create_listing(sessions, world.client, price_minor=30_000)
    await create_listing(sessions, world.client, price_minor=40_000)
    token = world.buyer_a.token
    first = await board(http, token)
    before = hits()
    with count_statements(server.app.state.runtime.engine.sync_engine) as log:
        second = await board(http, token)
    assert hits() - before == 1
    assert log.count == 0, log.statements  # neither the token nor the board was read
    assert second.content == first.content
    assert second.headers["content-type"] == first.headers["content-type"]
    assert sorted(prices(second).values()) == ["30000", "40000"]


async def test_a_mutation_here_is_read_back_at_once(
    server: RunningServer,
    http: httpx.AsyncClient,
    graphql: GraphQLClient,
    sessions: Sessions,
    world: World,
) -> None:
    # With the tail stopped (it would usually catch up before the next request anyway),
    # only the commit itself can empty the cache.
    await server.app.state.runtime.tail.stop()
    listing = await create_listing(sessions, world.client, price_minor=30_000)
    listing_id = global_id("Listing", listing.id)
    await board(http, world.buyer_a.token)
    await board(http, world.buyer_a.token)  # kept
    repriced = await graphql(
        REPRICE,
        {"input": {"listingId": listing_id, "price": "275", "expectedVersion": 1}},
        headers=bearer(world.sales.token),
    )
    assert repriced["data"]["repriceListing"]["listing"]["version"] == 2
    before = hits()
    after = await board(http, world.buyer_a.token)  # no wait: the commit emptied the cache
    assert hits() == before
    assert prices(after) == {listing_id: "275"}


async def test_a_change_committed_elsewhere_arrives_with_its_event(
    http: httpx.AsyncClient, sessions: Sessions, world: World
) -> None:
    listing = await create_listing(sessions, world.client, price_minor=30_000)
    listing_id = global_id("Listing", listing.id)
    token = world.buyer_a.token
    await board(http, token)
    # Another process's writes: sessions of their own, so this app hears of them only
    # through its tail. Every change to the domain comes with an event; a row changed
    # without one is not seen until the answer's max age.
    async with sessions.begin() as session:
        await session.execute(
            update(Listing).where(Listing.id == listing.id).values(price_minor=31_000)
        )
    assert prices(await board(http, token)) == {listing_id: "30000"}
    async with sessions.begin() as session:
        await reprice_in_database(session, listing, 32_000)
    async with asyncio.timeout(3):  # the tail polls every second; the max age is 5 s
        while prices(await board(http, token)) != {listing_id: "32000"}:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_a_crowd_asking_at_once_costs_one_execution(
    http: httpx.AsyncClient, sessions: Sessions, world: World
) -> None:
    await create_listing(sessions, world.client)
    before = misses()
    answers = await asyncio.gather(*(board(http, world.buyer_a.token) for _ in range(8)))
    assert misses() - before == 1
    assert len({answer.content for answer in answers}) == 1


async def test_viewers_of_another_scope_get_their_own_answer(
    http: httpx.AsyncClient, sessions: Sessions, world: World
) -> None:
    from app.domain.statuses import ListingStatus

    await create_listing(sessions, world.client)
    await create_listing(sessions, world.client, status=ListingStatus.DRAFT)
    buyer = (await board(http, world.buyer_a.token)).json()["data"]["listings"]
    operator = (await board(http, world.sales.token)).json()["data"]["listings"]
    assert buyer["totalCount"] == 1
    assert operator["totalCount"] == 2
    # Two buyers of one organisation share an answer; the other organisation has its own.
    before = hits()
    await board(http, world.buyer_a.token)
    await board(http, world.buyer_b.token)
    assert hits() - before == 1


async def test_only_error_free_board_queries_are_kept(
    http: httpx.AsyncClient, world: World
) -> None:
    token = world.buyer_a.token
    for query in (
        "{ viewer { __typename } }",  # not a board field
        "{ listings(first: -1) { totalCount } }",  # an error
        "{ listings(first: 1) { totalCount } viewer { __typename } }",  # mixed
    ):
        before = hits()
        await http.post("/graphql", json={"query": query}, headers=bearer(token))
        await http.post("/graphql", json={"query": query}, headers=bearer(token))
        assert hits() == before, query
    before = hits()
    anonymous = await http.post("/graphql", json={"query": BOARD})
    again = await http.post("/graphql", json={"query": BOARD})
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert again.json() == anonymous.json()
    assert hits() == before


@pytest.fixture
async def short_lived(settings: Settings) -> AsyncIterator[RunningServer]:
    app = make_app(settings.model_copy(update={"response_cache_seconds": 0.3}))
    async with serve_app(app) as server:
        yield server


async def test_an_answer_is_kept_no_longer_than_its_max_age(
    short_lived: RunningServer, sessions: Sessions, world: World
) -> None:
    await create_listing(sessions, world.client)
    async with httpx.AsyncClient(base_url=short_lived.url, trust_env=False) as http:
        await board(http, world.buyer_a.token)
        before = hits()
        await board(http, world.buyer_a.token)
        assert hits() - before == 1
        started = time.monotonic()
        await asyncio.sleep(0.4)
        assert time.monotonic() - started >= 0.3
        before = hits()
        await board(http, world.buyer_a.token)
        assert hits() == before


@pytest.mark.parametrize(
    ("body", "cacheable"),
    [
        (b'{"query": "{ listings { totalCount } }"}', True),
        (b'{"query": "query A { listing(id: \\"x\\") { id } }", "operationName": "A"}', True),
        (
            b'{"query": "query A { listings { totalCount } } query B { viewer { id } }", '
            b'"operationName": "B"}',
            False,
        ),
        (b'{"query": "{ ...F } fragment F on Query { listings { totalCount } }"}', False),
        (b'{"query": "mutation { listings }"}', False),
        (b'{"query": "subscription { listingBoard { kind } }"}', False),
        (b'{"query": "{ listings { totalCount } }", "extensions": {}}', False),
        (b'{"query": "{ listings {"}', False),
        (b"[1, 2]", False),
        (b"not json", False),
    ],
)
def test_which_bodies_qualify(body: bytes, cacheable: bool) -> None:
    assert cacheable_body(body) is cacheable


async def test_a_waiter_takes_a_computed_answer_only_if_it_began_after_what_it_saw() -> None:
    cache = ResponseCache(max_age=60, entries=8)
    with cache.computation("board") as computing:
        early = asyncio.create_task(cache.ready("board"))  # arrives before the change
        await asyncio.sleep(0)
        cache.invalidate()  # something changed while the answer was being computed
        late = asyncio.create_task(cache.ready("board"))  # has seen the change
        await asyncio.sleep(0)
        computing.keep(b"page", "application/json")
    answer = await early
    assert answer is not None
    assert answer.body == b"page"
    assert await late is None  # must compute its own
    assert cache.get("board") is None  # begun before the change: not kept either
    with cache.computation("board") as fresh:
        fresh.keep(b"new page", "application/json")
    kept = await cache.ready("board")
    assert kept is not None
    assert kept.body == b"new page"
