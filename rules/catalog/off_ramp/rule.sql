-- Off-ramp: share of a fan-in hub's inflow sent to VASPs / OTC / P2P (or converted to crypto) within $window.
WITH inflow AS (            -- credits from known senders
    SELECT to_account_id AS account_id, from_account_id AS sender_id, txn_id, booked_at, amount_usd, rail
    FROM transactions
    WHERE booked_at >= $window_start AND booked_at < $until
      AND to_account_id <> 'cash' AND to_account_id NOT LIKE 'unknown:%'
      AND from_account_id <> 'cash' AND from_account_id NOT LIKE 'unknown:%' AND from_account_id <> to_account_id
),
hubs AS (                   -- cheap pre-filter: fan-in hubs with enough inflow
    SELECT account_id,
           sum(amount_usd) AS inflow_usd,
           count(DISTINCT sender_id) AS n_senders,
           max(CASE WHEN rail = 'bank' THEN 1 ELSE 0 END) AS bank_funded
    FROM inflow
    GROUP BY account_id
    HAVING count(DISTINCT sender_id) >= $min_senders AND sum(amount_usd) >= $min_inflow_usd
),
debits AS (                 -- hubs' debits, flagged when they go to an off-ramp
    SELECT t.from_account_id AS account_id, t.to_account_id AS payee_id, t.txn_id, t.booked_at, t.amount_usd,
           CASE WHEN st_list_has($offramp_kinds, a.kind) THEN 1
                WHEN t.rail = 'crypto' AND h.bank_funded = 1 THEN 1
                ELSE 0 END AS is_offramp
    FROM transactions t
    JOIN hubs h ON h.account_id = t.from_account_id
    LEFT JOIN accounts a ON a.account_id = t.to_account_id
    WHERE t.booked_at >= $window_start AND t.booked_at < $until
),
legs AS (                   -- credits and off-ramp debits of the hubs
    SELECT i.account_id, i.txn_id, i.booked_at, i.amount_usd, 1 AS is_in, CAST(NULL AS VARCHAR) AS payee_id
    FROM inflow i JOIN hubs h ON h.account_id = i.account_id
    UNION ALL
    SELECT account_id, txn_id, booked_at, amount_usd, 0 AS is_in, payee_id FROM debits WHERE is_offramp = 1
),
marked AS (                 -- latest credit at or before each leg
    SELECT l.*,
           max(CASE WHEN is_in = 1 THEN booked_at END)
               OVER (PARTITION BY account_id ORDER BY booked_at, is_in DESC
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS last_in_at
    FROM legs l
),
kept AS (
    SELECT * FROM marked WHERE is_in = 1 OR (last_in_at IS NOT NULL AND booked_at <= last_in_at + $window)
)
SELECT k.account_id AS subject_id,                                                   -- the hub
       least(sum(CASE WHEN is_in = 0 THEN k.amount_usd ELSE 0 END) / h.inflow_usd, 1.0) AS value,  -- measured: share off-ramped
       st_ids(k.txn_id) AS txn_ids,
       st_ids(k.payee_id) AS member_ids,                                             -- the off-ramp accounts
       min(k.booked_at) AS window_start,
       max(k.booked_at) AS window_end,
       h.inflow_usd,
       sum(CASE WHEN is_in = 0 THEN k.amount_usd ELSE 0 END) AS offramp_usd,         -- USD sent to off-ramps
       h.n_senders,
       count(DISTINCT k.payee_id) AS n_offramps                                      -- distinct off-ramp accounts
FROM kept k JOIN hubs h ON h.account_id = k.account_id
GROUP BY k.account_id, h.inflow_usd, h.n_senders
HAVING sum(1 - is_in) > 0
