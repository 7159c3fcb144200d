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
    limit = os.environ.get("SCAMTRACE_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)
    con.execute("SET memory_limit = ?", [limit])
    # DuckDB shows the limit rounded (12GB as '11.1 GiB'): what was set, by what it shows, so that a step that
    # lowers the limit for a moment (rules/engine.py) sets back this exact value
    MEMORY_LIMITS_SET[con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]] = limit
    if not read_only:
        ensure_schema(con)
    return con


MEMORY_LIMITS_SET: dict[str, str] = {}  # memory_limit as DuckDB shows it -> as connect() set it


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for table in schema.ALL_TABLES:
        con.execute(table.ddl())
    have = {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'transactions' "
                                       "AND database_name = current_database() AND schema_name = 'main'").fetchall()}
    if have and not set(schema.TRANSACTIONS.names) <= have:  # a store made before fx_source and fx_status
        for sql in schema.TRANSACTIONS.upgrade():
            con.execute(sql)
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


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the store has this table yet (outputs of later stages appear only once those stages ran)."""
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).fetchall()[0][0])


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


# ------------------------------------------------------------------------------------ key hashes of the facts
# transactions_keys / events_keys (schema.Table.keys_table): one row (h = key_hash(key), file_id) per stored fact
# row, so that the loader asks "already stored?" of 8-byte hashes, not of every stored key string. A hash only ever
# says "maybe": the loader confirms matches against the key column itself, in the rows of the files named next to
# the matching hashes (file_id compresses to almost nothing: rows arrive file by file). What must hold is that no
# stored row's (hash, file_id) is missing: `fact_keys` checks that before every probe and rebuilds the side table
# (one scan) when it is absent (a store made before it existed), was made with another hash function (DuckDB does
# not promise `hash` is stable across versions) or layout, or holds a different number of rows than its table
# (facts inserted or deleted by anything but the loader; both counts come from DuckDB's metadata). Code that
# writes facts outside the loader should use delete_facts / insert_facts, which keep the side table in step.
KEYS_LAYOUT = 1  # part of the mark: bump it when the keys tables' columns or meaning change


def key_hash(column: str) -> str:
    """SQL expression of the hash stored in a keys table (a function so that tests can force collisions)."""
    return f"hash({column})"


def _keys_mark(con: duckdb.DuckDBPyConnection) -> str:
    """What a keys table was built with, kept as its table comment: a different mark means rebuild."""
    probes = con.execute(
        f"SELECT {key_hash('p')} FROM (VALUES ('k'), ('scamtrace key hashes: a probe longer than inlined')) v(p)"
    ).fetchall()
    mark = f"scamtrace keys v{KEYS_LAYOUT}; {key_hash('key')}; duckdb {duckdb.__version__}; {[p[0] for p in probes]}"
    return mark.replace("'", "")


def _keys_table_comment(con: duckdb.DuckDBPyConnection, name: str) -> tuple[bool, str | None]:
    rows = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' "
        "AND table_name = ? AND NOT temporary",
        [name],
    ).fetchall()
    return (bool(rows), rows[0][0] if rows else None)


def fact_keys(con: duckdb.DuckDBPyConnection, table: schema.Table) -> str:
    """The name of `table`'s keys table, (re)built first unless it exists, carries the current mark and has as
    many rows as `table`. Call it inside the transaction that then inserts into `table`."""
    name = ident(table.keys_table or "")
    mark = _keys_mark(con)
    exists, comment = _keys_table_comment(con, name)
    if exists and comment == mark:
        counts = f"SELECT (SELECT count(*) FROM {table.name}), (SELECT count(*) FROM {name})"  # from metadata
        row = con.execute(counts).fetchone()
        if row is not None and row[0] == row[1]:
            return name
    rebuild_fact_keys(con, table, mark)
    return name


def rebuild_fact_keys(con: duckdb.DuckDBPyConnection, table: schema.Table, mark: str | None = None) -> None:
    name = ident(table.keys_table or "")
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT {key_hash(table.key[0])} AS h, file_id FROM {table.name}")
    con.execute(f"COMMENT ON TABLE {name} IS '{mark or _keys_mark(con)}'")


def delete_facts(con: duckdb.DuckDBPyConnection, table_name: str, where: str) -> None:
    """DELETE FROM a fact table WHERE `where`, and the deleted rows' hashes from its keys table, in one transaction
    (the caller must not be in one). A hash another kept row shares goes too: the counts then differ and the next
    probe rebuilds the keys table, which is safe."""
    table = schema.LOADED_TABLES[table_name]
    name = table.keys_table
    with transaction(con):
        if name and _keys_table_comment(con, name)[0]:
            h = key_hash(table.key[0])
            con.execute(f"DELETE FROM {name} WHERE h IN (SELECT {h} FROM {table.name} WHERE {where})")
        con.execute(f"DELETE FROM {table.name} WHERE {where}")


def insert_facts(con: duckdb.DuckDBPyConnection, table_name: str, select: str) -> None:
    """INSERT INTO a fact table the rows of `select` (all columns, in table order), and their hashes into its keys
    table, in one transaction (the caller must not be in one). No duplicate check: the caller's rows are new."""
    table = schema.LOADED_TABLES[table_name]
    name = table.keys_table
    with transaction(con):
        con.execute(f"CREATE OR REPLACE TEMP TABLE _insert_facts AS {select}")
        con.execute(f"INSERT INTO {table.name} BY NAME SELECT * FROM _insert_facts")  # by name: old stores order columns otherwise
        if name and _keys_table_comment(con, name)[0]:
            con.execute(f"INSERT INTO {name} SELECT {key_hash(table.key[0])}, file_id FROM _insert_facts")
        con.execute("DROP TABLE _insert_facts")


def file_already_ingested(con: duckdb.DuckDBPyConnection, file_id: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM ingested_files WHERE file_id = ?", [file_id]).fetchall()[0][0])


def already_ingested(con: duckdb.DuckDBPyConnection, file_ids: list[str]) -> set[str]:
    """The file_ids among these whose content is stored: one scan of ingested_files for many files."""
    return {r[0] for r in con.execute("SELECT DISTINCT file_id FROM ingested_files WHERE file_id IN (SELECT unnest(?))",
                                      [file_ids]).fetchall()}
