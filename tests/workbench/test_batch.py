"""The workbench beside the batch: decisions reach the next run, approvals decide which goAML reports are released,
and the batch and the workbench never stop each other (DuckDB's single writer: the workbench reads a published
snapshot and writes only its case store)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import httpx
import pytest
from typer.testing import CliRunner

from flows.cli import app
from workbench import casestore, serving, users, workflow
from workbench.users import User

from .conftest import SAMPLES, add_users, wait_port

ANA, SUE = User("ana", "analyst"), User("sue", "supervisor")
pytestmark = [pytest.mark.heavy(2), pytest.mark.slow]


@pytest.fixture
def beside(store, monkeypatch):
    """The store with a case store in its default place (beside it) and the users."""
    monkeypatch.delenv("SCAMTRACE_CASES", raising=False)
    url = casestore.default_url(store)
    add_users(url)
    return store, casestore.engine(url)


def _top_alerts(db: Path, n: int) -> list[tuple[str, str, int, float]]:
    con = duckdb.connect(str(serving.current(db)), read_only=True)
    try:
        return con.execute("SELECT alert_id, subject_id, n_transactions, total_usd FROM alerts "
                           "WHERE typology_id <> 'exposure' ORDER BY priority_score DESC, alert_id LIMIT ?", [n]).fetchall()
    finally:
        con.close()


def _evidence_hash(db: Path, alert_id: str) -> str:
    con = duckdb.connect(str(serving.current(db)), read_only=True)
    try:
        return con.execute("SELECT evidence_hash FROM alerts WHERE alert_id = ?", [alert_id]).fetchone()[0]
    finally:
        con.close()


def test_decisions_reach_the_next_run_and_only_approved_reports_are_released(beside, tmp_path):
    db, eng = beside
    (a_id, a_subj, a_n, a_usd), (b_id, b_subj, _, _), (c_id, _, _, _) = _top_alerts(db, 3)
    workflow.assign(eng, ANA, a_id, "alert", a_subj, "ana")
    workflow.decide(eng, ANA, a_id, "alert", a_subj, "confirmed", "pays on the compound's wallet")
    workflow.approve(eng, SUE, a_id, fingerprint=_evidence_hash(db, a_id))
    workflow.assign(eng, ANA, b_id, "alert", b_subj, "ana")
    workflow.decide(eng, ANA, b_id, "alert", b_subj, "false_positive", "payroll account")
    before = serving.current(db)

    r = CliRunner().invoke(app, ["run", str(SAMPLES), "--out", str(tmp_path / "run"), "--db", str(db)])
    assert r.exit_code == 0, r.output
    held = re.search(r"new decisions: the latest run re-scored, (\d+) false positive\(s\) held back", r.output)
    assert held and int(held.group(1)) >= 1, r.output  # every alert on the false positive's subject

    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT subject_id, disposition, analyst FROM dispositions WHERE source = 'workbench' "
                           "ORDER BY disposition").fetchall()
        status = dict(con.execute("SELECT alert_id, status FROM alerts WHERE alert_id IN (?, ?)", [a_id, b_id]).fetchall())
    finally:
        con.close()
    assert rows == [(a_subj, "confirmed", "ana"), (b_subj, "false_positive", "ana")]
    assert status[b_id] == "suppressed" and status[a_id] != "suppressed"
    assert serving.current(db) != before  # the workbench sees the re-scored alerts

    out = tmp_path / "export"
    r = CliRunner().invoke(app, ["export", "--out", str(out), "--format", "goaml", "--db", str(db)])
    assert r.exit_code == 0, r.output
    released = out / "goaml" / f"alert_{a_id}.xml"
    assert released.is_file()
    assert (out / "goaml" / "drafts" / f"alert_{c_id}.xml").is_file()  # decided by nobody: a draft
    assert not list(out.rglob(f"alert_{b_id}.xml"))  # a false positive is no report at all
    assert [p.name for p in (out / "goaml").glob("alert_*.xml")] == [released.name]
    # the approved decision is the STR: its transactions are the case's evidence
    tree = ET.parse(released)
    amounts = [float(t.findtext("amount_local")) for t in tree.iter("transaction")]
    assert len(amounts) == a_n
    assert abs(sum(amounts) - float(a_usd)) < 0.01 * a_n

    # new evidence since the approval: the supervisor has not seen it, so the report is a draft again
    con = duckdb.connect(str(db))
    con.execute("UPDATE alerts SET evidence_hash = 'changed' WHERE alert_id = ?", [a_id])
    con.close()
    again = tmp_path / "export2"
    r = CliRunner().invoke(app, ["export", "--out", str(again), "--format", "goaml", "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert not list((again / "goaml").glob("alert_*.xml")) and (again / "goaml" / "drafts" / released.name).is_file()


def _serve(db: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "ui", "--db", str(db), "--port", str(port)],
                            cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "SCAMTRACE_CASES": casestore.default_url(db)})
    wait_port(port)
    return proc


def _batch(db: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flows.cli", "run", str(SAMPLES), "--full", "--quiet",
                             "--out", str(out), "--db", str(db)], cwd=Path(__file__).resolve().parents[2],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


class Poller(threading.Thread):
    """Asks the workbench for the queue and takes and decides alerts until stopped; records every status code."""

    def __init__(self, port: int, headers: dict):
        super().__init__(daemon=True)
        self.base, self.headers, self.codes, self.stop = f"http://127.0.0.1:{port}", headers, [], threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=30) as c:
            while not self.stop.is_set():
                self.codes.append(c.get("/api/alerts?limit=20").status_code)
                taken = c.post("/api/next")
                self.codes.append(taken.status_code)
                aid = taken.json().get("alert_id")
                if aid:
                    self.codes.append(c.post(f"/api/alerts/{aid}/decision", json={"disposition": "inconclusive"}).status_code)
                time.sleep(0.05)


def test_batch_runs_while_the_workbench_serves_and_the_other_way_round(beside, tmp_path):
    db, eng = beside
    headers = {"Authorization": "Bearer " + users.new_token(eng, "ana")}
    port = 18000 + os.getpid() % 1000
    ui = _serve(db, port)
    try:
        poller = Poller(port, headers)
        poller.start()
        before = serving.current(db)
        batch = _batch(db, tmp_path / "out1")
        out, _ = batch.communicate(timeout=600)
        poller.stop.set()
        poller.join(60)
        assert batch.returncode == 0, out
        assert serving.current(db) != before  # the run published a new snapshot
        assert poller.codes and set(poller.codes) <= {200}, sorted(set(poller.codes))
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as c:
            assert c.get("/api/alerts").status_code == 200  # now served from the new snapshot
    finally:
        ui.terminate()
        ui.wait(30)

    # the other way round: a batch is writing the store when the workbench starts
    batch = _batch(db, tmp_path / "out2")
    time.sleep(3)
    ui = _serve(db, port + 1)
    try:
        poller = Poller(port + 1, headers)
        poller.start()
        out, _ = batch.communicate(timeout=600)
        time.sleep(0.5)
        poller.stop.set()
        poller.join(60)
        assert batch.returncode == 0, out
        assert poller.codes and set(poller.codes) <= {200}, sorted(set(poller.codes))
    finally:
        ui.terminate()
        ui.wait(30)
    ok, msg, n = __import__("workbench.audit", fromlist=["verify"]).verify(eng)
    assert ok, msg
