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
        failed = validator.failures("t", [Check("v_present", "not_null", "v", "v: missing"),
                                          Check("s_known", "in_set", "s", "s: bad", (("ok",),)),
                                          Check("v_small", "between", "v", "v: too big", (None, 10, False)),
                                          Check("row_no_positive", "between", "row_no", "never", (0, None, True))])
        got = [(row_no, reason) for sql, reason in failed for (row_no, *_) in con.execute(sql).fetchall()]
    finally:
        validator.close()
        con.close()
    assert sorted(reason for _, reason in failed) == ["s: bad", "v: missing", "v: too big"]  # a passing check gives no query
    # GX's own SQL finds the rows (without the persisted-connection shim it found none at all on a DuckDB file)
    assert sorted(got) == [(1, "v: missing"), (5, "v: missing"), (6, "s: bad"), (9, "v: missing"), (12, "v: too big")]
    # close() released GX's connections: the file opens again with other settings
    duckdb.connect(str(db), read_only=True).close()


def test_every_canonical_table_has_a_suite():
    from transforms.schema import LOADED_TABLES

    for name, table in LOADED_TABLES.items():
        checks = suite_for(name, ["USD"])
        assert checks, name
        assert {c.column for c in checks} <= set(table.names), name


def test_an_unknown_account_kind_is_quarantined_with_the_kinds_to_use(tmp_path):
    from transforms.ingest import ingest_paths

    kyc = tmp_path / "accounts.csv"
    kyc.write_text("rail,account,institution,chain,holder_id,opened_at,country,kind,label\n"
                   "bank,111,BANKTH,,P1,2024-01-01T00:00:00Z,TH,customer,\n"
                   "bank,222,BANKTH,,P2,2024-01-01T00:00:00Z,TH,,\n"
                   "bank,333,BANKTH,,P3,2024-01-01T00:00:00Z,TH,Savings,\n")
    db = tmp_path / "s.duckdb"
    (report,) = ingest_paths(db, [kyc])
    assert report.rows_loaded == 2 and report.rows_quarantined == 1
    con = duckdb.connect(str(db), read_only=True)
    try:
        (reason,) = con.execute("SELECT reasons[1] FROM quarantine").fetchone()
        kinds = sorted(str(k) for (k,) in con.execute("SELECT kind FROM accounts").fetchall())
    finally:
        con.close()
    assert reason.startswith("kind: not an account kind; use one of customer, corporate, merchant") and "savings" not in kinds
    assert kinds == ["None", "customer"]
