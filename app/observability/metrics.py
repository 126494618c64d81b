"""Prometheus metrics, served at /metrics.

Counters and histograms are updated where things happen; gauges that mirror state the process
already keeps (hub subscribers, tail lag) are read when /metrics is scraped.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EVENTS_APPENDED = Counter(
    "devicegraph_events_appended_total",
    "Events this process appended to the log (committed).",
)
EVENTS_DELIVERED = Counter(
    "devicegraph_events_delivered_total",
    "Events handed to subscribers (one event to two subscribers counts 2).",
)
DELIVERY_LATENCY = Histogram(
    "devicegraph_delivery_latency_seconds",
    "From an event's commit to its delivery to a subscriber in this process.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
WEBHOOK_DELIVERIES = Counter(
    "devicegraph_webhook_deliveries_total",
    "Webhook delivery attempts by outcome: delivered, failed (will retry), disabled "
    "(the endpoint was disabled after failing too long).",
    ["outcome"],
)
