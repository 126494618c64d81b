"""The board's answers, kept until the next change: repeated reads cost the HTTP layer only.

Buyers poll the board (``listings``) and open listings (``listing``) far more often than
anything on them changes, and one answer is some 1,100 resolved fields (about 30 ms of CPU).
The view keeps the encoded answer of such a query per

- request body (query, variables and operation name, byte for byte),
- viewer scope (app.resolvers.render_scope: what the types and rules read from the actor),
- response media type,

and serves it again until anything changes. Every change to the domain is an event (the log
is the system's one record of change), so the cache is emptied:

- when this process commits a transaction that appended events (before the mutation answers:
  a client reads its own writes), and
- when the tail hands events to this process's subscribers (changes made by other processes,
  seen with the tail's lag, as live subscribers see them).

An answer is stored only if nothing was emptied while it was computed (``generation``), only
for a 200 without errors, and for at most ``max_age`` seconds whatever happens, so a stalled
tail cannot keep an old page alive. Only queries whose every root field is in
``CACHEABLE_FIELDS`` qualify: fields that read nothing but events-backed domain state and the
viewer's scope.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse

CACHEABLE_FIELDS = frozenset({"listings", "listing", "__typename"})
SHAPES = 512
"""Queries (text and operation name) whose cacheability is remembered."""


@dataclass(frozen=True, slots=True)
class CachedResponse:
    body: bytes
    media_type: str
    generation: int
    until: float


def cacheable_body(body: bytes) -> bool:
    """True for a JSON body whose operation is a query of ``CACHEABLE_FIELDS`` only."""
    operation = operation_of(body)
    return operation is not None and cacheable_operation(*operation)


def operation_of(body: bytes) -> tuple[str, str | None] | None:
    """A request body's query and operation name; None when it is not plainly one query
    about listings (checked on the raw bytes first: most requests are not)."""
    if b"listing" not in body:
        return None
    try:
        request = json.loads(body)
    except ValueError:
        return None
    if not isinstance(request, dict) or set(request) - {"query", "variables", "operationName"}:
        return None
    query, name = request.get("query"), request.get("operationName")
    if not isinstance(query, str) or not (name is None or isinstance(name, str)):
        return None
    return query, name


def cacheable_operation(query: str, name: str | None) -> bool:
    """True when the named (or only) operation of ``query`` reads ``CACHEABLE_FIELDS`` only."""
    try:
        document = parse(query, max_tokens=2000)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != len(document.definitions):
        return False  # fragments: spread fields could be anything
    chosen = [op for op in operations if name is None or (op.name and op.name.value == name)]
    if len(chosen) != 1 or chosen[0].operation is not OperationType.QUERY:
        return False
    selections = chosen[0].selection_set.selections
    return all(
        isinstance(selection, FieldNode) and selection.name.value in CACHEABLE_FIELDS
        for selection in selections
    )


class ResponseCache:
    def __init__(self, *, max_age: float, entries: int) -> None:
        self.max_age = max_age
        self.entries = entries
        self.generation = 0
        """Bumped whenever anything changes; an answer computed across a bump is not kept."""
        self._answers: OrderedDict[Hashable, CachedResponse] = OrderedDict()
        self._shapes: OrderedDict[tuple[str, str | None], bool] = OrderedDict()
        self._computing: dict[Hashable, asyncio.Future[CachedResponse | None]] = {}

    @property
    def enabled(self) -> bool:
        return self.max_age > 0 and self.entries > 0

    def invalidate(self, *_: object) -> None:
        self.generation += 1
        self._answers.clear()

    def qualifies(self, body: bytes) -> bool:
        operation = operation_of(body)
        if operation is None:
            return False
        known = self._shapes.get(operation)  # by query text: variables vary, the shape not
        if known is None:
            known = self._shapes[operation] = cacheable_operation(*operation)
            while len(self._shapes) > SHAPES:
                self._shapes.popitem(last=False)
        return known

    def get(self, key: Hashable) -> CachedResponse | None:
        answer = self._answers.get(key)
        if answer is None:
            return None
        if answer.generation != self.generation or answer.until <= time.monotonic():
            del self._answers[key]
            return None
        return answer

    async def ready(self, key: Hashable) -> CachedResponse | None:
        """The kept answer, or the one another request is computing now (waited for); None
        when the caller must compute it (``computation``).

        One request computes, the others wait: after a change, a crowd of pollers costs one
        execution, not one each. An answer begun before a change the caller had already
        seen (its ``generation`` is the one it began in) is not for the caller; then the first
        of those callers computes anew and the others wait for that."""
        arrived = self.generation
        kept = self.get(key)
        while kept is None and (computing := self._computing.get(key)) is not None:
            shared = await asyncio.shield(computing)
            kept = shared if shared is not None and shared.generation >= arrived else self.get(key)
        return kept

    @contextmanager
    def computation(self, key: Hashable) -> Iterator[Computation]:
        """Compute the answer for ``key``; what is ``keep``-ed is stored (unless something
        changed meanwhile) and handed to the requests that waited for it."""
        computation = Computation(self, key)
        future: asyncio.Future[CachedResponse | None] = asyncio.get_running_loop().create_future()
        self._computing[key] = future
        try:
            yield computation
        finally:
            if self._computing.get(key) is future:
                del self._computing[key]
            future.set_result(computation.answer)

    def put(self, key: Hashable, generation: int, body: bytes, media_type: str) -> CachedResponse:
        answer = CachedResponse(body, media_type, generation, time.monotonic() + self.max_age)
        if generation != self.generation:
            return answer  # something changed while it was computed: not kept
        self._answers[key] = answer
        self._answers.move_to_end(key)
        while len(self._answers) > self.entries:
            self._answers.popitem(last=False)
        return answer


class Computation:
    """One request computing an answer for the cache (``ResponseCache.computation``)."""

    __slots__ = ("answer", "cache", "generation", "key")

    def __init__(self, cache: ResponseCache, key: Hashable) -> None:
        self.cache = cache
        self.key = key
        self.generation = cache.generation
        self.answer: CachedResponse | None = None

    def keep(self, body: bytes, media_type: str) -> None:
        # Kept if nothing changed while it was computed; handed to the requests that waited
        # if nothing had changed when they arrived (its ``generation`` says when it began).
        self.answer = self.cache.put(self.key, self.generation, body, media_type)
