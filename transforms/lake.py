"""The canonical tables as a Parquet lake, for engines beyond one machine (Spark) and for exchange.

Layout (plain Parquet with Hive-style partitions, readable by Spark, DuckDB, polars, Trino, Athena, BigQuery):

    DIR/_lake.json                                         what was written: tables, columns, rows, partitions
    DIR/transactions/booking_month=2025-03/data_0.parquet  facts partitioned by the month of booked_at (UTC)
    DIR/events/event_month=2025-03/data_0.parquet          by the month of occurred_at
    DIR/accounts/data_0.parquet                            reference tables in one file each
    ...

Same columns and provenance (source, file_id, row_no) as the store. Plain Parquet rather than Delta Lake or
Iceberg: a Spark cluster reads it with no extra jars (delta-spark and iceberg-spark fetch theirs from a Maven
repository at start-up, which a closed FIU network does not reach), and the lake is rewritten whole by each export,
so it needs no table format's transactions. An export goes to a new folder that replaces DIR only once complete.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from transforms import store
from transforms.schema import LOADED_TABLES

LAKE_VERSION = 1
MANIFEST = "_lake.json"
# fact tables and the timestamp whose UTC month partitions them
PARTITIONS = {"transactions": ("booked_at", "booking_month"), "events": ("occurred_at", "event_month")}


def export_lake(con: duckdb.DuckDBPyConnection, to: Path, extra_tables: tuple[str, ...] = ()) -> dict:
    """Write every canonical table (and `extra_tables` of the store, e.g. listed_addresses) under `to`."""
    to = Path(to)
    work = to.with_name(f".{to.name}.writing")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    tables = {}
    try:
        for name in (*LOADED_TABLES, *extra_tables):
            if not store.has_table(con, name):
                continue
            tables[name] = _write_table(con, name, work)
        manifest = {"lake_version": LAKE_VERSION, "written_at": datetime.now(timezone.utc).isoformat(),
                    "tables": tables}
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if to.exists():
            shutil.rmtree(to)
        work.rename(to)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def _write_table(con: duckdb.DuckDBPyConnection, name: str, folder: Path) -> dict:
    columns = [(r[0], r[1]) for r in con.execute(f"DESCRIBE {store.ident(name)}").fetchall()]
    rows = con.execute(f"SELECT count(*) FROM {store.ident(name)}").fetchone()[0]  # type: ignore[index]
    target = folder / name
    part = PARTITIONS.get(name)
    if part and rows:
        column, key = part
        con.execute(f"COPY (SELECT *, strftime(timezone('UTC', {column}), '%Y-%m') AS {key} FROM {store.ident(name)}) "
                    f"TO '{target}' (FORMAT parquet, PARTITION_BY ({key}), COMPRESSION zstd)")
    else:
        target.mkdir()
        con.execute(f"COPY {store.ident(name)} TO '{target / 'data_0.parquet'}' (FORMAT parquet, COMPRESSION zstd)")
    return {"rows": rows, "columns": [{"name": c, "type": t} for c, t in columns],
            "partitioned_by": part[1] if part else None}


def read_manifest(lake: Path) -> dict:
    path = Path(lake) / MANIFEST
    if not path.is_file():
        from transforms.errors import InputError

        raise InputError(f"no {MANIFEST}: not a scamtrace lake (write one with `scamtrace lake export --to DIR`)",
                         path=lake)
    return json.loads(path.read_text(encoding="utf-8"))
