"""MT940 / MT942 reader (on the mt-940 library): field mapping on hand-made statements, every reference sample."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
import logging
from pathlib import Path

import duckdb
import pytest

from tests.helpers import reference_dir, write_fx_for
from transforms.errors import InputError
from transforms.ingest import ingest_paths
from transforms.sources.base import ReadContext
from transforms.sources.mt940 import Mt940Reader, iban_ok, slash_fields, split_account
from transforms.sources.registry import detect

HERE = Path(__file__).resolve().parent
FIX = HERE / "fixtures" / "statements"
REF = reference_dir("swift_mt940")
STMT = "37040044:0532013000"



def write_fx(files: list[Path], out: Path) -> Path:
    return write_fx_for(files, out, "0.5")


@pytest.fixture(scope="module")
def day1(tmp_path_factory):
    db = tmp_path_factory.mktemp("mt940") / "db.duckdb"
    report = {Path(r.path).name: r for r in ingest_paths(db, [FIX / "fx_rates.csv", FIX / "mt940_day1_2.sta"])}
    con = duckdb.connect(str(db), read_only=True)
    cur = con.execute("SELECT * FROM transactions ORDER BY row_no")
    names = [d[0] for d in cur.description]
    got = [dict(zip(names, r)) for r in cur.fetchall()]
    con.close()
    return report["mt940_day1_2.sta"], got


def test_mt940_reconciles(day1):
    report, got = day1
    assert report.source == "mt940" and (report.rows_read, report.rows_loaded, report.rows_quarantined) == (3, 3, 0)
    assert [g["row_no"] for g in got] == [1, 2, 3]


def test_gvc_cash_codes_give_cash_channels(day1):
    _, got = day1
    dep, wdl, _ = got
    assert (dep["from_account_id"], dep["to_account_id"], dep["channel"], dep["amount"], dep["bank_tx_code"]) == (
        "cash", STMT, "cash_deposit", Decimal("9800"), "NMSC; GVC 082")
    assert (wdl["from_account_id"], wdl["to_account_id"], wdl["channel"], wdl["amount"]) == (
        STMT, "cash", "cash_withdrawal", Decimal("2000"))
    assert dep["booked_at"] == datetime(2026, 3, 1, tzinfo=timezone.utc) and dep["value_date"] == date(2026, 3, 1)
    assert dep["to_institution"] == "37040044" and dep["from_institution"] is None


def test_structured_86_counterparty(day1):
    _, got = day1
    credit = got[2]
    expected = {
        "source_txn_id": "BREF-3", "rail": "bank", "from_account_id": "DE44500105175407324931", "to_account_id": STMT,
        "amount": Decimal("150"), "currency": "EUR", "amount_usd": Decimal("162.00"), "channel": "transfer",
        "reference": "Rechnung 1", "from_name": "Max Muster", "to_name": None, "from_institution": "COBADEFF",
        "to_institution": "37040044", "from_country": "DE", "to_country": None, "end_to_end_id": "E2E-MT-3",
        "uetr": None, "bank_tx_code": "NTRF; GVC 166", "is_reversal": False, "value_date": date(2026, 3, 2),
    }
    assert {k: credit[k] for k in expected} == expected


def test_reversal_and_swift_keyword_subfields(tmp_path):
    fx = FIX / "fx_rates.csv"
    ingest_paths(tmp_path / "db.duckdb", [fx, FIX / "mt940_day2_3.sta"])
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    got = con.execute("SELECT row_no, from_account_id, to_account_id, to_name, to_institution, is_reversal, reference, "
                      "end_to_end_id FROM transactions ORDER BY row_no").fetchall()
    con.close()
    assert got[1] == (2, STMT, "DE44500105175407324931", "Max Muster", None, True, None, "E2E-MT-3")  # RC: money out
    assert got[2] == (3, STMT, "NL91ABNA0417164300", "Jan Mule", "ABNANL2A", False, "cash out", None)


def test_helpers():
    assert iban_ok("NL91ABNA0417164300") and not iban_ok("NL91ABNA0417164301")
    assert split_account("NL71RABO0123456789", None) == (None, "NL71RABO0123456789", None)
    assert split_account("50880050/0194787400888", None) == ("50880050", "0194787400888", None)
    assert split_account("UBRTHUHB/123456789150ABCDEF002/HUF", None) == ("UBRTHUHB", "123456789150ABCDEF002", None)
    assert split_account("1291.99.348EUR", "RABONL2U") == ("RABONL2U", "1291.99.348", None)  # ids.bank_account_id drops the dots
    assert split_account("166?00GUTSCHRIFT", None)[2].startswith("account: ")
    assert slash_fields("/EREF/x1/CNTP/NL91ABNA0417164300/ABNANL2A/Jan/City//REMI/USTD//hi/") == {
        "EREF": "x1", "CNTP": "NL91ABNA0417164300/ABNANL2A/Jan/City", "REMI": "USTD//hi"}


def test_unparseable_block_is_quarantined_not_dropped(tmp_path, caplog):
    path = tmp_path / "bad.sta"
    path.write_text(":20:X\n:25:NL91ABNA0417164300\n:60F:C260301EUR1,00\n:61:26XX01C5,00NTRFNONREF\n:62F:C260301EUR6,00\n")
    library = logging.getLogger("mt940")
    with caplog.at_level(logging.DEBUG):
        library.setLevel(logging.NOTSET)
        rows = pl_rows(path)
        assert library.level == logging.NOTSET  # given back as it was
    assert len(rows) == 1 and rows[0]["errors"][0].startswith("statement: MT940 block could not be parsed")
    # the library's own complaints about each pattern fragment it tried stay out of the user's log
    assert not [r for r in caplog.records if r.name.startswith("mt940")]


def pl_rows(path: Path) -> list[dict]:
    return [r for chunk in Mt940Reader().read(path, ReadContext()) for r in chunk.to_dicts()]


def test_balances_only_file_is_refused(tmp_path):
    path = tmp_path / "bal.sta"
    path.write_text(":20:X\n:25:NL91ABNA0417164300\n:60F:C260301EUR1,00\n:62F:C260301EUR1,00\n")
    with pytest.raises(InputError, match=r"no statement lines \(:61:\)"):
        pl_rows(path)


def test_mt942_is_detected_as_mt942(tmp_path):
    assert detect(REF / "mBank" / "mt942.sta", ReadContext()).name == "mt942"
    assert detect(REF / "mBank" / "mt940.sta", ReadContext()).name == "mt940"


def test_every_reference_sample_loads_or_is_refused_with_a_reason(tmp_path):
    files = sorted(p for p in REF.rglob("*") if p.is_file() and not p.name.upper().startswith("LICENSE"))
    assert files, "no MT940 samples found"
    fx = write_fx(files, tmp_path / "fx.csv")
    reports = {r.path: r for r in ingest_paths(tmp_path / "db.duckdb", [fx, *files])}
    for f in files:
        r = reports[str(f)]
        if r.status == "refused":
            assert str(f) in r.message and "\n" not in r.message and "Traceback" not in r.message
        else:
            assert r.status == "loaded" and r.source in ("mt940", "mt942") and r.rows_read > 0 and r.reconciles, r.as_dict()
    assert reports[str(REF / "self-provided" / "invalid_statement.sta")].status == "refused"
    broken = reports[str(REF / "betterplace" / "sepa_snippet_broken.sta")]
    assert broken.rows_quarantined == 1
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    reasons = con.execute("SELECT reasons FROM quarantine").fetchall()
    n = con.execute("SELECT count(*) FROM transactions").fetchall()[0][0]
    con.close()
    assert n >= 150
    for (rs,) in reasons:
        assert rs and all(": " in x for x in rs)


def test_a_large_file_parsed_in_worker_processes_gives_the_same_rows(tmp_path, monkeypatch):
    import polars as pl

    from transforms.sources import mt940

    text = (FIX / "mt940_day1_2.sta").read_text()
    path = tmp_path / "many.sta"
    path.write_text("\n".join(text.replace(":20:", f":20:B{k}-", 1) for k in range(30)))
    serial = pl.concat(list(Mt940Reader().read(path, ReadContext())))
    monkeypatch.setattr(mt940, "PARALLEL_MIN_LINES", 1)
    monkeypatch.setattr(mt940, "CHUNK_ENTRIES", 10)
    groups = mt940._groups([b for b in mt940._BLOCK_SPLIT.split(path.read_text()) if mt940._TAG_LINE.search(b)])
    assert len(groups) > 2
    parallel = list(Mt940Reader().read(path, ReadContext()))
    assert len(parallel) == len(groups) and pl.concat(parallel).equals(serial) and serial.height == 30 * 3


def test_a_quarantined_line_keeps_its_raw_record(tmp_path):
    import json

    path = tmp_path / "no_account.sta"
    path.write_text((FIX / "mt940_day1_2.sta").read_text().replace(":25:", ":25:§§", 1))
    report, = ingest_paths(tmp_path / "db.duckdb", [path])
    assert report.rows_quarantined == report.rows_read > 0
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    raws = [json.loads(r) for (r,) in con.execute("SELECT raw FROM quarantine ORDER BY row_no").fetchall()]
    con.close()
    assert all(r["account_identification"].startswith("§§") and r["amount"] for r in raws)
