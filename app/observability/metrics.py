"""Prometheus metrics, served at /metrics.

Two kinds:

- Counters and histograms updated where things happen (HTTP requests, mutations, events
  appended, delivery latency, webhook deliveries). They live in ``REGISTRY``, one per process
  (not prometheus_client's global default), and count for every app in the process.
- Values the app already keeps (websockets open, hub subscribers and deliveries, the tail's
  reads and lag, the broadcast listener) are read from that app's runtime when /metrics is
  scraped (``RuntimeCollector``), so two apps in one process each report their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.services.events import EVENTS_PENDING

if TYPE_CHECKING:
    from app.runtime import Runtime

disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series: noise
REGISTRY = CollectorRegistry(auto_describe=True)
"""This process's counters and histograms."""

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "devicegraph_http_requests_total",
    "HTTP requests answered, by method, route (the route's path pattern) and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "devicegraph_http_request_duration_seconds",
    "Time to answer an HTTP request, by route.",
    ["route"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
WEBSOCKETS_OPENED = Counter(
    "devicegraph_websocket_connections_opened_total",
    "Websocket connections accepted by the process's apps.",
    registry=REGISTRY,
)
MUTATIONS = Counter(
    "devicegraph_mutations_total",
    "Mutations run, by name and result: ok, a typed error's code (e.g. NOT_AVAILABLE), or "
    "a GraphQL error's extensions.code (INTERNAL for an unexpected failure).",
    ["mutation", "result"],
    registry=REGISTRY,
)
MUTATION_DURATION = Histogram(
    "devicegraph_mutation_duration_seconds",
    "Time a mutation's resolver took (its transaction included), by name.",
    ["mutation"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
EVENTS_APPENDED = Counter(
    "devicegraph_events_appended_total",
    "Events this process appended to the log, counted when their transaction committed.",
    registry=REGISTRY,
)
DELIVERY_LATENCY = Histogram(
    "devicegraph_delivery_latency_seconds",
    "From an event's time in the log (its transaction's timestamp) to the tail handing it to "
    "this process's subscribers.",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
RESPONSE_CACHE = Counter(
    "devicegraph_response_cache_total",
    "Board queries (listings, listing) answered from the response cache (hit) or computed (miss).",
    ["result"],
    registry=REGISTRY,
)
DIRECT_MESSAGES = Counter(
    "devicegraph_subscription_messages_direct_total",
    "Subscription messages written straight to their socket from their group's shared "
    "rendering (the others go through the GraphQL library's per-operation path).",
    registry=REGISTRY,
)
WEBHOOK_DELIVERIES = Counter(
    "devicegraph_webhook_deliveries_total",
    "Webhook delivery attempts by outcome: delivered, failed (will retry), disabled "
    "(the endpoint was disabled after failing too long).",
    ["outcome"],
    registry=REGISTRY,
)


class RuntimeCollector(Collector):
    """Reads one app's live state at scrape time."""

    def __init__(self, runtime: Runtime, websockets_open: Callable[[], int]) -> None:
        self.runtime = runtime
        self.websockets_open = websockets_open

    def describe(self) -> Iterable[Metric]:
        return []  # collect() is cheap, but the registry must not call it at registration

    def collect(self) -> Iterator[Metric]:
        hub = self.runtime.hub
        tail = self.runtime.tail
        wakeups = self.runtime.wakeups
        yield _gauge(
            "devicegraph_websocket_connections", "Websocket connections open now.",
            self.websockets_open(),
        )  # fmt: skip
        yield _gauge(
            "devicegraph_subscriptions",
            "Live subscriptions registered with the hub now.",
            hub.subscriber_count,
        )
        yield _counter(
            "devicegraph_events_read",
            "Events the tail read from the log and dispatched to the hub.",
            tail.delivered,
        )
        yield _counter(
            "devicegraph_events_delivered",
            "Events queued to subscribers (one event to two subscribers counts 2).",
            hub.delivered,
        )
        yield _counter(
            "devicegraph_subscriber_overflows",
            "Times a subscriber fell too far behind and was told LAGGED.",
            hub.overflows,
        )
        status = tail.status()
        yield _gauge(
            "devicegraph_tail_lag_events",
            "Events read but held back, plus a batch while the tail catches up.",
            status["lag_events"],
        )
        yield _gauge(
            "devicegraph_tail_lag_seconds",
            "Age of the oldest held-back event, else the delay of the newest event read.",
            status["lag_seconds"],
        )
        since = status["last_read_seconds_ago"]
        yield _gauge(
            "devicegraph_tail_last_read_age_seconds",
            "Seconds since the tail last read the log successfully (-1: never).",
            -1 if since is None else since,
        )
        yield _gauge("devicegraph_tail_up", "1 when the tail is healthy.", int(status["ok"]))
        yield _counter(
            "devicegraph_tail_read_errors", "Failed reads of the event log.", tail.errors
        )
        yield _gauge(
            "devicegraph_broadcast_up", "1 when the broadcast listener is alive.", wakeups.alive
        )
        yield _counter(
            "devicegraph_broadcast_reconnects",
            "Times the broadcast listener reconnected.",
            wakeups.reconnects,
        )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=float(value))


# --- events appended, counted at commit -----------------------------------------------------

_counting_installed = False


def install_event_counting() -> None:
    """Count the events each committed transaction appended (app.services.events marks the
    session with how many); a rolled-back transaction counts none. Once per process."""
    global _counting_installed
    if _counting_installed:
        return
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)
    _counting_installed = True


def _after_commit(session: Session) -> None:
    appended = session.info.pop(EVENTS_PENDING, 0)
    if appended:
        EVENTS_APPENDED.inc(appended)


def _after_rollback(session: Session) -> None:
    session.info.pop(EVENTS_PENDING, None)
