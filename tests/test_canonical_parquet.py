"""Canonical-transaction Parquet (transforms/sources/canonical_parquet.py): detection, a bad row, reconciliation."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq

from tests.helpers import FX, ingest, quarantine_reasons, rows
from transforms.sources.base import ReadContext
from transforms.sources.registry import detect


def _write(path, cols: dict, types: dict | None = None):
    types = types or {}
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({k: pa.array(v, types.get(k)) for k, v in cols.items()}), path)
    return path


def _good(n: int, start: int = 0) -> dict:
    return {
        "txn_id": [f"p{start + i}" for i in range(n)],
        "booked_at": [datetime(2026, 3, 2, 10, i, tzinfo=timezone.utc) for i in range(n)],
        "from_account_id": [f"BKA:{i}" for i in range(n)],
        "to_account_id": ["BKB:9"] * n,
        "amount": [Decimal("100.50")] * n,
        "currency": ["THB"] * n,
        "channel": ["transfer"] * n,
    }


def test_detected_by_magic_and_canonical_columns(tmp_path):
    good = _write(tmp_path / "tx.parquet", _good(2), {"amount": pa.decimal128(38, 2)})
    other = _write(tmp_path / "other.parquet", {"a": [1], "b": ["x"]})
    text = tmp_path / "tx.csv"
    text.write_text("booked_at,from_account_id,to_account_id,amount,currency\n")
    assert detect(good, ReadContext()).name == "canonical_parquet"
    assert detect(other, ReadContext()) is None
    assert detect(text, ReadContext()) is None or detect(text, ReadContext()).name != "canonical_parquet"


def test_bad_rows_quarantined_with_reasons_and_reconciled(db, tmp_path):
    fx = tmp_path / "in" / "fx.csv"
    fx.parent.mkdir(parents=True)
    fx.write_text(FX)
    cols = {
        "txn_id": ["a1", "a2", "a3", "a4", None, "a1"],
        "booked_at": ["2026-03-02T10:00:00Z", "yesterday", "2026-03-02 11:00:00", "2026-03-02", "2026-03-03T08:00:00+07:00",
                      "2026-03-02T10:00:00Z"],
        "from_account_id": ["BKA:1", "BKA:2", "BKA:3", "BKA:4", "BKA:5", "BKA:1"],
        "to_account_id": ["BKB:1", "BKB:2", "BKB:3", None, "BKB:5", "BKB:1"],
        "amount": ["100.5", "20", "-5", "1000.25", "7", "100.5"],
        "currency": ["THB", "THB", "THB", "usd", "THB", "THB"],
        "extra": ["x"] * 6,
    }
    path = _write(tmp_path / "in" / "tx.parquet", cols)
    rep = ingest(db, tmp_path / "in")["tx.parquet"]
    assert rep.source == "canonical_parquet"
    # row 2: unparseable time (reader); row 3: negative amount (GX); row 6 repeats row 1's txn_id
    assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined, rep.rows_duplicate) == (6, 3, 2, 1)
    reasons = quarantine_reasons(db)
    assert reasons[2] == ["booked_at: not an ISO 8601 time: 'yesterday'"]
    assert reasons[3] == ["amount: must be greater than zero"]
    raw = dict(rows(db, "SELECT row_no, raw FROM quarantine"))
    assert json.loads(raw[2])["booked_at"] == "yesterday"  # the reader's record
    assert json.loads(raw[3])["txn_id"] == "a3"  # rejected later: the canonical values
    loaded = {r[0]: r[1:] for r in rows(db, "SELECT txn_id, booked_at, to_account_id, amount, amount_usd, row_no FROM transactions")}
    assert loaded["a1"][2] == Decimal("100.5") and loaded["a1"][3] == Decimal("2.81")
    assert loaded["a4"][1] == "unknown:a4" and loaded["a4"][3] == Decimal("1000.25")  # USD, no rate needed
    derived = [k for k in loaded if k not in ("a1", "a4")]
    assert len(derived) == 1 and derived[0].startswith("t")  # no txn_id: hashed from the natural key
    assert loaded[derived[0]][0] == datetime(2026, 3, 3, 1, 0, tzinfo=timezone.utc)
    assert path.exists()


def test_overlapping_file_counts_duplicates(db, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "fx.csv").write_text(FX)
    _write(folder / "a.parquet", _good(5), {"amount": pa.decimal128(38, 2)})
    first = ingest(db, folder)["a.parquet"]
    assert (first.rows_loaded, first.rows_duplicate) == (5, 0)
    _write(folder / "b.parquet", _good(5, start=3), {"amount": pa.decimal128(38, 2)})
    second = ingest(db, folder / "b.parquet")["b.parquet"]
    assert (second.rows_read, second.rows_loaded, second.rows_duplicate) == (5, 3, 2)
    assert rows(db, "SELECT count(*), count(DISTINCT txn_id) FROM transactions") == [(8, 8)]


def test_small_files_loaded_together_keep_their_own_amounts(db, tmp_path):
    # small files are staged together (transforms/load_group.py); a file whose amounts are floats must not turn
    # another file's exact decimals into floats on the way (0.123456789012345678 stays that, 2**53 + 1 too)
    fx = tmp_path / "in" / "fx.csv"
    fx.parent.mkdir(parents=True)
    fx.write_text(FX)
    exact = _good(2)
    exact["amount"] = [Decimal("0.123456789012345678"), Decimal("9007199254740993")]
    floats = _good(2, start=10)
    floats["amount"] = [100.25, 7.5]
    a = _write(tmp_path / "in" / "a_float.parquet", floats)
    b = _write(tmp_path / "in" / "b_exact.parquet", exact, {"amount": pa.decimal128(38, 18)})
    got = ingest(db, fx, a, b)
    assert [got[n].rows_loaded for n in ("a_float.parquet", "b_exact.parquet")] == [2, 2]
    assert rows(db, "SELECT CAST(amount AS VARCHAR) FROM transactions WHERE txn_id IN ('p0', 'p1') ORDER BY txn_id") == [
        ("0.123456789012345678",), ("9007199254740993.000000000000000000",)]
