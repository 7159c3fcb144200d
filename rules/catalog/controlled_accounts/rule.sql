-- Controlled accounts: accounts of different holders that moved into a compound, used there from one device.
WITH uses AS (              -- (account, compound, device) of movers' events inside the compound, after arrival
    SELECT c.account_id, coalesce(r.holder_id, r.account_id) AS holder, c.compound_id, c.device_id, r.arrived_at,
           min(c.occurred_at) AS first_at, max(c.occurred_at) AS last_at
    FROM compound_events c
    JOIN relocations r ON r.account_id = c.account_id AND r.compound_id = c.compound_id
    WHERE c.device_id IS NOT NULL AND c.device_id <> '' AND c.occurred_at >= r.arrived_at
      AND r.last_outside_at >= r.arrived_at - $home_within AND r.first_outside_at <= r.arrived_at - $home_for       -- an established life at home, active until the move
      AND c.occurred_at >= $window_start AND c.occurred_at < $until
    GROUP BY c.account_id, coalesce(r.holder_id, r.account_id), c.compound_id, c.device_id, r.arrived_at
),
devices AS (
    SELECT compound_id, device_id, count(DISTINCT holder) AS n_holders, st_ids(account_id) AS accounts,
           max(last_at) AS last_at
    FROM uses GROUP BY compound_id, device_id
),
best AS (                   -- each account with its most shared device
    SELECT u.account_id, u.arrived_at, u.first_at, d.compound_id, d.device_id, d.n_holders, d.accounts, d.last_at,
           row_number() OVER (PARTITION BY u.account_id ORDER BY d.n_holders DESC, d.compound_id, d.device_id) AS rk
    FROM uses u JOIN devices d ON d.compound_id = u.compound_id AND d.device_id = u.device_id
),
after AS (                  -- the account's transactions since its holder's arrival (two equi-joins, no OR)
    SELECT account_id, st_ids(txn_id) AS txn_ids, count(DISTINCT txn_id) AS n_txns FROM (
        SELECT b.account_id, t.txn_id FROM best b JOIN transactions t ON t.from_account_id = b.account_id
        WHERE b.rk = 1 AND t.booked_at >= b.arrived_at AND t.booked_at >= $window_start AND t.booked_at < $until
        UNION ALL
        SELECT b.account_id, t.txn_id FROM best b JOIN transactions t ON t.to_account_id = b.account_id
        WHERE b.rk = 1 AND t.booked_at >= b.arrived_at AND t.booked_at >= $window_start AND t.booked_at < $until
    ) x GROUP BY account_id
)
SELECT b.account_id AS subject_id, b.n_holders AS value, coalesce(a.txn_ids, st_empty_ids()) AS txn_ids,
       b.accounts AS member_ids, b.first_at AS window_start, b.last_at AS window_end,
       b.compound_id, b.device_id, b.arrived_at, coalesce(a.n_txns, 0) AS n_txns_after
FROM best b LEFT JOIN after a ON a.account_id = b.account_id
WHERE b.rk = 1
