-- Recruitment fees: payers of one account who, soon after paying, moved into one compound.
WITH movers AS (            -- accounts that moved into a compound, and their holders
    SELECT account_id, coalesce(holder_id, account_id) AS holder, compound_id, arrived_at FROM relocations
    WHERE arrived_at < $until AND first_outside_at <= arrived_at - $home_for   -- an established life at home
),
fees AS (                   -- payments from movers before their arrival, numbered per payee (the first is the fee)
    SELECT t.to_account_id AS payee, m.holder, m.compound_id, m.arrived_at, t.txn_id, t.booked_at,
           CAST(t.amount_usd AS DOUBLE) AS usd,
           row_number() OVER (PARTITION BY t.to_account_id, m.holder, m.compound_id ORDER BY t.booked_at, t.txn_id) AS nth
    FROM transactions t JOIN movers m ON m.account_id = t.from_account_id
    WHERE t.booked_at >= $window_start AND t.booked_at < $until AND t.booked_at < m.arrived_at
      AND st_is_account(t.to_account_id) AND t.to_account_id <> t.from_account_id
),
payees AS (                 -- the move followed the first payment within relocated_within; the payee is not a
    SELECT f.* FROM fees f LEFT JOIN accounts a ON a.account_id = f.payee   -- service nor the mover's own account
    WHERE f.nth = 1 AND f.arrived_at <= f.booked_at + $relocated_within
      AND NOT st_list_has($service_kinds, coalesce(a.kind, ''))
      AND coalesce(a.holder_id, f.payee) <> f.holder
),
per_payee AS (
    SELECT payee, compound_id, count(DISTINCT holder) AS n_payers, st_ids(txn_id) AS txn_ids,
           min(usd) AS min_fee_usd, max(usd) AS max_fee_usd, min(booked_at) AS first_paid_at,
           max(arrived_at) AS last_arrived_at
    FROM payees GROUP BY payee, compound_id
),
payer_accounts AS (         -- the movers' accounts that paid, as members
    SELECT p.payee, p.compound_id, st_ids(m.account_id) AS accounts
    FROM payees p JOIN movers m ON m.holder = p.holder AND m.compound_id = p.compound_id
    GROUP BY p.payee, p.compound_id
),
best AS (
    SELECT c.*, row_number() OVER (PARTITION BY payee ORDER BY n_payers DESC, compound_id) AS rk FROM per_payee c
)
SELECT b.payee AS subject_id, b.n_payers AS value, b.txn_ids, pa.accounts AS member_ids,
       b.first_paid_at AS window_start, b.last_arrived_at AS window_end,
       b.compound_id, round(b.min_fee_usd, 2) AS min_fee_usd, round(b.max_fee_usd, 2) AS max_fee_usd,
       b.first_paid_at, b.last_arrived_at
FROM best b JOIN payer_accounts pa ON pa.payee = b.payee AND pa.compound_id = b.compound_id
WHERE b.rk = 1
