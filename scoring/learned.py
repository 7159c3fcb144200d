"""Alerts of the model's own (typology `learned`): accounts that no rule raised and no analyst has decided, at or
above the threshold chosen for them (scoring.model.learned_threshold: on the confirmed accounts the rules missed).
A decided account is known already: the model, which learned from it, would rank it first and spend the cap on it.

Each is written to typology_scores like a rule typology, so casework builds it like any alert. Its evidence is
the pattern around it, not its statement: its one-time transfers with other accounts the run flags (alert
subjects and members, and accounts above either threshold); when there are none, its one-time transfers.
"""

from __future__ import annotations

import duckdb

from scoring.labels import decided_sql

LEARNED = "learned"
MAX_EVIDENCE = 200  # per alert: a learned alert cites its pattern, not a year of statements

WRITE_SQL = f"""
INSERT INTO typology_scores
WITH raised AS (
    SELECT s.account_id, s.score, s.explanation FROM account_scores s
    WHERE s.run_id = $run_id AND s.score >= $threshold
      AND s.account_id NOT IN (SELECT subject_id FROM typology_scores
                               WHERE run_id = $run_id AND is_alert AND subject_type = 'account')
      AND s.account_id NOT IN (SELECT account_id FROM (__DECIDED__))
    ORDER BY s.score DESC, s.account_id LIMIT $cap
),
flagged AS (
    SELECT account_id AS acc FROM account_scores WHERE run_id = $run_id AND (above_threshold OR score >= $threshold)
    UNION SELECT subject_id FROM typology_scores WHERE run_id = $run_id AND is_alert
    UNION SELECT unnest(member_ids) FROM typology_scores WHERE run_id = $run_id AND is_alert
),
pair AS (SELECT from_account_id AS s, to_account_id AS d, count(*) AS n FROM transactions
         WHERE from_account_id IN (SELECT account_id FROM raised) OR to_account_id IN (SELECT account_id FROM raised)
         GROUP BY 1, 2),
own AS (   -- the raised account's one-time transfers, and whether the other end is flagged
    SELECT r.account_id, t.txn_id, t.booked_at,
           CASE WHEN t.from_account_id = r.account_id THEN t.to_account_id ELSE t.from_account_id END AS cp
    FROM raised r JOIN transactions t ON r.account_id IN (t.from_account_id, t.to_account_id)
    JOIN pair p ON p.s = t.from_account_id AND p.d = t.to_account_id AND p.n = 1
    WHERE t.from_account_id <> t.to_account_id
),
marked AS (SELECT o.*, f.acc IS NOT NULL AS to_flagged FROM own o LEFT JOIN flagged f ON f.acc = o.cp),
chosen AS (
    SELECT * FROM (
        SELECT m.*, bool_or(to_flagged) OVER (PARTITION BY account_id) AS any_flagged,
               row_number() OVER (PARTITION BY account_id ORDER BY to_flagged DESC, booked_at, txn_id) AS k
        FROM marked m
    ) WHERE (to_flagged OR NOT any_flagged) AND k <= {MAX_EVIDENCE}
),
ev AS (
    SELECT account_id, list_sort(list(txn_id)) AS txn_ids, list_sort(list(DISTINCT cp)) AS member_ids,
           min(booked_at) AS w0, max(booked_at) AS w1
    FROM chosen GROUP BY account_id
),
fired AS (
    SELECT subject_id AS account_id, json_group_object(rule_id, score) AS rule_scores, list(reason) AS reasons
    FROM (SELECT subject_id, rule_id, max(score) AS score, arg_max(reason, score) AS reason FROM rule_hits
          WHERE run_id = $run_id AND subject_type = 'account' GROUP BY 1, 2)
    GROUP BY 1
)
SELECT $run_id, '{LEARNED}', $model_id, 'account', r.account_id, r.score, $threshold, true,
       coalesce(f.rule_scores, CAST('{{}}' AS JSON)),
       list_concat([r.explanation], coalesce(f.reasons, CAST([] AS VARCHAR[]))),
       coalesce(e.txn_ids, CAST([] AS VARCHAR[])), coalesce(e.member_ids, CAST([] AS VARCHAR[])),
       e.w0, e.w1, $model_id
FROM raised r LEFT JOIN ev e USING (account_id) LEFT JOIN fired f USING (account_id)
"""


def write(con: duckdb.DuckDBPyConnection, run_id: str, model_id: str, threshold: float, cap: int) -> int:
    """Insert the run's learned alerts into typology_scores (scoring.score cleared the run's earlier ones)."""
    con.execute(WRITE_SQL.replace("__DECIDED__", decided_sql(con)),
                {"run_id": run_id, "model_id": model_id, "threshold": threshold, "cap": cap})
    return con.execute("SELECT count(*) FROM typology_scores WHERE run_id = ? AND typology_id = ?",
                       [run_id, LEARNED]).fetchall()[0][0]
