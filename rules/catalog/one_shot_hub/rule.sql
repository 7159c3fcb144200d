-- One-shot hub: credits from senders and debits to payees that are each seen in no other transaction, within one
-- window that starts at a credit.
WITH t AS NOT MATERIALIZED (  -- transfers between known accounts in the read range, accounts hashed
    SELECT rid, hs, hd, booked_at, amount_usd FROM transfers         -- (rules/transfers.py)
    WHERE booked_at >= $window_start AND booked_at < $until AND NOT is_fee
),
single AS (                 -- accounts seen in one transaction of the read range (h)
    /* include: seen_once */
),
one_shot AS (               -- transfers with a single-use counterparty: credits from one (is_in = 1), debits to one
    SELECT t.hd AS hub, t.hs AS cp, t.rid, t.booked_at, t.amount_usd, 1 AS is_in
    FROM t WHERE t.hs IN (SELECT h FROM single)
    UNION ALL
    SELECT t.hs AS hub, t.hd AS cp, t.rid, t.booked_at, t.amount_usd, 0 AS is_in
    FROM t WHERE t.hd IN (SELECT h FROM single)
),
both_sides AS (             -- hubs with single-use counterparties on both sides
    SELECT hub FROM one_shot GROUP BY hub HAVING max(is_in) = 1 AND min(is_in) = 0
),
anchored AS (               -- per credit: the window [booked_at, booked_at + window] that starts there (a single-use
    SELECT o.hub, o.booked_at AS anchor_at,                      -- counterparty has one transfer: counts are distinct)
           sum(o.is_in) OVER w AS n_senders, sum(1 - o.is_in) OVER w AS n_payees,
           sum(CASE WHEN o.is_in = 1 THEN o.amount_usd END) OVER w AS in_usd,
           sum(CASE WHEN o.is_in = 0 THEN o.amount_usd END) OVER w AS out_usd,
           max(CASE WHEN o.is_in = 0 THEN o.booked_at END) OVER w AS last_out_at,
           o.is_in AS anchor_is_in
    FROM one_shot o JOIN both_sides b ON b.hub = o.hub
    WINDOW w AS (PARTITION BY o.hub ORDER BY o.booked_at RANGE BETWEEN CURRENT ROW AND $window FOLLOWING)
),
best AS (                   -- per hub the window with most of min(senders, payees), the earliest on ties (the
    SELECT a.*, least(a.n_senders, a.n_payees) AS measure,                      -- hub's measure for the population)
           row_number() OVER (PARTITION BY a.hub ORDER BY least(a.n_senders, a.n_payees) DESC, a.anchor_at) AS rn
    FROM anchored a
    WHERE a.anchor_is_in = 1
),
reported AS (               -- the window reported: the best of those that end in the detection range (an earlier
    SELECT b.*,                                             -- episode as large must not hide today's)
           row_number() OVER (PARTITION BY b.hub ORDER BY b.measure DESC, b.anchor_at) AS rn_now
    FROM best b
    WHERE b.last_out_at >= $since
),
per_account AS (            -- the measure per receiving account, 0 for accounts without such a window
    SELECT r.hd AS account_key, coalesce(b.measure, 0) AS measure
    FROM (SELECT DISTINCT hd FROM t) r
    LEFT JOIN best b ON b.hub = r.hd AND b.rn = 1
),
bar AS (                    -- the population's level of the same measure
    SELECT quantile_cont(measure, $population_quantile) AS population_bar FROM per_account
),
hits AS (
    SELECT c.*, round(bar.population_bar, 2) AS population_bar
    FROM reported c CROSS JOIN bar
    WHERE c.rn_now = 1 AND c.measure >= $min_each AND c.measure > bar.population_bar
      AND c.hub NOT IN (SELECT st_hash(account_id) FROM accounts WHERE st_list_has($service_kinds, kind))
),
window_rows AS (            -- the single-use transfers of the best window only
    SELECT h.hub, o.rid, o.is_in
    FROM hits h
    JOIN one_shot o ON o.hub = h.hub AND o.booked_at >= h.anchor_at AND o.booked_at <= h.anchor_at + $window
),
evidence AS (               -- ... read back with their ids (hub, hub_id, txn_ids, member_ids)
    /* include: hub_window_ids */
)
SELECT e.hub_id AS subject_id,
       h.measure AS value,                     -- measured: min(single-use senders, single-use payees) in the window
       e.txn_ids, e.member_ids,
       h.anchor_at AS window_start, h.last_out_at AS window_end,
       h.n_senders, h.n_payees, h.in_usd, h.out_usd, h.population_bar
FROM hits h JOIN evidence e ON e.hub = h.hub
