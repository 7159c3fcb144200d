"""Mapping-driven bank extracts: each layout feature maps onto exactly the canonical fields."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from tests.helpers import FX, ingest, quarantine_reasons, rows

THAI_MAPPING = """
name: thai_bank
files: ["stmt_*.csv"]
delimiter: ";"
encoding: {encoding}
decimal: ","
thousands: "."
timezone: Asia/Bangkok
datetime_formats: ["%d/%m/%Y %H:%M"]
constants: {{institution: kasithbk, country: th, currency: THB}}
columns:
  txn_id: Ref
  booked_at: Date
  account: Account
  account_name: Holder
  counterparty_account: Other
  counterparty_name: OtherName
  amount: Amount
  channel: Chan
  reference: Memo
channel_values: {{"CASH DEP": cash_deposit, "XFER": transfer}}
"""

THAI_ROWS = (
    "Ref;Date;Account;Holder;Other;OtherName;Amount;Chan;Memo\n"
    "R1;01/03/2026 10:00;111-222-3;สมชาย ใจดี;333 444;Somying;-1.234,50;XFER;ค่าเช่า\n"
    "R2;01/03/2026 23:30;111-222-3;สมชาย ใจดี;;;5.000,00;CASH DEP;\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp874"])
def test_thai_extract_maps_every_field(db, write, encoding):
    fx = write("fx.csv", FX)
    mapping = write("thai.mapping.yml", THAI_MAPPING.format(encoding="utf-8" if encoding == "utf-8-sig" else encoding))
    extract = write("stmt_march.csv", THAI_ROWS, encoding=encoding)
    reports = ingest(db, fx, extract, mappings=(mapping,))
    assert reports["stmt_march.csv"].rows_loaded == 2
    got = rows(
        db,
        "SELECT source_txn_id, from_account_id, to_account_id, amount, currency, amount_usd, channel, booked_at, "
        "from_name, to_name, from_country, to_country, from_institution, to_institution, reference, source, row_no "
        "FROM transactions ORDER BY row_no",
    )
    out, cash = got
    assert out[:7] == ("R1", "KASITHBK:1112223", "KASITHBK:333444", Decimal("1234.5"), "THB", Decimal("34.57"), "transfer")
    # 10:00 in Bangkok (UTC+7) is 03:00 UTC
    assert out[7] == datetime(2026, 3, 1, 3, 0, tzinfo=timezone.utc)
    assert out[8:15] == ("สมชาย ใจดี", "Somying", "TH", None, "KASITHBK", "KASITHBK", "ค่าเช่า")
    assert out[15:] == ("delimited:thai_bank", 1)
    assert cash[:7] == ("R2", "cash", "KASITHBK:1112223", Decimal("5000"), "THB", Decimal("140.00"), "cash_deposit")
    assert cash[7] == datetime(2026, 3, 1, 16, 30, tzinfo=timezone.utc)


def test_debit_credit_columns_and_gb18030(db, write):
    fx = write("fx.csv", FX)
    mapping = write(
        "cn.mapping.yml",
        """
name: cn_bank
encoding: gb18030
delimiter: "\\t"
thousands: ","
timezone: Asia/Shanghai
datetime_formats: ["%Y-%m-%d", "%Y/%m/%d %H:%M:%S"]
constants: {institution: ICBKCNBJ, currency: CNY, country: CN}
columns:
  booked_at: 交易日期
  account: 账号
  counterparty_account: 对方账号
  counterparty_name: 对方户名
  debit: 借方
  credit: 贷方
""",
    )
    extract = write(
        "cn.tsv",
        "交易日期\t账号\t对方账号\t对方户名\t借方\t贷方\n"
        "2026-03-02\t6222 0000 1111\t6222 9999 8888\t张伟\t1,000.00\t\n"
        "2026/03/02 08:00:00\t6222 0000 1111\t6222 9999 8888\t张伟\t\t250.5\n"
        "2026-03-02\t6222 0000 1111\t6222 9999 8888\t张伟\t10\t20\n",
        encoding="gb18030",
    )
    reports = ingest(db, fx, extract, mappings=(mapping,))
    r = reports["cn.tsv"]
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (3, 2, 1)
    got = rows(db, "SELECT from_account_id, to_account_id, amount, to_name, booked_at FROM transactions ORDER BY row_no")
    assert got[0][:4] == ("ICBKCNBJ:622200001111", "ICBKCNBJ:622299998888", Decimal("1000"), "张伟")
    assert got[0][4] == datetime(2026, 3, 1, 16, 0, tzinfo=timezone.utc)  # date-only at local midnight
    assert got[1][:3] == ("ICBKCNBJ:622299998888", "ICBKCNBJ:622200001111", Decimal("250.5"))
    assert quarantine_reasons(db)[3] == ["debit/credit: both columns hold an amount"]


def test_direction_column_and_iban_counterparty(db, write):
    fx = write("fx.csv", FX)
    mapping = write(
        "eu.mapping.yml",
        """
name: eu_bank
columns: {booked_at: when, account: iban, counterparty_account: cp, amount: amt, direction: dc, currency: ccy, end_to_end_id: e2e}
datetime_formats: ["%Y-%m-%dT%H:%M:%S%:z"]
""",
    )
    extract = write(
        "eu.csv",
        "when,iban,cp,amt,dc,ccy,e2e\n"
        "2026-03-03T09:00:00+01:00,DE89 3704 0044 0532 0130 00,NL91ABNA0417164300,99.90,D,EUR,E2E-1\n"
        "2026-03-03T09:00:00+01:00,DE89 3704 0044 0532 0130 00,NL91ABNA0417164300,99.90,X,EUR,E2E-2\n",
    )
    reports = ingest(db, fx, extract, mappings=(mapping,))
    assert reports["eu.csv"].rows_loaded == 1
    got = rows(db, "SELECT from_account_id, to_account_id, amount, end_to_end_id, booked_at FROM transactions")
    assert got == [("DE89370400440532013000", "NL91ABNA0417164300", Decimal("99.9"), "E2E-1",
                    datetime(2026, 3, 3, 8, 0, tzinfo=timezone.utc))]
    assert quarantine_reasons(db)[2] == ["direction: unknown marker 'X'; list it in direction_values"]


def test_same_transfer_from_both_banks_loads_once_by_end_to_end_id(db, write):
    fx = write("fx.csv", FX)
    m = write(
        "both.mapping.yml",
        """
name: bank_a
files: ["a_*.csv", "b_*.csv"]
columns: {booked_at: t, account: acct, counterparty_account: cp, amount: amt, currency: ccy, end_to_end_id: e2e, txn_id: ref}
""",
    )
    a = write("a_1.csv", "t,acct,cp,amt,ccy,e2e,ref\n2026-03-04 10:00:00,DE89370400440532013000,NL91ABNA0417164300,-10,EUR,E2E-9,A1\n")
    b = write("b_1.csv", "t,acct,cp,amt,ccy,e2e,ref\n2026-03-04 10:00:05,NL91ABNA0417164300,DE89370400440532013000,10,EUR,E2E-9,B7\n")
    reports = ingest(db, fx, a, b, mappings=(m,))
    assert reports["a_1.csv"].rows_loaded == 1
    assert (reports["b_1.csv"].rows_loaded, reports["b_1.csv"].rows_duplicate) == (0, 1)


SIMPLE = """
name: simple
columns: {booked_at: d, account: acct, amount: amt, currency: ccy}
datetime_formats: ["%Y-%m-%d"]
"""


def test_trailing_delimiters_line_up_and_other_differences_stay_quarantined(db, write):
    fx = write("fx.csv", FX)
    mapping = write("simple.mapping.yml", SIMPLE)
    # a header ending in a delimiter over rows that do not (a common bank export), and the reverse
    short_rows = write("a.csv", "d,acct,amt,ccy,\n2026-03-03,A1,-5.00,USD\n2026-03-03,A1,7.00,USD\n")
    long_rows = write("b.csv", "d,acct,amt,ccy\n2026-03-04,A2,-5.00,USD,\n2026-03-04,A2,7.00,USD,\n")
    # an extra field that holds a value is not a trailing delimiter: the row is quarantined, never shifted
    shifted = write("c.csv", "d,acct,amt,ccy\n2026-03-05,A3,-5.00,USD,oops\n2026-03-05,A3,-5.00,USD,oops\n"
                             "2026-03-05,A3,-6.00,USD\n")
    reports = ingest(db, fx, short_rows, long_rows, shifted, mappings=(mapping,))
    assert (reports["a.csv"].rows_loaded, reports["b.csv"].rows_loaded) == (2, 2)
    assert (reports["c.csv"].rows_loaded, reports["c.csv"].rows_quarantined) == (1, 2)


def test_currency_signs_in_amounts_are_dropped(db, write):
    fx = write("fx.csv", FX)
    mapping = write("simple.mapping.yml", SIMPLE.replace('["%Y-%m-%d"]', '["%Y-%m-%d"]\ndecimal: ","\nthousands: "."'))
    extract = write("a.csv", 'd,acct,amt,ccy\n2026-03-03,A1,"-1.234,50 €",EUR\n2026-03-03,A1,¥12,EUR\n2026-03-03,A1,12x,EUR\n')
    reports = ingest(db, fx, extract, mappings=(mapping,))
    assert reports["a.csv"].rows_loaded == 2
    assert sorted(r[0] for r in rows(db, "SELECT amount FROM transactions")) == [Decimal("12"), Decimal("1234.5")]
    assert quarantine_reasons(db)[3] == ["amount: not a number: '12x'"]
