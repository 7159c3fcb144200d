"""Incremental batch: day 1 then day 2 gives the same alerts as both at once; the pattern spanning midnight
is found; nothing is duplicated. Runs the real `scamtrace-run` flow through Prefect's test harness."""

from __future__ import annotations

import shutil

import pytest

from tests.batch.world import write_day, write_reference
from transforms import store

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _state(db):
    con = store.connect(db)
    try:
        alerts = con.execute(
            "SELECT alert_id, typology_id, subject_id FROM alerts WHERE is_current ORDER BY alert_id"
        ).fetchall()
        evidence = con.execute(
            "SELECT alert_id, list(txn_id ORDER BY txn_id) FROM alert_evidence GROUP BY alert_id ORDER BY alert_id"
        ).fetchall()
        txns = con.execute("SELECT count(*), count(DISTINCT txn_id) FROM transactions").fetchall()[0]
        statuses = dict(con.execute("SELECT alert_id, status FROM alerts").fetchall())
    finally:
        con.close()
    return alerts, evidence, txns, statuses


@pytest.mark.slow
def test_day_by_day_equals_all_at_once(tmp_path):
    from flows.run_flow import run_flow

    landing = tmp_path / "landing"
    write_reference(landing)
    write_day(landing, 1)
    inc_db, once_db = tmp_path / "inc.duckdb", tmp_path / "once.duckdb"

    day1 = run_flow(paths=[str(landing)], out=str(tmp_path / "out1"), db=str(inc_db))
    assert day1["period"][0] is not None and day1["detect"] is not None
    write_day(landing, 2)
    day2 = run_flow(paths=[str(landing)], out=str(tmp_path / "out2"), db=str(inc_db))
    # only the new file was ingested; the others were recognised by content hash
    statuses = {r["path"].rsplit("/", 1)[-1]: r["status"] for r in day2["ingest"]}
    assert statuses["testbank_day2.csv"] == "loaded"
    assert statuses["testbank_day1.csv"] == "skipped" and statuses["accounts.csv"] == "skipped"
    # detection covered only the new period (the rules add their own lookback)
    assert day2["period"][0].startswith("2026-03-10T17:00")  # 00:00 Bangkok on day 2

    once_landing = tmp_path / "once"
    shutil.copytree(landing, once_landing)
    run_flow(paths=[str(once_landing)], out=str(tmp_path / "out_once"), db=str(once_db))

    inc_alerts, inc_evidence, inc_txns, inc_status = _state(inc_db)
    once_alerts, once_evidence, once_txns, _ = _state(once_db)
    assert inc_txns == once_txns == (16, 16)  # nothing duplicated
    assert inc_alerts == once_alerts
    assert inc_evidence == once_evidence
    # the fan-in spans midnight: 7 senders on day 1 + 7 on day 2; found only with the lookback
    fan_in = [a for a in inc_alerts if a[1] == "mule_fan_in"]
    assert fan_in and fan_in[0][2] == "TESTBK:MULE01"
    assert inc_status[fan_in[0][0]] in ("new", "updated")

    # a third run with nothing new ingests nothing, detects nothing and keeps the alerts
    again = run_flow(paths=[str(landing)], out=str(tmp_path / "out3"), db=str(inc_db))
    assert again["detect"] is None and {r["status"] for r in again["ingest"]} == {"skipped"}
    assert _state(inc_db)[0] == inc_alerts


def test_a_corrupt_file_among_good_ones_is_reported_and_the_others_load(tmp_path):
    from flows.run_flow import run_flow

    landing = tmp_path / "landing"
    write_reference(landing)
    write_day(landing, 1)
    (landing / "testbank_broken.csv").write_bytes(b"ref,booked,account\n\xff\xfe\x00garbage")
    (landing / "mystery.bin").write_bytes(bytes(range(256)))
    result = run_flow(paths=[str(landing)], out=str(tmp_path / "out"), db=str(tmp_path / "db.duckdb"))
    by_name = {r["path"].rsplit("/", 1)[-1]: r for r in result["ingest"]}
    assert by_name["testbank_broken.csv"]["status"] == "refused"
    assert "testbank_broken.csv" in by_name["testbank_broken.csv"]["message"]
    assert by_name["mystery.bin"]["status"] == "refused"
    assert by_name["testbank_day1.csv"]["status"] == "loaded" and by_name["testbank_day1.csv"]["rows_loaded"] == 7
    assert result["export"] is not None
