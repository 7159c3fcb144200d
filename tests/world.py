"""Rows for the tests' stores, in one place: the casework and export tests build their worlds with insert_row, the
rule tests with a RowBuffer (many rows, one statement per table); either way canonical tables get their provenance
columns filled in and dicts become JSON (row_values).

tests/rules/conftest.py (World: rows by the hour, one rule run), tests/casework/casebook.py (Case: a hand-made
network with alerts) and tests/exports/conftest.py (a store with casework tables) are conveniences on top of it;
tests/batch/world.py writes landing files for ingest instead of rows.
"""

from __future__ import annotations

import json

import pyarrow as pa

from transforms.schema import LOADED_TABLES

PROVENANCE = {"source": "test", "file_id": "f", "row_no": 1}


def row_values(table: str, cols: dict) -> dict:
    """A row as inserted: a canonical table's provenance (source, file_id, row_no) defaults to a test file; dicts
    become JSON."""
    t = LOADED_TABLES.get(table)
    if t is not None:
        for name, value in PROVENANCE.items():
            if name in t.names:
                cols.setdefault(name, value)
    return {k: json.dumps(v) if isinstance(v, dict) else v for k, v in cols.items()}


def insert_row(con, table: str, **cols) -> None:
    """INSERT one row into `table` (see row_values)."""
    cols = row_values(table, cols)
    names = ", ".join(cols)
    marks = ", ".join("?" for _ in cols)
    con.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(cols.values()))


class RowBuffer:
    """Rows collected per table and inserted in one statement per table and column set (a statement per row costs
    ~2 ms on a file store: most of a rule test's time). Columns a row leaves out get the table's defaults."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, tuple[str, ...]], list[dict]] = {}

    def add(self, table: str, **cols) -> None:
        cols = row_values(table, cols)
        self.rows.setdefault((table, tuple(cols)), []).append(cols)

    def flush(self, con) -> None:
        while self.rows:  # in order; a group leaves the buffer once inserted (a failed insert is not retried)
            table, names = key = next(iter(self.rows))
            rows = self.rows.pop(key)
            frame = pa.Table.from_pylist(rows)  # noqa: F841 (read by name below)
            con.execute(f"INSERT INTO {table} BY NAME SELECT {', '.join(names)} FROM frame")
