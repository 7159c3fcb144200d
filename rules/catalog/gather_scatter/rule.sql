-- Gather-scatter: many senders into a hub, then many payees out of it, in one window.
WITH service AS (           -- accounts of service kinds (casinos, merchants, exchanges...) gather and scatter by trade
    SELECT account_id FROM accounts WHERE st_list_has($service_kinds, kind)
),
t AS (                      -- transfers between known accounts in the read range
    SELECT txn_id, from_account_id AS src, to_account_id AS dst, booked_at, amount_usd
    FROM transactions
    WHERE booked_at >= $window_start AND booked_at < $until
      AND from_account_id <> 'cash' AND from_account_id NOT LIKE 'unknown:%'
      AND to_account_id <> 'cash' AND to_account_id NOT LIKE 'unknown:%'
      AND from_account_id <> to_account_id
),
ins AS (SELECT dst AS hub, src AS cp, txn_id, booked_at, amount_usd FROM t),
outs AS (SELECT src AS hub, dst AS cp, txn_id, booked_at, amount_usd FROM t),
hubs AS (                   -- pre-filter: enough distinct senders and payees over the range, not a service
    SELECT i.hub FROM (SELECT hub FROM ins GROUP BY hub HAVING count(DISTINCT cp) >= $min_each) i
    JOIN (SELECT hub FROM outs GROUP BY hub HAVING count(DISTINCT cp) >= $min_each) o ON o.hub = i.hub
    WHERE i.hub NOT IN (SELECT account_id FROM service)
),
hin AS (SELECT i.* FROM ins i JOIN hubs h ON h.hub = i.hub),
hout AS (SELECT o.* FROM outs o JOIN hubs h ON h.hub = o.hub),
win_in AS (                 -- per anchor credit: senders in [anchor, anchor + window]
    SELECT a.hub, a.txn_id AS anchor_id, a.booked_at AS anchor_at,
           count(DISTINCT b.cp) AS n_senders, st_ids(b.txn_id) AS in_ids, st_ids(b.cp) AS senders,
           sum(b.amount_usd) AS in_usd
    FROM hin a JOIN hin b ON b.hub = a.hub AND b.booked_at >= a.booked_at AND b.booked_at <= a.booked_at + $window
    GROUP BY a.hub, a.txn_id, a.booked_at
),
win_out AS (                -- per anchor credit: payees of debits in [anchor, anchor + window] (same instant: date-only)
    SELECT a.hub, a.txn_id AS anchor_id,
           count(DISTINCT o.cp) AS n_payees, st_ids(o.txn_id) AS out_ids, st_ids(o.cp) AS payees,
           sum(o.amount_usd) AS out_usd, max(o.booked_at) AS last_out_at
    FROM hin a JOIN hout o ON o.hub = a.hub AND o.booked_at >= a.booked_at AND o.booked_at <= a.booked_at + $window
    GROUP BY a.hub, a.txn_id
),
windows AS (
    SELECT i.*, o.n_payees, o.out_ids, o.payees, o.out_usd, o.last_out_at,
           least(i.n_senders, o.n_payees) AS measure,
           row_number() OVER (PARTITION BY i.hub ORDER BY least(i.n_senders, o.n_payees) DESC, i.anchor_at) AS rn
    FROM win_in i JOIN win_out o ON o.hub = i.hub AND o.anchor_id = i.anchor_id
    WHERE o.out_usd >= $min_pass_share * i.in_usd       -- scatters most of what it gathered ...
      AND o.out_usd * $min_pass_share <= i.in_usd       -- ... and not far more (a business paying from its balance)
)
SELECT hub AS subject_id,                      -- the hub
       measure AS value,                       -- measured: min(distinct senders, distinct payees) in the window
       st_union_ids(in_ids, out_ids) AS txn_ids,
       st_union_ids(senders, payees) AS member_ids,
       anchor_at AS window_start, last_out_at AS window_end,
       n_senders, n_payees, in_usd, out_usd
FROM windows WHERE rn = 1
