"""Clear ends: detect and export on an empty or never-detected store give empty outputs, not an error; and
`scamtrace status` shows what a store holds."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from flows.cli import app


def _extract(tmp_path, rows: str):
    """A folder with a bank extract (ref,t,acct,cp,amt,ccy rows) and its mapping file."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "simple.mapping.yml").write_text(
        'name: simple\nfiles: ["s_*.csv"]\n'
        "columns: {booked_at: t, account: acct, counterparty_account: cp, amount: amt, currency: ccy, txn_id: ref}\n")
    (folder / "s_1.csv").write_text("ref,t,acct,cp,amt,ccy\n" + rows)
    return folder


def test_export_before_any_detect_writes_empty_outputs(tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text("date,currency,usd_per_unit\n2025-01-01,THB,0.03\n")
    db, out = tmp_path / "s.duckdb", tmp_path / "out"
    assert CliRunner().invoke(app, ["ingest", str(rates), "--db", str(db), "-q"]).exit_code == 0
    r = CliRunner().invoke(app, ["export", "--out", str(out), "--db", str(db), "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert (out / "alerts.csv").read_text().count("\n") == 1  # the header only
    assert json.loads((out / "manifest.json").read_text())["counts"]["alerts"] == 0
    r = CliRunner().invoke(app, ["detect", "--db", str(db), "-q"])
    assert r.exit_code == 0, r.output


def test_status_shows_tables_rates_and_quarantine(tmp_path):
    folder = _extract(tmp_path, "R1,2026-03-02 10:00:00,A,B,5,THB\nR2,2026-03-02 11:00:00,A,B,5,KHR\n"
                                "R3,2026-03-02 12:00:00,A,B,5,QQQ\n")
    (folder / "rates.csv").write_text("date,currency,usd_per_unit\n2026-03-01,THB,0.03\n")
    db = tmp_path / "s.duckdb"
    assert CliRunner().invoke(app, ["ingest", str(folder), "--db", str(db), "-q"]).exit_code == 0
    r = CliRunner().invoke(app, ["status", "--db", str(db)], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    text = r.output
    assert "transactions" in text and "delimited:simple" in text
    assert "Currencies without a rate" in text and "KHR" in text
    assert "Quarantine by reason" in text and "currency" in text
    assert "ingest" in text  # the last runs


def test_nothing_loaded_ends_with_one_line_and_exit_1(tmp_path):
    folder = _extract(tmp_path, "R1,2026-03-02 10:00:00,A,B,0,USD\nR2,2026-03-02 11:00:00,A,B,abc,USD\n")
    db = tmp_path / "s.duckdb"
    r = CliRunner().invoke(app, ["ingest", str(folder), "--db", str(db), "-q"])
    assert r.exit_code == 1
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert lines == ["error: nothing was loaded: 2 row(s) quarantined; `scamtrace status` lists "
                     "the reasons (fix the files or the mapping and ingest them again)"], lines
    again = CliRunner().invoke(app, ["ingest", str(folder), "--db", str(db), "-q"])
    assert again.exit_code == 0  # the same file again: already ingested, nothing new, nothing wrong
