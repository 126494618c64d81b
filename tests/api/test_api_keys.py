"""API keys and sign-out over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.relay import GlobalID

from app.domain.statuses import OrganizationKind, Role
from app.models import ApiKey, Device, Event, Offer, Organization
from tests.support.auth import PASSWORD, create_person
from tests.support.factories import create_buyer, create_client, create_organization
from tests.support.graphql import GraphQLClient
from tests.support.trade import create_device, create_listing

Sessions = async_sessionmaker[AsyncSession]

ERROR = "... on Error { code message }"
CREATE = f"""
mutation($input: CreateApiKeyInput!) {{
  createApiKey(input: $input) {{
    __typename {ERROR}
    ... on CreateApiKeyPayload {{
      secret
      apiKey {{ id name prefix scopes createdAt lastUsedAt revokedAt organization {{ id }} }}
    }}
  }}
}}
"""
REVOKE = f"""
mutation($id: ID!) {{
  revokeApiKey(input: {{id: $id}}) {{
    __typename {ERROR} ... on RevokeApiKeyPayload {{ apiKey {{ id revokedAt }} }}
  }}
}}
"""
KEYS = """
query($org: ID, $revoked: Boolean! = false) {
  apiKeys(organizationId: $org, includeRevoked: $revoked) {
    totalCount edges { node { id name prefix scopes lastUsedAt revokedAt } }
  }
}
"""
VIEWER = """
{ viewer { user { id } organization { id kind } apiKey { id name scopes } } }
"""
MAKE_OFFER = f"""
mutation($listing: ID!) {{
  makeOffer(input: {{listingId: $listing, amount: "100"}}) {{
    __typename {ERROR} ... on OfferPayload {{ offer {{ id }} }}
  }}
}}
"""
DEVICES = "{ devices { totalCount edges { node { id } } } }"
RECEIVE = f"""
mutation($client: ID!) {{
  receiveDevice(input: {{clientId: $client, make: "Apple", model: "X", serial: "KEY-0001"}}) {{
    __typename {ERROR}
  }}
}}
"""


def gid(type_name: str, row_id: int) -> str:
    return str(GlobalID(type_name, str(row_id)))


async def admin_client(graphql: GraphQLClient, sessions: Sessions) -> GraphQLClient:
    operator = await create_organization(sessions, kind=OrganizationKind.OPERATOR)
    return graphql.as_(await create_person(sessions, operator, Role.ADMIN))


async def make_key(
    admin: GraphQLClient, organization: Organization, *scopes: str, name: str = "partner"
) -> dict[str, Any]:
    data = await admin.data(
        CREATE,
        {
            "input": {
                "organizationId": gid("Organization", organization.id),
                "name": name,
                "scopes": list(scopes),
            }
        },
    )
    payload: dict[str, Any] = data["createApiKey"]
    assert payload["__typename"] == "CreateApiKeyPayload", payload
    return payload


async def count(sessions: Sessions, model: type[Any]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_secret_is_shown_once_and_never_listed(
    graphql: GraphQLClient, sessions: Sessions
) -> None:
    admin = await admin_client(graphql, sessions)
    client = await create_client(sessions)
    created = await make_key(admin, client, "READ", "SUBSCRIBE", name="ERP")
    secret = created["secret"]
    key = created["apiKey"]
    assert secret.startswith(f"dgk_{key['prefix']}_")
    assert key["scopes"] == ["READ", "SUBSCRIBE"]
    assert key["organization"] == {"id": gid("Organization", client.id)}
    assert (key["lastUsedAt"], key["revokedAt"]) == (None, None)

    response = await admin.http.post(
        "/graphql", json={"query": KEYS, "variables": {}}, headers=admin.headers
    )
    assert secret not in response.text
    assert secret.removeprefix(f"dgk_{key['prefix']}_") not in response.text
    listed = response.json()["data"]["apiKeys"]
    assert listed["totalCount"] == 1
    assert listed["edges"][0]["node"]["prefix"] == key["prefix"]
    fields = (await admin.data('{ __type(name: "ApiKey") { fields { name } } }'))["__type"]
    assert not {f["name"] for f in fields["fields"]} & {"secret", "secretHash", "hash"}

    # The client's own people see the key; other organisations' people do not.
    client_user = graphql.as_(await create_person(sessions, client, Role.VIEWER))
    assert (await client_user.data(KEYS))["apiKeys"]["totalCount"] == 1
    stranger = graphql.as_(await create_person(sessions, await create_buyer(sessions), Role.BUYER))
    assert (await stranger.data(KEYS))["apiKeys"]["totalCount"] == 0


async def test_only_admins_create_keys(graphql: GraphQLClient, sessions: Sessions) -> None:
    operator = await create_organization(sessions, kind=OrganizationKind.OPERATOR)
    client = await create_client(sessions)
    variables = {
        "input": {"organizationId": gid("Organization", client.id), "name": "k", "scopes": ["READ"]}
    }
    before = (await count(sessions, ApiKey), await count(sessions, Event))
    for who, code in (
        (await create_person(sessions, operator, Role.SALES), "FORBIDDEN"),
        (await create_person(sessions, client, Role.VIEWER), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ):
        result = (await graphql.as_(who).data(CREATE, variables))["createApiKey"]
        assert (result["__typename"], result["code"]) == ("ForbiddenError", code)
    assert (await count(sessions, ApiKey), await count(sessions, Event)) == before


async def test_a_key_acts_as_its_organisation_within_its_scopes(
    graphql: GraphQLClient, sessions: Sessions
) -> None:
    admin = await admin_client(graphql, sessions)
    client = await create_client(sessions)
    buyer = await create_buyer(sessions)
    listing = await create_listing(sessions, client)
    reader = graphql.as_((await make_key(admin, buyer, "READ"))["secret"])
    writer_key = await make_key(admin, buyer, "READ", "WRITE")
    writer = graphql.as_(writer_key["secret"])

    viewer = (await reader.data(VIEWER))["viewer"]
    assert viewer["user"] is None
    assert viewer["organization"] == {"id": gid("Organization", buyer.id), "kind": "BUYER"}
    assert viewer["apiKey"]["scopes"] == ["READ"]
    board = await reader.data("{ listings { totalCount } }")
    assert board["listings"]["totalCount"] == 1

    # READ cannot write: refused as a mutation result, and nothing is written.
    before = (await count(sessions, Offer), await count(sessions, Event))
    refused = (await reader.data(MAKE_OFFER, {"listing": gid("Listing", listing.id)}))["makeOffer"]
    assert (refused["__typename"], refused["code"]) == ("ForbiddenError", "FORBIDDEN")
    assert "WRITE" in refused["message"]
    assert (await count(sessions, Offer), await count(sessions, Event)) == before

    # WRITE: the buyer's key makes the offer, and the log names the key.
    made = (await writer.data(MAKE_OFFER, {"listing": gid("Listing", listing.id)}))["makeOffer"]
    assert made["__typename"] == "OfferPayload", made
    async with sessions() as session:
        actors = (
            await session.scalars(select(Event.actor).where(Event.type == "offer.made"))
        ).all()
    assert actors == [f"apikey:{writer_key['apiKey']['id']}"]

    # A buyer's key sees no warehouse data, like its people.
    payload = await writer(DEVICES)
    assert payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_client_and_operator_keys(graphql: GraphQLClient, sessions: Sessions) -> None:
    admin = await admin_client(graphql, sessions)
    client = await create_client(sessions)
    other = await create_client(sessions)
    mine = await create_device(sessions, client)
    await create_device(sessions, other)
    client_key = graphql.as_((await make_key(admin, client, "READ", "WRITE"))["secret"])
    operator = await create_organization(sessions, kind=OrganizationKind.OPERATOR)
    operator_key = graphql.as_((await make_key(admin, operator, "READ", "WRITE"))["secret"])

    page = (await client_key.data(DEVICES))["devices"]
    assert [edge["node"]["id"] for edge in page["edges"]] == [gid("Device", mine.id)]
    refused = (await client_key.data(RECEIVE, {"client": str(client.id)}))["receiveDevice"]
    assert (refused["__typename"], refused["code"]) == ("ForbiddenError", "FORBIDDEN")

    assert (await operator_key.data(DEVICES))["devices"]["totalCount"] == 2
    before = await count(sessions, Device)
    received = (await operator_key.data(RECEIVE, {"client": str(client.id)}))["receiveDevice"]
    assert received["__typename"] == "ReceiveDevicePayload", received
    assert await count(sessions, Device) == before + 1
    # Keys do not manage keys, not even the operator's.
    variables = {"input": {"organizationId": str(client.id), "name": "k", "scopes": ["READ"]}}
    refused = (await operator_key.data(CREATE, variables))["createApiKey"]
    assert (refused["__typename"], refused["code"]) == ("ForbiddenError", "FORBIDDEN")
    errors = (await operator_key(KEYS))["errors"]
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_revoked_key_is_refused_at_its_next_request(
    graphql: GraphQLClient, sessions: Sessions
) -> None:
    admin = await admin_client(graphql, sessions)
    client = await create_client(sessions)
    created = await make_key(admin, client, "READ")
    key = graphql.as_(created["secret"])
    assert (await key.data(DEVICES))["devices"]["totalCount"] == 0

    revoked = (await admin.data(REVOKE, {"id": created["apiKey"]["id"]}))["revokeApiKey"]
    assert revoked["apiKey"]["revokedAt"] is not None
    payload = await key(DEVICES)
    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await key.data(VIEWER))["viewer"] == {
        "user": None,
        "organization": None,
        "apiKey": None,
    }
    # Gone from the list unless asked for; revoking twice is harmless.
    assert (await admin.data(KEYS))["apiKeys"]["totalCount"] == 0
    assert (await admin.data(KEYS, {"revoked": True}))["apiKeys"]["totalCount"] == 1
    again = (await admin.data(REVOKE, {"id": created["apiKey"]["id"]}))["revokeApiKey"]
    assert again["apiKey"]["revokedAt"] == revoked["apiKey"]["revokedAt"]
    missing = (await admin.data(REVOKE, {"id": "999999"}))["revokeApiKey"]
    assert (missing["__typename"], missing["code"]) == ("NotFoundError", "NOT_FOUND")


async def test_last_use_is_recorded(graphql: GraphQLClient, sessions: Sessions) -> None:
    admin = await admin_client(graphql, sessions)
    client = await create_client(sessions)
    created = await make_key(admin, client, "READ")
    assert (await admin.data(KEYS))["apiKeys"]["edges"][0]["node"]["lastUsedAt"] is None
    await graphql.as_(created["secret"]).data(DEVICES)
    used = (await admin.data(KEYS))["apiKeys"]["edges"][0]["node"]["lastUsedAt"]
    assert used is not None
    await graphql.as_(created["secret"]).data(DEVICES)
    assert (await admin.data(KEYS))["apiKeys"]["edges"][0]["node"]["lastUsedAt"] == used


async def test_sign_out_makes_the_token_unusable(
    graphql: GraphQLClient, sessions: Sessions
) -> None:
    operator = await create_organization(sessions, kind=OrganizationKind.OPERATOR)
    person = await create_person(sessions, operator, Role.WAREHOUSE)
    signed_in = (
        await graphql.as_(None).data(
            "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) {"
            " __typename ... on SignInPayload { token } } }",
            {"e": person.email, "p": PASSWORD},
        )
    )["signIn"]
    token = signed_in["token"]
    me = graphql.as_(token)
    assert (await me.data(VIEWER))["viewer"]["user"] == {"id": str(person.user.id)}
    assert (await me.data(DEVICES))["devices"]["totalCount"] == 0

    assert (await me.data("mutation { signOut }"))["signOut"] is True
    assert (await me.data(VIEWER))["viewer"]["user"] is None
    payload = await me(DEVICES)
    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    refused = (await me.data(RECEIVE, {"client": "1"}))["receiveDevice"]
    assert (refused["__typename"], refused["code"]) == ("ForbiddenError", "UNAUTHENTICATED")
    assert (await me.data("mutation { signOut }"))["signOut"] is False
    # The person's other session is untouched.
    assert (await graphql.as_(person).data(DEVICES))["devices"]["totalCount"] == 0
