"""Backtest and what-if on the samples store with decisions: the replay never touches the live store, is
deterministic, reports precision / recall against the decisions, names the confirmed subjects it misses,
and ignores decisions made after --as-of."""

from __future__ import annotations

import csv
from datetime import datetime, timezone

import pytest
from typer.testing import CliRunner

from flows.cli import app
from rules.spec import SpecError
from scoring.backtest import backtest, parse_set, parse_sweep
from tests.helpers import rows
from transforms.ingest import ingest_paths


@pytest.fixture
def decided_store(store_copy, tmp_path):
    db, _ = store_copy
    subjects = [r[0] for r in rows(db, "SELECT DISTINCT subject_id FROM alerts WHERE typology_id = 'mule_fan_in' ORDER BY 1")]
    assert subjects
    folder = tmp_path / "decisions"
    folder.mkdir()
    with open(folder / "d.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["subject_id", "disposition", "decided_at", "analyst", "note"])
        for s in subjects:
            w.writerow([s, "confirmed", "2026-06-01T00:00:00Z", "dara", ""])
        w.writerow(["SOMEBANK:nobody", "confirmed", "2026-07-01T00:00:00Z", "dara", "decided later"])
    ingest_paths(db, [folder])
    return db, subjects


def test_parsing_of_set_and_sweep():
    assert parse_set("fan_in_24h.min_senders=6") == ("fan_in_24h", "min_senders", 6)
    assert parse_set("structuring_cash.window=48h") == ("structuring_cash", "window", "48h")
    assert parse_sweep("fan_in_24h.min_senders=3:9:3") == ("fan_in_24h", "min_senders", [3, 6, 9])
    assert parse_sweep("x.share=0.5:0.7:0.1")[2] == [0.5, 0.6, 0.7]
    for bad in ("fan_in_24h=6", "min_senders"):
        with pytest.raises(SpecError, match="RULE.PARAM=VALUE"):
            parse_set(bad)
    with pytest.raises(SpecError, match="A:B:STEP"):
        parse_sweep("fan_in_24h.min_senders=3:9")


def test_backtest_scores_against_decisions_and_leaves_the_store(decided_store):
    db, subjects = decided_store
    runs_before = rows(db, "SELECT count(*) FROM runs")
    alerts_before = rows(db, "SELECT alert_id, status, is_current FROM alerts ORDER BY 1")
    base = backtest(db)
    again = backtest(db)
    assert base["alert_hash"] == again["alert_hash"]  # same inputs, same alert set
    assert base["decisions"] == {"confirmed": len(subjects) + 1, "false_positive": 0}
    assert base["missed_confirmed"] == ["SOMEBANK:nobody"]  # decided, but no rule can raise it
    assert base["per_rule"]["fan_in_24h"]["confirmed"] >= 1
    # a what-if that raises the fan-in floor above every sample fan-in misses the confirmed fan-in subjects
    strict = backtest(db, [("fan_in_24h", "min_senders", 9), ("fan_in_7d", "min_senders", 19)])
    assert set(strict["missed_confirmed"]) > {"SOMEBANK:nobody"}
    assert strict["recall"] < base["recall"] and strict["alert_hash"] != base["alert_hash"]
    # decisions after --as-of are ignored
    early = backtest(db, as_of=datetime(2026, 6, 15, tzinfo=timezone.utc))
    assert early["missed_confirmed"] == [] and early["decisions"]["confirmed"] == len(subjects)
    assert rows(db, "SELECT count(*) FROM runs") == runs_before
    assert rows(db, "SELECT alert_id, status, is_current FROM alerts ORDER BY 1") == alerts_before


def test_cli_sweep_writes_the_table(decided_store, tmp_path):
    db, _ = decided_store
    out = tmp_path / "sweep.csv"
    result = CliRunner().invoke(app, ["backtest", "--db", str(db), "--sweep", "fan_in_24h.min_senders=5:9:4",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(open(out)))
    assert [r["value"] for r in table] == ["5", "9"]
    assert int(table[0]["rule_subjects"]) >= int(table[1]["rule_subjects"])
    bad = CliRunner().invoke(app, ["backtest", "--db", str(db), "--set", "fan_in_24h"])
    assert bad.exit_code == 2 and "RULE.PARAM=VALUE" in bad.output
