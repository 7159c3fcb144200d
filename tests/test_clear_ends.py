"""Clear ends: detect and export on an empty or never-detected store give empty outputs, not an error."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from flows.cli import app


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
