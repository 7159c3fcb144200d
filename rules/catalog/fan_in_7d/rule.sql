-- Mule fan-in: the most distinct senders into one account within any window of $window.
WITH inflow AS (            -- credits from known senders in the read range
    SELECT txn_id, to_account_id AS account_id, from_account_id AS sender_id, booked_at, amount_usd
    FROM transactions
    WHERE booked_at >= $window_start AND booked_at < $until
      AND from_account_id <> 'cash' AND from_account_id NOT LIKE 'unknown:%'
      AND to_account_id <> 'cash' AND to_account_id NOT LIKE 'unknown:%'
      AND from_account_id <> to_account_id
      AND channel <> 'fee'
),
candidates AS (             -- cheap pre-filter: enough distinct senders over the whole range, not a service account
    SELECT account_id
    FROM inflow
    WHERE account_id NOT IN (SELECT account_id FROM accounts WHERE st_list_has($service_kinds, kind))
    GROUP BY account_id
    HAVING count(DISTINCT sender_id) >= $min_senders
),
cand_in AS (                -- credits of candidate accounts only
    SELECT i.* FROM inflow i JOIN candidates c ON c.account_id = i.account_id
),
first_seen AS (             -- first credit from each sender to each candidate (first-time senders)
    SELECT account_id, sender_id, min(booked_at) AS first_at FROM cand_in GROUP BY account_id, sender_id
),
windows AS (                -- one window per credit: credits in [anchor, anchor + $window]
    SELECT a.account_id,
           a.booked_at AS anchor_at,
           count(DISTINCT b.sender_id) AS n_senders,                  -- distinct senders in the window
           count(*) AS n_credits,                                     -- credits in the window
           sum(b.amount_usd) AS total_usd,                            -- USD received in the window
           stddev_pop(b.amount_usd) / nullif(avg(b.amount_usd), 0) AS amount_cv,  -- low = similar amounts
           avg(CASE WHEN f.first_at = b.booked_at THEN 1.0 ELSE 0.0 END) AS first_time_share,
           st_ids(b.txn_id) AS txn_ids,
           st_ids(b.sender_id) AS member_ids,
           min(b.booked_at) AS window_start,
           max(b.booked_at) AS window_end
    FROM cand_in a
    JOIN cand_in b
      ON b.account_id = a.account_id AND b.booked_at >= a.booked_at AND b.booked_at <= a.booked_at + $window
    JOIN first_seen f ON f.account_id = b.account_id AND f.sender_id = b.sender_id
    GROUP BY a.account_id, a.txn_id, a.booked_at
),
best AS (                   -- the window with the most senders per account
    SELECT w.*, row_number() OVER (PARTITION BY account_id ORDER BY n_senders DESC, anchor_at) AS rn
    FROM windows w
)
SELECT b.account_id AS subject_id,                                    -- the collecting account
       b.n_senders AS value,                                          -- measured: distinct senders in the window
       b.txn_ids, b.member_ids, b.window_start, b.window_end,
       b.n_senders, b.n_credits, b.total_usd, b.amount_cv, b.first_time_share,
       st_days_between(a.opened_at, b.window_start) AS account_age_days  -- booster: young account (NULL without KYC)
FROM best b
LEFT JOIN accounts a ON a.account_id = b.account_id
WHERE b.rn = 1
