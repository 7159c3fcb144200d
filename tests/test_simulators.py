"""Simulator worlds: their transaction logs load through their readers, their native truth names the same accounts
and transactions, and `eval` scores a detect run against it (tests/fixtures/worlds, see its README)."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from rules.engine import detect
from worlds.evaluate import evaluate
from worlds.truth_formats import TruthError, load_truth
from tests.helpers import ingest, rows
from transforms import store
from transforms.sources.base import ReadContext
from transforms.sources.registry import detect as detect_reader

WORLDS = Path(__file__).resolve().parent / "fixtures" / "worlds"


def _store_ids(db: Path, column: str) -> set[str]:
    return {r[0] for r in rows(db, f"SELECT DISTINCT {column} FROM transactions")}


@pytest.mark.parametrize("world,file,reader", [
    ("amlgentex_slice", "transactions.csv", "amlgentex_tx_log"),
    ("amlsim_slice", "tx_log.csv", "amlsim_tx_log"),
    ("amlworld_mini", "HI-Mini_Trans.csv", "amlworld"),
])
def test_each_log_is_detected_by_its_reader(world, file, reader):
    path = WORLDS / world / file
    assert detect_reader(path, ReadContext()).name == reader


def test_amlsim_log_loads_with_truth_ids(db, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(WORLDS / "amlsim_slice" / "tx_log.csv", src)
    report = ingest(db, src)["tx_log.csv"]
    n_rows = pl.read_csv(src / "tx_log.csv").height
    assert report.rows_read == n_rows
    # zero amounts (accounts the simulator let run dry) are quarantined with their reason, not lost
    zero = pl.read_csv(src / "tx_log.csv").filter(pl.col("amount") == 0).height
    assert report.rows_quarantined == zero and report.rows_loaded == n_rows - zero
    booked = rows(db, "SELECT min(booked_at), max(booked_at), count(DISTINCT strftime(booked_at, '%H:%M')) FROM transactions")[0]
    assert str(booked[0].date()) >= "2017-01-01" and booked[2] == 1  # days only, at midnight
    truth = load_truth(WORLDS / "amlsim_slice")
    assert truth.format == "amlsim"
    txn_ids = _store_ids(db, "txn_id")
    assert set(truth.pattern_transactions["txn_id"]) <= txn_ids
    accounts = _store_ids(db, "from_account_id") | _store_ids(db, "to_account_id")
    listed = pl.read_csv(WORLDS / "amlsim_slice" / "alert_transactions.csv")
    assert listed.height == 54
    # every member of a pattern with listed laundering transfers is an account of the store
    active = truth.pattern_accounts.join(listed.select(pattern_id=pl.col("alert_id").cast(pl.Utf8)).unique(), on="pattern_id")
    assert set(active["account_id"]) <= accounts
    # bipartite and stack transfers (logged as normal upstream) are the transfers between members of one pattern
    typ = dict(truth.patterns.select("pattern_id", "typology").iter_rows())
    derived = truth.pattern_transactions.filter(pl.col("pattern_id").is_in(listed["alert_id"].cast(pl.Utf8).to_list()).not_())
    assert derived.height == truth.pattern_transactions.height - 54 > 0
    assert {typ[p] for p in derived["pattern_id"]} <= {"bipartite", "stack"}
    ends = {r[0]: (r[1], r[2]) for r in rows(db, "SELECT txn_id, from_account_id, to_account_id FROM transactions")}
    members = {(p, a) for p, a in truth.pattern_accounts.select("pattern_id", "account_id").iter_rows()}
    assert all((p, ends[t][0]) in members and (p, ends[t][1]) in members for p, t in derived.iter_rows())
    # bipartite and stack members come from the generator's truth although their transfers are logged as normal
    assert set(truth.patterns["typology"]) == {"fan_in", "fan_out", "cycle", "bipartite", "stack"}
    assert dict(truth.patterns.select("typology", "detected_by").unique().iter_rows())["stack"] == "bipartite"


def test_amlgentex_truth_matches_its_laundering_rows(db):
    ingest(db, WORLDS / "amlgentex_slice" / "transactions.csv")
    truth = load_truth(WORLDS / "amlgentex_slice")
    sar = pl.read_csv(WORLDS / "amlgentex_slice" / "transactions.csv").filter(pl.col("isSAR") == 1)
    assert truth.pattern_transactions.height == sar.height
    stored = rows(db, "SELECT txn_id, from_account_id, to_account_id FROM transactions")
    by_id = {t: (f, to) for t, f, to in stored}
    # each laundering transfer of the truth is the stored transfer between two members of its pattern
    members = truth.pattern_accounts.group_by("pattern_id").agg(pl.col("account_id"))
    of = {p: set(a) for p, a in members.iter_rows()}
    for pid, tid in truth.pattern_transactions.iter_rows():
        frm, to = by_id[tid]
        assert {frm, to} <= of[pid]


def test_amlgentex_truth_without_pattern_map_derives_it(write, tmp_path):
    # laundering patternIDs follow the normal ones in order of the models' first appearance in alert_models
    write("alert_models.csv", "modelID,type,accountID,isMain,sourceType,phase\n"
          "7,cycle,1,True,TRANSFER,0\n7,cycle,2,False,TRANSFER,0\n3,fan_in,3,True,TRANSFER,0\n3,fan_in,4,False,TRANSFER,0\n")
    head = "step,type,amount,nameOrig,nameDest,bankOrig,bankDest,isSAR,patternID,modelType\n"
    write("transactions.csv", head + "0,TRANSFER,5.0,9,8,bank_a,bank_a,0,12,11\n1,TRANSFER,5.0,1,2,bank_a,bank_a,1,40,3\n"
          "2,TRANSFER,5.0,4,3,bank_a,bank_a,1,41,2\n3,TRANSFER,5.0,2,1,bank_a,bank_a,1,40,3\n")
    truth = load_truth(tmp_path / "in")
    got = sorted(truth.pattern_transactions.with_columns(pl.col("pattern_id")).iter_rows())
    assert [p for p, _ in got] == ["3", "7", "7"]
    assert dict(truth.patterns.select("pattern_id", "detected_by").iter_rows()) == {"7": "cycle", "3": "mule_fan_in"}


def test_amlgentex_truth_that_cannot_be_mapped_says_so(tmp_path):
    # a slice keeps only some models, so the derivation cannot hold: the error names the file and the fix
    for f in ("transactions.csv", "alert_models.csv"):
        shutil.copy(WORLDS / "amlgentex_slice" / f, tmp_path)
    with pytest.raises(TruthError, match="maps to no alert model; add pattern_map.csv"):
        load_truth(tmp_path)


def test_amlworld_records_meet_patterns_txt(db, write):
    fx = write("rates.csv", "date,currency,usd_per_unit\n2022-09-01,EUR,1.0\n2022-09-01,CNY,0.14\n")
    report = ingest(db, fx, WORLDS / "amlworld_mini" / "HI-Mini_Trans.csv")["HI-Mini_Trans.csv"]
    assert report.rows_read == 10
    reasons = {r[0]: r[1] for r in rows(db, "SELECT row_no, reasons FROM quarantine")}
    assert any("currency" in x for x in reasons[10])  # Dogecoin: no currency AMLworld names
    truth = load_truth(WORLDS / "amlworld_mini")
    assert truth.format == "amlworld"
    assert dict(truth.patterns.select("typology", "detected_by").iter_rows()) == {"fan-out": "fan_out", "cycle": "cycle"}
    stored = {r[0]: r[1:] for r in rows(db, "SELECT txn_id, from_account_id, to_account_id, amount, currency, channel FROM transactions")}
    cycle = truth.pattern_transactions.filter(pl.col("pattern_id") == "2")["txn_id"].to_list()
    assert [stored[t][:2] for t in cycle] == [("070:80C47AB20", "0211:80D1E1C90"), ("0211:80D1E1C90", "070:80C47AB20")]
    assert stored[cycle[0]][3:] == ("CNY", "wire")
    fan = truth.pattern_transactions.filter(pl.col("pattern_id") == "1")["txn_id"].to_list()
    assert all(t in stored for t in fan) and len(fan) == 3


def test_missing_truth_is_one_clear_error(tmp_path):
    with pytest.raises(TruthError, match="no truth labels found"):
        load_truth(tmp_path)


def test_eval_scores_a_detect_run_on_simulator_truth(db):
    ingest(db, WORLDS / "amlgentex_slice" / "transactions.csv")
    con = store.connect(db)
    try:
        summary = detect(con)
        result = evaluate(con, WORLDS / "amlgentex_slice", run_id=summary.run_id)
    finally:
        con.close()
    assert result["truth_format"] == "amlgentex"
    assert result["patterns"]["total"] == 21
    assert set(result["per_typology"]) >= {"fan_in", "fan_out", "cycle", "bipartite", "stack", "scatter_gather", "gather_scatter"}
    # the stack row reads the alerts of the typology that finds stacks (bipartite)
    assert result["per_typology"]["stack"]["alerts"] == result["per_typology"]["bipartite"]["alerts"] > 0
    assert result["transactions"]["truth"] == 228


def test_scamtrace_truth_missing_a_file_names_it(write, tmp_path):
    write("patterns.csv", "pattern_id,typology\np1,cycle\n")
    write("pattern_accounts.csv", "pattern_id,account_id\np1,A\n")
    with pytest.raises(TruthError, match="pattern_transactions.csv: truth file missing"):
        load_truth(tmp_path / "in")
