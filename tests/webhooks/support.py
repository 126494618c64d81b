"""Helpers for webhook tests: act as someone, write events, register the receiver."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.services.events import append_event
from tests.support.auth import Person, token_for
from tests.support.graphql import GraphQLClient
from tests.webhooks.receiver import ReceiverServer

Sessions = async_sessionmaker[AsyncSession]


async def as_person(graphql: GraphQLClient, sessions: Sessions, person: Person) -> GraphQLClient:
    return graphql.as_(await token_for(sessions, person))


async def emit(
    sessions: Sessions, audiences: list[str], count: int = 1, *, type: str = "test.happened"
) -> list[int]:
    """``count`` events addressed to ``audiences``, one transaction each; their log ids."""
    ids = []
    for number in range(count):
        async with sessions.begin() as session:
            event = append_event(
                session,
                type=type,
                entity_type="Device",
                entity_id=1000 + number,
                entity_version=1,
                changes={"n": number, "audiences": ",".join(audiences)},
                audiences=audiences,
                actor="system:tests",
            )
            await session.flush()
            ids.append(event.id)
    return ids


REGISTER = """
mutation($input: RegisterWebhookEndpointInput!) {
  registerWebhookEndpoint(input: $input) {
    __typename
    ... on WebhookSecretPayload { secret endpoint { id url status version cursor eventTypes } }
    ... on Error { code message }
  }
}"""


async def register(client: GraphQLClient, receiver: ReceiverServer, **fields: Any) -> str:
    """Register the receiver's URL; the receiver learns the secret. Returns the endpoint id."""
    data = await client.data(REGISTER, {"input": {"url": receiver.url, **fields}})
    result = data["registerWebhookEndpoint"]
    assert result["__typename"] == "WebhookSecretPayload", result
    assert result["secret"].startswith("whsec_")
    receiver.receiver.secret = result["secret"]
    endpoint_id: str = result["endpoint"]["id"]
    return endpoint_id
