"""Analysts' decisions in casework: false positives stay down unless materially new evidence arrives; confirmed
subjects stay up as positives; every alert carries the latest decision on its subject.

Run inside the build: `hold_back(con)` after alerts.stage (before networks, so that a suppressed alert joins no
network) and `annotate(con)` after alerts.write. The dispositions table is loaded from a dispositions file (or
written by the review workbench); the model's scores come from the scoring stage (account_scores).
"""

from __future__ import annotations

import duckdb

from transforms.store import has_table

# A false positive comes back when at least this share of its evidence (and at least one transaction) was not
# known when the analyst decided: booked after the decision, or loaded from a file ingested after it.
REOPEN_SHARE = 0.2

LATEST_SQL = """
SELECT subject_id, disposition, decided_at, analyst, note FROM (
    SELECT *, row_number() OVER (PARTITION BY subject_id ORDER BY decided_at DESC, file_id DESC, row_no DESC) AS k
    FROM dispositions {cut}
) WHERE k = 1
"""
EMPTY_SQL = ("SELECT NULL::VARCHAR AS subject_id, NULL::VARCHAR AS disposition, NULL::TIMESTAMPTZ AS decided_at,"
             " NULL::VARCHAR AS analyst, NULL::VARCHAR AS note WHERE false")


def latest_sql(con: duckdb.DuckDBPyConnection, *, as_of: bool = False) -> str:
    """The latest decision per subject (an empty relation when the store has no dispositions). With as_of, only
    decisions made up to the query parameter $as_of (NULL: all) count."""
    if not has_table(con, "dispositions"):
        return EMPTY_SQL
    return LATEST_SQL.format(cut="WHERE $as_of IS NULL OR decided_at <= $as_of" if as_of else "")


def hold_back(con: duckdb.DuckDBPyConnection) -> int:
    """Remove from the staged alerts those whose subject was decided a false positive and whose evidence is not
    materially new since; note the re-raised ones in their reasons. Returns how many were held back
    (their ids stay in _cw_suppressed for write())."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _cw_disposition_check AS
        WITH d AS ({latest_sql(con)}),
        loaded AS (SELECT file_id, min(ingested_at) AS ingested_at FROM ingested_files GROUP BY file_id),
        ev AS (
            SELECT e.alert_id, count(*) AS n,
                   count(*) FILTER (t.booked_at > d.decided_at OR l.ingested_at > d.decided_at) AS n_new
            FROM _cw_alerts a
            JOIN d ON d.subject_id = a.subject_id AND d.disposition = 'false_positive'
            JOIN _cw_evidence e ON e.alert_id = a.alert_id
            JOIN transactions t ON t.txn_id = e.txn_id
            LEFT JOIN loaded l ON l.file_id = t.file_id
            GROUP BY e.alert_id
        )
        SELECT a.alert_id, coalesce(ev.n, 0) AS n, coalesce(ev.n_new, 0) AS n_new, d.decided_at, d.analyst,
               coalesce(ev.n_new, 0) >= 1 AND coalesce(ev.n_new, 0) >= {REOPEN_SHARE} * coalesce(ev.n, 0) AS reopened
        FROM _cw_alerts a
        JOIN d ON d.subject_id = a.subject_id AND d.disposition = 'false_positive'
        LEFT JOIN ev USING (alert_id)
        """
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _cw_suppressed AS SELECT alert_id FROM _cw_disposition_check WHERE NOT reopened")
    con.execute(
        """UPDATE _cw_alerts a SET reasons = list_prepend(
               'Raised again after a false-positive decision of ' || strftime(c.decided_at, '%Y-%m-%d')
               || coalesce(' by ' || c.analyst, '') || ': ' || c.n_new || ' of its ' || c.n
               || ' evidence transactions are new since.', a.reasons)
           FROM _cw_disposition_check c WHERE c.alert_id = a.alert_id AND c.reopened"""
    )
    for t in ("_cw_alerts", "_cw_evidence", "_cw_subject_accounts", "_cw_alert_facts"):
        con.execute(f"DELETE FROM {t} WHERE alert_id IN (SELECT alert_id FROM _cw_suppressed)")
    con.execute("DROP TABLE _cw_disposition_check")
    return con.execute("SELECT count(*) FROM _cw_suppressed").fetchall()[0][0]


def annotate(con: duckdb.DuckDBPyConnection) -> dict:
    """After the merge: suppressed alerts marked, every alert's latest decision copied, confirmed subjects kept
    current."""
    con.execute("UPDATE alerts SET status = 'suppressed', is_current = false"
                " WHERE alert_id IN (SELECT alert_id FROM _cw_suppressed)")
    con.execute(
        f"""UPDATE alerts a SET disposition = d.disposition, disposed_at = d.decided_at, disposed_by = d.analyst
            FROM ({latest_sql(con)}) d WHERE d.subject_id = a.subject_id"""
    )
    con.execute("UPDATE alerts SET is_current = true WHERE disposition = 'confirmed' AND NOT is_current")
    return {"alerts_suppressed": con.execute("SELECT count(*) FROM _cw_suppressed").fetchall()[0][0]}
