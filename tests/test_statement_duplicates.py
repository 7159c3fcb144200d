"""The same transfer seen twice loads once: camt.053 + camt.054 of one entry, overlapping MT940 statements,
MT940 + MT942 of the same day, and both banks' statements of one transfer."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.helpers import reference_dir
from transforms.ingest import ingest_paths

FIX = Path(__file__).resolve().parent / "fixtures" / "statements"
REF = reference_dir("swift_mt940")


def by_name(reports):
    return {Path(r.path).name: r for r in reports}


def count(db: Path, where: str = "TRUE") -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM transactions WHERE {where}").fetchall()[0][0]
    finally:
        con.close()


def test_camt054_notification_of_a_statement_entry_is_a_duplicate(tmp_path):
    db = tmp_path / "db.duckdb"
    ingest_paths(db, [FIX / "fx_rates.csv", FIX / "camt053_v08_bank_a.xml"])
    r = by_name(ingest_paths(db, [FIX / "camt054_v04_bank_a.xml"]))["camt054_v04_bank_a.xml"]
    # the wire (UETR) and both rows of the batch (servicer reference) were in the statement; the cash deposit is new
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_duplicate) == (4, 1, 0, 3)
    assert count(db, "source_txn_id = 'A-REF-0002'") == 1
    assert count(db, "source_txn_id LIKE 'A-REF-0006/%'") == 2


def test_notification_first_then_statement(tmp_path):
    db = tmp_path / "db.duckdb"
    ingest_paths(db, [FIX / "fx_rates.csv", FIX / "camt054_v04_bank_a.xml"])
    r = by_name(ingest_paths(db, [FIX / "camt053_v08_bank_a.xml"]))["camt053_v08_bank_a.xml"]
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_duplicate) == (8, 4, 1, 3)


def test_overlapping_mt940_statements(tmp_path):
    db = tmp_path / "db.duckdb"
    reports = by_name(ingest_paths(db, [FIX / "fx_rates.csv", FIX / "mt940_day1_2.sta", FIX / "mt940_day2_3.sta"]))
    second = reports["mt940_day2_3.sta"]
    assert (second.rows_read, second.rows_loaded, second.rows_duplicate) == (3, 2, 1)
    assert count(db, "source_txn_id = 'BREF-3'") == 1
    assert count(db) == 5


def test_both_banks_sides_of_one_transfer_load_once(tmp_path):
    db = tmp_path / "db.duckdb"
    ingest_paths(db, [FIX / "fx_rates.csv", FIX / "camt053_v02_bank_b.xml"])  # the victim's bank: debit
    r = by_name(ingest_paths(db, [FIX / "camt053_v08_bank_a.xml"]))["camt053_v08_bank_a.xml"]  # the mule's: credit
    assert r.rows_duplicate == 1
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT from_account_id, to_account_id, amount FROM transactions "
                       "WHERE end_to_end_id = 'E2E-VICTIM-1' AND NOT is_reversal").fetchall()
    con.close()
    assert [(a, b, float(c)) for a, b, c in rows] == [("FR7630006000011234567890189", "DE89370400440532013000", 9500.0)]


def test_same_file_twice_is_skipped(tmp_path):
    db = tmp_path / "db.duckdb"
    ingest_paths(db, [FIX / "fx_rates.csv", FIX / "mt940_day1_2.sta"])
    r = by_name(ingest_paths(db, [FIX / "mt940_day1_2.sta"]))["mt940_day1_2.sta"]
    assert r.status == "skipped" and count(db) == 3


def test_mt942_interim_report_then_mt940_statement(tmp_path):
    db = tmp_path / "db.duckdb"
    fx = tmp_path / "fx.csv"
    fx.write_text("date,currency,usd_per_unit\n2017-01-19,PLN,0.24\n")
    ingest_paths(db, [fx, REF / "mBank" / "mt942.sta"])
    r = by_name(ingest_paths(db, [REF / "mBank" / "mt940.sta"]))["mt940.sta"]
    assert (r.rows_read, r.rows_loaded, r.rows_duplicate) == (3, 0, 3)
    assert count(db) == 3
