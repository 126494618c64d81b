"""The `devicegraph` command: serve, migrate, seed-demo, export-schema, simulate."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from app.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="devicegraph", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API and the web app")
    serve.add_argument("--host", default=None, help="default: DEVICEGRAPH_HOST")
    serve.add_argument("--port", type=int, default=None, help="default: DEVICEGRAPH_PORT")
    serve.add_argument("--workers", type=int, default=1, help="worker processes")

    commands.add_parser("migrate", help="upgrade the database to the newest schema")

    seed = commands.add_parser("seed-demo", help="load demo data into an empty database")
    seed.add_argument("--force", action="store_true", help="seed even if data exists")

    export = commands.add_parser("export-schema", help="print or write the GraphQL schema")
    export.add_argument("--output", "-o", type=Path, default=None)
    export.add_argument("--check", action="store_true", help="fail if the file differs")

    simulate = commands.add_parser(
        "simulate", help="play a trading day against a running server, as the demo users"
    )
    simulate.add_argument("--rate", type=float, default=5.0, help="business actions a second")
    simulate.add_argument("--duration", type=float, default=None, help="seconds (default: ^C)")
    simulate.add_argument("--url", default=None, help="default: http://DEVICEGRAPH_HOST:PORT")
    simulate.add_argument("--seed", type=int, default=None, help="random seed")
    simulate.add_argument("--max-in-flight", type=int, default=64, help="concurrent actions")

    args = parser.parse_args(argv)
    match args.command:
        case "serve":
            return _serve(args.host, args.port, args.workers)
        case "migrate":
            from app.migrate import upgrade

            upgrade(get_settings().database_url)
            print("database is at the newest schema")
            return 0
        case "seed-demo":
            return asyncio.run(_seed(force=args.force))
        case "export-schema":
            return _export_schema(args.output, check=args.check)
        case "simulate":
            return asyncio.run(_simulate(args))
    return 2


def _serve(host: str | None, port: int | None, workers: int) -> int:
    import uvicorn

    from app.observability.logging import configure_logging

    settings = get_settings()
    configure_logging(settings)  # the app configures it again in each worker
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level=settings.log_level,
        log_config=None,  # app.observability.logging formats every line
        access_log=False,  # each request is logged once, by app.observability.middleware
        ws_ping_interval=settings.ws_ping_interval,
        ws_ping_timeout=settings.ws_ping_interval,
        ws_per_message_deflate=settings.ws_compression,
        # Open event streams (SSE) would hold a shutdown forever: their clients resume with
        # Last-Event-ID, websockets with `after`.
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
        proxy_headers=True,
    )
    return 0


async def _seed(*, force: bool) -> int:
    from app.db import create_engine, create_session_factory
    from app.services.demo import DEMO_PASSWORD, seed_demo

    settings = get_settings()
    engine = create_engine(settings)
    try:
        summary = await seed_demo(create_session_factory(engine), force=force)
    finally:
        await engine.dispose()
    if summary is None:
        print("demo data already present: nothing loaded")
        return 0
    print(summary.describe())
    print(f"demo logins (password for all: {DEMO_PASSWORD}):")
    for email, role in summary.logins:
        print(f"  {role:<10} {email}")
    return 0


async def _simulate(args: argparse.Namespace) -> int:
    import contextlib
    import signal

    from app.services.demo import DEMO_PASSWORD
    from app.simulate.runner import simulate

    if args.rate <= 0 or args.max_in_flight < 1:
        print("--rate must be positive and --max-in-flight at least 1", file=sys.stderr)
        return 2
    settings = get_settings()
    url = args.url or f"http://{settings.host}:{settings.port}"
    stop = asyncio.Event()
    with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):  # not main thread
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
    until = f"for {args.duration:g} s" if args.duration else "until ^C"
    print(f"simulating {args.rate:g} actions/s against {url} {until}", flush=True)
    try:
        report = await simulate(
            url,
            rate=args.rate,
            duration=args.duration,
            password=DEMO_PASSWORD,
            seed=args.seed,
            max_in_flight=args.max_in_flight,
            stop=stop,
        )
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(report.describe())
    return 1 if report.error_count else 0


def _export_schema(output: Path | None, *, check: bool) -> int:
    from app.resolvers.root import schema

    text = schema.as_str() + "\n"
    if output is None:
        sys.stdout.write(text)
        return 0
    if check:
        current = output.read_text() if output.exists() else ""
        if current != text:
            print(
                f"{output} differs from the schema in code: run `make schema` and commit it",
                file=sys.stderr,
            )
            return 1
        print(f"{output} matches the code")
        return 0
    output.write_text(text)
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
