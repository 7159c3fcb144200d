"""Rows for the tests' stores, in one place: the rule, casework and export tests build their worlds with
insert_row (canonical tables get their provenance columns filled in; dicts become JSON).

tests/rules/conftest.py (World: rows by the hour, one rule run), tests/casework/casebook.py (Case: a hand-made
network with alerts) and tests/exports/conftest.py (a store with casework tables) are conveniences on top of it;
tests/batch/world.py writes landing files for ingest instead of rows.
"""

from __future__ import annotations

import json

from transforms.schema import LOADED_TABLES

PROVENANCE = {"source": "test", "file_id": "f", "row_no": 1}


def insert_row(con, table: str, **cols) -> None:
    """INSERT one row into `table`; a canonical table's provenance (source, file_id, row_no) defaults to a test file."""
    t = LOADED_TABLES.get(table)
    if t is not None:
        for name, value in PROVENANCE.items():
            if name in t.names:
                cols.setdefault(name, value)
    names = ", ".join(cols)
    marks = ", ".join("?" for _ in cols)
    values = [json.dumps(v) if isinstance(v, dict) else v for v in cols.values()]
    con.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)
