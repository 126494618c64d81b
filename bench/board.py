"""Requests a second and latency of the buyers' board query (50 listings with device and grade)
at 16 and 64 concurrent clients, against one server process; then at 64 clients while sales
reprices listings through the API (``--writes``: mutations a second), since every change
empties the board's response cache.

The load generator is wrk (Debian package ``wrk``), a C program, with a Lua script that POSTs the
query as a signed-in buyer over keep-alive connections. Optionally (``--profile``) py-spy
samples the server during one more run and the hottest functions are written down.

    .venv/bin/python -m bench.board [--quick] [--profile] [--writes 10 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench import profiling
from bench.common import (
    BUYER_EMAIL,
    SALES_EMAIL,
    active_listing_ids,
    add_listings,
    database,
    load,
    log,
    servers,
    sign_in,
    write_result,
)

BOARD = (
    "query Board { listings(first: 50, sort: NEWEST) { totalCount "
    "pageInfo { hasNextPage endCursor } edges { cursor node { id status version "
    "price { amountMinor amount currency } device { id make model storageGb colour status "
    "currentGrade { cosmetic functionalPass batteryHealthPct dataWiped gradedAt } } } } } }"
)

LUA = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
"""


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal here


def check_board(url: str, token: str) -> int:
    """One request by hand: the answer must be 50 listings, each with its device and grade."""
    body = httpx.post(
        url, json={"query": BOARD}, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).json()
    if body.get("errors"):
        raise RuntimeError(f"board query failed: {body['errors']}")
    edges = body["data"]["listings"]["edges"]
    if len(edges) != 50 or any(edge["node"]["device"]["currentGrade"] is None for edge in edges):
        raise RuntimeError("the board did not return 50 graded listings")
    return len(json.dumps(body))


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"not a wrk duration: {text}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if match := re.search(r"Requests/sec:\s+([\d.]+)", output):
        result["requests_per_second"] = float(match.group(1))
    if match := re.search(r"(\d+) requests in ([\d.]+\w+)", output):
        result["requests"] = int(match.group(1))
    for percent, value in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)", output, re.M):
        result[f"p{percent}_ms"] = round(_duration_ms(value), 2)
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx"] = int(match.group(1)) if match else 0
    match = re.search(r"Socket errors: (.*)", output)
    result["socket_errors"] = match.group(1).strip() if match else ""
    return result


def run_wrk(url: str, script: Path, connections: int, seconds: int) -> dict[str, Any]:
    command = [
        "wrk",
        "--threads",
        "2",
        "--connections",
        str(connections),
        "--duration",
        f"{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "--script",
        str(script),
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return {
        "command": " ".join([*command[:-2], "board.lua", "http://127.0.0.1:<port>/graphql"]),
        **parse_wrk(done.stdout),
    }


def run_wrk_while_writing(
    url: str, script: Path, connections: int, seconds: int, rate: float
) -> dict[str, Any]:
    """wrk as above while a writer reprices the board's listings at ``rate`` a second."""
    from bench.latency import Writer

    token = sign_in(url, SALES_EMAIL)
    writer = Writer(url, token, active_listing_ids(url, sign_in(url, BUYER_EMAIL))[:50])
    written: dict[str, Any] = {}

    def write() -> None:
        written.update(asyncio.run(writer.run(rate, int(rate * seconds))))

    thread = threading.Thread(target=write)
    thread.start()
    try:
        result = run_wrk(url, script, connections, seconds)
    finally:
        thread.join()
    result["writes_per_second_asked"] = rate
    result["writes_per_second"] = round(written.get("achieved_rate") or 0.0, 1)
    result["write_p50_ms"] = written.get("mutation_p50_ms")
    result["writes_refused"] = written.get("refused")
    return result


def profile(
    pid: int, url: str, script: Path, seconds: int, name: str, quick: bool
) -> dict[str, Any]:
    """py-spy samples the server while wrk drives it at 64 clients."""
    with profiling.sampling(pid, seconds, name, quick) as result:
        time.sleep(1)
        during = run_wrk(url, script, 64, max(seconds - 2, 3))
    return {"requests_per_second_while_sampled": during.get("requests_per_second"), **result}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs")
    parser.add_argument("--profile", action="store_true", help="py-spy the server under load")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument(
        "--writes",
        type=float,
        nargs="*",
        default=[10.0, 50.0],
        help="repriceListing a second during extra 64-client runs",
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    seconds = 4 if args.quick else args.seconds
    runs = []
    with database("board") as db:
        add_listings(db, 1000)
        with servers(db, 1) as (server,), tempfile.TemporaryDirectory() as folder:
            token = sign_in(server.graphql_url, BUYER_EMAIL)
            size = check_board(server.graphql_url, token)
            script = Path(folder) / "board.lua"
            script.write_text(
                LUA.format(body=_lua_string(json.dumps({"query": BOARD})), token=token)
            )
            run_wrk(server.graphql_url, script, 16, 2)  # warm up
            for connections in (16, 64):
                cpu = server.cpu_seconds()
                result = run_wrk(server.graphql_url, script, connections, seconds)
                result["server_cpu_share"] = round((server.cpu_seconds() - cpu) / seconds, 2)
                result["connections"] = connections
                result["load"] = load()
                result["rss_mb"] = round(server.rss_mb(), 1)
                log(f"board, {connections} clients: {result}")
                runs.append(result)
            for rate in args.writes:
                cpu = server.cpu_seconds()
                result = run_wrk_while_writing(server.graphql_url, script, 64, seconds, rate)
                result["server_cpu_share"] = round((server.cpu_seconds() - cpu) / seconds, 2)
                result["connections"] = 64
                result["load"] = load()
                result["rss_mb"] = round(server.rss_mb(), 1)
                log(f"board, 64 clients, {rate:g} writes/s: {result}")
                runs.append(result)
            profiled = None
            if args.profile:
                profiled = profile(
                    server.pid, server.graphql_url, script, seconds, "board-profile", args.quick
                )
                log(f"profile: {json.dumps(profiled['by_library'])}")
    write_result(
        "board",
        {
            "quick": args.quick,
            "query": BOARD,
            "response_bytes": size,
            "load_generator": "wrk 4.1 (2 threads, keep-alive), Lua script POSTing the query",
            "runs": runs,
            "profile": profiled,
        },
        quick=args.quick,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
