"""Bad input gets a clear answer: a refused file with a one-line reason, or a quarantined row with its reason.
Nothing is dropped: every file reconciles (asserted inside helpers.ingest)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.helpers import FX, ingest, quarantine_reasons, rows
from transforms.errors import ConfigError
from transforms.ingest import plan

pytestmark = pytest.mark.heavy(1.6)  # minutes in all (tests/conftest.py starts it first)

MAPPING = """
name: simple
files: ["s_*.csv"]
columns: {booked_at: t, account: acct, counterparty_account: cp, amount: amt, currency: ccy, txn_id: ref}
"""
HEADER = "ref,t,acct,cp,amt,ccy\n"


def _load(db, write, body: str, name: str = "s_1.csv", encoding: str = "utf-8"):
    fx = write("fx.csv", FX)
    m = write("simple.mapping.yml", MAPPING)
    f = write(name, body, encoding=encoding) if isinstance(body, str) else None
    return ingest(db, fx, f, mappings=(m,))[name]


def test_missing_required_column_refuses_the_file_naming_it(db, write):
    r = _load(db, write, "ref,t,acct,cp,ccy\nR1,2026-03-01 10:00:00,A,B,THB\n")
    assert r.status == "refused"
    assert "s_1.csv" in r.message and "amount -> 'amt'" in r.message and "\n" not in r.message


def test_empty_file_and_header_only_are_refused(db, write):
    assert "empty file" in _load(db, write, "").message
    r = _load(db, write, HEADER, name="s_2.csv")
    assert r.status == "refused" and "no data rows" in r.message


def test_undecodable_bytes_refuse_with_offset(db, write, tmp_path):
    fx = write("fx.csv", FX)
    m = write("simple.mapping.yml", MAPPING)
    f = tmp_path / "in" / "s_3.csv"
    f.write_bytes(HEADER.encode() + b"R1,2026-03-01 10:00:00,A,B,1\xff\xfe0,THB\n")
    r = ingest(db, fx, f, mappings=(m,))["s_3.csv"]
    assert r.status == "refused"
    assert "byte 50: not valid utf-8" in r.message and "encoding" in r.message


def test_unknown_layout_is_refused_with_a_hint(db, write):
    f = write("mystery.csv", "foo,bar\n1,2\n")
    r = ingest(db, f)["mystery.csv"]
    assert r.status == "refused" and "unknown layout" in r.message and "--mapping" in r.message


@pytest.mark.parametrize(
    "line, reason",
    [
        ("R1,2026-03-01 10:00:00,A,B,12x,THB", "amount: not a number: '12x'"),
        ("R1,2026-03-01 10:00:00,A,B,1.5E+7,THB", "amount: scientific notation '1.5E+7' loses precision; export plain numbers"),
        ("R1,2026-03-01 10:00:00,A,B,123456789012345678901234,THB", "amount: '123456789012345678901234' is too large"),
        ("R1,2026-02-30 10:00:00,A,B,1,THB", "booked_at: does not match"),
        ("R1,2026-03-01 10:00:00,A,B,0,THB", "amount: must be greater than zero"),
        ("R1,2026-03-01 10:00:00,A,B,5,QQQ", "currency: not an ISO 4217 code nor a currency in the rates table"),
        ("R1,,A,B,5,THB", "booked_at: missing value"),
        ("R1,2026-03-01 10:00:00,,B,5,THB", "account: missing value"),
        ('R1,"2026-03-01 10:00:00,A,B,5,THB', "record: wrong number of fields"),
    ],
)
def test_bad_rows_are_quarantined_with_their_reason(db, write, line, reason):
    r = _load(db, write, HEADER + "R0,2026-03-01 09:00:00,A,B,1,THB\n" + line + "\n")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (2, 1, 1)
    reasons = quarantine_reasons(db)[2]
    assert any(x.startswith(reason) for x in reasons), reasons
    raw = rows(db, "SELECT raw FROM quarantine")[0][0]
    assert "R1" in raw  # the raw record is kept for review


def test_future_dates_are_quarantined(db, write):
    future = (datetime.now() + timedelta(days=40)).strftime("%Y-%m-%d %H:%M:%S")
    fx_future = FX + f"{future[:10]},THB,0.028\n"
    fx = write("fx.csv", fx_future)
    m = write("simple.mapping.yml", MAPPING)
    f = write("s_1.csv", HEADER + f"R1,{future},A,B,5,THB\n")
    r = ingest(db, fx, f, mappings=(m,))["s_1.csv"]
    assert r.rows_quarantined == 1
    assert quarantine_reasons(db)[1][0].startswith("booked_at: in the future")


def test_negative_amount_in_debit_column_is_not_silently_flipped(db, write):
    fx = write("fx.csv", FX)
    m = write("dc.mapping.yml", "name: dc\nfiles: [d_*.csv]\ncolumns: {booked_at: t, account: a, debit: d, credit: c, currency: ccy}\n")
    f = write("d_1.csv", "t,a,d,c,ccy\n2026-03-01 10:00:00,A,,0,THB\n")
    r = ingest(db, fx, f, mappings=(m,))["d_1.csv"]
    assert r.rows_quarantined == 1
    assert quarantine_reasons(db)[1] == ["amount: no non-zero debit or credit amount"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("name: x\ncolumns: {booked_at: t, acount: a, amount: m}\nconstants: {currency: THB}\n", "field 'columns.acount': unknown key; did you mean 'account'?"),
        ("name: x\ncolumns: {booked_at: t, account: a, amount: m}\n", "columns.currency or constants.currency is required"),
        ("name: x\ntimezone: Bangkok\ncolumns: {booked_at: t, account: a, amount: m, currency: c}\n", "unknown time zone 'Bangkok'"),
        ("name: x\ndelimeter: ';'\ncolumns: {booked_at: t, account: a, amount: m, currency: c}\n", "did you mean 'delimiter'?"),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)
def test_mapping_typos_are_config_errors_naming_the_field(write, text, message):
    m = write("bad.mapping.yml", text)
    with pytest.raises(ConfigError) as exc:
        plan([m.parent])
    assert message in str(exc.value) and "bad.mapping.yml" in str(exc.value)
    assert exc.value.exit_code == 2
