"""Purchases a second through the API, beside pgbench on the same machine and server.

Many buyers (each its own organisation and token) buy distinct ACTIVE listings with
``buyListings`` (one listing per order, an idempotency key each), 16 at a time, from a Python
asyncio + httpx load generator in its own process, against one server process. Then pgbench's
TPC-B-like transactions on the same PostgreSQL server, in a database of its own
(``pgbench -i``, then ``pgbench -c 16 -T 20``). The figure is the ratio of the two.

    .venv/bin/python -m bench.purchases [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import subprocess
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from bench.common import (
    ADMIN_URL,
    BUYER_EMAIL,
    _admin,
    active_listing_ids,
    add_buyers,
    add_listings,
    database,
    load,
    log,
    percentile,
    servers,
    sign_in,
    write_result,
)

BUY = """
mutation Buy($input: BuyListingsInput!) {
  buyListings(input: $input) {
    __typename
    ... on BuyListingsPayload { order { id status } }
    ... on Error { code message }
  }
}
"""


def _generate(
    url: str, tokens: list[str], listings: list[str], clients: int, seconds: float
) -> dict[str, Any]:
    """The load generator (runs in its own process): ``clients`` workers buy until the time
    or the listings run out."""
    return asyncio.run(_buy_all(url, tokens, listings, clients, seconds))


async def _buy_all(
    url: str, tokens: list[str], listings: list[str], clients: int, seconds: float
) -> dict[str, Any]:
    import httpx

    queue = list(reversed(listings))
    outcomes: dict[str, int] = {}
    durations: list[float] = []
    started = time.monotonic()
    deadline = started + seconds
    finished = started

    async def worker(number: int, client: httpx.AsyncClient) -> None:
        nonlocal finished
        turn = 0
        while queue and time.monotonic() < deadline:
            listing = queue.pop()
            token = tokens[(number + turn * clients) % len(tokens)]
            turn += 1
            variables = {"input": {"listingIds": [listing], "idempotencyKey": uuid.uuid4().hex}}
            sent = time.monotonic()
            try:
                response = await client.post(
                    url,
                    json={"query": BUY, "variables": variables},
                    headers={"Authorization": f"Bearer {token}"},
                )
                body = response.json()
                result = (body.get("data") or {}).get("buyListings") or {}
                name = result.get("__typename") or "errors"
                if name != "BuyListingsPayload":
                    name = f"{name}:{result.get('code') or body.get('errors', [{}])[0]}"[:120]
            except (httpx.HTTPError, ValueError) as exc:
                name = type(exc).__name__
            now = time.monotonic()
            finished = max(finished, now)
            durations.append(now - sent)
            outcomes[name] = outcomes.get(name, 0) + 1

    async with httpx.AsyncClient(
        timeout=60, limits=httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    ) as client:
        await asyncio.gather(*(worker(number, client) for number in range(clients)))
    elapsed = finished - started
    bought = outcomes.get("BuyListingsPayload", 0)
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "purchases": bought,
        "purchases_per_second": round(bought / elapsed, 1) if elapsed else None,
        "outcomes": outcomes,
        "p50_ms": round((percentile(durations, 50) or 0) * 1000, 1),
        "p99_ms": round((percentile(durations, 99) or 0) * 1000, 1),
        "ran_out_of_listings": not queue,
    }


def pgbench(clients: int, seconds: int) -> dict[str, Any]:
    """``pgbench -i`` in a database of its own, then ``pgbench -c N -T S``; tps and latency."""
    parts = urlsplit(ADMIN_URL)
    name = f"bench_{os.getpid()}_pgbench"
    connection = [
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
    ]
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    try:
        subprocess.run(
            ["pgbench", *connection, "-i", "-q", name], check=True, capture_output=True, text=True
        )
        done = subprocess.run(
            ["pgbench", *connection, "-c", str(clients), "-T", str(seconds), name],
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", done.stdout)
    return {
        "command": f"pgbench -i {name} && pgbench -c {clients} -T {seconds} {name}",
        "tps": float(tps.group(1)) if tps else None,
        "latency_average_ms": float(latency.group(1)) if latency else None,
        "load": load(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few listings, short runs")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args(argv)
    seconds = 4 if args.quick else args.seconds
    listings_count = 300 if args.quick else 6000
    with database("purchases") as db:
        log(f"adding {listings_count} listings and 64 buyers")
        add_listings(db, listings_count)
        tokens = add_buyers(db, 64)
        with servers(db, 1) as (server,):
            listings = active_listing_ids(
                server.graphql_url, sign_in(server.graphql_url, BUYER_EMAIL)
            )
            context = multiprocessing.get_context("spawn")
            cpu = server.cpu_seconds()
            with context.Pool(1) as pool:
                api = pool.apply(
                    _generate, (server.graphql_url, tokens, listings, args.clients, seconds)
                )
            api["server_cpu_share"] = round((server.cpu_seconds() - cpu) / api["seconds"], 2)
            api["load"] = load()
            log(f"purchases: {api}")
    bench = pgbench(args.clients, seconds)
    log(f"pgbench: {bench}")
    ratio = (
        round(api["purchases_per_second"] / bench["tps"], 3)
        if api["purchases_per_second"] and bench["tps"]
        else None
    )
    write_result(
        "purchases",
        {
            "quick": args.quick,
            "load_generator": "Python asyncio + httpx, one process, keep-alive connections",
            "api": api,
            "pgbench": bench,
            "ratio": ratio,
        },
        quick=args.quick,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
