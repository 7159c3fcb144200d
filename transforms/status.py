"""What a store holds, for `scamtrace status`: rows per table, sources with their date ranges, currencies without
rates, quarantine by reason, the last runs. Read-only queries; each part is skipped when its table is absent."""

from __future__ import annotations

import duckdb

from transforms import schema
from transforms.store import has_table


def store_status(con: duckdb.DuckDBPyConnection, runs: int = 5) -> dict:
    out: dict = {"tables": {}, "sources": [], "no_rate": [], "fx_sources": [], "quarantine": [], "runs": []}
    for t in schema.ALL_TABLES:
        if has_table(con, t.name):
            out["tables"][t.name] = con.execute(f"SELECT count(*) FROM {t.name}").fetchone()[0]  # type: ignore[index]
    if has_table(con, "alerts"):
        out["tables"]["alerts"] = con.execute("SELECT count(*) FROM alerts").fetchone()[0]  # type: ignore[index]
    if has_table(con, "transactions"):
        out["sources"] = con.execute(
            """SELECT source, count(*) AS n, min(booked_at) AS first, max(booked_at) AS last
               FROM transactions GROUP BY source ORDER BY n DESC""").fetchall()
    fx = bool(con.execute("SELECT count(*) FROM duckdb_columns() WHERE table_name = 'transactions' "
                          "AND column_name = 'fx_status'").fetchone()[0])  # type: ignore[index]  # older stores: none
    if fx:
        out["no_rate"] = con.execute(
            """SELECT currency, count(*) AS n, min(booked_at), max(booked_at) FROM transactions
               WHERE fx_status = 'no_rate' GROUP BY currency ORDER BY n DESC""").fetchall()
        out["fx_sources"] = con.execute(
            "SELECT coalesce(fx_source, 'none'), count(*) FROM transactions GROUP BY 1 ORDER BY 2 DESC").fetchall()
    if has_table(con, "quarantine"):
        out["quarantine"] = con.execute(
            """SELECT target_table, split_part(reason, ':', 1) AS field, count(*) AS n, any_value(reason) AS example
               FROM (SELECT target_table, unnest(reasons) AS reason FROM quarantine)
               GROUP BY ALL ORDER BY n DESC LIMIT 15""").fetchall()
    if has_table(con, "runs"):
        out["runs"] = con.execute(
            "SELECT command, started_at, finished_at, status FROM runs ORDER BY started_at DESC LIMIT ?", [runs]).fetchall()
    return out
