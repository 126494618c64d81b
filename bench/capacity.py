"""How many concurrent subscriptions one server process holds, and what they cost in memory.

Three fresh servers, each filled in steps while its resident memory (VmRSS from
/proc/<pid>/status) is read after every step:

- connections: websockets that only sent connection_init (the cost of a socket);
- one subscription per connection (a browser per buyer), up to ``--max`` subscriptions;
- many subscriptions per connection (``--per-socket``, e.g. a partner's integration).

At the end of each subscription series one event is written and the first and the last
subscriber's receive times are taken: the subscriptions are live, not just open.

    .venv/bin/python -m bench.capacity [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from bench import clients
from bench.common import (
    BUYER_EMAIL,
    SALES_EMAIL,
    Database,
    active_listing_ids,
    add_buyers,
    database,
    load,
    log,
    servers,
    sign_in,
    write_result,
)
from bench.latency import Writer, _merge, _ms, _when


def _series(
    db: Database,
    *,
    label: str,
    tokens: list[str],
    total: int,
    step: int,
    per_socket: int,
    processes: int,
    deadline: float,
) -> dict[str, Any]:
    """Fill one fresh server in steps of ``step`` subscriptions (or bare connections when
    ``per_socket`` is 0); RSS after each step; then one event to all of them."""
    with servers(db, 1) as (server,):
        time.sleep(2)
        steps = [{"subscriptions": 0, "connections": 0, "rss_mb": round(server.rss_mb(), 1)}]
        log(f"{label}: baseline RSS {steps[0]['rss_mb']} MB")
        fleets: list[clients.Fleet] = []
        opened = connections = 0
        try:
            while opened < total and time.monotonic() < deadline:
                if per_socket:
                    plans = clients.spread(
                        [server.ws_url], tokens, min(step, total - opened), processes, per_socket
                    )
                else:
                    share = min(step, total - opened)
                    plans = [
                        clients.Plan(
                            url=server.ws_url,
                            tokens=tokens,
                            sockets=share // processes + (1 if i < share % processes else 0),
                            per_socket=0,
                        )
                        for i in range(processes)
                    ]
                started = time.monotonic()
                fleet = clients.Fleet(plans)
                fleets.append(fleet)
                failed = sum(answer["failed"] for answer in fleet.ready)
                connections += sum(answer["ready"] for answer in fleet.ready)
                opened += fleet.subscriptions if per_socket else min(step, total - opened)
                time.sleep(2)  # let the server settle (stream registration, backfill)
                row = {
                    "subscriptions": opened if per_socket else 0,
                    "connections": connections,
                    "rss_mb": round(server.rss_mb(), 1),
                    "connect_seconds": round(time.monotonic() - started, 1),
                    "failed": failed,
                    "cpu_seconds": round(server.cpu_seconds(), 1),
                }
                steps.append(row)
                log(f"  {row}")
                if failed:
                    log(f"  failures: {fleet.ready[0]['failures']}")
                    break
            idle_from = server.cpu_seconds()
            time.sleep(5)
            idle_cpu = round((server.cpu_seconds() - idle_from) / 5, 3)
            log(f"  idle CPU with everything open: {idle_cpu} of a core")
            fanout = None
            if per_socket and opened:
                fanout = _one_event(server.graphql_url, fleets, opened)
                log(f"  one event to {opened}: {fanout}")
            final_rss = round(server.rss_mb(), 1)
        finally:
            for fleet in fleets:
                fleet.close()
    base = steps[0]["rss_mb"]
    last = steps[-1]
    if per_socket:
        per_thousand = (last["rss_mb"] - base) / last["subscriptions"] * 1000 if opened else None
    else:
        per_thousand = (last["rss_mb"] - base) / last["connections"] * 1000 if connections else None
    return {
        "label": label,
        "per_socket": per_socket,
        "steps": steps,
        "final_rss_mb": final_rss,
        "idle_cpu_share": idle_cpu,
        "mb_per_thousand": round(per_thousand, 1) if per_thousand is not None else None,
        "fanout": fanout,
        "load": load(),
    }


def _one_event(url: str, fleets: list[clients.Fleet], expected: int) -> dict[str, Any]:
    sales = sign_in(url, SALES_EMAIL)
    buyer = sign_in(url, BUYER_EMAIL)
    writer = Writer(url, sales, active_listing_ids(url, buyer)[:1])
    for fleet in fleets:
        fleet.collect()
    wrote = asyncio.run(writer.run(1, 1))
    merged: dict[str, tuple[str, list[float]]] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for fleet in fleets:
            _merge(merged, fleet.collect())
        got = sum(len(times) for _, times in merged.values())
        if got >= expected:
            break
        time.sleep(0.5)
    key = next(iter(wrote["responses"]), None)
    if key is None or key not in merged:
        return {"received": 0}
    occurred = _when(merged[key][0])
    times = sorted(merged[key][1])
    # the subscribers' own records are not part of the figure: they are checked at the end
    return {
        "received": len(times),
        "first_ms": _ms(times[0] - occurred),
        "last_ms": _ms(times[-1] - occurred),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small N")
    parser.add_argument("--max", type=int, default=10_000, help="subscriptions to reach")
    parser.add_argument("--per-socket", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=4.5, help="time box per series")
    args = parser.parse_args(argv)
    total = 400 if args.quick else args.max
    step = 100 if args.quick else 1000
    per_socket = 20 if args.quick else args.per_socket
    series = []
    with database("capacity") as db:
        tokens = add_buyers(db, 50)
        for label, count, per in (
            ("connections only", total // 2, 0),
            ("one subscription per connection", total, 1),
            (f"{per_socket} subscriptions per connection", total, per_socket),
        ):
            series.append(
                _series(
                    db,
                    label=label,
                    tokens=tokens,
                    total=count,
                    step=step,
                    per_socket=per,
                    processes=2,
                    deadline=time.monotonic() + args.minutes * 60,
                )
            )
    write_result("capacity", {"quick": args.quick, "series": series}, quick=args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
