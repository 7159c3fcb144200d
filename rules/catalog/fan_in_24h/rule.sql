-- Mule fan-in: the most distinct one-time senders into one account within any window of $window.
-- A one-time sender paid the account at most $max_payments_per_sender time(s) from $history_start (the rule's
-- history) to $until: victims and layering hops pay a collection account once, while salaries, rents, trade
-- and family transfers repeat. Counting every sender flags the busy accounts of any payment graph.
WITH hist AS NOT MATERIALIZED (  -- transfers between known accounts over the history, accounts hashed (rules/transfers.py)
    SELECT rid, hs, hd, booked_at, is_fee FROM transfers
    WHERE booked_at >= $history_start AND booked_at < $until
),
pairs AS (                  -- transfers per relationship of `hist` over the history (hs, hd, n)
    /* include: relationship_counts */
),
once AS MATERIALIZED (      -- credits from one-time senders in the read range: the only ones a window counts
    SELECT h.rid, h.hd, h.booked_at
    FROM hist h JOIN pairs p ON p.hs = h.hs AND p.hd = h.hd
    WHERE p.n <= $max_payments_per_sender AND h.booked_at >= $window_start AND NOT h.is_fee
),
buckets AS (                -- those credits per account and $window-long time bucket
    SELECT hd AS account_key, st_bucket(booked_at, $window) AS bucket, count(*) AS n_credits
    FROM once
    GROUP BY ALL
),
candidates AS (             -- cheap pre-filter: a window spans at most two adjacent buckets and has no more senders
                            -- than credits, so an account whose adjacent bucket pairs never reach $min_senders
                            -- credits cannot hit
    SELECT DISTINCT b1.account_key
    FROM buckets b1
    LEFT JOIN buckets b2 ON b2.account_key = b1.account_key AND b2.bucket = b1.bucket + 1
    WHERE b1.n_credits + coalesce(b2.n_credits, 0) >= $min_senders
),
once_in AS (                -- the candidates' credits from one-time senders, read back with their ids: the fan-in's
    SELECT t.txn_id, t.to_account_id AS account_id, t.from_account_id AS sender_id, t.booked_at, t.amount_usd
    FROM transactions t                                        -- own transactions; service accounts are not subjects
    WHERE t.rowid IN (SELECT o.rid FROM once o SEMI JOIN candidates c ON c.account_key = o.hd)
      AND t.to_account_id NOT IN (SELECT account_id FROM accounts WHERE st_list_has($service_kinds, kind))
),
windows AS (                -- distinct one-time senders in [each credit, + $window], as a window aggregate
    SELECT account_id, booked_at AS anchor_at,
           count(DISTINCT sender_id) OVER (PARTITION BY account_id ORDER BY booked_at
                                           RANGE BETWEEN CURRENT ROW AND $window FOLLOWING) AS n_senders
    FROM once_in
),
best AS (                   -- the window with the most senders per account (evidence is built for it alone)
    SELECT account_id, anchor_at
    FROM (SELECT *, row_number() OVER (PARTITION BY account_id ORDER BY n_senders DESC, anchor_at) AS rn FROM windows)
    WHERE rn = 1
),
all_in_window AS (          -- every sender of the best window, for context: how much of the traffic is one-time
    SELECT w.account_id, count(DISTINCT b.hs) AS n_all_senders
    FROM best w
    JOIN hist b
      ON b.hd = st_hash(w.account_id) AND NOT b.is_fee AND b.booked_at >= $window_start
     AND b.booked_at >= w.anchor_at AND b.booked_at <= w.anchor_at + $window
    GROUP BY w.account_id
),
detail AS (                 -- evidence of the best window: the one-time senders' credits only
    SELECT w.account_id,
           count(DISTINCT b.sender_id) AS n_senders,                  -- distinct one-time senders in the window
           count(*) AS n_credits,                                     -- their credits in the window
           sum(b.amount_usd) AS total_usd,                            -- USD they paid in the window
           stddev_pop(b.amount_usd) / nullif(avg(b.amount_usd), 0) AS amount_cv,  -- low = similar amounts
           st_ids(b.txn_id) AS txn_ids,
           st_ids(b.sender_id) AS member_ids,
           min(b.booked_at) AS window_start,
           max(b.booked_at) AS window_end
    FROM best w
    JOIN once_in b
      ON b.account_id = w.account_id AND b.booked_at >= w.anchor_at AND b.booked_at <= w.anchor_at + $window
    GROUP BY w.account_id
)
SELECT d.account_id AS subject_id,                                    -- the collecting account
       d.n_senders AS value,                                          -- measured: distinct senders in the window
       d.txn_ids, d.member_ids, d.window_start, d.window_end,
       d.n_senders, d.n_credits, d.total_usd, round(d.amount_cv, 6) AS amount_cv,
       round(d.n_senders / a_w.n_all_senders, 6) AS one_time_share,  -- one-time senders over all senders of the window
       st_days_between(a.opened_at, d.window_start) AS account_age_days  -- booster: young account (NULL without KYC)
FROM detail d
JOIN all_in_window a_w ON a_w.account_id = d.account_id
LEFT JOIN accounts a ON a.account_id = d.account_id
