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
own_rate AS (               -- each candidate hub's one-time credits and debits over the whole history: its own
    SELECT x.hub, sum(x.is_in) AS all_in, sum(1 - x.is_in) AS all_out    -- rate of strangers in and out
    FROM (SELECT h.hd AS hub, 1 AS is_in FROM hist h JOIN pairs p ON p.hs = h.hs AND p.hd = h.hd
          WHERE p.n <= $max_payments_per_counterparty AND h.hd IN (SELECT hub FROM best WHERE rn = 1)
          UNION ALL
          SELECT h.hs AS hub, 0 AS is_in FROM hist h JOIN pairs p ON p.hs = h.hs AND p.hd = h.hd
          WHERE p.n <= $max_payments_per_counterparty AND h.hs IN (SELECT hub FROM best WHERE rn = 1)) x
    GROUP BY x.hub
),
hubs AS (                   -- how many accounts could be hubs: a one-time credit and a one-time debit in the range
    SELECT count(*) AS n FROM (SELECT hd AS h FROM once INTERSECT SELECT hs AS h FROM once) x
),
expected AS (               -- senders and payees a window of this length holds at the hub's rate outside it
    SELECT b.hub, b.measure, b.n_senders, b.n_payees,
           st_days_between(b.anchor_at, b.anchor_at + $window) AS window_days,
           st_days_between($history_start, $until) AS span_days,
           greatest(r.all_in - b.n_credits, 0) AS other_in, greatest(r.all_out - b.n_debits, 0) AS other_out
    FROM best b JOIN own_rate r ON r.hub = b.hub
    WHERE b.rn = 1
),
bounded AS (                -- -ln of the Chernoff bounds on P(X >= senders) and P(Y >= payees), X and Y Poisson
    SELECT e.hub, e.span_days / e.window_days AS n_windows,     -- at the hub's own rates (no other one-time
           CASE WHEN mu_in <= 0 THEN 50 WHEN e.n_senders <= mu_in THEN 0   -- counterparty at all: capped at 50,
                ELSE e.n_senders * ln(e.n_senders / mu_in) - e.n_senders + mu_in END     -- a chance of 2e-22)
           + CASE WHEN mu_out <= 0 THEN 50 WHEN e.n_payees <= mu_out THEN 0
                  ELSE e.n_payees * ln(e.n_payees / mu_out) - e.n_payees + mu_out END AS neg_ln_chance
    FROM (SELECT e.*, e.other_in * e.window_days / greatest(e.span_days - e.window_days, e.window_days) AS mu_in,
                 e.other_out * e.window_days / greatest(e.span_days - e.window_days, e.window_days) AS mu_out
          FROM expected e) e
),
judged AS (                 -- improbable at its own rate in any of its windows, for every possible hub: fewer
    SELECT b.hub,                                         -- than max_chance_hits chance hits in the population
           CAST(floor(least(exp(b.neg_ln_chance) / b.n_windows, 1e18)) AS BIGINT) AS one_in
    FROM bounded b CROSS JOIN hubs h
    WHERE b.neg_ln_chance - ln(greatest(b.n_windows, 1)) > ln(h.n / $max_chance_hits)
),
window_rows AS (            -- the transfers of the best window only
    SELECT b.hub, n.rid, n.is_in
    FROM best b
    JOIN near n ON n.hub = b.hub AND n.booked_at >= b.anchor_at AND n.booked_at <= b.anchor_at + $window
    WHERE b.rn = 1 AND b.hub IN (SELECT hub FROM judged)
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
FROM best b JOIN evidence e ON e.hub = b.hub JOIN judged j ON j.hub = b.hub
WHERE b.rn = 1
