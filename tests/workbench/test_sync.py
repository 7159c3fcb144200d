"""Decisions and approvals from the case store (SQLite, and a real PostgreSQL when installed) into the store's
dispositions and approvals tables, as the batch pulls them."""

from __future__ import annotations

import duckdb
import pytest

from transforms.store import connect
from workbench import casestore, sync, workflow
from workbench.users import User

from .conftest import add_users

ANA, SUE, TOM = User("ana", "analyst"), User("sue", "supervisor"), User("tom", "supervisor")


def _rows(db, sql):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_pull_decisions_and_approvals(store, case_url):
    add_users(case_url)
    eng = casestore.engine(case_url)
    con = connect(store)
    try:
        assert sync.pull(con, case_url)["changed"] is False  # nothing decided yet
        workflow.assign(eng, SUE, "AL-1", "alert", "ACC:1", "ana")
        workflow.decide(eng, ANA, "AL-1", "alert", "ACC:1", "confirmed", "mule")
        workflow.approve(eng, SUE, "AL-1")
        workflow.assign(eng, SUE, "AL-2", "alert", "ACC:2", "ana")
        workflow.decide(eng, ANA, "AL-2", "alert", "ACC:2", "escalated", None)  # not a label
        workflow.assign(eng, SUE, "NW-1", "network", None, "ana")
        workflow.decide(eng, ANA, "NW-1", "network", None, "confirmed", None)  # networks are not labels
        workflow.approve(eng, TOM, "NW-1")
        first = sync.pull(con, case_url)
        assert first == {"case_store": casestore.redact(case_url), "decisions": 1, "approvals": 2, "changed": True}
        assert sync.pull(con, case_url)["changed"] is False  # the same decisions again: nothing new
        workflow.reopen(eng, TOM, "AL-1")  # reopened and decided again: the old label is replaced, approval gone
        workflow.decide(eng, TOM, "AL-1", "alert", "ACC:1", "false_positive", "a payroll account after all")
        assert sync.pull(con, case_url)["changed"] is True
    finally:
        con.close()
    labels = _rows(store, "SELECT subject_id, disposition, analyst, note FROM dispositions WHERE source = 'workbench' "
                          "ORDER BY decided_at")
    assert labels == [("ACC:1", "confirmed", "ana", "mule"), ("ACC:1", "false_positive", "tom", "a payroll account after all")]
    latest = _rows(store, "SELECT disposition FROM dispositions WHERE subject_id = 'ACC:1' ORDER BY decided_at DESC LIMIT 1")
    assert latest == [("false_positive",)]
    assert _rows(store, "SELECT case_id, kind, decided_by, approved_by FROM approvals") == [("NW-1", "network", "ana", "tom")]
    workflow.reopen(eng, SUE, "AL-1")  # reopened and not decided again: its labels are withdrawn meanwhile
    con = connect(store)
    try:
        assert sync.pull(con, case_url)["changed"] is True
    finally:
        con.close()
    assert _rows(store, "SELECT count(*) FROM dispositions WHERE source = 'workbench'") == [(0,)]


def test_a_case_store_gone_releases_nothing(store, sqlite_url, tmp_path):
    add_users(sqlite_url)
    eng = casestore.engine(sqlite_url)
    workflow.assign(eng, SUE, "NW-1", "network", None, "ana")
    workflow.decide(eng, ANA, "NW-1", "network", None, "confirmed", None)
    workflow.approve(eng, TOM, "NW-1")
    con = connect(store)
    try:
        assert sync.pull(con, sqlite_url)["approvals"] == 1
        assert sync.pull(con, f"sqlite:///{tmp_path / 'moved.sqlite'}")["case_store"] is None
        assert con.execute("SELECT count(*) FROM approvals").fetchone() == (0,)  # every report a draft
    finally:
        con.close()


def test_no_case_store_no_four_eyes(store, tmp_path):
    url = f"sqlite:///{tmp_path / 'absent.sqlite'}"
    con = connect(store)
    try:
        assert sync.pull(con, url) == {"case_store": None, "decisions": 0, "approvals": 0, "changed": False}
    finally:
        con.close()
    assert not (tmp_path / "absent.sqlite").exists()  # pulling never creates a case store
    assert _rows(store, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'approvals'") == [(0,)]


@pytest.mark.parametrize("url", ["postgresql://nobody@127.0.0.1:1/none"])
def test_unreachable_case_store_is_one_line(url):
    with pytest.raises(casestore.CaseStoreError) as exc:
        casestore.engine(url)
    assert "cannot open it" in str(exc.value) and "\n" not in str(exc.value)
    with pytest.raises(casestore.CaseStoreError, match="cannot reach it"):  # the batch stops rather than skip decisions
        casestore.exists(url.replace("none", "other"))
