-- Dormant then active: a burst of counterparties right after a long quiet spell that the data actually covers.
WITH observed AS (          -- first transaction loaded at all: before it, silence is missing data, not dormancy
    SELECT min(booked_at) AS data_start FROM transactions WHERE booked_at >= $window_start AND booked_at < $until
),
service AS (                -- accounts of service kinds (merchants, payroll, exchanges, ...): not mules
    SELECT st_hash(account_id) AS h FROM accounts WHERE st_list_has($service_kinds, kind)
),
sides AS NOT MATERIALIZED (  -- every transaction of a known account over the lookback, seen from that account:
    SELECT hs AS h, hd AS cp, rid, booked_at, amount_usd FROM transfers   -- hashed account and counterparty, row
    WHERE booked_at >= $window_start AND booked_at < $until               -- key (rules/transfers.py; a collision,
    UNION ALL                                                             -- odds about n^2 / 2^65 for n accounts,
    SELECT hd, hs, rid, booked_at, amount_usd FROM transfers              -- would merge two accounts)
    WHERE booked_at >= $window_start AND booked_at < $until
    UNION ALL                                                             -- cash, unknown counterparties, oneself
    SELECT hf, ht, rid, booked_at, amount_usd FROM other_moves
    WHERE booked_at >= $window_start AND booked_at < $until AND from_known
    UNION ALL
    SELECT ht, hf, rid, booked_at, amount_usd FROM other_moves
    WHERE booked_at >= $window_start AND booked_at < $until AND to_known
),
live AS (                   -- accounts with a transaction in a detection range shorter than `dormant` (a daily run):
    SELECT DISTINCT h FROM sides                               -- only they can wake up in it. A longer range (a full
    WHERE booked_at >= $since AND $until - $since <= $dormant  -- run) reads every account
),
recent AS (                 -- those of them active in [until - dormant, since): a wake-up in the range would end a
    SELECT DISTINCT s.h FROM sides s                           -- spell shorter than `dormant`
    JOIN live l ON l.h = s.h
    WHERE s.booked_at >= $until - $dormant AND s.booked_at < $since
),
waking AS (                 -- the accounts that can wake up in a short range: a small set, so that the scan of the
    SELECT h FROM live WHERE h NOT IN (SELECT h FROM recent)   -- long lookback below probes it cheaply
),
times AS NOT MATERIALIZED (  -- when each known account that can wake up had a transaction, over the lookback; in a
    SELECT h, booked_at FROM sides                             -- short range they have none in [until - dormant,
    WHERE ($until - $since > $dormant OR booked_at < $until - $dormant OR booked_at >= $since)   -- since), and that
      AND ($until - $since > $dormant OR h IN (SELECT h FROM waking))                            -- stretch is not read
),
legs AS NOT MATERIALIZED (  -- the same transactions in the detection range, with counterparty, row key and amount: a
    SELECT h, cp, rid, booked_at, amount_usd FROM sides        -- burst starts at a wake-up in it
    WHERE booked_at >= $since
      AND ($until - $since > $dormant OR h IN (SELECT h FROM waking))
),
activity AS (               -- per account and dormant-long bucket: first and last transaction. Two transactions in
    SELECT h, st_bucket(booked_at, $dormant) AS bucket,       -- one bucket are less than `dormant` apart: only a
           min(booked_at) AS first_at, max(booked_at) AS last_at   -- bucket's first can wake
    FROM times
    GROUP BY h, st_bucket(booked_at, $dormant)
    HAVING h NOT IN (SELECT h FROM service)                    -- (per group: far fewer than transactions)
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
    SELECT w.h, w.wake_at,
           st_days_between(w.prev_at, w.wake_at) AS quiet_days,   -- length of the quiet spell
           count(DISTINCT l.cp) AS n_cps,
           count(DISTINCT l.rid) AS n_burst_txns,
           sum(l.amount_usd) AS burst_usd,
           max(l.booked_at) AS window_end
    FROM wakes w
    JOIN legs l ON l.h = w.h AND l.booked_at >= w.wake_at AND l.booked_at <= w.wake_at + $burst_window
    GROUP BY w.h, w.wake_at, w.prev_at
),
best AS (
    SELECT b.*, row_number() OVER (PARTITION BY h ORDER BY n_cps DESC, wake_at) AS rn FROM bursts b
),
burst_legs AS (             -- the best burst's transactions, read back with their ids
    SELECT b.h, l.rid FROM best b
    JOIN legs l ON l.h = b.h AND l.booked_at >= b.wake_at AND l.booked_at <= b.wake_at + $burst_window
    WHERE b.rn = 1
),
named AS (                  -- the account and the counterparty of each (the account is the side whose hash is h)
    SELECT k.h, x.txn_id,
           CASE WHEN st_hash(x.from_account_id) = k.h THEN x.from_account_id ELSE x.to_account_id END AS account_id,
           CASE WHEN st_hash(x.from_account_id) = k.h THEN x.to_account_id ELSE x.from_account_id END AS cp_id
    FROM burst_legs k
    JOIN (SELECT rowid AS rid, txn_id, from_account_id, to_account_id FROM transactions
          WHERE rowid IN (SELECT rid FROM burst_legs)) x ON x.rid = k.rid
),
evidence AS (
    SELECT h, any_value(account_id) AS account_id, st_ids(txn_id) AS txn_ids, st_ids(cp_id) AS member_ids
    FROM named GROUP BY h
)
SELECT e.account_id AS subject_id,
       b.n_cps AS value,                        -- measured: distinct counterparties in the burst
       e.txn_ids, e.member_ids, b.wake_at AS window_start, b.window_end,
       CAST(floor(b.quiet_days) AS INTEGER) AS quiet_days, b.burst_usd, b.n_burst_txns
FROM best b JOIN evidence e ON e.h = b.h
WHERE b.rn = 1
