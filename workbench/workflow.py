"""Case workflow: the state machine of an alert's (or network's) review, assignment, "next alert", decisions,
four-eyes approval, notes and due dates. Every change is one transaction with its audit entry.

    new -> in_review -> escalated -> confirmed | false_positive | closed
                     \\-> confirmed | false_positive | closed

A decision's disposition (confirmed, false_positive, inconclusive -> closed) is the label the next batch run
learns from (workbench/sync.py). A confirmed case's goAML report is released only when a supervisor other than the
decider approves it.
"""

from __future__ import annotations

from transforms.errors import ScamtraceError

from datetime import datetime, timedelta, timezone
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from workbench import audit
from workbench.casestore import CASES, DECISIONS, NOTES, USERS, utc, write
from workbench.users import User

STATES = ("new", "in_review", "escalated", "confirmed", "false_positive", "closed")
FINAL = ("confirmed", "false_positive", "closed")
CASEWORK_ROLES = ("analyst", "supervisor")  # admins manage users and read the audit trail; they do not decide
SUPERVISOR = ("supervisor",)

# (from, to) -> roles that may make the move. Anything not listed is refused.
TRANSITIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("new", "in_review"): CASEWORK_ROLES,          # taken or assigned
    ("in_review", "new"): CASEWORK_ROLES,          # released back to the queue
    ("in_review", "escalated"): CASEWORK_ROLES,    # to a supervisor
    **{("in_review", d): CASEWORK_ROLES for d in FINAL},
    ("escalated", "in_review"): SUPERVISOR,        # sent back for more work
    **{("escalated", d): SUPERVISOR for d in FINAL},
    **{(d, "in_review"): SUPERVISOR for d in FINAL},  # reopened (an approval is withdrawn with it)
}

# What the API's decision names mean: the status they move to and the disposition they record.
DECISIONS_TO_STATUS = {"confirmed": "confirmed", "false_positive": "false_positive", "inconclusive": "closed",
                       "escalated": "escalated"}
DUE_DAYS = 5  # a taken case is due after this many days unless a supervisor sets another date


class WorkflowError(ScamtraceError):
    status_code = 400


class Forbidden(WorkflowError):
    status_code = 403


class InvalidMove(WorkflowError):
    status_code = 409


class NotFound(WorkflowError):
    status_code = 404


def now() -> datetime:
    return datetime.now(timezone.utc)


def allowed(frm: str, to: str, role: str) -> bool:
    return role in TRANSITIONS.get((frm, to), ())


def check_move(frm: str, to: str, user: User) -> None:
    if (frm, to) not in TRANSITIONS:
        raise InvalidMove(f"a case cannot move from {frm} to {to}")
    if not allowed(frm, to, user.role):
        raise Forbidden(f"moving a case from {frm} to {to} needs the role {' or '.join(TRANSITIONS[(frm, to)])}")


def case_row(conn: Connection, case_id: str) -> dict | None:
    row = conn.execute(sa.select(CASES).where(CASES.c.case_id == case_id)).first()
    if row is None:
        return None
    d = dict(row._mapping)
    for k in ("assigned_at", "due_at", "decided_at", "approved_at", "updated_at"):
        d[k] = utc(d[k])
    return d


def get(eng: Engine, case_id: str) -> dict | None:
    with eng.connect() as conn:
        return case_row(conn, case_id)


def _default(case_id: str, kind: str, subject_id: str | None) -> dict:
    return {"case_id": case_id, "kind": kind, "subject_id": subject_id, "status": "new", "assignee": None,
            "assigned_at": None, "due_at": None, "decided_by": None, "decided_at": None, "disposition": None,
            "approved_by": None, "approved_at": None, "approved_fingerprint": None, "updated_at": None}


def _save(conn: Connection, before: dict | None, after: dict) -> None:
    after = {**after, "updated_at": now()}
    if before is None:
        conn.execute(CASES.insert().values(**after))  # a concurrent first write raises IntegrityError: retried
    else:
        conn.execute(CASES.update().where(CASES.c.case_id == after["case_id"]).values(**after))


def _load(conn: Connection, case_id: str, kind: str, subject_id: str | None) -> tuple[dict | None, dict]:
    before = case_row(conn, case_id)
    return before, dict(before) if before else _default(case_id, kind, subject_id)


def _active_user(conn: Connection, name: str) -> None:
    row = conn.execute(sa.select(USERS.c.role, USERS.c.disabled).where(USERS.c.name == name)).first()
    if row is None or row.disabled or row.role not in CASEWORK_ROLES:
        raise WorkflowError(f"{name} is not an active analyst or supervisor")


def assign(eng: Engine, user: User, case_id: str, kind: str, subject_id: str | None, assignee: str | None,
           client: str | None = None) -> dict:
    """Give the case to assignee (None: release it to the queue). Analysts may take an unassigned case for
    themselves and release their own; supervisors may assign anyone."""
    def body(conn):
        before, case = _load(conn, case_id, kind, subject_id)
        if assignee is None:
            if case["assignee"] != user.name and not user.is_supervisor:
                raise Forbidden("only the assignee or a supervisor can release a case")
            check_move(case["status"], "new", user)
            case.update(status="new", assignee=None, assigned_at=None, due_at=None)
        else:
            if user.role not in CASEWORK_ROLES:
                raise Forbidden("assigning cases needs the role analyst or supervisor")
            if not user.is_supervisor and (assignee != user.name or (case["assignee"] not in (None, user.name))):
                raise Forbidden("analysts can only take unassigned cases for themselves")
            _active_user(conn, assignee)
            if case["status"] == "new":
                check_move("new", "in_review", user)
                case["status"] = "in_review"
            elif case["status"] not in ("in_review", "escalated"):
                raise InvalidMove(f"a {case['status']} case is decided: reopen it before assigning it")
            case.update(assignee=assignee, assigned_at=now(), due_at=case["due_at"] or now() + timedelta(days=DUE_DAYS))
        _save(conn, before, case)
        audit.append(conn, user.name, "assign", case_id, {"assignee": assignee}, client)
        return case

    return write(eng, body)


def take_next(eng: Engine, user: User, candidates: Iterable[tuple[str, str, str | None]],
              client: str | None = None) -> dict | None:
    """Lock the first candidate (case_id, kind, subject_id), in priority order, that nobody holds, for user.
    Two analysts asking at once get different cases: the claim is a conditional write, and whoever loses it
    moves on to the next candidate."""
    if user.role not in CASEWORK_ROLES:
        raise Forbidden("taking cases needs the role analyst or supervisor")
    for case_id, kind, subject_id in candidates:
        def body(conn, case_id=case_id, kind=kind, subject_id=subject_id):
            before = case_row(conn, case_id)
            t = now()
            values = {"status": "in_review", "assignee": user.name, "assigned_at": t,
                      "due_at": t + timedelta(days=DUE_DAYS), "updated_at": t}
            if before is None:
                conn.execute(CASES.insert().values(**{**_default(case_id, kind, subject_id), **values}))
            else:
                claimed = conn.execute(CASES.update().where(
                    CASES.c.case_id == case_id, CASES.c.status == "new", CASES.c.assignee.is_(None)).values(**values))
                if claimed.rowcount != 1:
                    return None
            audit.append(conn, user.name, "take_next", case_id, None, client)
            return case_row(conn, case_id)

        try:
            got = write(eng, body)
        except sa.exc.IntegrityError:  # another analyst claimed it in the same instant
            continue
        if got is not None:
            return got
    return None


def decide(eng: Engine, user: User, case_id: str, kind: str, subject_id: str | None, decision: str,
           note: str | None, client: str | None = None) -> dict:
    if decision not in DECISIONS_TO_STATUS:
        raise WorkflowError(f"decision {decision!r}: use one of {', '.join(DECISIONS_TO_STATUS)}")
    to = DECISIONS_TO_STATUS[decision]

    def body(conn):
        before, case = _load(conn, case_id, kind, subject_id)
        if case["status"] == "new":
            raise InvalidMove("a new case is decided in review: take it or assign it first")
        check_move(case["status"], to, user)
        if case["assignee"] not in (None, user.name) and not user.is_supervisor:
            raise Forbidden(f"this case is assigned to {case['assignee']}")
        t = now()
        case["status"] = to
        if to in FINAL:
            disposition = "inconclusive" if to == "closed" else to
            case.update(decided_by=user.name, decided_at=t, disposition=disposition, approved_by=None, approved_at=None,
                        approved_fingerprint=None)
            conn.execute(DECISIONS.insert().values(case_id=case_id, subject_id=case["subject_id"], disposition=disposition,
                                                   decided_by=user.name, decided_at=t, note=note))
        _save(conn, before, case)
        if note:
            conn.execute(NOTES.insert().values(case_id=case_id, author=user.name, at=t, text=note))
        audit.append(conn, user.name, "decide", case_id, {"decision": decision, "status": to}, client)
        return case

    return write(eng, body)


def approve(eng: Engine, user: User, case_id: str, client: str | None = None, fingerprint: str | None = None) -> dict:
    """Four eyes: a supervisor who did not make the decision releases a confirmed case's report. fingerprint: the
    evidence the supervisor saw (alerts.evidence_hash, networks.core_hash); the export releases the report only while
    the case still has that evidence."""
    def body(conn):
        case = case_row(conn, case_id)
        if not user.is_supervisor:
            raise Forbidden("approving a report needs the role supervisor")
        if case is None or case["status"] != "confirmed":
            raise InvalidMove("only a confirmed case can be approved")
        if case["decided_by"] == user.name:
            raise Forbidden("four eyes: the supervisor who approves must not be the one who decided")
        if case["approved_by"]:
            raise InvalidMove(f"already approved by {case['approved_by']}")
        t = now()
        conn.execute(CASES.update().where(CASES.c.case_id == case_id).values(approved_by=user.name, approved_at=t,
                                                                             approved_fingerprint=fingerprint, updated_at=t))
        audit.append(conn, user.name, "approve", case_id, {"decided_by": case["decided_by"], "evidence": fingerprint},
                     client)
        return case_row(conn, case_id)

    return write(eng, body)


def reopen(eng: Engine, user: User, case_id: str, client: str | None = None) -> dict:
    def body(conn):
        case = case_row(conn, case_id)
        if case is None:
            raise InvalidMove("a case that was never decided cannot be reopened")
        check_move(case["status"], "in_review", user)
        t = now()
        conn.execute(CASES.update().where(CASES.c.case_id == case_id).values(
            status="in_review", approved_by=None, approved_at=None, approved_fingerprint=None, updated_at=t))
        audit.append(conn, user.name, "reopen", case_id, {"from": case["status"]}, client)
        return case_row(conn, case_id)

    return write(eng, body)


def set_due(eng: Engine, user: User, case_id: str, kind: str, subject_id: str | None, due: datetime | None,
            client: str | None = None) -> dict:
    if not user.is_supervisor:
        raise Forbidden("setting a due date needs the role supervisor")

    def body(conn):
        before, case = _load(conn, case_id, kind, subject_id)
        if case["status"] in FINAL:
            raise InvalidMove(f"a {case['status']} case has no due date: reopen it first")
        case["due_at"] = due
        _save(conn, before, case)
        audit.append(conn, user.name, "set_due", case_id, {"due_at": due.isoformat() if due else None}, client)
        return case

    return write(eng, body)


def add_note(eng: Engine, user: User, case_id: str, text: str, client: str | None = None) -> None:
    text = text.strip()
    if not text:
        raise WorkflowError("a note needs some text")
    if len(text) > 10_000:
        raise WorkflowError("a note holds at most 10,000 characters")

    def body(conn):
        conn.execute(NOTES.insert().values(case_id=case_id, author=user.name, at=now(), text=text))
        audit.append(conn, user.name, "note", case_id, None, client)

    write(eng, body)


def notes(eng: Engine, case_id: str) -> list[dict]:
    with eng.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(NOTES).where(NOTES.c.case_id == case_id).order_by(NOTES.c.note_id))]


def history(eng: Engine, case_id: str) -> list[dict]:
    """The case's review actions from the audit trail, oldest first (views are left out: they are not events of
    the case, and the audit page lists them)."""
    from workbench.casestore import AUDIT

    with eng.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(AUDIT.c.at, AUDIT.c.user_name, AUDIT.c.action, AUDIT.c.detail)
            .where(AUDIT.c.object == case_id, AUDIT.c.action.not_like("view%")).order_by(AUDIT.c.seq))]


def cases(eng: Engine, ids: Iterable[str] | None = None) -> list[dict]:
    """Case rows (all, or those of ids): few beside the alerts, as only touched cases have one."""
    q = sa.select(CASES)
    if ids is not None:
        q = q.where(CASES.c.case_id.in_(list(ids)))
    with eng.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]
