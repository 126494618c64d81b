"""Structured logs: one JSON object a line in production, readable lines in development.

Everything goes through the standard library's root logger, so the app's own records
(``structlog.get_logger()``), strawberry's error reports and uvicorn's start-up and error
messages all come out in the same format, with the request id of the request they belong to
(bound in contextvars by app.observability.middleware). uvicorn's access log is switched off:
the middleware logs each request once, with more in it.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog
from structlog.typing import EventDict, Processor

from app.settings import Settings

_HANDLER_MARK = "_devicegraph_handler"

_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def log_format(settings: Settings) -> str:
    """``json`` or ``console``: the setting, else JSON in production and console otherwise."""
    if settings.log_format is not None:
        return settings.log_format
    return "json" if settings.is_production else "console"


def make_formatter(fmt: str) -> logging.Formatter:
    """The formatter for ``fmt`` (``json`` or ``console``); any logging handler can use it."""
    renderer: Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
        final: list[Processor] = [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ]
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
        final = [structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.ExtraAdder(), _drop_color_message],
        processors=final,
    )


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> None:
    """Route every log record through structlog in the configured format (idempotent)."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(make_formatter(log_format(settings)))
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(_level(settings.log_level))
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per outgoing request
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes (test runners swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def _drop_color_message(_logger: object, _name: str, event: EventDict) -> EventDict:
    """uvicorn adds a copy of its message with terminal colour codes: not for log lines."""
    event.pop("color_message", None)
    return event


def _level(name: str) -> int:
    level = logging.getLevelName(name.upper())
    return level if isinstance(level, int) else logging.INFO
