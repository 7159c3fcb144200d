-- Gather-scatter: many one-time senders into a hub, then many one-time payees out of it, in one window, more than
-- the hub's own rate of one-time counterparties outside the window makes likely anywhere in the population.
-- One-time: the pair (sender to hub, or hub to payee) has at most $max_payments_per_counterparty transfer(s) from
-- $history_start (the rule's history) to $until; trade, wages and family repeat, laundering hops do not.
WITH hist AS NOT MATERIALIZED (  -- transfers between known accounts over the history, accounts hashed (rules/transfers.py)
    SELECT rid, hs, hd, booked_at, amount_usd FROM transfers
    WHERE booked_at >= $history_start AND booked_at < $until
),
pairs AS (                  -- transfers per relationship of `hist` over the history (hs, hd, n)
    /* include: relationship_counts */
),
once AS MATERIALIZED (      -- the one-time transfers of the read range, with their window-long time bucket: the
    SELECT h.rid, h.hs, h.hd, h.booked_at, h.amount_usd,       -- only ones a window counts, so the pre-filter
           st_bucket(h.booked_at, $window) AS bucket            -- below counts them alone
    FROM hist h JOIN pairs p ON p.hs = h.hs AND p.hd = h.hd
    WHERE p.n <= $max_payments_per_counterparty AND h.booked_at >= $window_start
),
per_bucket AS (             -- credits and debits per account and bucket, under one key (st_slot: a hash of the
    SELECT slot, sum(is_in) AS n_in, sum(1 - is_in) AS n_out   -- account plus the bucket, so that the account's next
    FROM (SELECT st_slot(hd, bucket) AS slot, 1 AS is_in FROM once    -- bucket is slot + 1); a collision only
          UNION ALL                                                   -- merges counts (lets more through)
          SELECT st_slot(hs, bucket) AS slot, 0 AS is_in FROM once) x
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
service AS (                -- accounts of service kinds (casinos, merchants, exchanges...) gather and scatter by trade
    SELECT st_hash(account_id) AS h FROM accounts WHERE st_list_has($service_kinds, kind)
),
near AS (                   -- the hubs' one-time credits (is_in = 1) and debits (is_in = 0) in those buckets: the
    SELECT o.hd AS hub, o.hs AS cp, o.rid, o.booked_at, o.amount_usd, 1 AS is_in, o.bucket   -- pattern's own;
    FROM once o JOIN need n ON n.slot = st_slot(o.hd, o.bucket)                             -- services are
    WHERE o.hd NOT IN (SELECT h FROM service)                                               -- not hubs
    UNION ALL
    SELECT o.hs AS hub, o.hd AS cp, o.rid, o.booked_at, o.amount_usd, 0 AS is_in, o.bucket
    FROM once o JOIN need n ON n.slot = st_slot(o.hs, o.bucket)
    WHERE o.hs NOT IN (SELECT h FROM service)
),
anchored AS (               -- per transfer: the window [booked_at, booked_at + window] that starts there
    SELECT hub, booked_at AS anchor_at, is_in AS anchor_is_in, bucket,
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
best_hub AS MATERIALIZED (  -- per hub its best window (read by the steps below: computed once)
    SELECT hub, measure, anchor_at, last_out_at, n_credits, n_debits, n_senders, n_payees, in_usd, out_usd
    FROM best WHERE rn = 1
),
hub_hist AS (               -- the candidate hubs' transfers over the history, one row per end that is a hub
    SELECT h.hs, h.hd, h.booked_at, h.hd AS hub, 1 AS is_in FROM hist h WHERE h.hd IN (SELECT hub FROM best_hub)
    UNION ALL
    SELECT h.hs, h.hd, h.booked_at, h.hs AS hub, 0 AS is_in FROM hist h WHERE h.hs IN (SELECT hub FROM best_hub)
),
own_rate AS (               -- each candidate hub's first transfer in the history, and its one-time credits and
    SELECT x.hub, min(x.booked_at) AS first_at,                  -- debits there: its own rate of strangers
           sum(CASE WHEN p.n <= $max_payments_per_counterparty THEN x.is_in ELSE 0 END) AS all_in,
           sum(CASE WHEN p.n <= $max_payments_per_counterparty THEN 1 - x.is_in ELSE 0 END) AS all_out
    FROM hub_hist x JOIN pairs p ON p.hs = x.hs AND p.hd = x.hd
    GROUP BY x.hub
),
hubs AS (                   -- how many accounts could be hubs (a one-time credit and a one-time debit in the read
    SELECT (SELECT count(*) FROM (SELECT hd AS h FROM once INTERSECT SELECT hs AS h FROM once) x) AS n,   -- range),
           (SELECT count(*) FROM once) * 1.0                  -- and the population's one-time transfers per
           / greatest((SELECT count(*) FROM (SELECT hd AS h FROM once UNION SELECT hs AS h FROM once) y), 1)  -- account
           / greatest(st_days_between($window_start, $until), 1) AS daily      -- and day, each way
),
expected AS (               -- a window's length, the hub's time in the history (from its first transfer) and the
    SELECT b.hub, b.n_senders, b.n_payees,                 -- read range's windows, its one-time counterparties
           st_days_between(b.anchor_at, b.anchor_at + $window) AS window_days,          -- outside the window
           st_days_between(r.first_at, $until) AS hub_days,
           st_days_between($window_start, $until) AS read_days,
           greatest(r.all_in - b.n_credits, 0) AS other_in, greatest(r.all_out - b.n_debits, 0) AS other_out
    FROM best_hub b JOIN own_rate r ON r.hub = b.hub
),
rates AS (                  -- senders and payees expected in a window at the hub's rate outside it, drawn
    SELECT e.*,                      -- towards the population's rate by one window's worth of it (a hub with
           greatest(e.read_days / e.window_days, 1) AS n_windows,    -- little history gets about the population's)
           e.window_days * (e.other_in + h.daily * e.window_days)
               / (greatest(e.hub_days - e.window_days, 0) + e.window_days) AS mu_in,
           e.window_days * (e.other_out + h.daily * e.window_days)
               / (greatest(e.hub_days - e.window_days, 0) + e.window_days) AS mu_out
    FROM expected e CROSS JOIN hubs h
),
bounded AS (                -- -ln of the Chernoff bounds on P(X >= senders) and P(Y >= payees), X and Y Poisson
    SELECT r.hub, r.n_windows,                                  -- at those rates
           CASE WHEN r.n_senders <= r.mu_in THEN 0
                ELSE r.n_senders * ln(r.n_senders / r.mu_in) - r.n_senders + r.mu_in END
           + CASE WHEN r.n_payees <= r.mu_out THEN 0
                  ELSE r.n_payees * ln(r.n_payees / r.mu_out) - r.n_payees + r.mu_out END AS neg_ln_chance
    FROM rates r
),
judged AS (                 -- improbable in any of the read range's windows, for every possible hub: fewer than
    SELECT b.hub,                                         -- max_chance_hits chance hits in the population
           CAST(floor(least(exp(b.neg_ln_chance) / b.n_windows, 1e18)) AS BIGINT) AS one_in
    FROM bounded b CROSS JOIN hubs h
    WHERE b.neg_ln_chance - ln(b.n_windows) > ln(h.n / $max_chance_hits)
),
window_rows AS (            -- the transfers of the best window only
    SELECT b.hub, n.rid, n.is_in
    FROM best_hub b
    JOIN near n ON n.hub = b.hub AND n.booked_at >= b.anchor_at AND n.booked_at <= b.anchor_at + $window
    WHERE b.hub IN (SELECT hub FROM judged)
),
evidence AS (               -- ... read back with their ids (hub, hub_id, txn_ids, member_ids)
    /* include: hub_window_ids */
)
SELECT e.hub_id AS subject_id,                 -- the hub
       b.measure AS value,                     -- measured: min(distinct senders, distinct payees) in the window
       e.txn_ids,                              -- the credits and debits of the window
       e.member_ids,                           -- its senders and payees
       b.anchor_at AS window_start, b.last_out_at AS window_end,
       b.n_senders, b.n_payees, b.in_usd, b.out_usd, j.one_in
FROM best_hub b JOIN evidence e ON e.hub = b.hub JOIN judged j ON j.hub = b.hub
