"""Alerts per subject and typology from typology_scores.is_alert of one detect run, with evidence roles.

alert_id = 'AL-' + sha256(subject_type|subject_id|typology_id)[:16]: the same subject alerting on the same
typology in a later run keeps its id. Status against the stored state: new (no stored alert), updated (score or
evidence set changed), unchanged. Stored alerts that this run did not raise stay, with is_current = false.

The alert rows are staged in the temp table _cw_alerts (networks and priority are added before they are
written); evidence goes to _cw_evidence.
"""

from __future__ import annotations

import duckdb

from rules.casework.common import offramp_list_sql
from transforms.store import has_table

# roles of an evidence transaction seen from the alert's subject (accounts of a party subject count as the subject)
ROLE_SQL = f"""
CASE
    WHEN si.account_id IS NOT NULL AND so.account_id IS NOT NULL THEN 'own_transfer'
    WHEN si.account_id IS NOT NULL THEN
        CASE WHEN t.channel = 'cash_deposit' OR t.from_account_id = 'cash' THEN 'cash_deposit'
             WHEN e.typology_id = 'victim_escalation' THEN 'inbound'
             ELSE 'inbound_to_mule' END
    WHEN so.account_id IS NOT NULL THEN
        CASE WHEN t.channel = 'cash_withdrawal' OR t.to_account_id = 'cash' THEN 'cash_withdrawal'
             WHEN t.to_account_id IN (SELECT account_id FROM listed_addresses) THEN 'to_listed_address'
             WHEN list_contains({offramp_list_sql()}, ka.kind) THEN 'off_ramp_transfer'
             WHEN t.rail = 'crypto' AND coalesce(ks.rail, 'crypto') = 'bank' THEN 'off_ramp_transfer'
             WHEN e.typology_id = 'victim_escalation' THEN 'victim_payment'
             ELSE 'outbound_layer' END
    ELSE 'intermediary_hop'
END
"""


def stage(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Stage the run's alerts (_cw_alerts) and their evidence (_cw_evidence). Returns the number of alerts."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _cw_alerts AS
        WITH s AS (
            SELECT ts.*, 'AL-' || substr(sha256(subject_type || '|' || subject_id || '|' || typology_id), 1, 16) AS alert_id
            FROM typology_scores ts WHERE ts.run_id = $run_id AND ts.is_alert
        ),
        per_subject AS (   -- all typologies alerting on a subject in the run
            SELECT subject_type, subject_id, list_sort(list_distinct(list(typology_id))) AS typologies
            FROM s GROUP BY subject_type, subject_id
        )
        SELECT s.alert_id, s.subject_type, s.subject_id, s.typology_id, s.typology_version, p.typologies,
               list_sort(json_keys(CAST(s.rule_scores AS JSON))) AS rule_ids,
               CAST(s.rule_scores AS JSON) AS rule_scores, s.reasons, s.score, s.threshold,
               coalesce(s.txn_ids, CAST([] AS VARCHAR[])) AS txn_ids,
               coalesce(s.member_ids, CAST([] AS VARCHAR[])) AS member_ids
        FROM s JOIN per_subject p USING (subject_type, subject_id)
        """,
        {"run_id": run_id},
    )
    # accounts that stand for the subject: the account itself, or every account held by the party / its cluster
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _cw_subject_accounts AS
        SELECT alert_id, subject_id AS account_id FROM _cw_alerts WHERE subject_type = 'account'
        UNION
        SELECT a.alert_id, ac.account_id FROM _cw_alerts a
        JOIN party_clusters pc0 ON pc0.party_id = a.subject_id
        JOIN party_clusters pc ON pc.cluster_id = pc0.cluster_id
        JOIN accounts ac ON ac.holder_id = pc.party_id
        WHERE a.subject_type = 'party'
        UNION
        SELECT a.alert_id, ac.account_id FROM _cw_alerts a JOIN accounts ac ON ac.holder_id = a.subject_id
        WHERE a.subject_type = 'party'
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _cw_evidence AS
        WITH subj AS (SELECT * FROM _cw_subject_accounts),
        e AS (SELECT alert_id, typology_id, subject_type, subject_id, rule_ids, unnest(txn_ids) AS txn_id FROM _cw_alerts),
        cites AS (   -- which of the alert's rules cite each transaction
            SELECT a.alert_id, x.txn_id, list_sort(list_distinct(list(h.rule_id))) AS rule_ids
            FROM _cw_alerts a
            JOIN rule_hits h ON h.run_id = $run_id AND h.subject_type = a.subject_type AND h.subject_id = a.subject_id
                            AND list_contains(a.rule_ids, h.rule_id)
            CROSS JOIN LATERAL (SELECT unnest(h.txn_ids) AS txn_id) x
            GROUP BY a.alert_id, x.txn_id
        )
        SELECT e.alert_id, e.txn_id,
               {ROLE_SQL} AS role,
               CASE WHEN si.account_id IS NOT NULL THEN 'in'
                    WHEN so.account_id IS NOT NULL THEN 'out'
                    ELSE 'other' END AS direction,
               CASE WHEN si.account_id IS NOT NULL THEN t.from_account_id
                    WHEN so.account_id IS NOT NULL THEN t.to_account_id
                    ELSE t.from_account_id || ' -> ' || t.to_account_id END AS counterparty_id,
               t.amount_usd, t.booked_at,
               coalesce(c.rule_ids, CAST([] AS VARCHAR[])) AS rule_ids,
               -- the transaction's ends, for the networks' flow graphs (not written to alert_evidence)
               t.from_account_id, t.to_account_id, t.from_country, t.to_country, t.from_institution, t.to_institution
        FROM e
        JOIN transactions t ON t.txn_id = e.txn_id
        LEFT JOIN subj si ON si.alert_id = e.alert_id AND si.account_id = t.to_account_id     -- credit to the subject
        LEFT JOIN subj so ON so.alert_id = e.alert_id AND so.account_id = t.from_account_id   -- debit from the subject
        LEFT JOIN accounts ka ON ka.account_id = CASE WHEN so.account_id IS NOT NULL THEN t.to_account_id END
        LEFT JOIN accounts ks ON ks.account_id = t.from_account_id
        LEFT JOIN cites c ON c.alert_id = e.alert_id AND c.txn_id = e.txn_id
        """,
        {"run_id": run_id},
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _cw_alert_facts AS
        SELECT a.alert_id,
               coalesce(sum(ev.amount_usd), 0) AS total_usd,
               count(ev.txn_id) AS n_transactions,
               min(ev.booked_at) AS first_activity_at,
               max(ev.booked_at) AS last_activity_at,
               substr(sha256(array_to_string(list_sort(list(ev.txn_id)), '|')), 1, 16) AS evidence_hash
        FROM _cw_alerts a LEFT JOIN _cw_evidence ev ON ev.alert_id = a.alert_id
        GROUP BY a.alert_id
        """
    )
    return con.execute("SELECT count(*) FROM _cw_alerts").fetchall()[0][0]


def model_scores_sql(con: duckdb.DuckDBPyConnection, run_id: str) -> str:
    """The model's score per subject (account; a party takes its best account) in this run (empty without one).
    run_id is a uuid made by the engine, never user text."""
    if not has_table(con, "account_scores"):
        return ("SELECT NULL::VARCHAR AS subject_type, NULL::VARCHAR AS subject_id, NULL::DOUBLE AS score,"
                " NULL::VARCHAR AS explanation WHERE false")
    scores = f"SELECT account_id, score, explanation FROM account_scores WHERE run_id = '{run_id}'"
    return f"""SELECT 'account' AS subject_type, account_id AS subject_id, score, explanation FROM ({scores})
               UNION ALL
               SELECT 'party', ac.holder_id, max(s.score), arg_max(s.explanation, s.score)
               FROM ({scores}) s JOIN accounts ac USING (account_id) WHERE ac.holder_id IS NOT NULL GROUP BY ac.holder_id"""


RULE_PRIORITY_SQL = """
    least(s.score / nullif(s.threshold, 0), 2.0) / 2.0 * 0.35
    + least(ln(1 + CAST(f.total_usd AS DOUBLE)) / ln(1000001), 1.0) * 0.25
    + coalesce(cl.max_conf, 0) * 0.25
    + least(len(s.typologies), 3) / 3.0 * 0.15
"""
# with a model trained on the FIU's own decisions, half of the priority is the model's score of the subject
PRIORITY_SQL = f"CASE WHEN ms.score IS NULL THEN {RULE_PRIORITY_SQL} ELSE 0.5 * ({RULE_PRIORITY_SQL}) + 0.5 * ms.score END"


def write(con: duckdb.DuckDBPyConnection, run_id: str) -> dict:
    """Merge the staged alerts into `alerts` and `alert_evidence` (needs _cw_alert_network from networks)."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _cw_alert_rows AS
        WITH cl AS (
            SELECT subject_type, subject_id, max(confidence) AS max_conf,
                   list_sort(list_distinct(list(compound_id))) AS compound_ids
            FROM compound_links WHERE is_current AND confidence >= 0.3 GROUP BY subject_type, subject_id
        ),
        subj AS (
            SELECT s.alert_id,
                   CASE WHEN s.subject_type = 'account' THEN coalesce(hp.name, ac.label) ELSE pp.name END AS subject_name,
                   CASE WHEN s.subject_type = 'account' THEN coalesce(ac.country, hp.country) ELSE pp.country END AS country,
                   ac.institution
            FROM _cw_alerts s
            LEFT JOIN accounts ac ON s.subject_type = 'account' AND ac.account_id = s.subject_id
            LEFT JOIN parties hp ON hp.party_id = ac.holder_id
            LEFT JOIN parties pp ON s.subject_type = 'party' AND pp.party_id = s.subject_id
        )
        SELECT s.alert_id, s.subject_type, s.subject_id, subj.subject_name, s.typology_id, s.typology_version,
               s.typologies, s.rule_ids, s.rule_scores, s.reasons,
               CASE WHEN o.alert_id IS NULL THEN 'new'
                    WHEN round(o.score, 6) <> round(s.score, 6) OR o.evidence_hash IS DISTINCT FROM f.evidence_hash THEN 'updated'
                    ELSE 'unchanged' END AS status,
               true AS is_current, s.score, s.threshold, o.score AS previous_score,
               round({PRIORITY_SQL}, 4) AS priority_score,
               CAST(f.total_usd AS DECIMAL(18,2)) AS total_usd, f.n_transactions, f.first_activity_at, f.last_activity_at,
               f.evidence_hash, s.member_ids, subj.country, subj.institution, n.network_id,
               coalesce(cl.compound_ids, CAST([] AS VARCHAR[])) AS compound_ids,
               $run_id AS run_id, coalesce(o.first_run_id, $run_id) AS first_run_id,
               coalesce(o.created_at, now()) AS created_at,
               CASE WHEN o.alert_id IS NULL OR round(o.score, 6) <> round(s.score, 6)
                         OR o.evidence_hash IS DISTINCT FROM f.evidence_hash THEN now() ELSE o.updated_at END AS updated_at,
               ms.score AS model_score, ms.explanation AS model_explanation,
               o.disposition, o.disposed_at, o.disposed_by
        FROM _cw_alerts s
        JOIN _cw_alert_facts f USING (alert_id)
        JOIN subj USING (alert_id)
        LEFT JOIN ({model_scores_sql(con, run_id)}) ms ON ms.subject_type = s.subject_type AND ms.subject_id = s.subject_id
        LEFT JOIN alerts o ON o.alert_id = s.alert_id
        LEFT JOIN cl ON cl.subject_type = s.subject_type AND cl.subject_id = s.subject_id
        LEFT JOIN _cw_alert_network n ON n.alert_id = s.alert_id
        """,
        {"run_id": run_id},
    )
    from rules.alert_tables import ALERTS

    cols = ALERTS.names
    select = ", ".join(
        "CASE WHEN priority_score >= 0.6 THEN 'high' WHEN priority_score >= 0.4 THEN 'medium' ELSE 'low' END"
        if c == "priority" else c for c in cols
    )
    con.execute("UPDATE alerts SET is_current = false WHERE alert_id NOT IN (SELECT alert_id FROM _cw_alert_rows)")
    con.execute("DELETE FROM alerts WHERE alert_id IN (SELECT alert_id FROM _cw_alert_rows)")
    con.execute(f"INSERT INTO alerts ({', '.join(cols)}) SELECT {select} FROM _cw_alert_rows")
    con.execute("DELETE FROM alert_evidence WHERE alert_id IN (SELECT alert_id FROM _cw_alert_rows)")
    con.execute(
        "INSERT INTO alert_evidence (alert_id, txn_id, role, direction, counterparty_id, amount_usd, booked_at, rule_ids)"
        " SELECT alert_id, txn_id, role, direction, counterparty_id, amount_usd, booked_at, rule_ids FROM _cw_evidence"
    )
    counts = dict(con.execute("SELECT status, count(*) FROM _cw_alert_rows GROUP BY 1").fetchall())
    return {"alerts": sum(counts.values()), **{f"alerts_{k}": v for k, v in counts.items()}}
