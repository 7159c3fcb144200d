"""The case state machine, assignment, "next alert" under concurrency and four-eyes approval, on a real case
store (SQLite, and PostgreSQL when installed)."""

from __future__ import annotations

import itertools
import threading

import pytest

from workbench import audit, casestore, workflow
from workbench.users import User
from workbench.workflow import Forbidden, InvalidMove

from .conftest import add_users

ANA, BOB = User("ana", "analyst"), User("bob", "analyst")
SUE, TOM = User("sue", "supervisor"), User("tom", "supervisor")
ADM = User("adm", "admin")
FINAL = ("confirmed", "false_positive", "closed")
# Written out by hand (not derived from workflow.TRANSITIONS), so that a change to the machine shows up here.
ANALYST_MOVES = {("new", "in_review"), ("in_review", "new"), ("in_review", "escalated"),
                 *{("in_review", d) for d in FINAL}}
SUPERVISOR_MOVES = ANALYST_MOVES | {("escalated", "in_review"), *{("escalated", d) for d in FINAL},
                                    *{(d, "in_review") for d in FINAL}}
DECISION = {"confirmed": "confirmed", "false_positive": "false_positive", "closed": "inconclusive",
            "escalated": "escalated"}


@pytest.fixture
def eng(case_url):
    add_users(case_url)
    return casestore.engine(case_url)


def drive(eng, case_id: str, state: str) -> None:
    """Bring a new case, assigned to ana, into state through real moves."""
    if state == "new":
        return
    workflow.assign(eng, SUE, case_id, "alert", "S-" + case_id, "ana")
    if state == "in_review":
        return
    if state in FINAL or state == "escalated":
        workflow.decide(eng, ANA, case_id, "alert", "S-" + case_id, DECISION[state], None)


def attempt(eng, user: User, case_id: str, to: str) -> None:
    status = (workflow.get(eng, case_id) or {"status": "new"})["status"]
    if to == "new":
        workflow.assign(eng, user, case_id, "alert", "S-" + case_id, None)
    elif to == "in_review" and status == "new":
        workflow.assign(eng, user, case_id, "alert", "S-" + case_id, user.name if user.role == "analyst" else "ana")
    elif to == "in_review":
        workflow.reopen(eng, user, case_id)
    else:
        workflow.decide(eng, user, case_id, "alert", "S-" + case_id, DECISION[to], "tried")


@pytest.mark.parametrize("user,allowed", [(ANA, ANALYST_MOVES), (SUE, SUPERVISOR_MOVES)], ids=["analyst", "supervisor"])
def test_every_pair_of_states(eng, user, allowed):
    for i, (frm, to) in enumerate(itertools.product(workflow.STATES, workflow.STATES)):
        case_id = f"AL-{user.role}-{i}"
        drive(eng, case_id, frm)
        if (frm, to) in allowed:
            attempt(eng, user, case_id, to)
            assert workflow.get(eng, case_id)["status"] == to, (frm, to)
        else:
            with pytest.raises((InvalidMove, Forbidden)):
                attempt(eng, user, case_id, to)
            assert (workflow.get(eng, case_id) or {"status": "new"})["status"] == frm, (frm, to)
    ok, msg, n = audit.verify(eng)
    assert ok, msg
    assert n > 36


def test_admins_do_no_casework_and_analysts_take_only_for_themselves(eng):
    with pytest.raises(Forbidden):
        workflow.assign(eng, ADM, "AL-1", "alert", "S1", "adm")
    with pytest.raises(Forbidden):
        workflow.assign(eng, ANA, "AL-1", "alert", "S1", "bob")
    workflow.assign(eng, ANA, "AL-1", "alert", "S1", "ana")
    with pytest.raises(Forbidden):  # bob cannot take ana's case, nor decide it
        workflow.assign(eng, BOB, "AL-1", "alert", "S1", "bob")
    with pytest.raises(Forbidden):
        workflow.decide(eng, BOB, "AL-1", "alert", "S1", "confirmed", None)
    case = workflow.assign(eng, SUE, "AL-1", "alert", "S1", "bob")  # a supervisor reassigns
    assert case["assignee"] == "bob" and case["due_at"] is not None
    with pytest.raises(workflow.WorkflowError):
        workflow.assign(eng, SUE, "AL-1", "alert", "S1", "adm")  # admins hold no cases


def test_four_eyes(eng):
    workflow.assign(eng, SUE, "AL-4", "alert", "S4", "sue")
    workflow.decide(eng, SUE, "AL-4", "alert", "S4", "confirmed", "supervisor decided it herself")
    with pytest.raises(Forbidden):
        workflow.approve(eng, SUE, "AL-4")  # the decider cannot approve
    with pytest.raises(Forbidden):
        workflow.approve(eng, ANA, "AL-4")  # nor an analyst
    case = workflow.approve(eng, TOM, "AL-4")
    assert case["approved_by"] == "tom"
    with pytest.raises(InvalidMove):
        workflow.approve(eng, TOM, "AL-4")
    assert workflow.reopen(eng, TOM, "AL-4")["approved_by"] is None  # reopening withdraws the approval
    workflow.assign(eng, SUE, "AL-5", "alert", "S5", "ana")
    workflow.decide(eng, ANA, "AL-5", "alert", "S5", "false_positive", None)
    with pytest.raises(InvalidMove):
        workflow.approve(eng, SUE, "AL-5")  # only confirmed cases are approved


def test_concurrent_next_alert_gives_different_alerts(eng):
    candidates = [(f"AL-{i:03d}", "alert", f"S{i}") for i in range(40)]
    takers = [ANA, BOB, SUE, TOM] * 3
    got: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(takers))
    lock = threading.Lock()

    def take(user: User) -> None:
        try:
            start.wait()
            for _ in range(2):
                case = workflow.take_next(eng, user, candidates)
                with lock:
                    got.append(case["case_id"])
        except BaseException as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(u,)) for u in takers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(got) == 2 * len(takers)
    assert len(set(got)) == len(got), "two analysts were given the same alert"
    assert set(got) == {c[0] for c in candidates[: len(got)]}  # in priority order, none skipped
    ok, msg, _ = audit.verify(eng)
    assert ok, msg


def test_notes_due_dates_and_history(eng):
    from datetime import datetime, timedelta, timezone

    workflow.assign(eng, ANA, "AL-9", "alert", "S9", "ana")
    workflow.add_note(eng, ANA, "AL-9", "called the bank")
    with pytest.raises(Forbidden):
        workflow.set_due(eng, ANA, "AL-9", "alert", "S9", None)
    past = datetime.now(timezone.utc) - timedelta(days=1)
    assert workflow.set_due(eng, SUE, "AL-9", "alert", "S9", past)["due_at"] == past
    assert [n["text"] for n in workflow.notes(eng, "AL-9")] == ["called the bank"]
    assert [h["action"] for h in workflow.history(eng, "AL-9")] == ["assign", "note", "set_due"]


def test_racing_approval_never_lets_the_decider_approve(eng):
    """An approval racing a reopen and a re-decision by the approver himself: whichever comes first, the case never
    ends approved by the one who decided it (each change reads and writes in one serialised transaction)."""
    for i in range(15):
        cid, subj = f"AL-R{i}", f"SR{i}"
        workflow.assign(eng, SUE, cid, "alert", subj, "ana")
        workflow.decide(eng, ANA, cid, "alert", subj, "confirmed", None)
        start = threading.Barrier(2)

        def approve(cid=cid):
            start.wait()
            try:
                workflow.approve(eng, TOM, cid)
            except (Forbidden, InvalidMove):
                pass

        def redecide(cid=cid, subj=subj):
            start.wait()
            workflow.reopen(eng, TOM, cid)
            workflow.decide(eng, TOM, cid, "alert", subj, "confirmed", "decided again by tom")

        threads = [threading.Thread(target=approve), threading.Thread(target=redecide)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        case = workflow.get(eng, cid)
        assert not (case["approved_by"] and case["approved_by"] == case["decided_by"]), case
