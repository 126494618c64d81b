"""py-spy on a running server: a flame graph (svg), the collapsed stacks, and the functions
and libraries that take the most samples."""

from __future__ import annotations

import collections
import contextlib
import re
import subprocess
from collections.abc import Iterator
from typing import Any

from bench.common import BIN, LOGS, ROOT, results_dir


@contextlib.contextmanager
def sampling(pid: int, seconds: float, name: str, quick: bool) -> Iterator[dict[str, Any]]:
    """Sample ``pid`` for ``seconds`` while the block runs; the dict yielded is filled in
    when the block ends (paths of the svg and the collapsed stacks, and the top functions)."""
    folder = results_dir(quick)
    folder.mkdir(parents=True, exist_ok=True)
    svg = folder / f"{name}.svg"
    raw = LOGS / f"{name}.collapsed.txt"  # large: kept out of docs/
    spies = [
        subprocess.Popen(
            [
                str(BIN / "py-spy"),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(int(seconds)),
                "--rate",
                "100",
                "--nonblocking",
                "--format",
                kind,
                "--output",
                str(path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for kind, path in (("flamegraph", svg), ("raw", raw))
    ]
    result: dict[str, Any] = {}
    try:
        yield result
    finally:
        for spy in spies:
            try:
                spy.wait(timeout=seconds + 60)
            except subprocess.TimeoutExpired:
                spy.kill()
    result["svg"] = str(svg.relative_to(ROOT)) if svg.exists() else None
    result["collapsed"] = str(raw.relative_to(ROOT)) if raw.exists() else None
    if raw.exists():
        result.update(top_functions(raw.read_text()))


_GROUPS = [
    ("graphql-core execution", ("graphql/execution", "graphql/type")),
    ("strawberry", ("strawberry/",)),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("asyncpg", ("asyncpg/",)),
    ("app code", ("/app/",)),
    ("uvicorn / HTTP", ("uvicorn/", "h11", "httptools")),
    ("starlette", ("starlette/",)),
    ("JSON", ("json/",)),
]


def top_functions(collapsed: str, limit: int = 15) -> dict[str, Any]:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    groups: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")[1:]  # the first is the process/thread
        total += count
        if not frames:
            continue
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
        leaf = frames[-1]
        for group, needles in _GROUPS:
            if any(needle in leaf for needle in needles):
                groups[group] += count
                break
        else:
            groups["other (event loop, interpreter)"] += count

    def share(counter: collections.Counter[str]) -> list[dict[str, Any]]:
        return [
            {"function": _short(name), "percent": round(100 * count / total, 1)}
            for name, count in counter.most_common(limit)
        ]

    return {
        "samples": total,
        "self": share(own),
        "inclusive": share(
            collections.Counter(
                {k: v for k, v in inclusive.items() if "<module>" not in k and "run" not in k}
            )
        ),
        "by_library": share(groups),
    }


def _short(frame: str) -> str:
    """``name (path/to/file.py:line)`` with the site-packages prefix cut."""
    frame = re.sub(r"\(.*?site-packages/", "(", frame)
    return re.sub(r"\(/work/main/", "(", frame)
