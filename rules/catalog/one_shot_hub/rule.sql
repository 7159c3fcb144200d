-- One-shot hub: credits from senders and debits to payees that are each seen in no other transaction, within one
-- window that starts at a credit.
WITH t AS NOT MATERIALIZED (  -- transfers between known accounts in the read range
    SELECT txn_id, from_account_id AS src, to_account_id AS dst, booked_at, amount_usd
    FROM transactions
    WHERE booked_at >= $window_start AND booked_at < $until
      AND st_is_account(from_account_id)
      AND st_is_account(to_account_id)
      AND from_account_id <> to_account_id
      AND channel <> 'fee'
),
seen AS (                   -- how many transactions each account takes part in, either side, of any kind (cash,
    SELECT account_id, count(*) AS n                     -- card, fees, unknown counterparties: a customer is seen)
    FROM (SELECT from_account_id AS account_id FROM transactions WHERE booked_at >= $window_start AND booked_at < $until
          UNION ALL
          SELECT to_account_id AS account_id FROM transactions WHERE booked_at >= $window_start AND booked_at < $until)
    GROUP BY account_id
),
one_shot AS (               -- transfers with a single-use counterparty: credits from one (is_in = 1), debits to one
    SELECT t.dst AS hub, t.src AS cp, t.txn_id, t.booked_at, t.amount_usd, 1 AS is_in
    FROM t JOIN seen s ON s.account_id = t.src WHERE s.n = 1
    UNION ALL
    SELECT t.src AS hub, t.dst AS cp, t.txn_id, t.booked_at, t.amount_usd, 0 AS is_in
    FROM t JOIN seen s ON s.account_id = t.dst WHERE s.n = 1
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
    SELECT r.dst AS account_id, coalesce(b.measure, 0) AS measure
    FROM (SELECT DISTINCT dst FROM t) r
    LEFT JOIN best b ON b.hub = r.dst AND b.rn = 1
),
bar AS (                    -- the population's level of the same measure
    SELECT quantile_cont(measure, $population_quantile) AS population_bar FROM per_account
),
hits AS (
    SELECT c.*, round(bar.population_bar, 2) AS population_bar
    FROM reported c CROSS JOIN bar
    WHERE c.rn_now = 1 AND c.measure >= $min_each AND c.measure > bar.population_bar
      AND c.hub NOT IN (SELECT account_id FROM accounts WHERE st_list_has($service_kinds, kind))
),
evidence AS (               -- the single-use transfers of the best window only
    SELECT h.hub, st_ids(o.txn_id) AS txn_ids, st_ids(o.cp) AS member_ids
    FROM hits h
    JOIN one_shot o ON o.hub = h.hub AND o.booked_at >= h.anchor_at AND o.booked_at <= h.anchor_at + $window
    GROUP BY h.hub
)
SELECT h.hub AS subject_id,
       h.measure AS value,                     -- measured: min(single-use senders, single-use payees) in the window
       e.txn_ids, e.member_ids,
       h.anchor_at AS window_start, h.last_out_at AS window_end,
       h.n_senders, h.n_payees, h.in_usd, h.out_usd, h.population_bar
FROM hits h JOIN evidence e ON e.hub = h.hub
