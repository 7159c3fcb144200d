"""`scamtrace users` and `scamtrace audit verify` from the command line, on a real case store that the test then
edits by hand, as someone covering their tracks would."""

from __future__ import annotations

import sqlite3

import pytest
from typer.testing import CliRunner

from flows.cli import app
from workbench import casestore, workflow
from workbench.users import User

runner = CliRunner()


@pytest.fixture
def cases(tmp_path):
    url = f"sqlite:///{tmp_path / 'cases.sqlite'}"
    for name, role in (("ana", "analyst"), ("sue", "supervisor")):
        r = runner.invoke(app, ["users", "add", name, "--role", role, "--password-stdin", "--cases", url],
                          input=f"{name}-long-password\n")
        assert r.exit_code == 0, r.output
    eng = casestore.engine(url)
    for i in range(5):
        workflow.assign(eng, User("ana", "analyst"), f"AL-{i}", "alert", f"S{i}", "ana")
        workflow.decide(eng, User("ana", "analyst"), f"AL-{i}", "alert", f"S{i}", "confirmed", "note")
    return url, tmp_path / "cases.sqlite"


def verify(url: str):
    return runner.invoke(app, ["audit", "verify", "--cases", url])


def test_users_commands(cases):
    url, _ = cases
    r = runner.invoke(app, ["users", "add", "x", "--role", "boss", "--password-stdin", "--cases", url], input="a-long-password\n")
    assert r.exit_code == 1 and "role 'boss'" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["users", "add", "ana", "--role", "analyst", "--password-stdin", "--cases", url], input="another-password\n")
    assert r.exit_code == 1 and "exists already" in r.output
    r = runner.invoke(app, ["users", "token", "ana", "--cases", url])
    assert r.exit_code == 0 and r.output.strip().startswith("st_")
    assert runner.invoke(app, ["users", "disable", "ana", "--cases", url]).exit_code == 0
    r = runner.invoke(app, ["users", "token", "ana", "--cases", url])
    assert r.exit_code == 1 and "no active user ana" in r.output
    listing = runner.invoke(app, ["users", "list", "--cases", url]).output
    assert "ana" in listing and "disabled" in listing and "sue" in listing


def test_intact_trail_verifies(cases):
    url, _ = cases
    r = verify(url)
    assert r.exit_code == 0 and "intact" in r.output


@pytest.mark.parametrize("tamper,expect", [
    ("UPDATE wb_audit SET user_name = 'sue' WHERE seq = 5", "entry 5 was changed"),
    ("UPDATE wb_audit SET detail = '{\"decision\": \"false_positive\"}' WHERE seq = 7", "entry 7 was changed"),
    ("DELETE FROM wb_audit WHERE seq = 4", "entry 4 is missing"),
    ("DELETE FROM wb_audit WHERE seq = (SELECT max(seq) FROM wb_audit)", "removed from the end"),
    ("UPDATE wb_audit SET seq = seq + 100 WHERE seq = 3", "entry 3 is missing"),
])
def test_a_hand_edited_trail_fails(cases, tamper, expect):
    url, path = cases
    with sqlite3.connect(path) as con:
        con.execute(tamper)
    r = verify(url)
    assert r.exit_code == 1 and expect in r.output, r.output


def test_recomputing_one_hash_does_not_hide_the_edit(cases):
    """Whoever edits an entry and recomputes its hash breaks the link to the next entry."""
    from workbench.audit import entry_hash

    url, path = cases
    with sqlite3.connect(path) as con:
        row = con.execute("SELECT seq, at, user_name, action, object, detail, client, prev_hash FROM wb_audit WHERE seq = 6").fetchone()
        new = entry_hash(row[0], row[1], "sue", *row[3:])
        con.execute("UPDATE wb_audit SET user_name = 'sue', hash = ? WHERE seq = 6", [new])
    r = verify(url)
    assert r.exit_code == 1 and "entry 7 does not follow entry 6" in r.output
