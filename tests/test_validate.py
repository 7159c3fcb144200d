"""Regression guard for the Great Expectations / DuckDB mechanics in transforms/validate.py."""

from __future__ import annotations

import duckdb

from transforms import store
from transforms.validate import BatchValidator, Check, suite_for


def test_gx_finds_failing_rows_in_a_file_store_and_releases_it(db):
    con = store.connect(db)
    con.execute("CREATE TABLE stg.t AS SELECT range + 1 AS row_no, CASE WHEN range % 4 = 0 THEN NULL ELSE range END AS v, "
                "CASE WHEN range = 5 THEN 'XX' ELSE 'ok' END AS s FROM range(12)")
    validator = BatchValidator(db)
    try:
        got = validator.failures("t", [Check("v_present", "not_null", "v", "v: missing"),
                                       Check("s_known", "in_set", "s", "s: bad", (("ok",),)),
                                       Check("v_small", "between", "v", "v: too big", (None, 10, False))])
    finally:
        validator.close()
        con.close()
    # Without the persisted-connection shim GX returns no rows at all on a DuckDB file.
    assert sorted(got) == [(1, "v: missing"), (5, "v: missing"), (6, "s: bad"), (9, "v: missing"), (12, "v: too big")]
    # close() released GX's connections: the file opens again with other settings
    duckdb.connect(str(db), read_only=True).close()


def test_every_canonical_table_has_a_suite():
    from transforms.schema import LOADED_TABLES

    for name, table in LOADED_TABLES.items():
        checks = suite_for(name, ["USD"])
        assert checks, name
        assert {c.column for c in checks} <= set(table.names), name
