-- Fan-out: the most distinct payees paid from one account within any window of $window.
WITH outflow AS (           -- debits to known payees in the read range
    SELECT txn_id, from_account_id AS account_id, to_account_id AS payee_id, booked_at, amount_usd
    FROM transactions
    WHERE booked_at >= $window_start AND booked_at < $until
      AND from_account_id <> 'cash' AND from_account_id NOT LIKE 'unknown:%'
      AND to_account_id <> 'cash' AND to_account_id NOT LIKE 'unknown:%'
      AND from_account_id <> to_account_id
      AND channel <> 'fee'
),
candidates AS (             -- cheap pre-filter: enough distinct payees over the whole range, not a service account
    SELECT account_id FROM outflow
    WHERE account_id NOT IN (SELECT account_id FROM accounts WHERE st_list_has($service_kinds, kind))
    GROUP BY account_id HAVING count(DISTINCT payee_id) >= $min_payees
),
cand_out AS (
    SELECT o.* FROM outflow o JOIN candidates c ON c.account_id = o.account_id
),
windows AS (                -- one window per debit: debits in [anchor, anchor + $window]
    SELECT a.account_id,
           a.booked_at AS anchor_at,
           count(DISTINCT b.payee_id) AS n_payees,     -- distinct payees in the window
           count(*) AS n_debits,                       -- debits in the window
           sum(b.amount_usd) AS total_usd,             -- USD paid out in the window
           st_ids(b.txn_id) AS txn_ids,
           st_ids(b.payee_id) AS member_ids,
           min(b.booked_at) AS window_start,
           max(b.booked_at) AS window_end
    FROM cand_out a
    JOIN cand_out b
      ON b.account_id = a.account_id AND b.booked_at >= a.booked_at AND b.booked_at <= a.booked_at + $window
    GROUP BY a.account_id, a.txn_id, a.booked_at
),
best AS (
    SELECT w.*, row_number() OVER (PARTITION BY account_id ORDER BY n_payees DESC, anchor_at) AS rn FROM windows w
)
SELECT account_id AS subject_id,   -- the dispersing account
       n_payees AS value,          -- measured: distinct payees in the window
       txn_ids, member_ids, window_start, window_end, n_payees, n_debits, total_usd
FROM best
WHERE rn = 1
