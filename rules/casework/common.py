"""Small shared pieces of the casework stage: stable hashes, account kinds, SQL macros, state comparison."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

import duckdb
import polars as pl

from rules.presence import LOCATION_MACROS
from transforms.schema import KIND_GROUPS

# accounts.kind values that are services through which proceeds leave the banking system (VASPs, OTC, P2P,
# casinos/junkets). They are off-ramps in networks, never organisers, and they are hubs that do not join networks.
OFFRAMP_KINDS = KIND_GROUPS["off_ramps"]  # transforms/schema.py: where money leaves the banks' view

# Pseudo accounts used by readers for cash and unknown counterparties.
NOT_ACCOUNTS_SQL = "({col} IS NULL OR {col} = 'cash' OR {col} LIKE 'unknown:%')"


def sha16(*parts: Any) -> str:
    """sha256 (16 hex) of the parts joined by '|': the basis of every stable id here."""
    return hashlib.sha256("|".join("" if p is None else str(p) for p in parts).encode("utf-8")).hexdigest()[:16]


def set_hash(values: Iterable[Any]) -> str:
    return sha16(*sorted({str(v) for v in values if v is not None}))


def to_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str, ensure_ascii=False)


# DuckDB temp macros used by the casework SQL (no extensions); the location ones are shared with rules/presence.py.
MACROS = {
    **LOCATION_MACROS,
    # phone in comparable form: '+' and digits only
    "cw_phone": ("p", "nullif(regexp_replace(trim(p), '[^0-9+]', '', 'g'), '')"),
}


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Casework's cw_* macros, and the rules' st_* ones (one check of a shared IP for rules and casework)."""
    from rules.dialect import DIALECT

    DIALECT.install(con)
    for name, (args, body) in MACROS.items():
        con.execute(f"CREATE OR REPLACE TEMP MACRO {name}({args}) AS {body}")


def offramp_list_sql() -> str:
    return "[" + ", ".join(f"'{k}'" for k in OFFRAMP_KINDS) + "]"


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None):
    """Run a query and return the whole result as a polars DataFrame (drained: the connection is free again)."""
    import polars as pl

    if params:
        return pl.from_arrow(con.execute(sql, params).to_arrow_table())
    return pl.from_arrow(con.sql(sql).to_arrow_table())


def fetch_rows(con: duckdb.DuckDBPyConnection, sql: str, params=None) -> list[tuple]:
    """All rows of one query (casework reads small results: alerts, members, links)."""
    return con.execute(sql, params or []).fetchall()


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame, select: str = "*") -> None:
    """INSERT INTO `table` SELECT `select` FROM a polars frame or Arrow table, registered for that statement only
    (the register / insert / unregister steps in one place)."""
    name = f"_cw_frame_{table.lstrip('_')}"
    con.register(name, frame.to_arrow() if isinstance(frame, pl.DataFrame) else frame)
    try:
        con.execute(f"INSERT INTO {table} SELECT {select} FROM {name}")
    finally:
        con.unregister(name)
