"""Commit-to-subscriber latency, and the time to fan one event out to N subscribers.

For each cell (subscribers N, mutations a second R) a fresh server (or two behind the same
database and broadcast) and N subscribers of the ``events`` subscription, one per websocket, in
separate processes. An operator reprices the board's listings through the API at R a second
(open loop: each mutation is sent at its scheduled time, whatever the previous ones do) for
the phase's duration; then the subscribers get a few seconds to catch up.

Latency of one delivery = the subscriber's receive time minus the event's ``occurredAt``. The
server sets ``occurredAt`` inside the writing transaction before it commits, so this is an upper
bound on commit-to-subscriber latency. The receive time minus the time the writer got its
mutation's response (which comes after the commit) is a lower bound; both are reported.

Fan-out: with no other load, single events are written one at a time, and for each the first
and the last subscriber's receive times are taken.

    .venv/bin/python -m bench.latency [--quick]
    .venv/bin/python -m bench.latency --cell 1000 100 --subscriptions events   # one cell, printed
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from datetime import datetime
from typing import Any

import httpx

from bench import clients, profiling
from bench.common import (
    BUYER_EMAIL,
    SALES_EMAIL,
    Database,
    Server,
    active_listing_ids,
    add_buyers,
    add_listings,
    database,
    log,
    percentile,
    servers,
    sign_in,
    write_result,
)

REPRICE = """
mutation Reprice($input: RepriceListingInput!) {
  repriceListing(input: $input) {
    __typename
    ... on ListingPayload { listing { id version } }
    ... on Error { code message }
  }
}
"""
_prices = itertools.count(30_000)


class Writer:
    """Reprices listings through the API and remembers when each response arrived."""

    def __init__(self, url: str, token: str, listing_ids: list[str]) -> None:
        self.url = url
        self.token = token
        self.listing_ids = listing_ids
        self._next = itertools.count()

    async def run(self, rate: float, count: int) -> dict[str, Any]:
        """``count`` mutations at ``rate`` a second; {responses: {key: time}, ...}."""
        responses: dict[str, float] = {}
        durations: list[float] = []
        refused: list[str] = []
        skipped = 0
        gate = asyncio.Semaphore(64)
        started = time.monotonic()
        # a mutation that cannot even be sent within 2 s of the phase's end is not sent: a
        # saturated server would otherwise stretch the phase for minutes
        last_send = started + count / rate + 2
        async with httpx.AsyncClient(
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=60,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
        ) as client:

            async def one() -> None:
                nonlocal skipped
                number = next(self._next)
                listing = self.listing_ids[number % len(self.listing_ids)]
                variables = {"input": {"listingId": listing, "price": next(_prices)}}
                async with gate:
                    if time.monotonic() > last_send:
                        skipped += 1
                        return
                    sent = time.time()
                    try:
                        response = await client.post(
                            self.url, json={"query": REPRICE, "variables": variables}
                        )
                        body = response.json()
                    except (httpx.HTTPError, ValueError) as exc:
                        refused.append(type(exc).__name__)
                        return
                    received = time.time()
                result = (body.get("data") or {}).get("repriceListing")
                if not result or result["__typename"] != "ListingPayload":
                    refused.append(str(result or body.get("errors"))[:200])
                    return
                item = result["listing"]
                responses[f"{item['id']}/{item['version']}"] = received
                durations.append(received - sent)

            tasks = []
            for index in range(count):
                delay = started + index / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one()))
            sending = time.monotonic() - started
            await asyncio.gather(*tasks)
        return {
            "responses": responses,
            "sent": count - skipped,
            "not_sent": skipped,
            "sending_seconds": sending,
            "achieved_rate": (count - skipped) / sending if sending else None,
            "refused": len(refused),
            "refusals": refused[:3],
            "mutation_p50_ms": _ms(percentile(durations, 50)),
            "mutation_p99_ms": _ms(percentile(durations, 99)),
        }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def _when(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _merge(into: dict[str, tuple[str, list[float]]], answers: list[dict[str, Any]]) -> None:
    for answer in answers:
        for key, (at, times) in answer["records"].items():
            if key in into:
                into[key][1].extend(times)
            else:
                into[key] = (at, list(times))


def _collect_until(
    fleet: clients.Fleet,
    responses: dict[str, float],
    expected_each: int,
    deadline: float,
    per_server: list[dict[str, tuple[str, list[float]]]],
    server_of: list[int],
) -> dict[str, Any]:
    """Collect from the subscribers every half second until every expected delivery arrived
    or the deadline passed; merges per server. Returns LAGGED/ended/error counts and CPU."""
    lagged = ended = 0
    errors: list[str] = []
    cpu: list[float] = []
    while True:
        answers = fleet.collect()
        for index, answer in enumerate(answers):
            _merge(per_server[server_of[index]], [answer])
            lagged += answer["lagged"]
            ended += answer["ended"]
            errors.extend(answer["errors"])
        cpu = [answer["cpu_seconds"] for answer in answers]
        delivered = sum(
            len(records[key][1]) for records in per_server for key in responses if key in records
        )
        if delivered >= expected_each * len(responses) or time.monotonic() > deadline:
            return {"lagged": lagged, "ended": ended, "errors": errors[:5], "client_cpu": cpu}
        time.sleep(0.5)


def _latencies(
    responses: dict[str, float], records: dict[str, tuple[str, list[float]]]
) -> tuple[list[float], list[float]]:
    upper: list[float] = []
    lower: list[float] = []
    for key, responded in responses.items():
        record = records.get(key)
        if record is None:
            continue
        occurred = _when(record[0])
        for received in record[1]:
            upper.append(received - occurred)
            lower.append(received - responded)
    return upper, lower


def _summary(
    upper: list[float], lower: list[float], expected: int, seconds: float
) -> dict[str, Any]:
    return {
        "expected": expected,
        "delivered": len(upper),
        "delivered_pct": round(100 * len(upper) / expected, 2) if expected else None,
        "messages_per_second": round(len(upper) / seconds, 1) if seconds else None,
        **{f"p{q}_ms": _ms(percentile(upper, q)) for q in (50, 95, 99)},
        "max_ms": _ms(max(upper)) if upper else None,
        **{f"after_response_p{q}_ms": _ms(percentile(lower, q)) for q in (50, 95, 99)},
    }


def run_cell(
    db: Database,
    *,
    subscribers: int,
    rates: list[float],
    seconds: float,
    processes: int,
    buyer_tokens: list[str],
    server_count: int = 1,
    broadcast: str = "postgres",
    fanout_events: int = 0,
    field: str = "events",
    profile: str | None = None,
) -> dict[str, Any]:
    """One fresh server set and fleet: optional fan-out events, then one phase per rate."""
    with servers(db, server_count, broadcast=broadcast) as running:
        writer_server: Server = running[0]
        sales = sign_in(writer_server.graphql_url, SALES_EMAIL)
        buyer = sign_in(writer_server.graphql_url, BUYER_EMAIL)
        listings = active_listing_ids(writer_server.graphql_url, buyer)
        writer = Writer(writer_server.graphql_url, sales, listings)
        plans = clients.spread(
            [server.ws_url for server in running],
            buyer_tokens,
            subscribers,
            processes,
            field=field,
        )
        server_of = [[server.ws_url for server in running].index(plan.url) for plan in plans]
        log(f"{subscribers} {field} subscribers on {server_count} server(s), {broadcast} broadcast")
        fleet = clients.Fleet(plans)
        try:
            open_subscriptions = fleet.subscriptions
            failed = sum(answer["failed"] for answer in fleet.ready)
            log(
                f"  connected {open_subscriptions} in "
                f"{max(answer['seconds'] for answer in fleet.ready):.1f} s ({failed} failed)"
            )
            cell: dict[str, Any] = {
                "subscription": field,
                "subscribers": subscribers,
                "subscriptions_open": open_subscriptions,
                "connect_failures": failed,
                "servers": server_count,
                "broadcast": broadcast,
                "client_processes": len(plans),
                "rss_mb_after_connect": [round(server.rss_mb(), 1) for server in running],
                "phases": [],
            }
            # warm up: one event that every subscriber must see (all are registered after it)
            warm = asyncio.run(writer.run(1, 1))
            stores: list[dict[str, tuple[str, list[float]]]] = [{} for _ in running]
            _collect_until(
                fleet,
                warm["responses"],
                open_subscriptions,
                time.monotonic() + 30 + subscribers / 200,
                stores,
                server_of,
            )
            merged: dict[str, tuple[str, list[float]]] = {}
            for store in stores:
                _merge(merged, [{"records": store}])
            cell["warmup_delivered"] = sum(
                len(merged[key][1]) for key in warm["responses"] if key in merged
            )
            if fanout_events:
                cell["fanout"] = _fanout(
                    fleet, writer, fanout_events, open_subscriptions, server_of, len(running)
                )
            for rate in rates:
                fleet.ask("resubscribe")
                cell["phases"].append(
                    _phase(
                        fleet,
                        running,
                        writer,
                        rate,
                        seconds,
                        open_subscriptions,
                        server_of,
                        profile=profile,
                    )
                )
        finally:
            fleet.close()
        return cell


def _fanout(
    fleet: clients.Fleet,
    writer: Writer,
    events: int,
    subscribers: int,
    server_of: list[int],
    server_count: int,
) -> dict[str, Any]:
    """Single events one at a time: when the first and the last subscriber had each."""
    rows = []
    for _ in range(events):
        wrote = asyncio.run(writer.run(1, 1))
        stores: list[dict[str, tuple[str, list[float]]]] = [{} for _ in range(server_count)]
        _collect_until(
            fleet,
            wrote["responses"],
            subscribers,
            time.monotonic() + 10 + subscribers / 500,
            stores,
            server_of,
        )
        merged: dict[str, tuple[str, list[float]]] = {}
        for store in stores:
            _merge(merged, [{"records": store}])
        for key, responded in wrote["responses"].items():
            if key not in merged:
                rows.append({"received": 0})
                continue
            occurred = _when(merged[key][0])
            times = sorted(merged[key][1])
            rows.append(
                {
                    "received": len(times),
                    "first_ms": _ms(times[0] - occurred),
                    "last_ms": _ms(times[-1] - occurred),
                    "spread_ms": _ms(times[-1] - times[0]),
                    "first_after_response_ms": _ms(times[0] - responded),
                }
            )
        time.sleep(0.3)
    complete = [row for row in rows if row["received"]]

    def median(name: str) -> float | None:
        return percentile([row[name] for row in complete], 50)

    return {
        "subscribers": subscribers,
        "events": rows,
        "median_first_ms": median("first_ms"),
        "median_last_ms": median("last_ms"),
        "median_spread_ms": median("spread_ms"),
        "min_received": min((row["received"] for row in rows), default=0),
    }


def _phase(
    fleet: clients.Fleet,
    running: list[Server],
    writer: Writer,
    rate: float,
    seconds: float,
    subscribers: int,
    server_of: list[int],
    profile: str | None = None,
) -> dict[str, Any]:
    fleet.collect()  # forget anything left over
    cpu_before = [server.cpu_seconds() for server in running]
    started = time.monotonic()
    sampled: dict[str, Any] | None = None
    if profile:
        with profiling.sampling(running[0].pid, seconds, profile, False) as sampled:
            wrote = asyncio.run(writer.run(rate, int(rate * seconds)))
    else:
        wrote = asyncio.run(writer.run(rate, int(rate * seconds)))
    responses = wrote.pop("responses")
    stores: list[dict[str, tuple[str, list[float]]]] = [{} for _ in running]
    extra = _collect_until(
        fleet, responses, subscribers, time.monotonic() + max(10.0, seconds), stores, server_of
    )
    elapsed = time.monotonic() - started
    cpu = [
        round(server.cpu_seconds() - before, 2)
        for server, before in zip(running, cpu_before, strict=True)
    ]
    merged: dict[str, tuple[str, list[float]]] = {}
    for store in stores:
        _merge(merged, [{"records": store}])
    upper, lower = _latencies(responses, merged)
    result = {
        "rate": rate,
        "seconds": seconds,
        "events": len(responses),
        "writer": wrote,
        **_summary(upper, lower, len(responses) * subscribers, elapsed),
        "lagged": extra["lagged"],
        "errors": extra["errors"],
        "server_cpu_seconds": cpu,
        "elapsed_seconds": round(elapsed, 1),
        "server_rss_mb": [round(server.rss_mb(), 1) for server in running],
        "load": _load(),
        "profile": sampled,
    }
    if len(running) > 1:
        per_server = []
        for index, store in enumerate(stores):
            share = sum(1 for owner in server_of if owner == index)
            subs = round(subscribers * share / len(server_of))
            up, low = _latencies(responses, store)
            per_server.append(_summary(up, low, len(responses) * subs, elapsed))
        result["per_server"] = per_server
    log(
        f"  rate {rate}/s: delivered {result['delivered_pct']}%, p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms, lagged {result['lagged']}, server CPU {cpu} s"
    )
    return result


def _load() -> str:
    from bench.common import load

    return load()


def _one_cell(subscribers: int, rate: float, field: str) -> int:
    with database("cell") as db:
        add_listings(db, 500)
        tokens = add_buyers(db, 50)
        cell = run_cell(
            db,
            subscribers=subscribers,
            rates=[rate],
            seconds=10.0,
            processes=2,
            buyer_tokens=tokens,
            field=field,
        )
    print(json.dumps(cell, indent=1, default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small N, short phases")
    parser.add_argument(
        "--subscriptions",
        nargs="+",
        default=["events", "listingBoard"],
        choices=sorted(clients.SUBSCRIPTIONS),
    )
    parser.add_argument("--sizes", nargs="+", type=int, default=None, help="subscriber counts")
    parser.add_argument(
        "--cell",
        nargs=2,
        type=float,
        metavar=("SUBSCRIBERS", "RATE"),
        help="run one cell of one process and print it (results on disk are left alone)",
    )
    args = parser.parse_args(argv)
    if args.cell:
        return _one_cell(int(args.cell[0]), args.cell[1], args.subscriptions[0])
    if args.quick:
        sizes, rates, seconds, fanout_events = [20, 100], [20.0, 50.0], 3.0, 2
        target: tuple[int, float] = (100, 50.0)
    else:
        sizes, rates, seconds, fanout_events = [100, 1000, 5000], [50.0, 200.0], 10.0, 5
        target = (1000, 100.0)
    with database("latency") as db:
        add_listings(db, 500)
        tokens = add_buyers(db, 50)
        for field in args.subscriptions:
            cells: list[dict[str, Any]] = []

            def cell(
                field: str,
                size: int,
                cell_rates: list[float],
                cells: list[dict[str, Any]] = cells,
                **options: Any,
            ) -> None:
                cells.append(
                    run_cell(
                        db,
                        subscribers=size,
                        rates=cell_rates,
                        seconds=seconds,
                        processes=2 if size <= 1000 else 4,
                        buyer_tokens=tokens,
                        field=field,
                        **options,
                    )
                )

            # a fresh server per rate: a saturated phase leaves queues behind that would still
            # be draining during the next one
            field_sizes = args.sizes or (sizes if field == "events" else sizes[:2])
            for size in field_sizes:
                for index, rate in enumerate(rates):
                    cell(field, size, [rate], fanout_events=0 if index else fanout_events)
            profile = None if args.quick else f"{field}-profile"
            cell(field, target[0], [target[1]], profile=profile)
            if field == "events":
                for broadcast in ("postgres", "redis"):
                    cell(field, target[0], [target[1]], server_count=2, broadcast=broadcast)
            write_result(
                f"latency-{field}",
                {
                    "quick": args.quick,
                    "subscriptions": {field: clients.SUBSCRIPTIONS[field]},
                    "buyer_organisations": 50,
                    "cells": cells,
                },
                quick=args.quick,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
