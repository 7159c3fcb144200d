-- Gather-scatter: many one-time senders into a hub, then many one-time payees out of it, in one window.
-- One-time: the pair (sender to hub, or hub to payee) has at most $max_payments_per_counterparty transfer(s) from
-- $history_start (the rule's history) to $until; trade, wages and family repeat, laundering hops do not.
WITH service AS (           -- accounts of service kinds (casinos, merchants, exchanges...) gather and scatter by trade
    SELECT account_id FROM accounts WHERE st_list_has($service_kinds, kind)
),
hist AS NOT MATERIALIZED (  -- transfers between known accounts over the history, with hashed accounts
    SELECT txn_id, from_account_id AS src, to_account_id AS dst, booked_at, amount_usd,
           st_hash(from_account_id) AS hs, st_hash(to_account_id) AS hd
    FROM transactions
    WHERE booked_at >= $history_start AND booked_at < $until
      AND st_is_account(from_account_id)
      AND st_is_account(to_account_id)
      AND from_account_id <> to_account_id
),
pairs AS (                  -- transfers per relationship of `hist` over the history (hs, hd, n)
    /* include: relationship_counts */
),
once AS MATERIALIZED (      -- the one-time transfers of the read range, with their window-long time bucket: the
    SELECT h.txn_id, h.src, h.dst, h.booked_at, h.amount_usd,   -- only ones a window counts, so the pre-filter
           st_bucket(h.booked_at, $window) AS bucket            -- below counts them alone
    FROM hist h JOIN pairs p ON p.hs = h.hs AND p.hd = h.hd
    WHERE p.n <= $max_payments_per_counterparty AND h.booked_at >= $window_start
),
per_bucket AS (             -- credits and debits per account and bucket, under one key (st_slot: a hash of the
    SELECT slot, sum(is_in) AS n_in, sum(1 - is_in) AS n_out   -- account plus the bucket, so that the account's next
    FROM (SELECT st_slot(dst, bucket) AS slot, 1 AS is_in FROM once   -- bucket is slot + 1); a collision only
          UNION ALL                                                   -- merges counts (lets more through)
          SELECT st_slot(src, bucket) AS slot, 0 AS is_in FROM once) x
    GROUP BY slot
),
live AS (                   -- pre-filter: a window starting in bucket b lies in buckets b and b + 1, which together
    SELECT c.slot AS start_slot                  -- need min_each credits and min_each debits
    FROM per_bucket c LEFT JOIN per_bucket d ON d.slot = c.slot + 1
    WHERE c.n_in + coalesce(d.n_in, 0) >= $min_each AND c.n_out + coalesce(d.n_out, 0) >= $min_each
),
need AS (                   -- the live buckets and the bucket after each
    SELECT DISTINCT slot
    FROM (SELECT start_slot AS slot FROM live UNION ALL SELECT start_slot + 1 AS slot FROM live) x
),
near AS (                   -- the hubs' one-time credits (is_in = 1) and debits (is_in = 0) in those buckets: the
    SELECT o.dst AS hub, o.src AS cp, o.txn_id, o.booked_at, o.amount_usd, 1 AS is_in, o.bucket   -- pattern's own;
    FROM once o JOIN need n ON n.slot = st_slot(o.dst, o.bucket)                                 -- services are
    WHERE o.dst NOT IN (SELECT account_id FROM service)                                          -- not hubs
    UNION ALL
    SELECT o.src AS hub, o.dst AS cp, o.txn_id, o.booked_at, o.amount_usd, 0 AS is_in, o.bucket
    FROM once o JOIN need n ON n.slot = st_slot(o.src, o.bucket)
    WHERE o.src NOT IN (SELECT account_id FROM service)
),
anchored AS (               -- per transfer: the window [booked_at, booked_at + window] that starts there
    SELECT hub, txn_id AS anchor_id, booked_at AS anchor_at, is_in AS anchor_is_in, bucket,
           sum(is_in) OVER w AS n_credits, sum(1 - is_in) OVER w AS n_debits,
           sum(CASE WHEN is_in = 1 THEN amount_usd END) OVER w AS in_usd,          -- USD gathered
           sum(CASE WHEN is_in = 0 THEN amount_usd END) OVER w AS out_usd,         -- USD paid out
           max(CASE WHEN is_in = 0 THEN booked_at END) OVER w AS last_out_at,      -- last debit in the window
           count(DISTINCT CASE WHEN is_in = 1 THEN cp END) OVER w AS n_senders,    -- distinct senders
           count(DISTINCT CASE WHEN is_in = 0 THEN cp END) OVER w AS n_payees      -- distinct payees
    FROM near
    WINDOW w AS (PARTITION BY hub ORDER BY booked_at RANGE BETWEEN CURRENT ROW AND $window FOLLOWING)
),
measured AS (               -- windows starting at a credit in a live bucket, with enough transfers each way,
    SELECT a.*                                                       -- passing most of the gathered money on
    FROM anchored a
    JOIN live l ON l.start_slot = st_slot(a.hub, a.bucket)
    WHERE a.anchor_is_in = 1 AND a.n_credits >= $min_each AND a.n_debits >= $min_each
      AND a.out_usd >= $min_pass_share * a.in_usd       -- scatters most of what it gathered ...
      AND a.out_usd * $min_pass_share <= a.in_usd       -- ... and not far more (a business paying from its balance)
),
best AS (                   -- per hub the window with most of min(senders, payees)
    SELECT m.*, least(m.n_senders, m.n_payees) AS measure,
           row_number() OVER (PARTITION BY m.hub ORDER BY least(m.n_senders, m.n_payees) DESC, m.anchor_at) AS rn
    FROM measured m
    WHERE least(m.n_senders, m.n_payees) >= $min_each
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
