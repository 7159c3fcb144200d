"""Property-based tests (hypothesis) on the readers and on reconciliation.

Readers are called directly (cheap, many examples); the full loader runs on a few examples only.
Properties:
  - arbitrary cell text (quotes, delimiters, line breaks, NULs, any unicode) never crashes the delimited or the
    explorer reader: the file is refused with an InputError, or every record comes out as exactly one row, in order,
    and a row without errors carries its text unchanged;
  - arbitrary bytes / tag soup never crash the camt, MT940 and compound-registry readers (InputError at worst);
  - amounts round-trip exactly as DECIMAL text (no float anywhere), in every separator convention, and through the
    store;
  - splitting, shuffling and duplicating rows across two files never changes the loaded set, and every file
    reconciles.
"""

from __future__ import annotations

import csv
import io
import json
import random
import tempfile
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from transforms import store
from transforms.errors import InputError
from transforms.ingest import ingest_paths
from transforms.sources.base import ReadContext
from transforms.sources.fields import decimal_text
from transforms.sources.registry import by_name

pytestmark = pytest.mark.heavy(1.3)  # minutes in all (tests/conftest.py starts it first)

FAST = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=4, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

MAPPING = """\
name: prop_bank
files: ["bank_*.csv"]
constants: {institution: PROPTHBK, currency: THB}
columns: {txn_id: ref, booked_at: t, account: acct, counterparty_account: cp, amount: amt, reference: memo, counterparty_name: nm}
"""
FX = "date,currency,usd_per_unit\n" + "".join(f"2026-03-{d:02d},THB,0.028\n" for d in range(1, 11))

cell_text = st.text(
    alphabet=st.one_of(st.sampled_from(list(',;"\'\n\r\t\x00 =+-@\\\u00a0\u202e\ufeff')), st.characters(codec="utf-8")),
    max_size=30,
)


# what the readers strip around values (Unicode White_Space, as polars' strip_chars; Python's str.strip also
# strips the ASCII separators \x1c-\x1f, which are data here)
WHITESPACE = " \t\n\x0b\x0c\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def _read_all(reader_name: str, path: Path, ctx: ReadContext) -> pl.DataFrame:
    frames = list(by_name(reader_name).read(path, ctx))
    return pl.concat(frames) if frames else pl.DataFrame()


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")  # quotes every field holding \r or \n
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


@FAST
@given(cells=st.lists(st.tuples(cell_text, cell_text), min_size=1, max_size=8))
def test_delimited_reader_accounts_for_every_record(cells):
    rows = [[f"R{i}", "2026-03-02 10:00:00", "111", "222", "5.00", memo, name] for i, (memo, name) in enumerate(cells)]
    with tempfile.TemporaryDirectory() as td:
        m = Path(td) / "prop.mapping.yml"
        m.write_text(MAPPING)
        f = Path(td) / "bank_1.csv"
        f.write_text(_csv_text(["ref", "t", "acct", "cp", "amt", "memo", "nm"], rows), encoding="utf-8")
        ctx = ReadContext(mapping_files=[m])
        try:
            out = _read_all("delimited", f, ctx)
        except InputError as exc:
            assert any("\x00" in c for pair in cells for c in pair), exc  # only NULs refuse a well-quoted file
            assert "NUL" in str(exc) and "\n" not in str(exc)
            return
        # a refused row carries its record; the others' come from raw_records, read again, when they are refused later
        later = by_name("delimited").raw_records(f, ctx, {r["row_no"] for r in out.iter_rows(named=True) if not r["errors"]})
    assert out["row_no"].to_list() == list(range(1, len(rows) + 1))
    for (memo, name), row in zip(cells, out.iter_rows(named=True)):
        raw = row["raw"] or later[row["row_no"]]
        assert json.loads(raw)["ref"] == f"R{row['row_no'] - 1}"
        if not row["errors"]:
            assert row["raw"] is None
            assert row["reference"] == (memo.strip(WHITESPACE) or None)
            assert row["source_txn_id"] is not None and row["amount"] == "5.00"


@FAST
@given(raw=st.lists(st.text(alphabet=st.sampled_from(list('ab,"\n\r x')), max_size=12), min_size=1, max_size=6))
def test_delimited_reader_survives_broken_quoting(raw):
    """Hand-made lines with stray quotes, wrong field counts and bare CRs: never a crash, never a silent drop of a
    line that holds a delimiter-separated record of the right width."""
    body = "ref,t,acct,cp,amt,memo,nm\n" + "\n".join(raw) + "\n"
    with tempfile.TemporaryDirectory() as td:
        m = Path(td) / "prop.mapping.yml"
        m.write_text(MAPPING)
        f = Path(td) / "bank_1.csv"
        f.write_text(body, encoding="utf-8")
        try:
            out = _read_all("delimited", f, ReadContext(mapping_files=[m]))
        except InputError as exc:
            assert "\n" not in str(exc)
            return
    if out.is_empty():  # blank lines only: the loader refuses it ("no data rows")
        assert not body.replace("ref,t,acct,cp,amt,memo,nm", "").strip(" \r\n")
        return
    assert out["row_no"].to_list() == list(range(1, out.height + 1))
    assert out["errors"].null_count() == 0


EXPLORER_HDR = ["Tx Hash", "blockHeight", "blockTime(UTC+8)", "blockTime(UTC)", "from", "to", "value", "symbol",
                "tokenAddress", "isConfirm"]


@FAST
@given(cells=st.lists(st.tuples(cell_text, cell_text, cell_text), min_size=1, max_size=6))
def test_explorer_reader_accounts_for_every_record(cells):
    rows = [[f"h{i}", "7000", t, t, frm, "TTo", value, "USDT", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "true"]
            for i, (t, frm, value) in enumerate(cells)]
    with tempfile.TemporaryDirectory() as td:
        f = Path(td) / "tron.csv"
        f.write_text(_csv_text(EXPLORER_HDR, rows), encoding="utf-8")
        try:
            out = _read_all("tronscan_trc20", f, ReadContext())
        except InputError as exc:
            assert any("\x00" in c for trio in cells for c in trio), exc
            return
    assert out["row_no"].to_list() == list(range(1, len(rows) + 1))
    for (t, frm, value), row in zip(cells, out.iter_rows(named=True)):
        if not row["errors"]:  # a blank value or time is left to the loader's not-null checks (quarantine)
            assert (row["amount"] is None) == (value.strip(WHITESPACE) == "")
            assert (row["booked_at"] is None) == (t.strip(WHITESPACE) == "")
            if row["amount"] is not None:
                assert Decimal(row["amount"]) == Decimal(value.strip(WHITESPACE).replace(",", ""))


CAMT = (Path(__file__).resolve().parents[1] / "fixtures" / "statements" / "camt053_v08_bank_a.xml").read_bytes()
MT940 = (Path(__file__).resolve().parents[1] / "fixtures" / "statements" / "mt940_day1_2.sta").read_bytes()


def _mutate(data: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    b = bytearray(data)
    for kind, pos, val in ops:
        if not b:
            break
        p = pos % len(b)
        if kind == 0:
            b[p] = val
        elif kind == 1:
            del b[p: p + 1 + val % 40]
        elif kind == 2:
            b[p:p] = bytes([val]) * (1 + val % 5)
        else:
            del b[p:]
    return bytes(b)


mutations = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=6)


@pytest.mark.parametrize("reader_name, data, suffix", [("camt053", CAMT, ".xml"), ("mt940", MT940, ".sta")])
@FAST
@given(ops=mutations)
def test_statement_readers_never_crash_on_damaged_files(reader_name, data, suffix, ops):
    with tempfile.TemporaryDirectory() as td:
        f = Path(td) / f"s{suffix}"
        f.write_bytes(_mutate(data, ops))
        try:
            out = _read_all(reader_name, f, ReadContext())
        except InputError as exc:
            assert "\n" not in str(exc)
            return
        assert out["row_no"].to_list() == list(range(1, out.height + 1))
        # every row has its raw record: in the frame, or from raw_records (camt builds it only when asked)
        missing = set(out.filter(pl.col("raw").is_null())["row_no"].to_list())
        given = by_name(reader_name).raw_records(f, ReadContext(), missing) if missing else {}
        assert set(given) == missing and all(json.loads(v) for v in given.values())


tags = st.sampled_from([":20:", ":25:", ":28C:", ":60F:", ":61:", ":86:", ":62F:", ":34F:", "-", "{2:O940}", ""])
mt_values = st.one_of(st.text(max_size=30), st.sampled_from(["2603020302CR100,00NTRFNONREF//B1", "C260301EUR1000,00",
                                                              "37040044/0532013000", "DE89370400440532013000"]))


@FAST
@given(lines=st.lists(st.tuples(tags, mt_values), min_size=1, max_size=12))
@example(lines=[(":61:", "2603020302CR100,00NTRFNONREF//B1"), (":20:", "")])  # a parsed row beside a refused one
def test_mt940_reader_never_crashes_on_tag_soup(lines):
    text = ":20:X\n:25:37040044/0532013000\n:60F:C260301EUR1000,00\n" + "\n".join(t + v for t, v in lines) + "\n:61:\n"
    data = text.encode("utf-8", "surrogatepass")
    with tempfile.TemporaryDirectory() as td:
        f = Path(td) / "s.sta"
        f.write_bytes(data)
        try:
            out = _read_all("mt940", f, ReadContext())
        except InputError:
            return
        # the reader keeps the raw record of the rows it refuses; the others' comes from raw_records when needed
        later = by_name("mt940").raw_records(f, ReadContext(), set(out.filter(pl.col("raw").is_null())["row_no"]))
    from transforms.sources.mt940 import _STATEMENT_LINE, decode

    # every :61: statement line is one row: parsed, or quarantined with the block's problem -- never dropped
    assert out.height == len(_STATEMENT_LINE.findall(decode(data, f)))
    assert all(row["raw"] or later.get(row["row_no"]) for row in out.iter_rows(named=True))


yaml_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
                           lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=12)


@FAST
@given(entries=st.lists(yaml_values, max_size=5))
def test_compound_registry_never_crashes(entries):
    import yaml

    with tempfile.TemporaryDirectory() as td:
        f = Path(td) / "compounds.yml"
        f.write_text(yaml.safe_dump({"compounds": entries}, allow_unicode=True))
        try:
            out = _read_all("compound_registry", f, ReadContext())
        except InputError:
            return
    assert out.height == len(entries)


# ------------------------------------------------------------------------------------------------ amounts
amounts = st.decimals(min_value=Decimal("0.000000000000000001"), max_value=Decimal("99999999999999999999"),
                      places=None, allow_nan=False, allow_infinity=False).map(lambda d: d.quantize(Decimal(1)) if d > 10**15 else d)


def _plain(d: Decimal) -> str:
    return format(d, "f")


def _grouped(d: Decimal, thousands: str, decimal: str) -> str:
    whole, _, frac = _plain(d).partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return thousands.join(groups) + (decimal + frac if frac else "")


@settings(max_examples=200, deadline=None, database=None)
@given(d=amounts.filter(lambda d: -d.as_tuple().exponent <= 18), style=st.sampled_from([(".", None), (".", ","), (",", "."), (",", " "), (".", "'")]),
       neg=st.booleans())
def test_amount_text_round_trips_exactly(d, style, neg):
    decimal, thousands = style
    text = _grouped(d, thousands, decimal) if thousands else _plain(d).replace(".", decimal)
    text = ("-" + text) if neg else text
    got = pl.DataFrame({"v": [text]}).select(decimal_text(pl.col("v"), decimal, thousands)).item()
    assert got is not None, text
    assert Decimal(got) == (d.copy_negate() if neg else d)


@settings(max_examples=100, deadline=None, database=None)
@given(d=amounts.filter(lambda d: -d.as_tuple().exponent <= 18), form=st.sampled_from(["+{}", "-{}", "{}-", "({})"]),
       bad=st.sampled_from(["+-{}", "--{}", "-{}-", "({}", "{})", "(-{})", "+({})"]))
def test_one_sign_in_a_place_banks_put_it_and_never_two(d, form, bad):
    # a lost sign would turn a debit into a credit: '+-5' or '(5' is refused, not read as 5
    text = _plain(d)
    got = pl.DataFrame({"v": [form.format(text), bad.format(text)]}).select(decimal_text(pl.col("v"))).to_series().to_list()
    assert Decimal(got[0]) == (d if form == "+{}" else d.copy_negate())
    assert got[1] is None, bad.format(text)


@SLOW
@given(values=st.lists(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10") ** 15, places=None, allow_nan=False,
                                   allow_infinity=False).filter(lambda d: -d.as_tuple().exponent <= 18), min_size=1, max_size=6))
def test_amounts_survive_the_store_exactly(values, tmp_path_factory):
    work = tmp_path_factory.mktemp("amounts")
    (work / "fx.csv").write_text(FX)
    (work / "prop.mapping.yml").write_text(MAPPING)
    rows = [[f"A{i}", "2026-03-02 10:00:00", "111", "222", _plain(v), "m", "n"] for i, v in enumerate(values)]
    (work / "bank_1.csv").write_text(_csv_text(["ref", "t", "acct", "cp", "amt", "memo", "nm"], rows))
    db = work / "s.duckdb"
    reports = ingest_paths(db, [work])
    assert all(r.reconciles for r in reports)
    con = store.connect(db, read_only=True)
    try:
        stored = con.execute("SELECT source_txn_id, amount, amount_usd FROM transactions").fetchall()
    finally:
        con.close()
    by_ref = {ref: (amt, usd) for ref, amt, usd in stored}
    for i, v in enumerate(values):
        amt, usd = by_ref[f"A{i}"]
        assert isinstance(amt, Decimal) and amt == v
        assert isinstance(usd, Decimal) and abs(usd - v * Decimal("0.028")) <= Decimal("0.005")


# ------------------------------------------------------------------------------------------------ reconciliation
@SLOW
@given(n=st.integers(3, 25), seed=st.integers(0, 10**6))
def test_splitting_shuffling_and_duplicating_rows_never_changes_the_loaded_set(n, seed, tmp_path_factory):
    rnd = random.Random(seed)
    rows = [[f"K{i}", f"2026-03-0{1 + i % 9} {i % 24:02d}:00:00", f"A{i % 4}", f"B{i % 5}", f"{rnd.randint(1, 10**6)}.{i:02d}", "m", "n"]
            for i in range(n)]
    work = tmp_path_factory.mktemp("shuffle")
    (work / "fx.csv").write_text(FX)
    (work / "prop.mapping.yml").write_text(MAPPING)
    hdr = ["ref", "t", "acct", "cp", "amt", "memo", "nm"]
    one = work / "one"
    one.mkdir()
    (one / "bank_all.csv").write_text(_csv_text(hdr, rows))
    two = work / "two"
    two.mkdir()
    cut = rnd.randint(0, n)
    first, second = rows[:cut], rows[cut:]
    overlap = rnd.sample(rows, k=rnd.randint(0, n))  # rows that both files carry
    first = first + rnd.sample(overlap, k=len(overlap) // 2) + rows[:1] * rnd.randint(0, 2)  # and repeats inside a file
    second = second + overlap
    rnd.shuffle(first)
    rnd.shuffle(second)
    for name, part in (("bank_x.csv", first), ("bank_y.csv", second)):
        if part:  # a header-only file is refused ("no data rows"): not this property
            (two / name).write_text(_csv_text(hdr, part))

    def loaded(folder: Path, db: Path):
        reports = ingest_paths(db, [work / "fx.csv", folder], [work / "prop.mapping.yml"])
        assert all(r.reconciles and r.status in ("loaded", "skipped") for r in reports), reports
        con = store.connect(db, read_only=True)
        try:
            return reports, set(con.execute("SELECT txn_id, booked_at, from_account_id, to_account_id, amount, amount_usd "
                                            "FROM transactions").fetchall())
        finally:
            con.close()

    _, expected = loaded(one, work / "one.duckdb")
    reports, got = loaded(two, work / "two.duckdb")
    assert got == expected and len(got) == n
    tx = [r for r in reports if r.table == "transactions"]
    assert sum(r.rows_read for r in tx) == len(first) + len(second)
    assert sum(r.rows_loaded for r in tx) == n
    assert sum(r.rows_duplicate for r in tx) == len(first) + len(second) - n
