"""The DuckDB store: connection, DDL, staging and the run log. The only module that opens the database."""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import duckdb

from transforms import schema
from transforms.errors import StoreBusyError

DEFAULT_DB = "scamtrace.duckdb"
DEFAULT_MEMORY_LIMIT = "2GB"


def default_db_path() -> Path:
    return Path(os.environ.get("SCAMTRACE_DB") or DEFAULT_DB)


def connection_config() -> dict:
    """Config every connection to a store file in this process must share.

    DuckDB refuses a second connection to the same file with a different configuration, and Great
    Expectations reaches the store through duckdb-engine, which sets a custom user agent. Using the same
    value here lets both share the one database instance (see transforms/validate.py).
    """
    import duckdb_engine
    import sqlalchemy

    return {"custom_user_agent": f"duckdb_engine/{duckdb_engine.__version__}(sqlalchemy/{sqlalchemy.__version__})"}


def connect(
    db_path: Path | str | None = None, *, read_only: bool = False, wait_seconds: float = 0
) -> duckdb.DuckDBPyConnection:
    """Open the store. One writer at a time: DuckDB locks the file; a second process waits up to
    `wait_seconds` for it, then refuses with a clear message (never a half-open or corrupted store)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return _connect_once(db_path, read_only=read_only)
        except StoreBusyError as exc:
            if not exc.locked or time.monotonic() >= deadline:
                raise
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))


def _connect_once(db_path: Path | str | None, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    path = Path(db_path) if db_path else default_db_path()
    if read_only and not path.exists():
        raise StoreBusyError(f"no database at {path}: run `scamtrace ingest` first or pass --db")
    path.parent.mkdir(parents=True, exist_ok=True)
    # DuckDB creates the .wal journal and spill files itself, later, with the process umask: make that owner-only
    # too (they hold the same personal data as the database). Process-wide, on purpose: so are the exports.
    os.umask(os.umask(0o077) | 0o077)
    new = not path.exists()
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=connection_config())
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            busy = StoreBusyError(
                f"{path}: the database is in use by another scamtrace process; wait for it to finish "
                "(or pass --wait SECONDS) or use another --db"
            )
            busy.locked = True
            raise busy from None
        raise StoreBusyError(f"{path}: cannot open the database ({_first_line(exc)})") from None
    if new:
        os.chmod(path, 0o600)  # holds personal data: owner-only
    con.execute("SET TimeZone = 'UTC'")
    # Bound DuckDB's buffer pool (it spills to disk beyond it); without a limit it takes 80 % of RAM.
    con.execute("SET memory_limit = ?", [os.environ.get("SCAMTRACE_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)])
    if not read_only:
        ensure_schema(con)
    return con


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for table in schema.ALL_TABLES:
        con.execute(table.ddl())
    con.execute("CREATE SCHEMA IF NOT EXISTS stg")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def ident(name: str) -> str:
    """Quote-free identifier check for names we build ourselves (table names never come from input)."""
    if not _IDENT.match(name):
        raise ValueError(f"bad identifier {name!r}")
    return name


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def start_run(con: duckdb.DuckDBPyConnection, command: str, params: dict) -> str:
    run_id = str(uuid.uuid4())
    con.execute(
        "INSERT INTO runs (run_id, command, started_at, status, params) VALUES (?, ?, ?, 'running', ?)",
        [run_id, command, now_utc(), json.dumps(params, default=str)],
    )
    return run_id


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, summary: dict) -> None:
    con.execute(
        "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE run_id = ?",
        [now_utc(), status, json.dumps(summary, default=str), run_id],
    )


def file_already_ingested(con: duckdb.DuckDBPyConnection, file_id: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM ingested_files WHERE file_id = ?", [file_id]).fetchall()[0][0])
