"""Per-account features in SQL, for the scoring model (docs/scoring.md).

    build_features(con, run_id)  ->  temp table _sc_features (account_id, one column per FEATURES name)

Computed over every transaction in the store (a bank's or an FIU's whole history): a model trained on
dispositions needs the same features for the decided accounts and the rest. Measures relative to the account
(shares, ratios, bursts against its own activity) and the one-hop neighbourhood, in the spirit of the graph
features of the AMLworld benchmark (Altman et al., NeurIPS 2023). Every rule's measured value of the run is a
feature too, so the model learns which of the pack's signals an FIU's analysts confirm.

A one-time relationship is a (payer, payee) pair with exactly one transfer: laundering hops and victims' payments
are one-off, salaries, rent and trade repeat (docs/detection_findings.md). One-time credits counted in a window
are distinct one-time senders, since each such sender pays once.
"""

from __future__ import annotations

import duckdb

# name -> sentence fragment used in explanations ("{value}" is filled in)
FEATURES: dict[str, str] = {
    "n_in": "{value:.0f} credits",
    "n_out": "{value:.0f} debits",
    "senders": "{value:.0f} distinct senders",
    "payees": "{value:.0f} distinct payees",
    "once_senders": "{value:.0f} one-time senders",
    "once_payees": "{value:.0f} one-time payees",
    "once_in_share": "{value:.0%} of credits from one-time senders",
    "once_out_share": "{value:.0%} of debits to one-time payees",
    "max_once_in_1d": "up to {value:.0f} one-time senders in a day",
    "max_once_in_7d": "up to {value:.0f} one-time senders in 7 days",
    "max_once_out_1d": "up to {value:.0f} one-time payees in a day",
    "max_once_out_7d": "up to {value:.0f} one-time payees in 7 days",
    "repeat_pair_share": "{value:.0%} of transfers on repeated relationships",
    "out_in_ratio": "paid out {value:.2f}x what came in",
    "forward_3d_share": "{value:.0%} of credits followed by a debit within 3 days",
    "dwell_days": "money stayed a median {value:.1f} days",
    "active_days": "active on {value:.0f} days",
    "burst": "busiest day held {value:.0%} of all activity",
    "amount_cv": "amount variation (CV) {value:.2f}",
    "round_share": "{value:.0%} round amounts",
    "nb_once_share": "{value:.0%} of counterparties' relationships one-time (mean)",
    "nb_flagged": "{value:.0f} counterparties raised by rules",
    "nb_flagged_share": "{value:.0%} of counterparties raised by rules",
    "nb_once_heavy": "{value:.0f} counterparties that mostly deal one-time",
    "rules_fired": "{value:.0f} rules fired",
    "rule_score_sum": "rule scores sum to {value:.2f}",
}


def rule_feature_names(con: duckdb.DuckDBPyConnection, run_id: str) -> list[str]:
    """One feature per rule that produced a hit in the run: its best measured value."""
    ids = [r[0] for r in con.execute(
        "SELECT DISTINCT rule_id FROM rule_hits WHERE run_id = ? AND subject_type = 'account' ORDER BY 1", [run_id]
    ).fetchall()]
    return [f"rule_{i}" for i in ids]


FEATURES_SQL = """
CREATE OR REPLACE TEMP TABLE _sc_features AS
WITH t AS (
    SELECT txn_id, from_account_id AS s, to_account_id AS d, CAST(amount_usd AS DOUBLE) AS a,
           CAST(booked_at AS TIMESTAMP) AS ts
    FROM transactions
    WHERE from_account_id IS NOT NULL AND to_account_id IS NOT NULL AND from_account_id <> to_account_id
      AND from_account_id <> 'cash' AND to_account_id <> 'cash'
),
pair AS (SELECT s, d, count(*) AS n FROM t GROUP BY s, d),
te AS (SELECT t.*, p.n = 1 AS once FROM t JOIN pair p USING (s, d)),
side AS (   -- each transfer seen from both ends: dir 'in' for the payee, 'out' for the payer
    SELECT d AS acc, s AS cp, 'in' AS dir, a, ts, once FROM te
    UNION ALL
    SELECT s AS acc, d AS cp, 'out' AS dir, a, ts, once FROM te
),
base AS (
    SELECT acc,
           count(*) FILTER (dir = 'in') AS n_in,
           count(*) FILTER (dir = 'out') AS n_out,
           count(DISTINCT cp) FILTER (dir = 'in') AS senders,
           count(DISTINCT cp) FILTER (dir = 'out') AS payees,
           count(*) FILTER (dir = 'in' AND once) AS once_senders,
           count(*) FILTER (dir = 'out' AND once) AS once_payees,
           coalesce(sum(a) FILTER (dir = 'in'), 0) AS usd_in,
           coalesce(sum(a) FILTER (dir = 'out'), 0) AS usd_out,
           count(*) FILTER (NOT once) / count(*) AS repeat_pair_share,
           count(DISTINCT CAST(ts AS DATE)) AS active_days,
           coalesce(stddev_pop(a) / nullif(avg(a), 0), 0) AS amount_cv,
           avg(CASE WHEN a >= 100 AND a % 100 = 0 THEN 1.0 ELSE 0.0 END) AS round_share
    FROM side GROUP BY acc
),
daily AS (
    SELECT acc, CAST(ts AS DATE) AS day, count(*) AS n,
           count(*) FILTER (dir = 'in' AND once) AS oi, count(*) FILTER (dir = 'out' AND once) AS oo
    FROM side GROUP BY acc, day
),
weekly AS (
    SELECT acc, n, oi, oo,
           sum(oi) OVER w AS oi7, sum(oo) OVER w AS oo7
    FROM daily
    WINDOW w AS (PARTITION BY acc ORDER BY day RANGE BETWEEN INTERVAL 6 DAYS PRECEDING AND CURRENT ROW)
),
bursts AS (
    SELECT acc, max(oi) AS max_once_in_1d, max(oi7) AS max_once_in_7d, max(oo) AS max_once_out_1d,
           max(oo7) AS max_once_out_7d, max(n) AS max_day
    FROM weekly GROUP BY acc
),
credits AS (SELECT acc, ts FROM side WHERE dir = 'in'),
debits AS (SELECT acc, ts FROM side WHERE dir = 'out'),
fwd AS (   -- each credit and the account's next debit at or after it
    SELECT c.acc, date_diff('second', c.ts, d.ts) / 86400.0 AS dwell
    FROM credits c ASOF LEFT JOIN debits d ON c.acc = d.acc AND d.ts >= c.ts
),
timing AS (
    SELECT acc, avg(CASE WHEN dwell IS NOT NULL AND dwell <= 3 THEN 1.0 ELSE 0.0 END) AS forward_3d_share,
           coalesce(median(dwell), 999) AS dwell_days
    FROM fwd GROUP BY acc
),
acct AS (
    SELECT b.*, coalesce(u.max_once_in_1d, 0) AS max_once_in_1d, coalesce(u.max_once_in_7d, 0) AS max_once_in_7d,
           coalesce(u.max_once_out_1d, 0) AS max_once_out_1d, coalesce(u.max_once_out_7d, 0) AS max_once_out_7d,
           u.max_day / (b.n_in + b.n_out) AS burst,
           coalesce(tm.forward_3d_share, 0) AS forward_3d_share, coalesce(tm.dwell_days, 999) AS dwell_days
    FROM base b LEFT JOIN bursts u USING (acc) LEFT JOIN timing tm USING (acc)
),
hits AS (
    SELECT subject_id AS acc, rule_id, max(measured_value) AS v, max(score) AS sc
    FROM rule_hits WHERE run_id = $run_id AND subject_type = 'account' GROUP BY 1, 2
),
hit_acc AS (SELECT acc, count(*) AS rules_fired, sum(sc) AS rule_score_sum FROM hits GROUP BY acc),
flagged AS (SELECT DISTINCT subject_id AS acc FROM typology_scores WHERE run_id = $run_id AND is_alert AND subject_type = 'account'),
nb AS (   -- one hop: the account's counterparties (each once) and what they look like
    SELECT x.acc,
           avg((n.once_senders + n.once_payees) / greatest(n.n_in + n.n_out, 1)) AS nb_once_share,
           count(f.acc) AS nb_flagged,
           count(f.acc) / count(*) AS nb_flagged_share,
           count(*) FILTER ((n.once_senders + n.once_payees) >= 0.5 * (n.n_in + n.n_out)
                            AND n.n_in + n.n_out >= 2) AS nb_once_heavy
    FROM (SELECT DISTINCT acc, cp FROM side) x
    JOIN acct n ON n.acc = x.cp
    LEFT JOIN flagged f ON f.acc = x.cp
    GROUP BY x.acc
)
SELECT a.acc AS account_id,
       a.n_in, a.n_out, a.senders, a.payees, a.once_senders, a.once_payees,
       a.once_senders / greatest(a.n_in, 1) AS once_in_share,
       a.once_payees / greatest(a.n_out, 1) AS once_out_share,
       a.max_once_in_1d, a.max_once_in_7d, a.max_once_out_1d, a.max_once_out_7d,
       a.repeat_pair_share,
       least(a.usd_out / greatest(a.usd_in, 1), 10) AS out_in_ratio,
       a.forward_3d_share, a.dwell_days, a.active_days, a.burst, a.amount_cv, a.round_share,
       coalesce(nb.nb_once_share, 0) AS nb_once_share, coalesce(nb.nb_flagged, 0) AS nb_flagged,
       coalesce(nb.nb_flagged_share, 0) AS nb_flagged_share, coalesce(nb.nb_once_heavy, 0) AS nb_once_heavy,
       coalesce(h.rules_fired, 0) AS rules_fired, coalesce(h.rule_score_sum, 0) AS rule_score_sum
       {rule_columns}
FROM acct a
LEFT JOIN nb USING (acc)
LEFT JOIN hit_acc h USING (acc)
{rule_joins}
"""


def build_features(con: duckdb.DuckDBPyConnection, run_id: str) -> list[str]:
    """Create _sc_features for every account that transacts. Returns the feature column names, in order."""
    rules = rule_feature_names(con, run_id)
    cols = "".join(f",\n       coalesce(r{i}.v, 0) AS {name}" for i, name in enumerate(rules))
    joins = "".join(
        f"\nLEFT JOIN (SELECT acc, v FROM hits WHERE rule_id = '{name.removeprefix('rule_')}') r{i} USING (acc)"
        for i, name in enumerate(rules)
    )
    con.execute(FEATURES_SQL.format(rule_columns=cols, rule_joins=joins), {"run_id": run_id})
    return list(FEATURES) + rules
