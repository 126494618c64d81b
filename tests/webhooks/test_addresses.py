"""Private, loopback and link-local targets are refused, at registration and at delivery."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import httpx
import pytest
from sqlalchemy import select

from app.domain.actors import system
from app.models.webhooks import WebhookDelivery
from app.pubsub.cursors import START
from app.services import webhooks as service
from app.services.events import buyer_audience
from app.settings import Settings
from app.webhooks.addresses import (
    AddressRefused,
    check_destination,
    check_literal_host,
    check_url,
    is_refused,
)
from tests.support.graphql import GraphQLClient
from tests.support.server import RunningServer, make_app, serve_app
from tests.support.trade import World
from tests.webhooks.receiver import ReceiverServer, eventually
from tests.webhooks.support import REGISTER, Sessions, as_person, emit


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "100.64.0.1",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
    ],
)
def test_private_addresses_are_refused(address: str) -> None:
    assert is_refused(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert not is_refused(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/", "example.com/hook", "http:///x", "https://user:pw@example.com/", ""],
)
def test_only_plain_http_urls(url: str) -> None:
    with pytest.raises(AddressRefused):
        check_url(url)


async def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    """The machine's own name: no literal address in the URL, the refusal comes from
    resolving it."""
    name = socket.gethostname()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, 80)}
    except OSError:
        pytest.skip(f"{name} does not resolve here")
    if not all(is_refused(ipaddress.ip_address(a.split("%")[0])) for a in addresses):
        pytest.skip(f"{name} resolves to a public address here: {addresses}")
    with pytest.raises(AddressRefused, match="not a public address"):
        await check_destination(f"http://{name}:8080/hook", allow_private=False)
    await check_destination(f"http://{name}:8080/hook", allow_private=True)


@pytest.mark.parametrize(
    "url", ["http://localhost./x", "http://LOCALHOST/x", "http://a.localhost/"]
)
def test_localhost_by_name_is_refused_without_resolving(url: str) -> None:
    with pytest.raises(AddressRefused, match="loopback"):
        check_literal_host(url, allow_private=False)


@pytest.fixture
def strict_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_allow_private": False})


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/hook",
    ],
)
async def test_registration_refuses_private_urls(
    strict_settings: Settings, sessions: Sessions, world: World, url: str
) -> None:
    async with (
        serve_app(make_app(strict_settings)) as running,
        httpx.AsyncClient(base_url=running.url, trust_env=False) as http,
    ):
        buyer = await as_person(GraphQLClient(http), sessions, world.buyer_a)
        data = await buyer.data(REGISTER, {"input": {"url": url}})
    result = data["registerWebhookEndpoint"]
    assert result["__typename"] == "InvalidInputError", result
    assert result["code"] == "INVALID_INPUT"
    assert "public address" in result["message"] or "loopback" in result["message"]


async def test_delivery_refuses_a_private_target(
    strict_settings: Settings, sessions: Sessions, world: World, receiver: ReceiverServer
) -> None:
    """An endpoint whose host resolves to a private address (here stored directly, as if its
    name had pointed elsewhere at registration) never gets a request."""
    created = await service.register_endpoint(
        sessions,
        actor=system("tests"),
        url=receiver.url,
        start=START,
        organization_id=world.buyer_a.organization.id,
        allow_private=True,
    )
    receiver.receiver.secret = created.secret
    async with serve_app(make_app(strict_settings)) as running:
        await emit(sessions, [buyer_audience(world.buyer_a.organization.id)])

        async def last_error() -> str | None:
            async with sessions() as session:
                return await session.scalar(
                    select(WebhookDelivery.last_error).where(
                        WebhookDelivery.endpoint_id == created.endpoint.id,
                        WebhookDelivery.attempts >= 2,
                    )
                )

        for _ in range(200):
            error = await last_error()
            if error is not None:
                break
            await asyncio.sleep(0.05)
        assert running.app.state.webhooks.running
    assert error is not None
    assert error.startswith("Refused: ")
    assert "not a public address" in error
    assert receiver.receiver.requests == []


async def test_the_same_target_is_reached_when_private_targets_are_allowed(
    server: RunningServer, sessions: Sessions, world: World, receiver: ReceiverServer
) -> None:
    """The counterpart of the refusal above: the receiver is reachable at all."""
    created = await service.register_endpoint(
        sessions,
        actor=system("tests"),
        url=receiver.url,
        start=START,
        organization_id=world.buyer_a.organization.id,
        allow_private=True,
    )
    receiver.receiver.secret = created.secret
    await emit(sessions, [buyer_audience(world.buyer_a.organization.id)])
    await eventually(lambda: len(receiver.receiver.events) == 1, what="one delivery")
