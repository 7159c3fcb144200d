"""The column-wise cell text (exports/text_cells.py) against the per-value reference.

The oracle is the writers as they were before: rows from batch.to_pylist(), cell_text + csv.writer for CSV,
_json_value + json.dumps for JSON lines, cell_text / write_number / write_boolean for XLSX. Every file the
column-wise writers produce must be byte for byte the same.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from itertools import cycle, islice
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from exports import table_writers as TW
from exports import tables as T
from exports import text_cells
from exports.safe import neutralise
from exports.text_cells import _json_value, cell_text

N = 23  # rows of the nasty batch; every column's values are cycled to this length

NASTY = ["", None, "plain", "a,b", 'say "hi"', "line\nbreak", "cr\rhere", "crlf\r\n", "tab\there",
         "ctl\x01\x08\x0c\x1b\x1f\x7f", "\x00nul", "ไทย ខ្មែរ 中文 😀", "=SUM(A1)", "+1", "-2", "@cmd", "\tlead",
         "\rlead", "back\\slash\\", "'quoted", "\u2028\u2029", " space ", ";"]
UTC = timezone.utc


def _col(values, typ):
    return pa.array(list(islice(cycle(values), N)), typ)


def _dt(*args, tz=UTC):
    return datetime(*args, tzinfo=tz)


def nasty_batch(floats_special: bool = False) -> pa.RecordBatch:
    dec38 = pa.decimal128(38, 18)
    ts_values = [_dt(2024, 3, 1, 10, 0, 0), _dt(2024, 3, 1, 10, 0, 0, 123), _dt(1960, 1, 1, 0, 0, 0, 500000),
                 _dt(1969, 12, 31, 23, 59, 59, 999999), None, _dt(1, 1, 1), _dt(999, 12, 31, 23, 59, 59, 1),
                 _dt(1000, 1, 1, 12), _dt(9999, 12, 31, 23, 59, 59, 999999), _dt(2024, 2, 29, 23, 59, 59)]
    bkk = [_dt(2024, 3, 1, 3, 0, 0, 7), _dt(1955, 6, 1), None, _dt(1, 1, 1, 12), _dt(1000, 1, 2, 0, 0)]
    naive = [datetime(2024, 3, 1, 10, 0), datetime(2024, 3, 1, 10, 0, 0, 5), datetime(1, 1, 1),
             datetime(1901, 12, 13, 20, 45, 52, 1), None, datetime(9999, 12, 31, 23, 59, 59, 999999)]
    floats = [1.5, -0.0, 1e-7, 1e22, 0.1, -2.5, None, 123456789.125, 3.0]
    if floats_special:
        floats += [float("nan"), float("inf"), float("-inf")]
    cols = {
        "text": _col(NASTY, pa.string()),
        "large text": _col(list(reversed(NASTY)), pa.large_string()),
        'name "quoted", =x': _col(["x", None], pa.string()),
        "=formula header": _col([None], pa.null()),
        "ไทย": _col(["สวัสดี", "-", None], pa.string()),
        "flag": _col([True, False, None], pa.bool_()),
        "i8": _col([-128, 127, 0, None, -5], pa.int8()),
        "i16": _col([-32768, 5, None], pa.int16()),
        "i32": _col([-2**31, 2**31 - 1, None, 0], pa.int32()),
        "i64": _col([-2**63, 2**63 - 1, None, -1, 42], pa.int64()),
        "u8": _col([0, 255, None], pa.uint8()),
        "u64": _col([2**64 - 1, 0, None], pa.uint64()),
        "f32": _col([1.5, -0.25, None, 0.1], pa.float32()),
        "f64": _col(floats, pa.float64()),
        "dec": _col([Decimal("0.00"), Decimal("-0.50"), Decimal("100.00"), Decimal("12.34"), Decimal("-5.00"),
                     None, Decimal("0.01")], pa.decimal128(10, 2)),
        "dec38": _col([Decimal("1234567.890000000000000000"), Decimal("0"), Decimal("1E-18"), Decimal("1E-7"),
                       Decimal("-0.000001"), Decimal("-0.0000001"), Decimal("12345678901234567890.123456789012345678"),
                       Decimal("-99999999999999999999.999999999999999999"), Decimal("100"), None,
                       Decimal("-0.5"), Decimal("1234567890.123456789012345678")], dec38),
        "dec0": _col([Decimal("0"), Decimal("-99999999999999999999999999999999999999"), Decimal("10"), None],
                     pa.decimal128(38, 0)),
        "dec256": _col([Decimal("1.10"), Decimal("-0.000"), None], pa.decimal256(40, 3)),
        "ts_utc": _col(ts_values, pa.timestamp("us", tz="UTC")),
        "ts_bkk": _col(bkk, pa.timestamp("us", tz="Asia/Bangkok")),
        "ts_s": _col([_dt(2024, 1, 1), None, _dt(1950, 5, 5, 5, 5, 5)], pa.timestamp("s", tz="UTC")),
        "ts_ms": _col([_dt(2024, 1, 1, 0, 0, 0, 123000), None, _dt(1950, 5, 5, 5, 5, 5, 1000)],
                      pa.timestamp("ms", tz="Etc/UTC")),
        "ts_ns": _col([_dt(2024, 1, 1, 0, 0, 0, 1), None], pa.timestamp("ns", tz="UTC")),
        "naive": _col(naive, pa.timestamp("us")),
        "day": _col([date(2024, 2, 29), date(1969, 12, 31), date(1, 1, 1), date(9999, 12, 31), None], pa.date32()),
        "time": _col([time(10, 0), time(23, 59, 59, 1), None], pa.time64("us")),
        "blob": _col([b"ab", None, b"=x"], pa.binary()),
        "list_str": _col([["a", None, ""], [], None, ["=x"], ["a;b", 'q"', "c,d", "e\nf"], ["-1"], [None]],
                         pa.list_(pa.string())),
        "large_list": _col([["x", "y"], None, ["ไทย", "\x01"]], pa.large_list(pa.large_string())),
        "list_dec": _col([[Decimal("1.50"), None, Decimal("-0.000001")], [], None], pa.list_(dec38)),
        "list_ts": _col([[_dt(2024, 1, 1), _dt(2024, 1, 1, 0, 0, 0, 10)], None, [None]],
                        pa.list_(pa.timestamp("us", tz="UTC"))),
        "list_day": _col([[date(2024, 1, 1), None]], pa.list_(pa.date32())),
        "list_bool": _col([[True, False, None], []], pa.list_(pa.bool_())),
        "list_int": _col([[-1, 2, None], None], pa.list_(pa.int64())),
        "list_float": _col([[1.5, None], [2.0]], pa.list_(pa.float64())),
        "list_list": _col([[["a"], None, []], None], pa.list_(pa.list_(pa.string()))),
        "list_null": _col([[None, None], None, []], pa.list_(pa.null())),
        "struct": _col([{"k": 1, "v": "=x", "d": Decimal("1.50"), "t": _dt(2024, 1, 1)}, None,
                        {"k": None, "v": 'q"\n', "d": None, "t": None}],
                       pa.struct([("k", pa.int32()), ("v", pa.string()), ("d", pa.decimal128(10, 2)),
                                  ("t", pa.timestamp("us", tz="UTC"))])),
        "map": _col([[("a", 1), ("b", None)], None, []], pa.map_(pa.string(), pa.int32())),
        "json": _col(['{"b": 1, "a": [1, 2.50, "x\\n"]}', "not json", '"=x"', None, "1e400", "[]", "",
                      '{"ไทย": "\\u0001"}', "null"], pa.string()),
        "enum": pa.array(list(islice(cycle(["a", None, "=b"]), N))).dictionary_encode(),
        "interval": _col([timedelta(days=1, microseconds=5), None], pa.duration("us")),
    }
    return pa.RecordBatch.from_pydict(cols)


JSON_COLS = frozenset({"json"})


# -------------------------------------------------------------------------------- the oracle (old writers)


def old_csv(columns: list[str], batches: list[pa.RecordBatch]) -> bytes:
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([neutralise(c) for c in columns])
    for b in batches:
        w.writerows([cell_text(row[c]) for c in columns] for row in b.to_pylist())
    return out.getvalue().encode("utf-8-sig")


def old_jsonl(columns: list[str], json_cols: frozenset[str], batches: list[pa.RecordBatch]) -> bytes:
    return "".join(
        json.dumps({c: _json_value(row[c], c in json_cols) for c in columns}, ensure_ascii=False, default=str) + "\n"
        for b in batches for row in b.to_pylist()).encode("utf-8")


def old_xlsx(path: Path, name: str, columns: list[str], batches: list[pa.RecordBatch]) -> None:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False, "constant_memory": True})
    bold = wb.add_format({"bold": True})
    ws = wb.add_worksheet(name[:31])
    for j, col in enumerate(columns):
        ws.write_string(0, j, neutralise(col), bold)
    ws.freeze_panes(1, 0)
    i = 1
    for b in batches:
        for row in b.to_pylist():
            for j, col in enumerate(columns):
                value = row[col]
                if value is None:
                    continue
                if isinstance(value, bool):
                    ws.write_boolean(i, j, value)
                elif isinstance(value, (int, float)):
                    ws.write_number(i, j, value)
                else:
                    ws.write_string(i, j, cell_text(value))
            i += 1
    wb.close()


def sheet_xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml")


def new_files(tmp_path: Path, batches: list[pa.RecordBatch], formats, json_cols=JSON_COLS, name="t") -> Path:
    folder = tmp_path / "new"
    src = T.Stream(batches[0].schema, json_cols, iter(batches))
    TW.write_table(src, folder, name, formats)
    return folder


def assert_same(new: bytes, old: bytes) -> None:
    if new != old:  # show the first differing line, not two megabytes
        for a, b in zip(new.split(b"\n"), old.split(b"\n")):
            assert a == b
    assert new == old


# ------------------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("chunk", [None, 1, 4])
def test_csv_and_jsonl_are_byte_identical_to_the_per_value_writers(tmp_path, chunk):
    table = pa.Table.from_batches([nasty_batch(floats_special=True)])
    # chunk: slices of one batch, so list offsets and string offsets do not start at zero
    batches = table.to_batches(max_chunksize=chunk) if chunk else table.to_batches()
    folder = new_files(tmp_path, batches, ["csv", "jsonl"])
    cols = table.column_names
    assert_same((folder / "t.csv").read_bytes(), old_csv(cols, batches))
    assert_same((folder / "t.jsonl").read_bytes(), old_jsonl(cols, JSON_COLS, batches))


def test_xlsx_sheet_is_identical_to_the_per_value_writer(tmp_path):
    batches = pa.Table.from_batches([nasty_batch()]).to_batches(max_chunksize=5)
    cols = batches[0].schema.names
    folder = new_files(tmp_path, batches, ["xlsx"])
    old_xlsx(tmp_path / "old.xlsx", "t", cols, batches)
    assert sheet_xml(folder / "t.xlsx") == sheet_xml(tmp_path / "old.xlsx")


def test_each_column_alone_matches(tmp_path):
    """One column per table: the CSV rule that quotes an empty single-field row, and each type in isolation."""
    batch = nasty_batch(floats_special=True)
    for name, col in zip(batch.schema.names, batch.columns):
        b = pa.RecordBatch.from_arrays([col], names=[name])
        out = tmp_path / f"c{len(list(tmp_path.iterdir()))}"
        out.mkdir()
        folder = new_files(out, [b], ["csv", "jsonl"])
        assert (folder / "t.csv").read_bytes() == old_csv([name], [b]), name
        assert (folder / "t.jsonl").read_bytes() == old_jsonl([name], JSON_COLS, [b]), name


def test_repeated_column_names_and_no_rows(tmp_path):
    b = pa.RecordBatch.from_arrays([pa.array(["a", "b"]), pa.array([1, None])], names=["x", "x"])
    folder = new_files(tmp_path, [b], ["csv", "jsonl"])
    assert (folder / "t.csv").read_bytes() == old_csv(["x", "x"], [b])
    assert (folder / "t.jsonl").read_bytes() == old_jsonl(["x", "x"], frozenset(), [b])
    empty = nasty_batch().slice(0, 0)
    folder = new_files(tmp_path / "e", [empty], ["csv", "jsonl"])
    assert (folder / "t.csv").read_bytes() == old_csv(empty.schema.names, [empty])
    assert (folder / "t.jsonl").read_bytes() == b""


def test_common_types_are_converted_column_wise(monkeypatch):
    """Strings, numbers, decimals, times and string lists must not take the per-value path (the slow one)."""
    def refuse(arr, fn):
        raise AssertionError(f"per-value conversion of {arr.type}")

    monkeypatch.setattr(text_cells, "_per_value", refuse)
    batch = nasty_batch()
    for name in ("text", "large text", "flag", "i64", "u64", "dec", "dec38", "ts_utc", "ts_bkk", "naive", "day",
                 "list_str", "list_dec", "list_ts", "list_bool", "enum"):
        text_cells.cell_texts(batch.column(name))
        text_cells.json_texts(batch.column(name))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text()), min_size=1, max_size=12),
       st.lists(st.one_of(st.none(), st.lists(st.one_of(st.none(), st.text(max_size=5)), max_size=3)),
                min_size=12, max_size=12))
def test_any_text_matches(texts, lists):
    texts = [None if t is None else t.encode("utf-8", "replace").decode("utf-8") for t in texts]
    lists = [None if v is None else [None if t is None else t.encode("utf-8", "replace").decode("utf-8") for t in v]
             for v in lists]
    b = pa.RecordBatch.from_arrays([pa.array(texts, pa.string()), pa.array(lists[:len(texts)], pa.list_(pa.string()))],
                                   names=["s", "l"])
    csv_new = text_cells.csv_header(["s", "l"]).encode() + bytes(text_cells.csv_lines(b.columns, b.num_rows))
    assert b"\xef\xbb\xbf" + csv_new == old_csv(["s", "l"], [b])
    jsonl_new = bytes(text_cells.jsonl_lines(["s", "l"], b.columns, frozenset(), b.num_rows))
    assert jsonl_new == old_jsonl(["s", "l"], frozenset(), [b])
    assert bytes(text_cells.jsonl_lines(["s"], [b.column(0)], frozenset({"s"}), b.num_rows)) == \
        old_jsonl(["s"], frozenset({"s"}), [b])


DUCKDB_SQL = """
SELECT i,
       CASE i % 7 WHEN 0 THEN NULL WHEN 1 THEN '=cmd' WHEN 2 THEN 'a,"b"' || chr(10) || 'c' WHEN 3 THEN ''
            WHEN 4 THEN 'ไทย ខ្មែរ ' || chr(1) ELSE 'name ' || i END AS name,
       CASE WHEN i % 5 = 0 THEN NULL ELSE ((i - 50) * 1.25)::DECIMAL(38,18) END AS amount,
       CASE WHEN i % 6 = 0 THEN 0::DECIMAL(38,18) WHEN i % 6 = 1 THEN 0.000000001::DECIMAL(38,18)
            ELSE (i / 7.0)::DECIMAL(38,18) END AS tiny,
       ((i - 50) / 4)::DECIMAL(18,2) AS fee,
       (i * 100)::HUGEINT AS big,
       CASE WHEN i % 4 = 0 THEN NULL
            ELSE TIMESTAMPTZ '1965-03-01 10:00:00+00' + to_microseconds(i * 86400000123) END AS booked_at,
       TIMESTAMP '2024-01-01 00:00:00' + to_seconds(i * 3600) AS local_at,
       DATE '1969-12-25' + i::INTEGER AS day,
       CASE WHEN i % 3 = 0 THEN NULL ELSE ['r' || i, NULL, '-x', 'a,b']::VARCHAR[] END AS rule_ids,
       CASE WHEN i % 3 = 1 THEN NULL ELSE {'k': i, 'v': '=v' || i, 'd': (i / 3)::DECIMAL(10,2)} END AS detail,
       CASE WHEN i % 4 = 2 THEN NULL
            ELSE json_object('n', i, 'amount', (i * 1.5)::DOUBLE, 's', 'q"' || chr(10)) END AS payload,
       i % 2 = 0 AS flag,
       (i / 3.0)::DOUBLE AS ratio,
       CASE WHEN i % 5 = 0 THEN NULL ELSE (i - 50)::INTEGER END AS delta,
       MAP {'a': i} AS m,
       NULL AS nothing
FROM range(0, 230) t(i)
ORDER BY i
"""


def test_duckdb_types_through_write_table(tmp_path):
    con = duckdb.connect()
    src = T.stream(con, T.Query(DUCKDB_SQL), batch_rows=37)
    assert src.json_cols == frozenset({"payload"})
    TW.write_table(src, tmp_path / "new", "q", ["csv", "jsonl", "xlsx"])
    batches = con.sql(DUCKDB_SQL).to_arrow_table().to_batches()
    cols = batches[0].schema.names
    assert_same((tmp_path / "new" / "q.csv").read_bytes(), old_csv(cols, batches))
    assert_same((tmp_path / "new" / "q.jsonl").read_bytes(), old_jsonl(cols, frozenset({"payload"}), batches))
    old_xlsx(tmp_path / "old.xlsx", "q", cols, batches)
    assert sheet_xml(tmp_path / "new" / "q.xlsx") == sheet_xml(tmp_path / "old.xlsx")
