"""Decisions reach detection: the case store's decisions become rows of the store's `dispositions` table
(source 'workbench'), and its approvals the `approvals` table that the goAML export reads for four eyes.

Called by the batch (flows) with the store open for writing, before detection; the workbench never writes the
store. A full replace of the workbench's rows each time: decisions are few, and a reopened and re-decided case then
never leaves a stale row behind: a reopened case's labels are withdrawn until it is decided again.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import sqlalchemy as sa

from transforms.schema import APPROVALS, DISPOSITIONS_TABLE
from transforms.store import delete_facts, has_table, insert_facts
from workbench import casestore
from workbench.casestore import CASES, DECISIONS, utc
from workbench.workflow import FINAL

SOURCE = "workbench"


def pull(con: duckdb.DuckDBPyConnection, url: str) -> dict:
    """Copy decisions and approvals from the case store at url. Returns counts and whether the decisions changed
    since the last pull (then the run re-scores)."""
    if not casestore.exists(url):
        if has_table(con, "approvals"):  # the workbench was in use and its case store is gone: release nothing
            con.execute("DELETE FROM approvals")
        return {"case_store": None, "decisions": 0, "approvals": 0, "changed": False}
    eng = casestore.engine(url)
    with eng.connect() as conn:
        decisions = conn.execute(
            sa.select(DECISIONS.c.decision_id, DECISIONS.c.subject_id, DECISIONS.c.disposition, DECISIONS.c.decided_at,
                      DECISIONS.c.decided_by, DECISIONS.c.note)
            # a reopened case's decisions are withdrawn until it is decided again: labels of decided cases only
            .join(CASES, CASES.c.case_id == DECISIONS.c.case_id)
            .where(DECISIONS.c.subject_id.is_not(None), CASES.c.status.in_(FINAL))
            .order_by(DECISIONS.c.decision_id)).fetchall()
        approved = conn.execute(
            sa.select(CASES.c.case_id, CASES.c.kind, CASES.c.subject_id, CASES.c.decided_by, CASES.c.decided_at,
                      CASES.c.approved_by, CASES.c.approved_at, CASES.c.approved_fingerprint)
            .where(CASES.c.approved_by.is_not(None), CASES.c.status == "confirmed")).fetchall()
    con.execute(DISPOSITIONS_TABLE.ddl())
    before = {r[0] for r in con.execute("SELECT row_no FROM dispositions WHERE source = ?", [SOURCE]).fetchall()}
    changed = before != {d.decision_id for d in decisions}
    if changed:
        delete_facts(con, "dispositions", f"source = '{SOURCE}'")
        rows = pa.table({
            "subject_id": [d.subject_id for d in decisions],
            "disposition": [d.disposition for d in decisions],
            "decided_at": pa.array([utc(d.decided_at) for d in decisions], pa.timestamp("us", "UTC")),
            "analyst": [d.decided_by for d in decisions],
            "note": [d.note for d in decisions],
            "source": [SOURCE] * len(decisions),
            "file_id": [SOURCE] * len(decisions),
            "row_no": pa.array([d.decision_id for d in decisions], pa.int64()),
        })
        con.register("_wb_decisions", rows)
        try:
            insert_facts(con, "dispositions", f"SELECT {', '.join(DISPOSITIONS_TABLE.names)} FROM _wb_decisions")
        finally:
            con.unregister("_wb_decisions")
    approvals = pa.table({
        "case_id": [a.case_id for a in approved], "kind": [a.kind for a in approved],
        "subject_id": [a.subject_id for a in approved], "decided_by": [a.decided_by for a in approved],
        "decided_at": pa.array([utc(a.decided_at) for a in approved], pa.timestamp("us", "UTC")),
        "approved_by": [a.approved_by for a in approved],
        "approved_at": pa.array([utc(a.approved_at) for a in approved], pa.timestamp("us", "UTC")),
        "fingerprint": pa.array([a.approved_fingerprint for a in approved], pa.string()),
    })
    con.execute(APPROVALS.ddl())
    for sql in APPROVALS.upgrade():
        con.execute(sql)
    con.register("_wb_approvals", approvals)
    try:
        con.execute("DELETE FROM approvals")
        con.execute(f"INSERT INTO approvals SELECT {', '.join(APPROVALS.names)} FROM _wb_approvals")
    finally:
        con.unregister("_wb_approvals")
    return {"case_store": casestore.redact(url), "decisions": len(decisions), "approvals": len(approved),
            "changed": changed}
