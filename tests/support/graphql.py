"""POST a GraphQL operation and get its JSON back, with the status checked."""

from __future__ import annotations

from typing import Any, Protocol

import httpx

GRAPHQL_RESPONSE = "application/graphql-response+json"


class _HasHeaders(Protocol):
    @property
    def headers(self) -> dict[str, str]: ...


class GraphQLClient:
    """``await graphql(query, variables)`` -> the parsed JSON body (status 200 expected).

    ``graphql.as_(person)`` is the same client sending that person's Authorization header.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        path: str = "/graphql",
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.http = http
        self.path = path
        self.headers = dict(headers or {})

    def as_(self, who: _HasHeaders | str | None) -> GraphQLClient:
        """Act as a person (anything with ``.headers``), a bare token, or nobody (None)."""
        if who is None:
            headers: dict[str, str] = {}
        elif isinstance(who, str):
            headers = {"Authorization": f"Bearer {who}"}
        else:
            headers = who.headers
        return GraphQLClient(self.http, self.path, headers=headers)

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        status: int | None = 200,
        headers: dict[str, str] | None = None,
        operation_name: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        if operation_name is not None:
            body["operationName"] = operation_name
        response = await self.http.post(
            self.path, json=body, headers={**self.headers, **(headers or {})}
        )
        assert status is None or response.status_code == status, (
            f"expected HTTP {status}, got {response.status_code}: {response.text}"
        )
        payload: dict[str, Any] = response.json()
        return payload

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``data`` of a response that must have no errors at all."""
        payload = await self(query, variables)
        assert "errors" not in payload, payload
        data: dict[str, Any] = payload["data"]
        return data
