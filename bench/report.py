"""Write docs/benchmarks.md and its PNG plots from the JSON results in docs/benchmarks/.

The findings written by hand after a run (what dominates where a target is missed) live in
docs/benchmarks/notes.md and are included as they are.

    .venv/bin/python -m bench.report [--quick]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.common import ROOT, results_dir

DOC = ROOT / "docs" / "benchmarks.md"
LATENCY_TARGET_MS = 50.0
MEMORY_TARGET_MB = 1536.0
BOARD_TARGET_RPS = 1000.0


def _load(folder: Path, name: str) -> dict[str, Any] | None:
    path = folder / f"{name}.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _field(cell: dict[str, Any]) -> str:
    return str(cell.get("subscription", "events"))


def _verdict(met: bool | None) -> str:
    return {True: "**met**", False: "**not met**", None: "not measured"}[met]


# --- plots -----------------------------------------------------------------------------------


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_latency(latency: dict[str, Any], folder: Path) -> str:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7, 4.2))
    single = [cell for cell in latency["cells"] if cell["servers"] == 1]
    lines = sorted({(_field(cell), phase["rate"]) for cell in single for phase in cell["phases"]})
    for field, rate in lines:
        points = sorted(
            (
                (cell["subscribers"], phase)
                for cell in single
                if _field(cell) == field
                for phase in cell["phases"]
                if phase["rate"] == rate and phase["p50_ms"] is not None
            ),
            key=lambda point: point[0],
        )
        if len(points) < 2:
            continue
        xs = [n for n, _ in points]
        for key, style in (("p50_ms", "o-"), ("p99_ms", "s--")):
            axes.plot(
                xs,
                [phase[key] for _, phase in points],
                style,
                label=f"{field} {rate:g}/s {key[:3]}",
            )
    axes.axhline(LATENCY_TARGET_MS, color="red", linewidth=0.8, label="target p99 50 ms")
    _plain_log_axis(axes)
    axes.set_yscale("log")
    axes.set_xlabel("subscribers (one process)")
    axes.set_ylabel("receive - occurredAt (ms)")
    axes.set_title("Commit-to-subscriber latency (delivered events)")
    axes.legend(fontsize=7)
    axes.grid(True, which="both", alpha=0.3)
    return _save(figure, folder / "latency.png")


def plot_fanout(
    latency: dict[str, Any] | None, capacity: dict[str, Any] | None, folder: Path
) -> str:
    plt = _pyplot()
    by_field: dict[str, list[tuple[int, float, float]]] = {}
    for cell in (latency or {}).get("cells", []):
        fanout = cell.get("fanout")
        if fanout and fanout.get("median_first_ms") is not None:
            by_field.setdefault(_field(cell), []).append(
                (fanout["subscribers"], fanout["median_first_ms"], fanout["median_last_ms"])
            )
    for series in (capacity or {}).get("series", []):
        fanout = series.get("fanout")
        if series["per_socket"] == 1 and fanout and fanout.get("received"):
            by_field.setdefault("events", []).append(
                (fanout["received"], fanout["first_ms"], fanout["last_ms"])
            )
    figure, axes = plt.subplots(figsize=(7, 4.2))
    for field, points in sorted(by_field.items()):
        points.sort()
        xs = [p[0] for p in points]
        axes.plot(xs, [p[1] for p in points], "o-", label=f"{field}: first subscriber")
        axes.plot(xs, [p[2] for p in points], "s--", label=f"{field}: last subscriber")
    _plain_log_axis(axes)
    axes.set_xlabel("subscribers (one process, one per websocket)")
    axes.set_ylabel("receive - occurredAt (ms)")
    axes.set_title("Fanning one event out to N subscribers")
    axes.legend()
    axes.grid(True, which="both", alpha=0.3)
    return _save(figure, folder / "fanout.png")


def plot_capacity(capacity: dict[str, Any], folder: Path) -> str:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7, 4.2))
    for series in capacity["series"]:
        key = "subscriptions" if series["per_socket"] else "connections"
        xs = [step[key] for step in series["steps"]]
        axes.plot(xs, [step["rss_mb"] for step in series["steps"]], "o-", label=series["label"])
    axes.axhline(MEMORY_TARGET_MB, color="red", linewidth=0.8, label="target 1.5 GB at 10,000")
    axes.set_xlabel("subscriptions (connections for the bare sockets)")
    axes.set_ylabel("server RSS (MB)")
    axes.set_title("Memory of one server process")
    axes.legend(fontsize=8)
    axes.grid(True, alpha=0.3)
    return _save(figure, folder / "capacity.png")


def plot_board(board: dict[str, Any], folder: Path) -> str:
    plt = _pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(8, 3.6))
    labels = [_board_label(run) for run in board["runs"]]
    left.bar(labels, [run.get("requests_per_second", 0) for run in board["runs"]])
    left.axhline(BOARD_TARGET_RPS, color="red", linewidth=0.8, label="target 1,000/s")
    left.set_xlabel("clients (+ writes a second)")
    left.set_ylabel("requests a second")
    left.legend(fontsize=8)
    right.bar(labels, [run.get("p99_ms", 0) for run in board["runs"]], color="tab:orange")
    right.set_xlabel("clients (+ writes a second)")
    right.set_ylabel("p99 (ms)")
    figure.suptitle("The buyers' board query (50 listings), one process")
    return _save(figure, folder / "board.png")


def _board_label(run: dict[str, Any]) -> str:
    writes = run.get("writes_per_second_asked")
    return f"{run['connections']}" if not writes else f"{run['connections']} + {writes:g}/s"


def plot_profile(profile: dict[str, Any], folder: Path) -> str:
    plt = _pyplot()
    rows = list(reversed(profile.get("by_library", [])))
    figure, axes = plt.subplots(figsize=(7, 3.6))
    axes.barh([row["function"] for row in rows], [row["percent"] for row in rows])
    axes.set_xlabel("% of samples (leaf frame)")
    axes.set_title("Where the board query's server time goes (py-spy)")
    figure.tight_layout()
    return _save(figure, folder / "board-profile.png")


def plot_purchases(purchases: dict[str, Any], folder: Path) -> str:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 3.6))
    values = [purchases["api"]["purchases_per_second"] or 0, purchases["pgbench"]["tps"] or 0]
    axes.bar(["buyListings through the API", "pgbench TPC-B-like"], values)
    axes.set_ylabel("per second (16 clients)")
    axes.set_title(f"Purchases beside pgbench: ratio {_fmt(purchases['ratio'], 3)}")
    return _save(figure, folder / "purchases.png")


def _plain_log_axis(axes: Any) -> None:
    """A log x axis labelled 100, 1,000, 5,000 rather than in powers of ten."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axes.set_xscale("log")
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    axes.xaxis.set_minor_formatter(NullFormatter())


def _save(figure: Any, path: Path) -> str:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    _pyplot().close(figure)
    return path.name


# --- the document ----------------------------------------------------------------------------


def latency_section(latency: dict[str, Any], picture: str) -> tuple[str, dict[str, bool]]:
    rows = []
    met: dict[str, bool] = {}
    for cell in latency["cells"]:
        for phase in cell["phases"]:
            where = "1 process" if cell["servers"] == 1 else f"2 processes, {cell['broadcast']}"
            rows.append(
                [
                    f"`{_field(cell)}`",
                    cell["subscribers"],
                    f"{phase['rate']:g}",
                    where,
                    _fmt(phase["writer"]["achieved_rate"]),
                    phase["p50_ms"],
                    phase["p95_ms"],
                    phase["p99_ms"],
                    phase["after_response_p50_ms"],
                    phase["after_response_p99_ms"],
                    f"{phase['delivered_pct']}%",
                    phase["lagged"],
                    phase["messages_per_second"],
                    "/".join(_fmt(cpu) for cpu in phase["server_cpu_seconds"]),
                    phase["writer"]["mutation_p50_ms"],
                    phase["load"],
                ]
            )
            if cell["servers"] == 1 and cell["subscribers"] == 1000 and phase["rate"] == 100:
                met[_field(cell)] = (
                    phase["p99_ms"] is not None
                    and phase["p99_ms"] < LATENCY_TARGET_MS
                    and phase["delivered_pct"] >= 100
                )
    table = _table(
        [
            "subscription",
            "subscribers",
            "mutations/s asked",
            "servers",
            "mutations/s sent",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "p50 after response",
            "p99 after response",
            "delivered",
            "LAGGED",
            "messages/s",
            "server CPU s",
            "mutation p50 ms",
            "load (1/5/15 min)",
        ],
        rows,
    )
    fanout_rows = [
        [
            f"`{_field(cell)}`",
            cell["fanout"]["subscribers"],
            cell["fanout"]["min_received"],
            cell["fanout"]["median_first_ms"],
            cell["fanout"]["median_last_ms"],
            cell["fanout"]["median_spread_ms"],
        ]
        for cell in latency["cells"]
        if cell.get("fanout")
    ]
    fanout = _table(
        [
            "subscription",
            "subscribers",
            "fewest received",
            "first ms (median)",
            "last ms (median)",
            "spread ms",
        ],
        fanout_rows,
    )
    queries = "\n".join(
        f"- `{field}`: `{query}`" for field, query in latency.get("subscriptions", {}).items()
    )
    seconds = next(
        (cell["phases"][0]["seconds"] for cell in latency["cells"] if cell["phases"]), None
    )
    text = f"""## 1. Commit-to-subscriber latency

Subscribers, one subscription per websocket, signed in as buyers of
{latency["buyer_organisations"]} organisations (round robin), in separate processes
(graphql-transport-ws, `websockets` client on uvloop, no permessage-deflate). The writer is
one more process: an operator repricing the board's ACTIVE listings with `repriceListing`
through the API at the asked rate (open loop, at most 64 in flight; a mutation that cannot
start within 2 s of the phase's end is not sent, so "mutations/s sent" falls below the asked
rate when the server is saturated). Each cell is a fresh server and fresh subscribers; the
phase writes for {_fmt(seconds)} s, then waits until every subscriber has every event or 10 s
more have passed. The operations:

{queries}

For `listingBoard` the first message (the snapshot) is left out and a change is matched by the
listing's id and version; its `updatedAt`, set in the writing transaction like `occurredAt`,
stands for `occurredAt` below.

**Definition.** Latency of one delivery = the subscriber's wall-clock receive time minus the
event's `occurredAt`, which the server sets inside the writing transaction before COMMIT: an
upper bound on commit-to-subscriber latency (it includes the end of the transaction and the
commit). "after response" = receive time minus the time the writer got its mutation's response
(which comes after the commit): a lower bound, negative when the subscriber had the event before
the writer had its answer. Percentiles are over delivered events; "delivered" is the share of
(events x subscribers) that arrived, LAGGED counts subscribers the server cut off for falling
1,000 events behind.

{table}

![latency]({picture})

## 2. Fanning one event out to N subscribers

Single events written one at a time with no other load, on the same subscribers (median of
the events; times from `occurredAt`; spread = last - first).

{fanout}
"""
    for cell in latency["cells"]:
        for phase in cell["phases"]:
            if phase.get("profile"):
                text += _profile_text(
                    f"`{_field(cell)}`, {cell['subscribers']} subscribers at "
                    f"{phase['rate']:g} mutations a second",
                    phase["profile"],
                )
    return text, met


def _profile_text(what: str, profile: dict[str, Any]) -> str:
    svg = Path(profile["svg"]).name if profile.get("svg") else None
    own = _table(
        ["function (self time)", "% of samples"],
        [[f"`{row['function']}`", row["percent"]] for row in profile.get("self", [])[:12]],
    )
    libraries = _table(
        ["library (leaf frame)", "% of samples"],
        [[row["function"], row["percent"]] for row in profile.get("by_library", [])],
    )
    link = f"[{svg}](benchmarks/{svg})" if svg else "-"
    return f"""
### Profile: {what}

py-spy at 100 Hz on the server process ({profile.get("samples", 0)} samples); flame graph:
{link}.

{libraries}

{own}
"""


def capacity_section(capacity: dict[str, Any], picture: str) -> tuple[str, bool | None]:
    parts = ["## 3. Subscriptions one process holds, and memory\n"]
    parts.append(
        "Server RSS (VmRSS of /proc/<pid>/status) after each step of connections that stay open "
        "and idle (a fresh server per series), and one event to all of them at the end.\n"
    )
    met: bool | None = None
    summary = []
    for series in capacity["series"]:
        last = series["steps"][-1]
        fanout = series.get("fanout") or {}
        summary.append(
            [
                series["label"],
                last["connections"],
                last["subscriptions"],
                series["steps"][0]["rss_mb"],
                last["rss_mb"],
                series["mb_per_thousand"],
                series.get("final_rss_mb"),
                series.get("idle_cpu_share"),
                fanout.get("received"),
                fanout.get("last_ms"),
                series["load"],
            ]
        )
        if series["per_socket"] and last["subscriptions"] >= 10_000:
            fits = last["rss_mb"] < MEMORY_TARGET_MB
            met = fits if met is None else (met and fits)
        elif series["per_socket"] and met is None:
            met = False
    parts.append(
        _table(
            [
                "series",
                "connections",
                "subscriptions",
                "RSS at start MB",
                "RSS at end MB",
                "MB per 1,000",
                "RSS after the event MB",
                "idle CPU (cores)",
                "one event: received",
                "one event: last ms",
                "load",
            ],
            summary,
        )
    )
    for series in capacity["series"]:
        parts.append(f"\n{series['label']}:\n")
        parts.append(
            _table(
                ["connections", "subscriptions", "RSS MB", "step took s", "failed"],
                [
                    [
                        step["connections"],
                        step["subscriptions"],
                        step["rss_mb"],
                        step.get("connect_seconds"),
                        step.get("failed"),
                    ]
                    for step in series["steps"]
                ],
            )
        )
    parts.append(f"\n![capacity]({picture})\n")
    return "\n".join(parts), met


def board_section(board: dict[str, Any], pictures: list[str]) -> tuple[str, bool | None]:
    rows = [
        [
            run["connections"],
            run.get("writes_per_second") if run.get("writes_per_second_asked") else 0,
            run.get("write_p50_ms") if run.get("writes_per_second_asked") else "",
            run.get("requests_per_second"),
            run.get("p50_ms"),
            run.get("p90_ms"),
            run.get("p99_ms"),
            run.get("non_2xx"),
            run.get("server_cpu_share"),
            run["load"],
        ]
        for run in board["runs"]
    ]
    reads_only = [run for run in board["runs"] if not run.get("writes_per_second_asked")]
    best = max((run.get("requests_per_second") or 0 for run in reads_only), default=None)
    met = None if best is None else best >= BOARD_TARGET_RPS
    header = [
        "clients",
        "writes/s",
        "write p50 ms",
        "requests/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "non-2xx",
    ]
    table = _table([*header, "server CPU (cores)", "load"], rows)
    text = f"""## 4. The buyers' board query

{board["load_generator"]}; one server process; a buyer's token; the board holds the demo's
listings plus 1,000 more, and each request asks for the first 50 with device and current grade
(a {_fmt(board["response_bytes"])}-byte answer):

```graphql
{board["query"]}
```

Command per row: `{board["runs"][0]["command"] if board["runs"] else ""}`. Answers come from
the board's response cache (app/web/response_cache.py) until something changes; the rows with
writes run a writer process beside wrk that reprices the board's listings through the API
(`repriceListing` as sales), each write emptying the cache. The target is judged on the rows
without writes.

{table}

{" ".join(f"![board]({picture})" for picture in pictures)}
"""
    profile = board.get("profile")
    if profile:
        rate = _fmt(profile.get("requests_per_second_while_sampled"))
        text += _profile_text(
            f"the board query, wrk with 64 clients ({rate} requests/s while sampled)", profile
        )
    return text, met


def purchases_section(purchases: dict[str, Any], picture: str) -> str:
    api = purchases["api"]
    bench = purchases["pgbench"]
    return f"""## 5. Purchases a second, beside pgbench

{api["clients"]} concurrent buyers (64 buyer organisations, one token each) buy distinct ACTIVE
listings with `buyListings` (one listing per order, a fresh idempotency key each) for
{_fmt(api["seconds"])} s against one server process; load generator:
{purchases["load_generator"]}, in a process of its own. pgbench on the same PostgreSQL server,
in a database of its own: `{bench["command"]}`.

{
        _table(
            ["what", "per second", "p50 ms", "p99 ms", "outcomes", "server CPU (cores)", "load"],
            [
                [
                    "buyListings (API)",
                    api["purchases_per_second"],
                    api["p50_ms"],
                    api["p99_ms"],
                    ", ".join(f"{k}: {v}" for k, v in api["outcomes"].items()),
                    api.get("server_cpu_share"),
                    api["load"],
                ],
                [
                    "pgbench (TPC-B-like)",
                    bench["tps"],
                    bench["latency_average_ms"],
                    None,
                    "",
                    None,
                    bench["load"],
                ],
            ],
        )
    }

Ratio purchases / pgbench transactions: **{_fmt(purchases["ratio"], 3)}**.

![purchases]({picture})
"""


def _merge_latency(folder: Path) -> dict[str, Any] | None:
    """latency-events.json and latency-listingBoard.json as one result."""
    parts = [_load(folder, path.stem) for path in sorted(folder.glob("latency-*.json"))]
    found = [part for part in parts if part]
    if not found:
        return None
    merged = dict(found[0])
    merged["subscriptions"] = {}
    merged["cells"] = []
    for part in found:
        merged["subscriptions"].update(part["subscriptions"])
        merged["cells"].extend(part["cells"])
    return merged


def build(quick: bool) -> str:
    folder = results_dir(quick)
    latency = _merge_latency(folder)
    capacity = _load(folder, "capacity")
    board = _load(folder, "board")
    purchases = _load(folder, "purchases")
    prefix = "benchmarks/" if not quick else ""
    latency_met: dict[str, bool] = {}
    machine = next((data["machine"] for data in (latency, capacity, board, purchases) if data), {})
    sections = []
    verdicts: dict[str, bool | None] = {"memory": None, "board": None}
    if latency:
        picture = prefix + plot_latency(latency, folder)
        text, latency_met = latency_section(latency, picture)
        fanout_picture = prefix + plot_fanout(latency, capacity, folder)
        sections.append(text + f"\n![fan-out]({fanout_picture})\n")
    if capacity:
        text, verdicts["memory"] = capacity_section(
            capacity, prefix + plot_capacity(capacity, folder)
        )
        sections.append(text)
    if board:
        pictures = [prefix + plot_board(board, folder)]
        if board.get("profile"):
            pictures.append(prefix + plot_profile(board["profile"], folder))
        text, verdicts["board"] = board_section(board, pictures)
        sections.append(text)
    if purchases:
        sections.append(purchases_section(purchases, prefix + plot_purchases(purchases, folder)))
    latency_verdict = "; ".join(
        f"`{field}`: {_verdict(ok)}" for field, ok in latency_met.items()
    ) or _verdict(None)
    notes_path = ROOT / "docs" / "benchmarks" / "notes.md"
    notes = notes_path.read_text() if notes_path.exists() and not quick else ""

    def m(key: str) -> str:
        return str(machine.get(key, "-"))

    header = f"""# Benchmarks

Measured on {m("date")} at commit `{m("commit")}`: {m("cpus")} CPUs ({m("cpu_model")}),
{m("memory_gb")} GB, Python {m("python")}, PostgreSQL on the same machine. Server,
subscribers, writers and load generators all run on these two cores, so every table gives the
load average beside its figures: with two cores a load above 2 means the server got only part
of a CPU.

Rerun everything (about 30 minutes; needs PostgreSQL at `BENCH_POSTGRES_URL`, default
`postgresql://postgres@127.0.0.1:5432/postgres`, Redis at `BENCH_REDIS_URL` and `wrk`):

```sh
make bench                                   # = .venv/bin/python -m bench.run_all
.venv/bin/python -m bench.run_all --quick    # a smoke run with small N (results in var/bench/quick)
```

or one part at a time: `.venv/bin/python -m bench.latency`, `bench.capacity`,
`bench.board --profile`, `bench.purchases`, then `bench.report`. Each creates its own database
`bench_<pid>_<part>` on the PostgreSQL server (migrated with `devicegraph migrate`, loaded with
`devicegraph seed-demo` plus bench rows), starts `devicegraph serve` processes on free ports
(PostgreSQL broadcast unless stated; `DEVICEGRAPH_RATE_LIMIT_REQUESTS=0` so a load generator's
few tokens are not refused, `DEVICEGRAPH_WS_MAX_CONNECTIONS_PER_IDENTITY=100000` since
thousands of subscribers share 50 buyer identities, and `DEVICEGRAPH_WS_MESSAGES_PER_SECOND=0`
since the capacity series subscribes 100 times on one socket at once; every other setting at
its default,
render once per group included), and drops the database at the end. Raw results:
`docs/benchmarks/*.json`.

Smaller tools, printed rather than written here: `bench.latency --cell 1000 100` (one cell),
`bench.fanout` (the delivery paths compared, in-process on SQLite) and `bench.mutations`
(server CPU per write).

## Targets (one process, this 2-core machine)

| target | result |
|---|---|
| p99 under 50 ms at 1,000 subscribers and 100 mutations a second | {latency_verdict} |
| 10,000 subscriptions in under 1.5 GB | {_verdict(verdicts["memory"])} |
| the board query at 1,000 requests a second or more | {_verdict(verdicts["board"])} |
"""
    return "\n".join([header, *sections, notes])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="report the smoke run instead")
    args = parser.parse_args(argv)
    text = build(args.quick)
    target = results_dir(True) / "benchmarks.md" if args.quick else DOC
    target.write_text(text)
    print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
