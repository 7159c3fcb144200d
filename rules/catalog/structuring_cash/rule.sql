-- Structuring: cash deposits just under the reporting threshold, counted in a sliding window.
WITH deposits AS (          -- cash deposits in the threshold's currency (or all, by USD value)
    SELECT txn_id, to_account_id AS account_id, from_name, booked_at,
           CASE WHEN $reporting_currency = 'USD' THEN amount_usd ELSE amount END AS amt
    FROM transactions
    WHERE booked_at >= $window_start AND booked_at < $until
      AND channel = 'cash_deposit'
      AND ($reporting_currency = 'USD' OR currency = $reporting_currency)
),
near AS (                   -- just under the threshold
    SELECT * FROM deposits
    WHERE amt >= $lower_share * $reporting_threshold
      AND amt <= $upper_share * $reporting_threshold
      AND amt < $reporting_threshold
),
candidates AS (             -- cheap pre-filter: enough near-threshold deposits over the range
    SELECT account_id FROM near GROUP BY account_id HAVING count(*) >= $min_deposits
),
cand AS (SELECT n.* FROM near n JOIN candidates c ON c.account_id = n.account_id),
windows AS (                -- one window per deposit
    SELECT a.account_id, a.booked_at AS anchor_at,
           count(*) AS n_deposits,                      -- near-threshold deposits in the window
           sum(b.amt) AS total_amount,                  -- their total, in the threshold currency
           count(DISTINCT b.from_name) AS n_depositors, -- distinct depositor names given
           st_ids(b.txn_id) AS txn_ids,
           min(b.booked_at) AS window_start,
           max(b.booked_at) AS window_end
    FROM cand a
    JOIN cand b ON b.account_id = a.account_id AND b.booked_at >= a.booked_at AND b.booked_at <= a.booked_at + $window
    GROUP BY a.account_id, a.txn_id, a.booked_at
),
best AS (
    SELECT w.*, row_number() OVER (PARTITION BY account_id ORDER BY n_deposits DESC, anchor_at) AS rn FROM windows w
)
SELECT account_id AS subject_id,   -- the receiving account
       n_deposits AS value,        -- measured: near-threshold cash deposits in the window
       txn_ids, window_start, window_end, n_deposits, total_amount, n_depositors
FROM best WHERE rn = 1
