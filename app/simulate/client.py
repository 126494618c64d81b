"""The simulator's GraphQL client: one mutation or query a call, refusals as ``ActionFailed``."""

from __future__ import annotations

import uuid
from typing import Any

import httpx


class ActionFailed(Exception):
    """The server refused or failed an action; ``code`` is what the report counts."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class GraphQLApi:
    def __init__(self, http: httpx.AsyncClient, path: str = "/graphql") -> None:
        self.http = http
        self.path = path

    async def call(
        self, token: str | None, document: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The one root field's value; typed errors (``code``) and GraphQL errors raise."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = await self.http.post(
                self.path, json={"query": document, "variables": variables or {}}, headers=headers
            )
        except httpx.HTTPError as exc:
            raise ActionFailed("TRANSPORT", f"{type(exc).__name__}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ActionFailed(f"HTTP_{response.status_code}", response.text[:200])
        errors = body.get("errors")
        if errors:
            first = errors[0]
            code = (first.get("extensions") or {}).get("code")
            if code is None:  # a masked unexpected error (200), or a gateway's answer
                code = "INTERNAL" if response.status_code == 200 else f"HTTP_{response.status_code}"
            raise ActionFailed(str(code), str(first.get("message")))
        data = body.get("data") or {}
        [value] = data.values()
        if (
            isinstance(value, dict)
            and "code" in value
            and value.get("__typename", "").endswith("Error")
        ):
            raise ActionFailed(str(value["code"]), str(value.get("message")))
        return value if isinstance(value, dict) else {"value": value}

    async def mutate(self, token: str, document: str, input: dict[str, Any]) -> dict[str, Any]:
        """A business mutation with a fresh idempotency key, as a careful client sends."""
        return await self.call(
            token, document, {"input": {**input, "idempotencyKey": uuid.uuid4().hex}}
        )
