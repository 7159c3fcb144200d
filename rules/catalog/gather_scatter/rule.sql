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
ev AS (                     -- each transfer as seen by a non-service hub: credits (is_in = 1) and debits (is_in = 0)
    SELECT dst AS hub, src AS cp, txn_id, booked_at, amount_usd, 1 AS is_in,
           st_bucket(booked_at, $window) AS bucket                   -- window-long time bucket
    FROM t WHERE dst NOT IN (SELECT account_id FROM service)
    UNION ALL
    SELECT src AS hub, dst AS cp, txn_id, booked_at, amount_usd, 0 AS is_in, st_bucket(booked_at, $window) AS bucket
    FROM t WHERE src NOT IN (SELECT account_id FROM service)
),
per_bucket AS (             -- credits and debits per hub and bucket
    SELECT hub, bucket, sum(is_in) AS n_in, sum(1 - is_in) AS n_out FROM ev GROUP BY hub, bucket
),
live AS (                   -- pre-filter: a window starting in bucket b lies in buckets b and b + 1, so both
    SELECT c.hub, c.bucket AS start_bucket  -- together must hold min_each credits and min_each debits
    FROM per_bucket c LEFT JOIN per_bucket d ON d.hub = c.hub AND d.bucket = c.bucket + 1
    WHERE c.n_in + coalesce(d.n_in, 0) >= $min_each AND c.n_out + coalesce(d.n_out, 0) >= $min_each
),
need AS (                   -- the live buckets and the bucket after each
    SELECT DISTINCT hub, bucket
    FROM (SELECT hub, start_bucket AS bucket FROM live UNION ALL SELECT hub, start_bucket + 1 AS bucket FROM live)
),
near AS (                   -- the hub's transfers in those buckets: every window that can hit lies in them
    SELECT e.* FROM ev e JOIN need n ON n.hub = e.hub AND n.bucket = e.bucket
),
anchored AS (               -- per transfer: the window [booked_at, booked_at + window] that starts there
    SELECT n.hub, n.txn_id AS anchor_id, n.booked_at AS anchor_at, n.is_in AS anchor_is_in, n.bucket,
           count(DISTINCT CASE WHEN is_in = 1 THEN cp END) OVER w AS n_senders,     -- distinct senders
           count(DISTINCT CASE WHEN is_in = 0 THEN cp END) OVER w AS n_payees,      -- distinct payees
           sum(CASE WHEN is_in = 1 THEN amount_usd END) OVER w AS in_usd,          -- USD gathered
           sum(CASE WHEN is_in = 0 THEN amount_usd END) OVER w AS out_usd,         -- USD paid out
           max(CASE WHEN is_in = 0 THEN booked_at END) OVER w AS last_out_at       -- last debit in the window
    FROM near n
    WINDOW w AS (PARTITION BY hub ORDER BY booked_at RANGE BETWEEN CURRENT ROW AND $window FOLLOWING)
),
best AS (                   -- per hub the window with most of min(senders, payees), among those starting at a credit
    SELECT a.*, least(a.n_senders, a.n_payees) AS measure,           -- in a live bucket, passing most of it on
           row_number() OVER (PARTITION BY a.hub ORDER BY least(a.n_senders, a.n_payees) DESC, a.anchor_at) AS rn
    FROM anchored a
    JOIN live l ON l.hub = a.hub AND l.start_bucket = a.bucket
    WHERE a.anchor_is_in = 1
      AND least(a.n_senders, a.n_payees) >= $min_each
      AND a.out_usd >= $min_pass_share * a.in_usd       -- scatters most of what it gathered ...
      AND a.out_usd * $min_pass_share <= a.in_usd       -- ... and not far more (a business paying from its balance)
),
evidence AS (               -- the transfers of the best window only
    SELECT b.hub, st_ids(n.txn_id) AS txn_ids, st_ids(n.cp) AS member_ids
    FROM best b
    JOIN near n ON n.hub = b.hub AND n.booked_at >= b.anchor_at AND n.booked_at <= b.anchor_at + $window
    WHERE b.rn = 1
    GROUP BY b.hub
)
SELECT b.hub AS subject_id,                    -- the hub
       b.measure AS value,                     -- measured: min(distinct senders, distinct payees) in the window
       e.txn_ids,                              -- the credits and debits of the window
       e.member_ids,                           -- its senders and payees
       b.anchor_at AS window_start, b.last_out_at AS window_end,
       b.n_senders, b.n_payees, b.in_usd, b.out_usd
FROM best b JOIN evidence e ON e.hub = b.hub
WHERE b.rn = 1
