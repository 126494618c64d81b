"""The `devicegraph` command, run as a separate process the way CI and people run it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from app.migrate import ROOT
from app.models import Base

COMMITTED_SCHEMA = ROOT / "schema.graphql"


def devicegraph(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("DEVICEGRAPH_")}
    clean.update(env or {})
    clean.setdefault("PYTHONPATH", str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_export_schema_check_passes_for_the_committed_schema(tmp_path: Path) -> None:
    result = devicegraph("export-schema", "--check", "-o", str(COMMITTED_SCHEMA), cwd=tmp_path)
    assert result.returncode == 0, (
        "schema.graphql is out of date: run `make schema` and commit it\n" + result.stderr
    )
    assert "matches" in result.stdout


def test_export_schema_check_fails_for_a_modified_copy(tmp_path: Path) -> None:
    copy = tmp_path / "schema.graphql"
    copy.write_text(COMMITTED_SCHEMA.read_text().replace("type Device ", "type Gadget ", 1))
    assert copy.read_text() != COMMITTED_SCHEMA.read_text()

    result = devicegraph("export-schema", "--check", "-o", str(copy), cwd=tmp_path)
    assert result.returncode == 1
    assert "differs" in result.stderr

    missing = devicegraph(
        "export-schema", "--check", "-o", str(tmp_path / "nope.graphql"), cwd=tmp_path
    )
    assert missing.returncode == 1


def test_migrate_creates_the_tables_in_a_fresh_sqlite_file(tmp_path: Path) -> None:
    database = tmp_path / "var" / "fresh.db"
    url = f"sqlite+aiosqlite:///{database}"
    result = devicegraph("migrate", cwd=tmp_path, env={"DEVICEGRAPH_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert database.exists()

    with sqlite3.connect(database) as connection:
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        [version] = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert {table.name for table in Base.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables
    assert version[0]


def test_unknown_command_fails(tmp_path: Path) -> None:
    result = devicegraph("frobnicate", cwd=tmp_path)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
