"""Render once per group: subscribers that would get the same message share one rendering.

graphql-core executes a subscription's selection set once for every value its resolver
yields, for every subscriber: a thousand subscribers of one event cost a thousand executions
and a thousand JSON encodings of the same payload. Here, subscriptions that share

- the operation document and the operation's name,
- the coerced variables, and
- the viewer's rendering *scope* (what the actor may see; the app's ``scope_of`` says),

form a *group*. A value that carries an attribute ``render_key`` (hashable; see ``keyed``) is
rendered once per group and key, and every member sends that rendering; the view encodes its
payload once and builds each member's frame by concatenation (``shared_frame``): only the
operation id differs. A value without ``render_key`` (a snapshot built for one subscriber) is
rendered for that subscriber alone, as before.

Every rendering is a fresh graphql-core execution, with the value as the root of the
subscription field. graphql-core's own per-event executors share one memo of collected
subfields keyed on lists that are rebuilt for every event, so it grows by an entry per event
per subscription and never shrinks; a fresh executor per rendering lets it go with the
rendering.

Memory is bounded: a group keeps its last ``renderings`` renderings (oldest first out) and is
dropped when its last member leaves.

The hook is the executor class strawberry builds for every operation
(``Schema(execution_context_class=groups.executor_class)``): queries and mutations run
unchanged, and the subscription's source stream (the resolver, its permission guard and its
errors) is untouched; only the mapping of each yielded value to a result goes through here.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Hashable
from contextvars import ContextVar
from copy import copy
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias, TypeVar

from graphql import ExecutionResult, OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

T = TypeVar("T")

DEFAULT_RENDERINGS = 64

Slot: TypeAlias = "ExecutionResult | asyncio.Future[ExecutionResult]"
"""A group's rendering of one key: done, or still being executed."""


_member: ContextVar[GroupRenderingExecutor | None] = ContextVar(
    "devicegraph_render_member", default=None
)


def current_member() -> GroupRenderingExecutor | None:
    """The executor of the grouped subscription whose values the current task delivers
    (each websocket operation runs in a task of its own), or None."""
    return _member.get()


def keyed(value: T, key: Hashable, *, any_viewer: bool = False) -> T:
    """Mark a value a subscription yields as the same rendering as any other with ``key``.

    Within a group, values with equal keys must render equally: put into the key whatever
    the value's rendering depends on beyond the group (the record it shows, a per-viewer flag).

    ``any_viewer``: no field of the value's type reads the viewer (plain data, like an
    event), so one rendering serves every group of the same operation and variables, whatever
    their scope. The key must then also tell apart values of different apps.
    """
    target: Any = value
    target.render_key = key
    if any_viewer:
        target.render_any_viewer = True
    return value


def render_key_of(value: object) -> Hashable | None:
    key: Hashable | None = getattr(value, "render_key", None)
    return key


class RenderedData(dict[str, Any]):
    """The ``data`` of a rendering a group shares, with its encoded ``{"data": ...}`` payload.

    Strawberry passes this dict through to the protocol message unchanged, which is how the
    view recognises a shared rendering (``shared_frame``).
    """

    __slots__ = ("payload",)

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.payload: str | None = None


def shared_frame(message: object, encode: Callable[[object], str | bytes]) -> str | None:
    """The wire form of a ``next`` (or legacy ``data``) message whose payload is exactly one
    shared rendering: the payload is encoded once, each frame is ``id`` and ``type`` around it.
    None for any other message (errors or extensions in the payload included)."""
    if type(message) is not dict or len(message) != 3:
        return None
    payload = message.get("payload")
    if type(payload) is not dict or len(payload) != 1:
        return None
    data = payload.get("data")
    if type(data) is not RenderedData:
        return None
    encoded = data.payload
    if encoded is None:
        whole = encode({"data": data})
        if not isinstance(whole, str):
            return None
        data.payload = encoded = whole
    head = encode({"id": message.get("id"), "type": message.get("type")})
    if not isinstance(head, str):
        return None
    return f'{head[:-1]},"payload":{encoded}}}'


@dataclass(frozen=True, slots=True)
class GroupScope:
    """What a viewer's renderings depend on (``key``), and how many a group keeps."""

    key: Hashable
    renderings: int = DEFAULT_RENDERINGS


class RenderGroup:
    __slots__ = ("any_viewer", "capacity", "key", "members", "renderings")

    def __init__(self, key: Hashable, capacity: int, any_viewer: RenderGroup | None = None) -> None:
        self.key = key
        self.any_viewer = any_viewer
        """Renderings of ``any_viewer`` values, shared by the groups of the same operation and
        variables whatever their scope (its ``members`` counts those groups)."""
        self.capacity = max(1, capacity)
        self.members = 0
        self.renderings: OrderedDict[Hashable, Slot] = OrderedDict()

    def store(self, key: Hashable, value: Slot) -> None:
        self.renderings[key] = value
        while len(self.renderings) > self.capacity:
            self.renderings.popitem(last=False)

    def discard(self, key: Hashable, value: object) -> None:
        if self.renderings.get(key) is value:
            del self.renderings[key]


class RenderGroups:
    """The groups of one schema, with counters (``renderings``, ``shared``) for tests and
    metrics. ``scope_of(context)`` gives a subscriber's scope, or None to render for it alone
    (grouping turned off)."""

    def __init__(self, scope_of: Callable[[Any], GroupScope | None]) -> None:
        self.scope_of = scope_of
        self.groups: dict[Hashable, RenderGroup] = {}
        self.any_viewer: dict[Hashable, RenderGroup] = {}
        """Per operation and variables: the renderings its groups share across scopes."""
        self.renderings = 0
        """Executions of a subscription's selection set for one yielded value."""
        self.shared = 0
        """Results served from a group's earlier rendering instead."""
        groups = self

        class Executor(GroupRenderingExecutor):
            render_groups = groups

        self.executor_class: type[GroupRenderingExecutor] = Executor

    @property
    def members(self) -> int:
        return sum(group.members for group in self.groups.values())

    def stats(self) -> dict[str, int]:
        return {
            "groups": len(self.groups),
            "members": self.members,
            "renderings": self.renderings,
            "shared": self.shared,
            "cached": sum(
                len(group.renderings)
                for group in (*self.groups.values(), *self.any_viewer.values())
            ),
        }

    # --- membership ------------------------------------------------------------------------

    def group_key(self, executor: GroupRenderingExecutor) -> tuple[Hashable, int] | None:
        scope = self.scope_of(executor.context_value)
        if scope is None:
            return None
        operation = executor.operation
        source = operation.loc.source.body if operation.loc is not None else id(operation)
        name = operation.name.value if operation.name is not None else None
        variables = json.dumps(
            executor.variable_values.coerced, sort_keys=True, separators=(",", ":"), default=repr
        )
        return ((id(executor.schema), source, name, variables), scope.key), scope.renderings

    async def membership(
        self, key: Hashable, capacity: int, owner: GroupRenderingExecutor, source: AsyncIterable[T]
    ) -> AsyncIterator[T]:
        """``source``'s values while ``owner`` is a member of the group ``key``."""
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = RenderGroup(key, capacity, self._any_viewer(key, capacity))
        group.members += 1
        owner.render_group = group
        _member.set(owner)  # this runs in the operation's task: its resolver sees it
        iterator = aiter(source)
        try:
            async for value in iterator:
                yield value
        finally:
            owner.render_group = None
            _member.set(None)
            group.members -= 1
            if group.members <= 0 and self.groups.get(key) is group:
                del self.groups[key]
                self._leave_any_viewer(group)
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()

    def _any_viewer(self, key: Hashable, capacity: int) -> RenderGroup | None:
        if not isinstance(key, tuple):
            return None
        operation = key[0]
        shared = self.any_viewer.get(operation)
        if shared is None:
            shared = self.any_viewer[operation] = RenderGroup(operation, capacity)
        shared.members += 1
        return shared

    def _leave_any_viewer(self, group: RenderGroup) -> None:
        shared = group.any_viewer
        if shared is None:
            return
        shared.members -= 1
        if shared.members <= 0 and self.any_viewer.get(shared.key) is shared:
            del self.any_viewer[shared.key]

    # --- rendering -------------------------------------------------------------------------

    def render(
        self, event: GroupRenderingExecutor, serially: bool | None
    ) -> ExecutionResult | Awaitable[ExecutionResult]:
        """The result for one yielded value (``event.root_value``) for one subscriber."""
        group, key = self._slot(event.render_group, event.root_value)
        if group is None or key is None:
            return self._execute(event, serially)
        cached = group.renderings.get(key)
        if cached is not None:
            self.shared += 1
            if isinstance(cached, ExecutionResult):
                return cached
            return self._await_shared(cached, event, serially)
        result = self._execute(event, serially)
        if isinstance(result, ExecutionResult):
            _mark_shared(result)
            group.store(key, result)
            return result
        future: asyncio.Future[ExecutionResult] = asyncio.get_running_loop().create_future()
        group.store(key, future)
        return self._finish_shared(group, key, future, result)

    def render_value(
        self, owner: GroupRenderingExecutor, value: object
    ) -> ExecutionResult | Awaitable[ExecutionResult] | None:
        """``value``'s rendering for a member of a group (``owner``, its subscription's
        executor), shared as ``render`` shares it; None when ``value`` has no ``render_key``
        or ``owner`` no group (app.pubsub.direct then leaves it to graphql-core)."""
        group, key = self._slot(owner.render_group, value)
        if group is None or key is None:
            return None
        cached = group.renderings.get(key)
        if isinstance(cached, ExecutionResult):
            self.shared += 1
            return cached
        return self.render(owner.build_per_event_executor(value), None)

    def _slot(
        self, group: RenderGroup | None, value: object
    ) -> tuple[RenderGroup | None, Hashable | None]:
        """Where ``value``'s rendering is kept for a member of ``group``, and under what key."""
        key = render_key_of(value) if group is not None else None
        if group is None or key is None:
            return None, None
        if group.any_viewer is not None and getattr(value, "render_any_viewer", False):
            return group.any_viewer, key
        return group, key

    def _execute(
        self, event: GroupRenderingExecutor, serially: bool | None
    ) -> ExecutionResult | Awaitable[ExecutionResult]:
        self.renderings += 1
        result: Any = event.fresh(event.root_value).execute_operation(serially)
        return result  # type: ignore[no-any-return]

    async def _finish_shared(
        self,
        group: RenderGroup,
        key: Hashable,
        future: asyncio.Future[ExecutionResult],
        pending: Awaitable[ExecutionResult],
    ) -> ExecutionResult:
        try:
            result = await pending
        except BaseException:
            group.discard(key, future)
            future.cancel()  # the members waiting for it render for themselves
            raise
        _mark_shared(result)
        if group.renderings.get(key) is future:
            group.renderings[key] = result
        future.set_result(result)
        return result

    async def _await_shared(
        self,
        future: asyncio.Future[ExecutionResult],
        event: GroupRenderingExecutor,
        serially: bool | None,
    ) -> ExecutionResult:
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not future.cancelled() or (task is not None and task.cancelling()):
                raise
        self.shared -= 1
        return await _awaited(self._execute(event, serially))


async def _awaited(result: ExecutionResult | Awaitable[ExecutionResult]) -> ExecutionResult:
    if isinstance(result, ExecutionResult):
        return result
    return await result


def _mark_shared(result: ExecutionResult) -> None:
    if result.errors is None and isinstance(result.data, dict):
        result.data = RenderedData(result.data)


class GroupRenderingExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor, rendering subscription values through ``render_groups``."""

    render_groups: ClassVar[RenderGroups]
    render_group: RenderGroup | None = None
    per_event: bool = False

    def cancellable_iterable(self, iterable: AsyncIterable[T]) -> AsyncIterable[T]:
        # graphql-core wraps a subscription's source stream here, once, before mapping it.
        source = super().cancellable_iterable(iterable)
        if self.per_event or self.operation.operation is not OperationType.SUBSCRIPTION:
            return source
        found = self.render_groups.group_key(self)
        if found is None:
            return source
        key, capacity = found
        return self.render_groups.membership(key, capacity, self, source)

    def build_per_event_executor(self, payload: Any) -> GroupRenderingExecutor:
        event = copy(self)  # cheap: a rendering, if one is needed, uses a fresh executor
        event.root_value = payload
        event.per_event = True
        return event

    def execute_operation(self, serially: bool | None = None) -> Any:
        if not self.per_event:
            return super().execute_operation(serially)
        return self.render_groups.render(self, serially)

    def fresh(self, root_value: Any) -> GroupRenderingExecutor:
        """A new executor for the same operation, sharing no state with any other."""
        return type(self)(
            self.schema,
            self.fragment_definitions,
            self.fragments,
            root_value,
            self.context_value,
            self.operation,
            self.variable_values,
            self.field_resolver,
            self.type_resolver,
            self.subscribe_field_resolver,
            self.enable_early_execution,
            self.middleware_manager,
            self.is_awaitable,
            self.is_async_iterable,
            hide_suggestions=self.hide_suggestions,
            abort_signal=self.abort_signal,
            hooks=self.hooks,
            operation_extensions=self.operation_extensions,
        )


def render_groups_of(schema: Any) -> RenderGroups | None:
    """The groups of a strawberry schema built with ``execution_context_class`` from here."""
    executor_class = getattr(schema, "execution_context_class", None)
    groups = getattr(executor_class, "render_groups", None)
    return groups if isinstance(groups, RenderGroups) else None
