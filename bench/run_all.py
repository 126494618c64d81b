"""Run every benchmark, then write docs/benchmarks.md: ``make bench``.

    .venv/bin/python -m bench.run_all [--quick]

``--quick`` is a smoke run (small N, short phases) whose results and report go to
var/bench/quick/ and leave docs/ alone.
"""

from __future__ import annotations

import argparse

from bench import board, capacity, latency, purchases, report
from bench.common import load, log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run with small N")
    parser.add_argument(
        "--only",
        nargs="*",
        choices=["latency", "capacity", "board", "purchases", "latency-board"],
        help="run only these (the report uses the other results already on disk); "
        "latency-board is the latency of the listingBoard subscription",
    )
    args = parser.parse_args(argv)
    flags = ["--quick"] if args.quick else []
    parts = {
        "latency": lambda: latency.main([*flags, "--subscriptions", "events"]),
        "capacity": lambda: capacity.main(flags),
        "board": lambda: board.main([*flags, "--profile"]),
        "purchases": lambda: purchases.main(flags),
        "latency-board": lambda: latency.main([*flags, "--subscriptions", "listingBoard"]),
    }
    for name, run in parts.items():
        if args.only and name not in args.only:
            continue
        log(f"== {name} (load {load()})")
        run()
    return report.main(flags)


if __name__ == "__main__":
    raise SystemExit(main())
