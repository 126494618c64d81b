"""Two app servers on one PostgreSQL database, with the postgres and with the Redis broadcast: a
change made through one reaches a domain subscriber of the other.

The tails poll only every 30 s here, so an update that arrives within two seconds came by the
broadcast's wake-up hint.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.settings import Settings
from tests.pubsub.support import (
    SHARED_BACKENDS,
    backend_id,
    broadcast_url_for,
    database_url_for,
    subscribed,
)
from tests.pubsub.test_domain_subscriptions import BOARD, Tokens, listing_gid
from tests.support.auth import token_for
from tests.support.graphql import GraphQLClient
from tests.support.server import RunningServer, make_app, serve_app
from tests.support.trade import create_listing, create_world
from tests.support.ws import GraphQLSocket

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture(params=SHARED_BACKENDS, ids=backend_id)
def backend(request: pytest.FixtureRequest) -> tuple[str, str]:
    value: tuple[str, str] = request.param
    return value


@pytest.fixture
def database_url(backend: tuple[str, str], request: pytest.FixtureRequest) -> str:
    return database_url_for(request, backend[0])


@pytest.fixture
async def settings(backend: tuple[str, str], database_url: str) -> Settings:
    broadcast_url = await broadcast_url_for(backend[1], database_url)
    return Settings(database_url=database_url, broadcast_url=broadcast_url).model_copy(
        update={"event_poll_interval": 30.0}
    )


@pytest.fixture
async def two_servers(settings: Settings) -> AsyncIterator[tuple[RunningServer, RunningServer]]:
    async with serve_app(make_app(settings)) as one, serve_app(make_app(settings)) as two:
        yield one, two


async def test_a_sale_through_one_server_leaves_the_board_on_the_other(
    two_servers: tuple[RunningServer, RunningServer], sessions: Sessions
) -> None:
    one, two = two_servers
    world = await create_world(sessions)
    listing = await create_listing(sessions, world.client)
    watcher, seller = (
        await token_for(sessions, world.buyer_a),
        await token_for(sessions, world.buyer_b),
    )
    async with (
        GraphQLSocket.connect(one.graphql_ws_url, token=watcher) as socket,
        httpx.AsyncClient(base_url=two.url, trust_env=False) as http,
    ):
        op = await socket.subscribe(BOARD, {})
        [snapshot] = await socket.take(op, 1)
        await subscribed(one.app)
        api = Tokens(GraphQLClient(http), {"buyer_b": seller})
        await api.mutate("buyer_b", "buyListings", "BuyListingsInput", {"listingIds": [listing.id]})
        [removed] = await socket.take(op, 1, wait=2)

    assert [item["id"] for item in snapshot["listings"]] == [listing_gid(listing.id)]
    assert (removed["kind"], removed["removedIds"]) == ("REMOVED", [listing_gid(listing.id)])
