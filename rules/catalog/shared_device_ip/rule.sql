-- Shared identifiers (events): distinct accounts using one device / IP / phone within $window.
WITH ev AS (                -- events resolved to accounts (party events reach the party's accounts)
    SELECT coalesce(e.account_id, a.account_id) AS account_id, e.occurred_at, e.ip, e.device_id, e.phone
    FROM events e
    LEFT JOIN accounts a ON e.account_id IS NULL AND a.holder_id = e.party_id
    WHERE e.occurred_at >= $window_start AND e.occurred_at < $until
),
ids AS (                    -- one row per (identifier kind, value) use
    SELECT account_id, occurred_at, 'device' AS id_kind, device_id AS id_value FROM ev WHERE device_id IS NOT NULL AND device_id <> ''
    UNION ALL
    SELECT account_id, occurred_at, 'ip', ip FROM ev
    WHERE ip IS NOT NULL AND ip <> '' AND NOT ($ignore_nat_ips AND st_shared_ip(ip))  -- carrier NAT / private: shared by strangers
    UNION ALL
    SELECT account_id, occurred_at, 'phone', phone FROM ev WHERE phone IS NOT NULL AND phone <> ''
),
candidates AS (             -- pre-filter: identifiers used by enough accounts over the range
    SELECT id_kind, id_value FROM ids WHERE account_id IS NOT NULL
    GROUP BY id_kind, id_value
    HAVING count(DISTINCT account_id) >= CASE WHEN id_kind = 'ip' THEN $min_accounts_ip ELSE $min_accounts END
),
cand AS (
    SELECT i.* FROM ids i JOIN candidates c ON c.id_kind = i.id_kind AND c.id_value = i.id_value
    WHERE i.account_id IS NOT NULL
),
windows AS (                -- per identifier use: accounts with the identifier in [t, t + window]
    SELECT a.id_kind, a.id_value, a.occurred_at AS anchor_at,
           count(DISTINCT b.account_id) AS n_accounts, count(*) AS n_events,
           st_ids(b.account_id) AS accounts, min(b.occurred_at) AS window_start, max(b.occurred_at) AS window_end
    FROM cand a
    JOIN cand b ON b.id_kind = a.id_kind AND b.id_value = a.id_value
               AND b.occurred_at >= a.occurred_at AND b.occurred_at <= a.occurred_at + $window
    GROUP BY a.id_kind, a.id_value, a.occurred_at
),
groups AS (                 -- best window per identifier
    SELECT * FROM (
        SELECT w.*, row_number() OVER (PARTITION BY id_kind, id_value ORDER BY n_accounts DESC, anchor_at) AS rn FROM windows w
    ) x WHERE rn = 1 AND n_accounts >= CASE WHEN id_kind = 'ip' THEN $min_accounts_ip ELSE $min_accounts END
),
per_account AS (            -- each member account, with its largest sharing group
    SELECT m.account_id, g.*,
           row_number() OVER (PARTITION BY m.account_id ORDER BY g.n_accounts DESC, g.id_kind, g.id_value) AS rk
    FROM groups g
    JOIN cand m ON m.id_kind = g.id_kind AND m.id_value = g.id_value
               AND m.occurred_at >= g.window_start AND m.occurred_at <= g.window_end
)
SELECT account_id AS subject_id,
       n_accounts AS value,          -- measured: accounts sharing the identifier
       st_empty_ids() AS txn_ids,    -- evidence is in events, not transactions
       accounts AS member_ids, window_start, window_end, id_kind, id_value, n_events
FROM per_account WHERE rk = 1
