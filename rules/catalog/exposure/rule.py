"""Exposure: breadth-first search from listed addresses, hop by hop, in DuckDB (named parameters only).

Edges are transfers aggregated per (src, dst) with their first/last times. Two directions: `to` (funds flowing
towards a listed account: walk edges backwards, each earlier edge no later than the one after it) and `from`
(funds flowing away: walk forwards, each later edge no earlier than the one before). Each account keeps its first
(fewest-hop) discovery; hubs are reached but not expanded, and accounts of a pass_kinds kind (services) are not
reported unless they are listed themselves. Returns one row per reached account.
"""

from __future__ import annotations

from rules.dialect import DIALECT

SETUP = [
    (
        "edges",
        """
        CREATE OR REPLACE TEMP TABLE _exp_edges AS
        SELECT from_account_id AS src, to_account_id AS dst,
               min(txn_id) AS txn_id, min(booked_at) AS first_at, max(booked_at) AS last_at
        FROM transactions
        WHERE booked_at >= $window_start AND booked_at < $until
          AND from_account_id <> to_account_id AND amount_usd >= $min_usd
          AND st_is_account(from_account_id)
          AND st_is_account(to_account_id)
        GROUP BY from_account_id, to_account_id
        """,
    ),
    (
        "stop",
        """
        CREATE OR REPLACE TEMP TABLE _exp_stop AS   -- reached but never walked through
        SELECT account_id FROM (
            SELECT account_id FROM (SELECT src AS account_id, dst AS cp FROM _exp_edges
                                    UNION ALL SELECT dst, src FROM _exp_edges) x
            GROUP BY account_id HAVING count(DISTINCT cp) > $max_degree
            UNION
            SELECT account_id FROM accounts WHERE st_list_has($pass_kinds, kind)
        ) s
        """,
    ),
    (
        "service",
        """
        CREATE OR REPLACE TEMP TABLE _exp_service AS   -- services (exchanges, OTC / P2P desks...): reached, never subjects
        SELECT account_id FROM accounts WHERE st_list_has($pass_kinds, kind)
        """,
    ),
    (
        "reached",
        """
        CREATE OR REPLACE TEMP TABLE _exp_reached AS   -- hop 0: listed accounts that appear in transfers
        SELECT DISTINCT l.account_id, 0 AS hop, 'listed' AS direction, l.account_id AS listed_id,
               st_empty_ids() AS txn_ids, CAST(NULL AS TIMESTAMPTZ) AS bound_at
        FROM listed_addresses l
        WHERE l.account_id IN (SELECT src FROM _exp_edges UNION SELECT dst FROM _exp_edges)
        """,
    ),
]

# one step backwards (towards listed) / forwards (away from listed) from the accounts found at the previous hop
STEP = {
    "to": """
        INSERT INTO _exp_reached
        SELECT account_id, $hop, 'to', listed_id, txn_ids, bound_at FROM (
            SELECT e.src AS account_id, f.listed_id, st_list_concat(st_list(e.txn_id), f.txn_ids) AS txn_ids,
                   CASE WHEN f.bound_at IS NULL OR e.last_at < f.bound_at THEN e.last_at ELSE f.bound_at END AS bound_at,
                   row_number() OVER (PARTITION BY e.src ORDER BY f.listed_id, e.txn_id) AS rn
            FROM _exp_reached f
            JOIN _exp_edges e ON e.dst = f.account_id
            WHERE f.hop = $hop - 1 AND f.direction IN ('listed', 'to')
              AND (f.bound_at IS NULL OR e.first_at <= f.bound_at)
              AND (f.hop = 0 OR f.account_id NOT IN (SELECT account_id FROM _exp_stop))
              AND e.src NOT IN (SELECT account_id FROM _exp_reached WHERE direction IN ('listed', 'to'))
        ) x WHERE rn = 1
    """,
    "from": """
        INSERT INTO _exp_reached
        SELECT account_id, $hop, 'from', listed_id, txn_ids, bound_at FROM (
            SELECT e.dst AS account_id, f.listed_id, st_list_append(f.txn_ids, e.txn_id) AS txn_ids,
                   CASE WHEN f.bound_at IS NULL OR e.first_at > f.bound_at THEN e.first_at ELSE f.bound_at END AS bound_at,
                   row_number() OVER (PARTITION BY e.dst ORDER BY f.listed_id, e.txn_id) AS rn
            FROM _exp_reached f
            JOIN _exp_edges e ON e.src = f.account_id
            WHERE f.hop = $hop - 1 AND f.direction IN ('listed', 'from')
              AND (f.bound_at IS NULL OR e.last_at >= f.bound_at)
              AND (f.hop = 0 OR f.account_id NOT IN (SELECT account_id FROM _exp_stop))
              AND e.dst NOT IN (SELECT account_id FROM _exp_reached WHERE direction IN ('listed', 'from'))
        ) x WHERE rn = 1
    """,
}

RESULT = """
WITH best AS (              -- fewest hops per account over both directions
    SELECT r.*, row_number() OVER (PARTITION BY account_id ORDER BY hop, direction, listed_id) AS rn FROM _exp_reached r
),
path_txns AS (             -- the path's transfers, one row each
    SELECT account_id, st_unnest(txn_ids) AS txn_id FROM best WHERE rn = 1
),
times AS (                  -- evidence window: the path's transfers, or a listed account's own transfers
    SELECT account_id, min(first_at) AS window_start, max(last_at) AS window_end FROM (
        SELECT p.account_id, e.first_at, e.last_at FROM path_txns p JOIN _exp_edges e ON e.txn_id = p.txn_id
        UNION ALL
        SELECT b.account_id, e.first_at, e.last_at FROM best b JOIN _exp_edges e ON e.src = b.account_id WHERE b.rn = 1 AND b.hop = 0
        UNION ALL
        SELECT b.account_id, e.first_at, e.last_at FROM best b JOIN _exp_edges e ON e.dst = b.account_id WHERE b.rn = 1 AND b.hop = 0
    ) x
    GROUP BY account_id
),
names AS (
    SELECT account_id, min(list_name) AS list_name FROM listed_addresses GROUP BY account_id
)
SELECT b.account_id AS subject_id,
       b.hop AS value,                                   -- measured: hops to / from a listed account
       b.txn_ids,
       st_list(b.listed_id) AS member_ids,
       t.window_start, t.window_end,
       b.listed_id,
       n.list_name,
       CASE b.direction WHEN 'to' THEN 'to' WHEN 'from' THEN 'from' ELSE 'is' END AS direction
FROM best b
JOIN times t ON t.account_id = b.account_id
LEFT JOIN names n ON n.account_id = b.listed_id
WHERE b.rn = 1
  AND (b.hop = 0 OR b.account_id NOT IN (SELECT account_id FROM _exp_service))  -- a service reached is no subject
"""


def _bind(sql: str, values: dict) -> dict:
    return {k: v for k, v in values.items() if f"${k}" in sql}


def run(con, params: dict):
    for _, sql in SETUP:
        con.execute(sql, _bind(sql, params))
    for hop in range(1, int(params["max_hops"]) + 1):
        for direction, sql in STEP.items():
            con.execute(sql, {"hop": hop})
    out = DIALECT.fetch_polars(con, RESULT)
    for table in ("_exp_edges", "_exp_stop", "_exp_service", "_exp_reached"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return out
