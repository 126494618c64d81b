"""Server CPU per mutation: sales reprices the board's listings through the API at a steady
rate against one server process with nobody subscribed, and the server's CPU time over the run
is divided by the mutations sent. ``--profile`` samples the server with py-spy meanwhile.

    .venv/bin/python -m bench.mutations [--rate 60] [--count 600] [--profile]

Printed, not written to docs/: a quick check of what one write costs the process (the
mutation, its transaction, and what every commit sets off in the process: the tail's read,
wake-ups, background tasks).
"""

from __future__ import annotations

import argparse
import asyncio
import json

from bench import profiling
from bench.common import (
    BUYER_EMAIL,
    SALES_EMAIL,
    active_listing_ids,
    add_listings,
    database,
    servers,
    sign_in,
)


def main(argv: list[str] | None = None) -> int:
    from bench.latency import Writer

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=60.0, help="mutations a second")
    parser.add_argument("--count", type=int, default=600, help="mutations in all")
    parser.add_argument("--profile", action="store_true", help="py-spy the server meanwhile")
    args = parser.parse_args(argv)
    with database("mutations") as db:
        add_listings(db, 500)
        with servers(db, 1) as (server,):
            url = server.graphql_url
            listings = active_listing_ids(url, sign_in(url, BUYER_EMAIL))
            writer = Writer(url, sign_in(url, SALES_EMAIL), listings)
            cpu = server.cpu_seconds()
            seconds = args.count / args.rate
            if args.profile:
                with profiling.sampling(server.pid, seconds, "mutations-profile", True) as top:
                    written = asyncio.run(writer.run(args.rate, args.count))
            else:
                top = {}
                written = asyncio.run(writer.run(args.rate, args.count))
            used = server.cpu_seconds() - cpu
    result = {
        "rate_asked": args.rate,
        "achieved_rate": round(written["achieved_rate"] or 0.0, 1),
        "sent": written["sent"],
        "refused": written["refused"],
        "mutation_p50_ms": written["mutation_p50_ms"],
        "server_cpu_ms_per_mutation": round(used / max(written["sent"], 1) * 1000, 2),
        "profile": {key: top[key] for key in ("samples", "by_library", "self") if key in top},
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
