-- Gather-scatter: many one-time senders into a hub, then many one-time payees out of it, in one window.
-- One-time: the pair (sender to hub, or hub to payee) has at most $max_payments_per_counterparty transfer(s) from
-- $history_start (the rule's history) to $until; trade, wages and family repeat, laundering hops do not.
WITH service AS (           -- accounts of service kinds (casinos, merchants, exchanges...) gather and scatter by trade
    SELECT account_id FROM accounts WHERE st_list_has($service_kinds, kind)
),
t AS NOT MATERIALIZED (  -- transfers between known accounts in the read range, with their window-long time bucket
    SELECT txn_id, from_account_id AS src, to_account_id AS dst, booked_at, amount_usd,
           st_bucket(booked_at, $window) AS bucket
    FROM transactions
    WHERE booked_at >= $window_start AND booked_at < $until
      AND st_is_account(from_account_id)
      AND st_is_account(to_account_id)
      AND from_account_id <> to_account_id
),
per_bucket AS (             -- credits and debits per account and bucket, under one key (st_slot: a hash of the
    SELECT slot, sum(is_in) AS n_in, sum(1 - is_in) AS n_out   -- account plus the bucket, so that the account's next
    FROM (SELECT st_slot(dst, bucket) AS slot, 1 AS is_in FROM t   -- bucket is slot + 1): one aggregate over every
          UNION ALL                                                -- transfer stays small; a collision only merges
          SELECT st_slot(src, bucket) AS slot, 0 AS is_in FROM t) x   -- counts (lets more through)
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
near_all AS (               -- the hubs' credits (is_in = 1) and debits (is_in = 0) in those buckets; services are not hubs
    SELECT t.dst AS hub, t.src AS cp, t.txn_id, t.booked_at, t.amount_usd, 1 AS is_in, t.bucket
    FROM t JOIN need n ON n.slot = st_slot(t.dst, t.bucket)
    WHERE t.dst NOT IN (SELECT account_id FROM service)
    UNION ALL
    SELECT t.src AS hub, t.dst AS cp, t.txn_id, t.booked_at, t.amount_usd, 0 AS is_in, t.bucket
    FROM t JOIN need n ON n.slot = st_slot(t.src, t.bucket)
    WHERE t.src NOT IN (SELECT account_id FROM service)
),
hub_pairs AS (              -- the hubs' relationships in those buckets, as (payer, payee)
    SELECT DISTINCT hub, cp, is_in,
           CASE WHEN is_in = 1 THEN cp ELSE hub END AS src, CASE WHEN is_in = 1 THEN hub ELSE cp END AS dst
    FROM near_all
),
pair_n AS (                 -- transfers per hub, counterparty and direction over the history (one join on the pairs)
    SELECT hp.hub, hp.cp, hp.is_in, count(*) AS n
    FROM transactions tr JOIN hub_pairs hp ON hp.src = tr.from_account_id AND hp.dst = tr.to_account_id
    WHERE tr.booked_at >= $history_start AND tr.booked_at < $until
    GROUP BY ALL
),
near AS (                   -- the one-time transfers of the hubs: the pattern's own
    SELECT n.* FROM near_all n JOIN pair_n p ON p.hub = n.hub AND p.cp = n.cp AND p.is_in = n.is_in
    WHERE p.n <= $max_payments_per_counterparty
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
