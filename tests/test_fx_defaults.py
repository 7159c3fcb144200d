"""Rates that are there: the ECB reference rates and the stablecoin peg when the user brought no rates file, the
user's rates winning where they exist, and rows without any rate loaded (not quarantined) and filled in later."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app
from tests.helpers import ingest, reference_dir, rows
from transforms.fx_defaults import PEGGED, ecb_rates
from rules.engine import detect
from transforms.ingest import new_data_period
from transforms.store import connect

ROOT = Path(__file__).resolve().parents[1]
CRYPTO = ROOT / "data" / "samples" / "crypto"
MAPPING = """
name: simple
files: ["s_*.csv"]
columns: {booked_at: t, account: acct, counterparty_account: cp, amount: amt, currency: ccy, txn_id: ref}
"""


def _bank_file(folder: Path, lines: list[tuple[str, str, str]]) -> tuple[Path, Path]:
    """A bank extract with (id, amount, currency) rows and its mapping file."""
    folder.mkdir(exist_ok=True)
    (folder / "simple.mapping.yml").write_text(MAPPING)
    path = folder / "s_1.csv"
    path.write_text("ref,t,acct,cp,amt,ccy\n" + "".join(f"{i},2026-03-02 10:00:00,ACC-A,ACC-B,{a},{c}\n" for i, a, c in lines))
    return path, folder / "simple.mapping.yml"


def _ecb(ccy: str, day: date) -> float:
    e = ecb_rates()
    got = e.filter((e["currency"] == ccy) & (e["rate_date"] <= day)).sort("rate_date")
    return got["usd_per_unit"][-1]


def test_camt053_alone_loads_with_ecb_rates(tmp_path):
    db = tmp_path / "s.duckdb"
    camt = reference_dir("iso20022_camt") / "camt053.v4.xml"
    (report,) = ingest(db, camt).values()
    assert report.rows_quarantined == 0 or all("rate" not in n for n in report.notes)
    got = rows(db, "SELECT currency, CAST(booked_at AS DATE), amount, amount_usd, fx_source, fx_status FROM transactions")
    assert got and {g[4] for g in got if g[0] != "USD"} == {"ecb"}
    for ccy, day, amount, usd, _, status in got:
        assert status == "ok"
        if ccy != "USD":
            assert abs(float(usd) - round(float(amount) * _ecb(ccy, day), 2)) <= 0.01, (ccy, day)
    assert any("ECB reference rate" in n for n in report.notes)


def test_tronscan_export_alone_gives_alerts(tmp_path):
    db, out = tmp_path / "s.duckdb", tmp_path / "out"
    r = CliRunner().invoke(app, ["run", str(CRYPTO), "--db", str(db), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    by_source = dict(rows(db, "SELECT fx_source, count(*) FROM transactions GROUP BY ALL"))
    assert by_source.get("peg", 0) > 0 and None not in by_source or by_source.get(None, 0) < by_source["peg"]
    assert rows(db, "SELECT count(*) FROM quarantine WHERE list_contains(reasons, 'currency') "
                    "OR array_to_string(reasons, ' ') LIKE '%rate%'") == [(0,)]
    assert rows(db, "SELECT count(*) FROM alerts")[0][0] > 0
    assert set(rows(db, "SELECT DISTINCT currency FROM transactions WHERE fx_source = 'peg'")[0]) <= set(PEGGED)


def test_user_rate_wins_and_missing_rate_is_loaded_then_filled(tmp_path):
    db = tmp_path / "s.duckdb"
    rates = tmp_path / "rates.csv"
    rates.write_text("date,currency,usd_per_unit\n2026-03-01,THB,0.05\n")
    ingest(db, rates)
    bank, mapping = _bank_file(tmp_path / "bank", [("T1", "100", "THB"), ("T2", "100", "KHR"), ("T3", "100", "KHR"),
                                                   ("T4", "5", "QQQ")])
    (rep,) = ingest(db, bank, mappings=(mapping,)).values()
    assert (rep.rows_loaded, rep.rows_quarantined) == (3, 1)  # QQQ is no currency at all: broken, quarantined
    assert any(n.startswith("2 row(s) in KHR loaded without amount_usd") for n in rep.notes), rep.notes
    got = dict((r[0], r[1:]) for r in rows(db, "SELECT source_txn_id, amount_usd, fx_source, fx_status FROM transactions"))
    assert got["T1"] == (Decimal("5.00"), "user", "ok")  # the user's 0.05, not the ECB's THB rate
    assert got["T2"] == (None, None, "no_rate")
    con = connect(db)
    try:
        assert detect(con).no_usd == {"KHR": 2}  # the run log says how many rows the USD rules could not see
    finally:
        con.close()
    later = tmp_path / "khr.csv"
    later.write_text("date,currency,usd_per_unit\n2026-02-27,KHR,0.00025\n")
    (fx,) = ingest(db, later).values()
    assert any("filled in amount_usd of 2 transaction(s)" in n for n in fx.notes), fx.notes
    got = dict((r[0], r[1:]) for r in rows(db, "SELECT source_txn_id, amount_usd, fx_source, fx_status FROM transactions"))
    assert got["T2"] == (Decimal("0.03"), "user", "ok")
    lo, hi = new_data_period(db, [fx.file_id])  # the next incremental detect covers what was filled
    assert lo and lo.startswith("2026-03-02") and hi and hi.startswith("2026-03-02")
