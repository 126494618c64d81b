"""/metrics moves with what happens: requests, mutations by result, events appended, read and
delivered, websockets and subscriptions open, the tail's lag; and only operators may scrape it
in production."""

from __future__ import annotations

import httpx
import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.statuses import OrganizationKind, Role
from app.observability.graphql import MutationObserver
from app.schema.errors import PublicError
from app.settings import Environment, Settings
from tests.observability.support import Samples, scrape
from tests.pubsub.support import eventually, subscribed
from tests.support.auth import sign_in_as
from tests.support.factories import create_organization, make_imei
from tests.support.graphql import GraphQLClient
from tests.support.markers import only
from tests.support.server import RunningServer, make_app, serve_app
from tests.support.ws import GraphQLSocket

Sessions = async_sessionmaker[AsyncSession]

RECEIVE = """
mutation Receive($client: ID!, $imei: String!) {
  receiveDevice(input: {clientId: $client, make: "Apple", model: "iPhone 13", imei: $imei}) {
    __typename
    ... on Error { code }
  }
}
"""
EVENTS = "subscription { events { cursor type } }"


async def test_metrics_move_with_mutations_and_deliveries(
    server: RunningServer, http: httpx.AsyncClient, graphql: GraphQLClient, sessions: Sessions
) -> None:
    warehouse = await sign_in_as(sessions, Role.WAREHOUSE)
    client = await create_organization(sessions, kind=OrganizationKind.CLIENT)
    before = await scrape(http)
    assert before.get_value("devicegraph_websocket_connections") == 0
    assert before.get_value("devicegraph_subscriptions") == 0
    assert before.get_value("devicegraph_tail_up") == 1
    assert before.get_value("devicegraph_broadcast_up") == 1

    async with GraphQLSocket.connect(server.graphql_ws_url, token=warehouse.token) as socket:
        op = await socket.subscribe(EVENTS)
        await subscribed(server.app)
        during = await scrape(http)
        imei = make_imei(424_242)
        variables = {"client": str(client.id), "imei": imei}
        ok = (await graphql.as_(warehouse).data(RECEIVE, variables))["receiveDevice"]
        assert ok["__typename"] == "ReceiveDevicePayload", ok
        event = await socket.next(op)
        assert event["data"]["events"]["type"] == "device.received"
        again = (await graphql.as_(warehouse).data(RECEIVE, variables))["receiveDevice"]
        refused = (await graphql.as_(None).data(RECEIVE, variables))["receiveDevice"]
        tail = server.runtime.tail
        await eventually(lambda: tail.delivered >= 1, what="the tail to read the event")
        after = await scrape(http)

    assert during.get_value("devicegraph_websocket_connections") == 1
    assert during.get_value("devicegraph_subscriptions") == 1
    assert during.get_value("devicegraph_websocket_connections_opened_total") >= 1

    def grew(name: str, by: float = 1, **labels: str) -> None:
        delta = after.total(name, **labels) - before.total(name, **labels)
        assert delta >= by, f"{name}{labels}: {before.total(name, **labels)} -> {delta}"

    grew("devicegraph_mutations_total", mutation="receiveDevice", result="ok")
    assert again["code"] == "DUPLICATE_IMEI", again
    grew("devicegraph_mutations_total", mutation="receiveDevice", result="DUPLICATE_IMEI")
    grew("devicegraph_mutations_total", mutation="receiveDevice", result=refused["code"])
    grew("devicegraph_mutation_duration_seconds_count", 3, mutation="receiveDevice")
    grew("devicegraph_events_appended_total")
    grew("devicegraph_events_read_total")
    grew("devicegraph_events_delivered_total")
    grew("devicegraph_delivery_latency_seconds_count")
    grew("devicegraph_http_requests_total", 3, method="POST", route="/graphql", status="200")
    grew("devicegraph_http_requests_total", 2, method="GET", route="/metrics", status="200")
    assert after.get_value("devicegraph_tail_lag_events") == 0
    assert 0 <= after.get_value("devicegraph_tail_lag_seconds") < 5
    assert 0 <= after.get_value("devicegraph_tail_last_read_age_seconds") < 5

    # The socket is closed: the gauges come back down.
    await eventually(lambda: server.runtime.hub.subscriber_count == 0, what="unsubscribed")
    closed = await scrape(http)
    assert closed.get_value("devicegraph_subscriptions") == 0
    assert closed.get_value("devicegraph_websocket_connections") == 0


@only("sqlite")
async def test_a_rolled_back_mutation_appends_no_event(
    http: httpx.AsyncClient, graphql: GraphQLClient, sessions: Sessions
) -> None:
    warehouse = await sign_in_as(sessions, Role.WAREHOUSE)
    client = await create_organization(sessions, kind=OrganizationKind.CLIENT)
    variables = {"client": str(client.id), "imei": make_imei(434_343)}
    await graphql.as_(warehouse).data(RECEIVE, variables)
    before = await scrape(http)
    refused = (await graphql.as_(warehouse).data(RECEIVE, variables))["receiveDevice"]
    after = await scrape(http)
    assert refused["code"] == "DUPLICATE_IMEI"
    assert after.get_value("devicegraph_events_appended_total") == before.get_value(
        "devicegraph_events_appended_total"
    )


@strawberry.type
class _Query:
    ping: bool = True


@strawberry.type
class _Mutation:
    @strawberry.mutation(extensions=[MutationObserver("refuse")])
    async def refuse(self) -> bool:
        raise PublicError("UNAUTHENTICATED", "Sign in first.")

    @strawberry.mutation(extensions=[MutationObserver("explode")])
    def explode(self) -> bool:
        raise RuntimeError("a bug")


async def test_graphql_errors_are_counted_by_their_code() -> None:
    from app.observability.metrics import REGISTRY

    schema = strawberry.Schema(query=_Query, mutation=_Mutation)

    def count(mutation: str, result: str) -> float:
        value = REGISTRY.get_sample_value(
            "devicegraph_mutations_total", {"mutation": mutation, "result": result}
        )
        return value or 0.0

    refused, exploded = count("refuse", "UNAUTHENTICATED"), count("explode", "INTERNAL")
    result = await schema.execute("mutation { refuse }")
    assert result.errors
    assert result.errors[0].extensions == {"code": "UNAUTHENTICATED"}
    result = await schema.execute("mutation { explode }")
    assert result.errors
    assert count("refuse", "UNAUTHENTICATED") == refused + 1
    assert count("explode", "INTERNAL") == exploded + 1


@only("sqlite")
@pytest.mark.parametrize(
    ("environment", "token", "headers", "status"),
    [
        (Environment.DEVELOPMENT, None, {}, 200),
        (Environment.PRODUCTION, None, {}, 404),
        (Environment.PRODUCTION, "scrape-secret", {}, 401),
        (Environment.PRODUCTION, "scrape-secret", {"Authorization": "Bearer wrong"}, 401),
        (Environment.PRODUCTION, "scrape-secret", {"Authorization": "Bearer scrape-secret"}, 200),
    ],
    ids=["dev-open", "prod-no-token", "prod-missing", "prod-wrong", "prod-right"],
)
async def test_who_may_scrape(
    settings: Settings,
    environment: Environment,
    token: str | None,
    headers: dict[str, str],
    status: int,
) -> None:
    app = make_app(settings.model_copy(update={"environment": environment, "metrics_token": token}))
    async with (
        serve_app(app) as server,
        httpx.AsyncClient(base_url=server.url, trust_env=False) as http,
    ):
        response = await http.get("/metrics", headers=headers)
    assert response.status_code == status, response.text
    if status == 200:
        assert "devicegraph_subscriptions" in response.text
    else:
        assert "devicegraph_" not in response.text


@only("sqlite")
async def test_metrics_can_be_switched_off(settings: Settings) -> None:
    app = make_app(settings.model_copy(update={"metrics_enabled": False}))
    async with (
        serve_app(app) as server,
        httpx.AsyncClient(base_url=server.url, trust_env=False) as http,
    ):
        assert (await http.get("/metrics")).status_code == 404


@only("sqlite")
async def test_two_apps_in_one_process_report_their_own_state(
    settings: Settings, server: RunningServer, http: httpx.AsyncClient, sessions: Sessions
) -> None:
    person = await sign_in_as(sessions, Role.ADMIN)
    other_app = make_app(settings)
    async with (
        serve_app(other_app) as other,
        httpx.AsyncClient(base_url=other.url, trust_env=False) as other_http,
        GraphQLSocket.connect(server.graphql_ws_url, token=person.token) as socket,
    ):
        await socket.subscribe(EVENTS)
        await subscribed(server.app)
        mine: Samples = await scrape(http)
        theirs: Samples = await scrape(other_http)
    assert mine.get_value("devicegraph_subscriptions") == 1
    assert theirs.get_value("devicegraph_subscriptions") == 0
