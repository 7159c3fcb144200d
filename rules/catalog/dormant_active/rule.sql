-- Dormant then active: a burst of counterparties right after a long quiet spell that the data actually covers.
WITH observed AS (          -- first transaction loaded at all: before it, silence is missing data, not dormancy
    SELECT min(booked_at) AS data_start FROM transactions WHERE booked_at >= $window_start AND booked_at < $until
),
service AS (                -- accounts of service kinds (merchants, payroll, exchanges, ...): not mules
    SELECT account_id FROM accounts WHERE st_list_has($service_kinds, kind)
),
live AS (                   -- accounts with a transaction in a detection range shorter than `dormant` (a daily run):
    SELECT from_account_id AS account_id FROM transactions     -- only they can wake up in it. A longer range (a full
    WHERE booked_at >= $since AND booked_at < $until AND $until - $since <= $dormant   -- run) reads every account
    UNION
    SELECT to_account_id AS account_id FROM transactions
    WHERE booked_at >= $since AND booked_at < $until AND $until - $since <= $dormant
),
recent AS (                 -- those of them active in [until - dormant, since): a wake-up in the range would end a
    SELECT t.from_account_id AS account_id FROM transactions t  -- spell shorter than `dormant`. A join with the
    JOIN live l ON l.account_id = t.from_account_id             -- (small) live set costs far less than the
    WHERE t.booked_at >= $until - $dormant AND t.booked_at < $since  -- distinct accounts of a quarter's rows
    UNION
    SELECT t.to_account_id FROM transactions t
    JOIN live l ON l.account_id = t.to_account_id
    WHERE t.booked_at >= $until - $dormant AND t.booked_at < $since
),
waking AS (                 -- the accounts that can wake up in a short range: a small set, so that the scan of the
    SELECT account_id FROM live                                -- long lookback below probes it cheaply
    WHERE account_id NOT IN (SELECT account_id FROM recent WHERE account_id IS NOT NULL)
),
times AS NOT MATERIALIZED (  -- when each known account that can wake up had a transaction, over the lookback; in a
    SELECT from_account_id AS account_id, booked_at           -- short range they have none in [until - dormant,
    FROM transactions                                          -- since), and that stretch is not read
    WHERE booked_at >= $window_start AND booked_at < $until
      AND ($until - $since > $dormant OR booked_at < $until - $dormant OR booked_at >= $since)
      AND st_is_account(from_account_id)
      AND ($until - $since > $dormant OR from_account_id IN (SELECT account_id FROM waking))
    UNION ALL
    SELECT to_account_id, booked_at
    FROM transactions
    WHERE booked_at >= $window_start AND booked_at < $until
      AND ($until - $since > $dormant OR booked_at < $until - $dormant OR booked_at >= $since)
      AND st_is_account(to_account_id)
      AND ($until - $since > $dormant OR to_account_id IN (SELECT account_id FROM waking))
),
legs AS NOT MATERIALIZED (  -- the same transactions in the detection range, with counterparty, id and amount: a
    SELECT from_account_id AS account_id, to_account_id AS cp_id, txn_id, booked_at, amount_usd  -- burst starts at
    FROM transactions                                                                             -- a wake-up in it
    WHERE booked_at >= $since AND booked_at < $until
      AND st_is_account(from_account_id)
      AND ($until - $since > $dormant OR from_account_id IN (SELECT account_id FROM waking))
    UNION ALL
    SELECT to_account_id, from_account_id, txn_id, booked_at, amount_usd
    FROM transactions
    WHERE booked_at >= $since AND booked_at < $until
      AND st_is_account(to_account_id)
      AND ($until - $since > $dormant OR to_account_id IN (SELECT account_id FROM waking))
),
activity AS (               -- per account (hashed: a narrow key; a collision, odds about n^2 / 2^65 for n accounts,
    SELECT st_hash(account_id) AS h,   -- would merge two accounts) and dormant-long bucket: first and last
           st_bucket(booked_at, $dormant) AS bucket,   -- transaction. Two transactions in one bucket are less than
           min(booked_at) AS first_at, max(booked_at) AS last_at   -- `dormant` apart: only a bucket's first can wake
    FROM times
    WHERE account_id NOT IN (SELECT account_id FROM service)
    GROUP BY st_hash(account_id), st_bucket(booked_at, $dormant)
),
seq AS (                    -- previous activity: the previous transaction, else the opening date if the data covers it
    SELECT v.h, v.first_at AS booked_at,
           coalesce(lag(v.last_at) OVER (PARTITION BY v.h ORDER BY v.bucket),
                    CASE WHEN a.opened_at >= o.data_start THEN a.opened_at END) AS prev_at
    FROM activity v
    LEFT JOIN (SELECT st_hash(account_id) AS h, opened_at FROM accounts) a ON a.h = v.h
    CROSS JOIN observed o
),
wakes AS (                  -- first transaction after a quiet spell, inside the detection range
    SELECT DISTINCT h, booked_at AS wake_at, prev_at
    FROM seq
    WHERE booked_at >= $since AND prev_at IS NOT NULL AND booked_at >= prev_at + $dormant
),
bursts AS (                 -- counterparties in the burst window after each wake-up
    SELECT any_value(l.account_id) AS account_id, w.wake_at,
           st_days_between(w.prev_at, w.wake_at) AS quiet_days,   -- length of the quiet spell
           count(DISTINCT l.cp_id) AS n_cps,
           count(DISTINCT l.txn_id) AS n_burst_txns,
           sum(l.amount_usd) AS burst_usd,
           st_ids(l.txn_id) AS txn_ids,
           st_ids(l.cp_id) AS member_ids,
           max(l.booked_at) AS window_end
    FROM wakes w
    JOIN legs l ON st_hash(l.account_id) = w.h AND l.booked_at >= w.wake_at AND l.booked_at <= w.wake_at + $burst_window
    GROUP BY w.h, w.wake_at, w.prev_at
),
best AS (
    SELECT b.*, row_number() OVER (PARTITION BY account_id ORDER BY n_cps DESC, wake_at) AS rn FROM bursts b
)
SELECT account_id AS subject_id,
       n_cps AS value,                          -- measured: distinct counterparties in the burst
       txn_ids, member_ids, wake_at AS window_start, window_end,
       CAST(floor(quiet_days) AS INTEGER) AS quiet_days, burst_usd, n_burst_txns
FROM best WHERE rn = 1
