-- Fan-out: the most distinct one-time payees paid from one account within any window of $window.
-- A one-time payee was paid by the account at most $max_payments_per_payee time(s) from $history_start (the
-- rule's history) to $until: a mule disperses to next hops it pays once; bills, wages and family repeat.
WITH hist AS NOT MATERIALIZED (  -- transfers between known accounts over the history, accounts hashed (rules/transfers.py)
    SELECT rid, hs, hd, booked_at, is_fee FROM transfers
    WHERE booked_at >= $history_start AND booked_at < $until
),
pairs AS (                  -- transfers per relationship of `hist` over the history (hs, hd, n)
    /* include: relationship_counts */
),
once AS MATERIALIZED (      -- debits to one-time payees in the read range: the only ones a window counts
    SELECT h.rid, h.hs, h.booked_at
    FROM hist h JOIN pairs p ON p.hs = h.hs AND p.hd = h.hd
    WHERE p.n <= $max_payments_per_payee AND h.booked_at >= $window_start AND NOT h.is_fee
),
buckets AS (                -- those debits per account and $window-long time bucket
    SELECT hs AS account_key, st_bucket(booked_at, $window) AS bucket, count(*) AS n_debits
    FROM once
    GROUP BY ALL
),
candidates AS (             -- cheap pre-filter: a window spans at most two adjacent buckets and has no more payees
                            -- than debits, so an account whose adjacent bucket pairs never reach $min_payees debits
                            -- cannot hit
    SELECT DISTINCT b1.account_key
    FROM buckets b1
    LEFT JOIN buckets b2 ON b2.account_key = b1.account_key AND b2.bucket = b1.bucket + 1
    WHERE b1.n_debits + coalesce(b2.n_debits, 0) >= $min_payees
),
once_out AS (               -- the candidates' debits to one-time payees, read back with their ids: the fan-out's
    SELECT t.txn_id, t.from_account_id AS account_id, t.to_account_id AS payee_id, t.booked_at, t.amount_usd
    FROM transactions t                                        -- own transactions; service accounts are not subjects
    WHERE t.rowid IN (SELECT o.rid FROM once o SEMI JOIN candidates c ON c.account_key = o.hs)
      AND t.from_account_id NOT IN (SELECT account_id FROM accounts WHERE st_list_has($service_kinds, kind))
),
windows AS (                -- distinct one-time payees in [each debit, + $window], as a window aggregate
    SELECT account_id, booked_at AS anchor_at,
           count(DISTINCT payee_id) OVER (PARTITION BY account_id ORDER BY booked_at
                                          RANGE BETWEEN CURRENT ROW AND $window FOLLOWING) AS n_payees
    FROM once_out
),
best AS (                   -- the window with the most payees per account (evidence is built for it alone)
    SELECT account_id, anchor_at
    FROM (SELECT *, row_number() OVER (PARTITION BY account_id ORDER BY n_payees DESC, anchor_at) AS rn FROM windows)
    WHERE rn = 1
)
SELECT w.account_id AS subject_id,                     -- the dispersing account
       count(DISTINCT b.payee_id) AS value,            -- measured: distinct one-time payees in the window
       st_ids(b.txn_id) AS txn_ids,
       st_ids(b.payee_id) AS member_ids,
       min(b.booked_at) AS window_start,
       max(b.booked_at) AS window_end,
       count(DISTINCT b.payee_id) AS n_payees,
       count(*) AS n_debits,                           -- debits in the window
       sum(b.amount_usd) AS total_usd                  -- USD paid out in the window
FROM best w
JOIN once_out b
  ON b.account_id = w.account_id AND b.booked_at >= w.anchor_at AND b.booked_at <= w.anchor_at + $window
GROUP BY w.account_id
