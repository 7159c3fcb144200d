"""Decisions through the commands people use: a dispositions file ingested (bad rows quarantined), `scamtrace run`
with only new decisions, and `scamtrace eval --train-share` on the bundled samples."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.helpers import rows
from tests.scoring.conftest import SAMPLES

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_dispositions_file_loads_and_quarantines_bad_rows(db, write):
    f = write("decisions.csv",
              "subject_id,disposition,decided_at,analyst,note\n"
              "tron:TXYZ,confirmed,2026-11-20T10:00:00Z,somchai,\"collection account, 40 victims\"\n"
              "KBANK:123,False Positive,2026-11-21 09:30:00,dara,payroll agent\n"
              "KBANK:124,maybe,2026-11-21,dara,\n"
              ",confirmed,2026-11-21,dara,\n"
              "KBANK:125,inconclusive,yesterday,dara,\n")
    result = CliRunner().invoke(app, ["ingest", str(f), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert rows(db, "SELECT subject_id, disposition FROM dispositions ORDER BY 1") == [
        ("KBANK:123", "false_positive"), ("tron:TXYZ", "confirmed")]
    reasons = dict(rows(db, "SELECT row_no, reasons[1] FROM quarantine"))
    assert reasons[3].startswith("disposition: must be one of confirmed, false_positive, inconclusive")
    assert reasons[4] == "subject_id: missing value" and reasons[5].startswith("decided_at: not an ISO 8601 time")
    assert rows(db, "SELECT rows_read, rows_loaded, rows_quarantined FROM ingested_files") == [(5, 2, 3)]


def test_run_with_new_decisions_rescores_and_holds_false_positives_back(samples_store, tmp_path):
    import shutil

    db = tmp_path / "store.duckdb"
    shutil.copy(samples_store[0], db)
    targets = set(pl.read_csv(SAMPLES / "truth" / "pattern_accounts.csv").filter(pl.col("role") != "victim")["account_id"])
    subjects = [r[0] for r in rows(db, "SELECT DISTINCT subject_id FROM alerts WHERE subject_type = 'account' ORDER BY 1")]
    now = datetime.now(timezone.utc).isoformat()
    d = tmp_path / "in" / "decisions.csv"
    d.parent.mkdir()
    d.write_text("subject_id,disposition,decided_at,analyst,note\n" + "".join(
        f"{s},{'confirmed' if s in targets else 'false_positive'},{now},dara,\n" for s in subjects))
    result = CliRunner().invoke(app, ["run", str(d.parent), "--out", str(tmp_path / "out"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "new decisions: the latest run re-scored" in out and "trained on" in out
    assert rows(db, "SELECT count(*) FROM alerts WHERE is_current AND disposition = 'false_positive'") == [(0,)]
    fp_alerts = [r[0] for r in rows(db, "SELECT alert_id FROM alerts WHERE disposition = 'false_positive'")]
    assert fp_alerts and all(r == ("suppressed",) for r in rows(
        db, "SELECT status FROM alerts WHERE disposition = 'false_positive'"))
    # a full export names the decisions, and no decided false positive leaves as a goAML report
    full = CliRunner().invoke(app, ["export", "--out", str(tmp_path / "full"), "--db", str(db)])
    assert full.exit_code == 0, full.output
    exported = pl.read_csv(tmp_path / "full" / "alerts.csv")
    assert {"model_score", "model_explanation", "disposition"} <= set(exported.columns)
    goaml = {p.stem.removeprefix("alert_") for p in (tmp_path / "full" / "goaml").glob("alert_*.xml")}
    assert goaml and not goaml & set(fp_alerts)


def test_eval_train_share_prints_rules_only_and_with_model(samples_store, tmp_path):
    db, _ = samples_store
    out = tmp_path / "feedback.json"
    result = CliRunner().invoke(app, ["eval", "--truth", str(SAMPLES), "--train-share", "0.5", "--db", str(db),
                                      "--out", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "rules only" in result.output and "rules + model" in result.output
    report = json.loads(out.read_text())
    assert report["model"]["status"] == "trained"
    assert report["decisions"]["confirmed"] >= 20 and report["patterns"]["held_out"] > 0
    left = report["patterns"]["held_out_with_accounts_left"]
    # held-out transactions between two accounts of decided patterns are known: out of the truth scored
    txns = report["transactions"]
    assert report["rules_only"]["transactions"]["truth"] == txns["held_out"] - txns["known_both_ends_decided"]
    for side in ("rules_only", "rules_and_model"):
        assert 0 < report[side]["accounts"]["precision"] <= 1 and report[side]["patterns"]["total"] == left
    # the queue an analyst works when the model ranks: a subset of the alerts, printed as its own row
    queue = report["model_queue"]
    assert queue["alerts"] <= report["rules_and_model"]["alerts"] and queue["patterns"]["total"] == left
    assert "the model's queue" in result.output
    # the user's store received no simulated decision
    assert rows(db, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'dispositions'") in ([(0,)], [(1,)])
    if rows(db, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'dispositions'") == [(1,)]:
        assert rows(db, "SELECT count(*) FROM dispositions") == [(0,)]


def test_heldout_patterns_count_what_is_left_to_find():
    """On the held-out half: a pattern wholly inside decided patterns is not counted; a member named by an alert on
    a decided subject is found; an alert held back names nothing; subjects count from undecided alerts only."""
    from worlds.model_eval import _score_heldout

    alerts = pl.DataFrame(
        {"typology_id": ["t", "t", "t"], "subject_id": ["D1", "U1", "FP"],
         "txn_ids": [["x1"], ["x2"], ["x3"]], "member_ids": [["A", "B"], ["C"], ["E", "F"]]},
        schema={"typology_id": pl.Utf8, "subject_id": pl.Utf8, "txn_ids": pl.List(pl.Utf8), "member_ids": pl.List(pl.Utf8)})
    test = {"members": {"p1": {"A", "B"}, "p2": set(), "p3": {"C", "U1"}, "p4": {"E", "F", "G"}},
            "txns": {"x2", "x9"}}
    out = _score_heldout(alerts, test, excluded_accounts={"D1"}, excluded_txns={"x1"}, held_back={"FP"})
    assert out["patterns"] == {"total": 3, "found": 2, "recall": 0.6667}
    assert out["alerts"] == 1 and out["accounts"]["true_positive"] == 1
    assert out["transactions"]["true_positive"] == 1 and out["transactions"]["flagged"] == 1
