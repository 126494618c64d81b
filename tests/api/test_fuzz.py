"""Property test: random valid and invalid operations never break the server or leak text.

hypothesis-graphql generates operations from the schema: valid queries and mutations (as an
admin and as a buyer), invalid ones (its negative mode), and the test adds documents with
random damage, random bodies and variables of the wrong type. Each goes over HTTP to one real
server (SQLite, keep-alive). For every answer:

- no 5xx;
- every error is either a request error in GraphQL's words (parse, validation, variables),
  a refusal or limit with its ``extensions.code``, or "Unexpected error.": no Python
  exception text, no traceback, no file path, no database message;

and afterwards the server is healthy (/healthz, a normal query). The number of operations
sent is printed. Examples are derandomized (the same every run) unless
DEVICEGRAPH_FUZZ_RANDOM=1; DEVICEGRAPH_FUZZ_SCALE multiplies the number of examples.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import hypothesis_graphql as hg
import pytest
from graphql import build_schema, print_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes

from tests.auth.world import Stack, serve_world, sqlite_copy
from tests.support.server import import_schema

SCALE = float(os.environ.get("DEVICEGRAPH_FUZZ_SCALE", "1"))
FUZZ = settings(
    deadline=None,
    database=None,
    derandomize=os.environ.get("DEVICEGRAPH_FUZZ_RANDOM") != "1",
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
CALLERS = ("admin", "buyer")
SENT: Counter[str] = Counter()

SCHEMA = import_schema()._schema
MUTATIONS = sorted(name for name in SCHEMA.mutation_type.fields if name != "signOut")
# signOut would end the caller's own session: every later example would be anonymous.
MUTATION_SCHEMA = build_schema(
    re.sub(r"(union \w+Result = )\w+Payload \| ", r"\1", print_schema(SCHEMA))
)
"""The schema with each mutation's payload left out of its result union: mutations are
generated for their arguments, and selecting only the error types is what makes generating
them cheap. Every document valid against it is valid against the real schema."""

SCALARS = {
    "MinorUnits": st.one_of(
        st.integers(min_value=0, max_value=10**15).map(str), st.text(max_size=20)
    ).map(nodes.String),
    "Date": st.one_of(st.dates().map(lambda d: d.isoformat()), st.text(max_size=12)).map(
        nodes.String
    ),
    "DateTime": st.one_of(st.datetimes().map(lambda d: d.isoformat()), st.text(max_size=25)).map(
        nodes.String
    ),
    "JSON": st.just(nodes.String("{}")),
}

# Python's and the databases' words; GraphQL's own messages never use them.
_LEAK = re.compile(
    r"Traceback|File \"|\.py\b|/work/|site-packages|object has no attribute|NoneType|"
    r"not subscriptable|unhashable|takes \d+ positional|unexpected keyword|"
    r"\b(Key|Type|Value|Attribute|Index|Runtime|Assertion|Name|Lookup|Zero\w*|Integrity|"
    r"Operational|Programming|Data|Internal|NotImplemented|Recursion|Overflow|Unicode\w*)"
    r"Error\b|Exception\b|sqlalchemy|asyncpg|sqlite|psycopg|SELECT |INSERT |UPDATE |"
    r"strawberry\.|app\.\w+\.",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")


def leaked(message: str) -> bool:
    """True for text that is not a GraphQL message: an exception's words, or a bare repr."""
    if re.fullmatch(r"\s*'[^']*'\s*", message):  # str(KeyError('x'))
        return True
    return bool(_LEAK.search(_QUOTED.sub("''", message)))


def check_answer(response: Any, what: str) -> None:
    assert response.status_code < 500, (what, response.status_code, response.text)
    try:
        body = response.json()
    except ValueError:
        pytest.fail(f"not JSON ({response.status_code}): {what!r}: {response.text[:300]!r}")
    assert isinstance(body, dict), (what, body)
    for error in body.get("errors") or []:
        message = error.get("message", "")
        code = (error.get("extensions") or {}).get("code")
        assert message, (what, error)
        assert not leaked(message), (what, error)
        if error.get("path") is not None and message != "Unexpected error.":
            # A field's error is ours (a refusal, a bad argument), with its code.
            assert code, (what, error)
            assert code != "GRAPHQL_VALIDATION_FAILED", (what, error)
        if response.status_code != 200 or error.get("path") is None:
            assert code, (what, error)


async def send(stack: Stack, who: str, body: Any, kind: str, *, raw: bool = False) -> None:
    caller = stack.world.callers[who]
    headers = {**caller.headers, "content-type": "application/json"}
    content = body if raw else json.dumps(body)
    response = await stack.http.post("/graphql", content=content, headers=headers)
    SENT[kind] += 1
    check_answer(response, content if isinstance(content, str) else repr(content[:200]))


def _document(value: object) -> str:
    return value if isinstance(value, str) else str(value)


@pytest.fixture(scope="module")
async def stack(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    url = sqlite_copy(sqlite_template, tmp_path_factory.mktemp("fuzz"))
    # strawberry logs every error with its traceback: thousands of them only slow this down.
    execution_log = logging.getLogger("strawberry.execution")
    execution_log.disabled = True
    try:
        async with serve_world(url) as running:
            yield running
            # The server is healthy after everything, and says how much it took.
            assert (await running.http.get("/healthz")).status_code == 200
            body = await running.post("{ viewer { user { id } } }", who="admin")
            assert body["data"]["viewer"]["user"] is not None
            print(f"\nfuzz: {sum(SENT.values())} operations sent: {dict(SENT)}")
    finally:
        execution_log.disabled = False


def examples(count: int) -> settings:
    return settings(FUZZ, max_examples=max(1, int(count * SCALE)))


@examples(500)
@given(
    query=hg.queries(SCHEMA, custom_scalars=SCALARS, allow_x00=False),
    who=st.sampled_from(CALLERS),
)
async def test_valid_queries(stack: Stack, query: object, who: str) -> None:
    await send(stack, who, {"query": _document(query)}, "valid query")


def one_mutation(name: str) -> st.SearchStrategy[object]:
    return hg.mutations(MUTATION_SCHEMA, fields=[name], custom_scalars=SCALARS, allow_x00=False)


ONE_MUTATION = {name: one_mutation(name) for name in MUTATIONS}


@examples(500)
@given(
    mutation=st.sampled_from(MUTATIONS).flatmap(ONE_MUTATION.__getitem__),
    who=st.sampled_from(CALLERS),
)
async def test_valid_mutations(stack: Stack, mutation: object, who: str) -> None:
    await send(stack, who, {"query": _document(mutation)}, "valid mutation")


@examples(400)
@given(
    operation=st.one_of(
        hg.queries(SCHEMA, custom_scalars=SCALARS, mode=hg.Mode.NEGATIVE),
        hg.mutations(
            MUTATION_SCHEMA, fields=MUTATIONS, custom_scalars=SCALARS, mode=hg.Mode.NEGATIVE
        ),
    ),
    who=st.sampled_from(CALLERS),
)
async def test_invalid_operations(stack: Stack, operation: object, who: str) -> None:
    await send(stack, who, {"query": _document(operation)}, "invalid operation")


POOL = [
    "query Page($first: Int, $after: String) {\n  devices(first: $first, after: $after, "
    'filter: {status: [GRADED], make: "Apple"}, sort: NEWEST) {\n    totalCount\n    '
    "pageInfo { hasNextPage endCursor }\n    edges { cursor node { ...D } }\n  }\n}\n"
    "fragment D on Device { id imei serial make model status client { id name } "
    "lot { id reference } currentGrade { cosmetic functionalPass batteryHealthPct } }",
    "{ listings(first: 3, sort: PRICE_ASC) { edges { node { id price { amount currency } "
    "device { make model currentGrade { cosmetic } } offers { id amount { amount } } } } } }",
    'mutation { makeOffer(input: {listingId: "TGlzdGluZzox", amount: "100"}) '
    "{ __typename ... on Error { code message } ... on OfferPayload { offer { id } } } }",
    '{ a: viewer { user { id name } } b: node(id: "RGV2aWNlOjE=") { id ... on Device '
    "{ imei } } events(first: 2) { edges { cursor node { type changes } } } }",
]


@st.composite
def damaged(draw: st.DrawFn) -> str:
    """A valid document with a few characters cut, repeated or replaced."""
    text = list(draw(st.sampled_from(POOL + WITH_VARIABLES)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if not text:
            break
        at = draw(st.integers(min_value=0, max_value=len(text) - 1))
        match draw(st.sampled_from(("cut", "repeat", "replace"))):
            case "cut":
                del text[at : at + draw(st.integers(min_value=1, max_value=8))]
            case "repeat":
                text[at:at] = text[at : at + draw(st.integers(min_value=1, max_value=30))]
            case _:
                text[at] = draw(st.sampled_from('{}()[]:$@!"#.,=| \n\\') | st.characters())
    return "".join(text)


@examples(700)
@given(document=damaged(), who=st.sampled_from(CALLERS))
async def test_damaged_documents(stack: Stack, document: str, who: str) -> None:
    await send(stack, who, {"query": document}, "damaged document")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
WITH_VARIABLES = [
    "query($id: ID!) { device(id: $id) { id imei client { name } } }",
    "query($id: ID!) { node(id: $id) { id } }",
    "query($first: Int, $after: String) { listings(first: $first, after: $after) { totalCount } }",
    "query($f: DeviceFilter) { devices(filter: $f) { totalCount } }",
    "query($after: String, $types: [String!]) "
    "{ events(after: $after, types: $types) { edges { cursor } } }",
    "mutation($input: MakeOfferInput!) { makeOffer(input: $input) { __typename } }",
    "mutation($input: BuyListingsInput!) { buyListings(input: $input) { __typename } }",
    "mutation($input: ReceiveLotInput!) { receiveLot(input: $input) { __typename } }",
    "mutation($input: GenerateSettlementInput!) "
    "{ generateSettlement(input: $input) { __typename } }",
    "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename } }",
]


@examples(700)
@given(
    body=st.one_of(
        st.fixed_dictionaries(
            {"query": st.sampled_from(WITH_VARIABLES)},
            optional={
                "variables": JSON_VALUES,
                "operationName": JSON_VALUES,
                "extensions": JSON_VALUES,
            },
        ),
        st.fixed_dictionaries(
            {
                "query": st.sampled_from(WITH_VARIABLES),
                "variables": st.dictionaries(
                    st.sampled_from(("id", "first", "after", "f", "types", "input")),
                    JSON_VALUES,
                    max_size=3,
                ),
            }
        ),
        JSON_VALUES,
    ),
    who=st.sampled_from(CALLERS),
)
async def test_wrong_bodies_and_variables(stack: Stack, body: object, who: str) -> None:
    await send(stack, who, body, "wrong body or variables")


@examples(600)
@given(raw=st.binary(max_size=300), who=st.sampled_from(CALLERS))
async def test_random_bytes(stack: Stack, raw: bytes, who: str) -> None:
    await send(stack, who, raw, "random bytes", raw=True)


def test_the_documents_it_damages_are_valid_to_begin_with() -> None:
    from graphql import parse, validate

    for document in POOL + WITH_VARIABLES:
        assert validate(SCHEMA, parse(document)) == [], document
    result = MUTATION_SCHEMA.get_type("BuyListingsResult")
    assert "BuyListingsPayload" not in {member.name for member in result.types}  # type: ignore[union-attr]
    assert "ForbiddenError" in {member.name for member in result.types}  # type: ignore[union-attr]


@examples(400)
@given(
    params=st.dictionaries(
        st.sampled_from(("query", "variables", "operationName", "extensions")),
        st.one_of(st.text(max_size=60), st.sampled_from(POOL + WITH_VARIABLES)),
    ),
    who=st.sampled_from(CALLERS),
)
async def test_random_get_requests(stack: Stack, params: dict[str, str], who: str) -> None:
    headers = stack.world.callers[who].headers
    response = await stack.http.get("/graphql", params=params, headers=headers)
    SENT["GET"] += 1
    if response.is_redirect:  # no query: development sends browsers to GraphiQL
        assert response.headers["location"].startswith("/graphiql"), response.headers
        return
    check_answer(response, repr(params))
