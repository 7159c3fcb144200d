"""The serving copy: what the workbench reads, published by the batch after each run.

DuckDB lets one process write a store file, and a reader holding it open would make the batch fail. So the batch
writes a snapshot (a small DuckDB file of the casework tables and the transactions, accounts, parties and events
of alerted subjects and network members) into <store>.serving/, then points `current` at it with an atomic
rename. The workbench opens the current snapshot read-only and follows the pointer when it moves; the store itself
is never opened by the workbench.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path

import duckdb

from transforms.store import has_table

POINTER = "current"
KEEP = 3  # snapshots kept: the current one and the last two (a reader may still be finishing a request on them)

# Table -> query over the store. {subjects} is the temp table of accounts in scope (alert subjects and members).
SNAPSHOT = {
    "alerts": "SELECT * FROM alerts",
    "alert_evidence": "SELECT * FROM alert_evidence",
    "networks": "SELECT * FROM networks",
    "network_members": "SELECT * FROM network_members",
    "network_edges": "SELECT * FROM network_edges",
    "compound_links": "SELECT * FROM compound_links",
    "watchlist_matches": "SELECT * FROM watchlist_matches WHERE is_current",
    "compounds": "SELECT * FROM compounds",
    "ingested_files": "SELECT file_id, any_value(path) AS path, any_value(source) AS source, min(ingested_at) AS ingested_at"
                      " FROM ingested_files GROUP BY file_id",
    "transactions": """SELECT t.* FROM transactions t WHERE t.from_account_id IN (SELECT id FROM _wb_scope)
                       OR t.to_account_id IN (SELECT id FROM _wb_scope)
                       OR t.txn_id IN (SELECT txn_id FROM alert_evidence)""",
    "accounts": "SELECT a.* FROM accounts a WHERE a.account_id IN (SELECT id FROM _wb_scope)",
    "parties": """SELECT p.* FROM parties p WHERE p.party_id IN (SELECT id FROM _wb_scope)
                  OR p.party_id IN (SELECT holder_id FROM accounts WHERE account_id IN (SELECT id FROM _wb_scope))""",
    "events": "SELECT e.* FROM events e WHERE e.account_id IN (SELECT id FROM _wb_scope) OR e.party_id IN (SELECT id FROM _wb_scope)",
    "rule_hits": """SELECT h.* FROM rule_hits h JOIN (SELECT DISTINCT run_id, subject_id FROM alerts) a
                    ON a.run_id = h.run_id AND a.subject_id = h.subject_id""",
}
SCOPE_SQL = """
CREATE OR REPLACE TEMP TABLE _wb_scope AS
SELECT subject_id AS id FROM alerts
UNION SELECT member_id FROM network_members
UNION SELECT unnest(member_ids) FROM alerts
"""


def serving_dir(db_path: Path | str) -> Path:
    p = Path(db_path)
    return p.with_name(p.stem + ".serving")


def publish(con: duckdb.DuckDBPyConnection, db_path: Path | str) -> Path | None:
    """Write a new snapshot of the store open on con and make it current. None when the store has no alerts
    table yet (nothing to review)."""
    if not has_table(con, "alerts"):
        return None
    folder = serving_dir(db_path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"snapshot-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:8]}.duckdb"
    path = folder / name
    con.execute(SCOPE_SQL)
    quoted = path.as_posix().replace("'", "''")
    con.execute(f"ATTACH '{quoted}' AS _wb_snap")
    try:
        for table, query in SNAPSHOT.items():
            if has_table(con, table):  # each snapshot table reads the store table of its name
                con.execute(f"CREATE TABLE _wb_snap.{table} AS {query}")
    finally:
        con.execute("DETACH _wb_snap")
        con.execute("DROP TABLE IF EXISTS _wb_scope")
    os.chmod(path, 0o600)  # personal data: owner-only, like the store
    tmp = folder / f".{POINTER}.{uuid.uuid4().hex[:8]}"
    tmp.write_text(name, encoding="utf-8")
    os.replace(tmp, folder / POINTER)  # atomic: a reader sees the old name or the new, never half
    for old in sorted(folder.glob("snapshot-*.duckdb"), key=lambda p: p.stat().st_mtime)[:-KEEP]:
        if old.name != name:
            old.unlink(missing_ok=True)
            Path(str(old) + ".wal").unlink(missing_ok=True)
    return path


def current(db_path: Path | str) -> Path | None:
    folder = serving_dir(db_path)
    try:
        name = (folder / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return folder / name


class Serving:
    """Read-only connections to the current snapshot, reopened when the batch publishes a new one."""

    def __init__(self, db_path: Path | str):
        self.db_path = db_path
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._con: duckdb.DuckDBPyConnection | None = None

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the current snapshot (one per request: DuckDB cursors are not shared between threads)."""
        path = current(self.db_path)
        if path is None:
            raise FileNotFoundError(f"no serving copy of {self.db_path}: run `scamtrace run` or `scamtrace detect` "
                                    "on the store first (they publish one)")
        with self._lock:
            if path != self._path or self._con is None:
                con = duckdb.connect(str(path), read_only=True)
                con.execute("SET TimeZone = 'UTC'")
                self._con, self._path = con, path  # the old connection closes when its last cursor is gone
            return self._con.cursor()
