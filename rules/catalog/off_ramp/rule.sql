-- Off-ramp: share of a fan-in episode's inflow that the hub sends to VASPs / OTC / P2P (or converts to crypto) soon after.
WITH service AS (           -- accounts of service kinds are not hubs (an OTC desk converting clients' money is its trade)
    SELECT account_id FROM accounts WHERE st_list_has($service_kinds, kind)
),
inflow AS (                 -- credits from known senders to non-service accounts
    SELECT to_account_id AS account_id, from_account_id AS sender_id, txn_id, booked_at, amount_usd, rail
    FROM transactions
    WHERE booked_at >= $window_start AND booked_at < $until
      AND to_account_id <> 'cash' AND to_account_id NOT LIKE 'unknown:%'
      AND from_account_id <> 'cash' AND from_account_id NOT LIKE 'unknown:%' AND from_account_id <> to_account_id
      AND to_account_id NOT IN (SELECT account_id FROM service)
),
hubs AS (                   -- cheap pre-filter: enough senders and inflow over the range
    SELECT account_id, max(CASE WHEN rail = 'bank' THEN 1 ELSE 0 END) AS bank_funded
    FROM inflow
    GROUP BY account_id
    HAVING count(DISTINCT sender_id) >= $min_senders AND sum(amount_usd) >= $min_inflow_usd
),
hin AS (SELECT i.* FROM inflow i JOIN hubs h ON h.account_id = i.account_id),
episodes AS (               -- per anchor credit: the fan-in of credits within `window` from it
    SELECT a.account_id, a.txn_id AS anchor_id, a.booked_at AS anchor_at,
           max(b.booked_at) AS last_in_at,
           count(DISTINCT b.sender_id) AS n_senders,                 -- distinct senders in the episode
           sum(b.amount_usd) AS inflow_usd,                          -- USD gathered in the episode
           st_ids(b.txn_id) AS in_ids, st_ids(b.sender_id) AS senders
    FROM hin a JOIN hin b ON b.account_id = a.account_id AND b.booked_at >= a.booked_at AND b.booked_at <= a.booked_at + $window
    GROUP BY a.account_id, a.txn_id, a.booked_at
    HAVING count(DISTINCT b.sender_id) >= $min_senders
),
offramps AS (               -- hubs' debits to off-ramps: an off-ramp kind, or a crypto debit from a bank-funded hub
    SELECT t.from_account_id AS account_id, t.to_account_id AS payee_id, t.txn_id, t.booked_at, t.amount_usd
    FROM transactions t
    JOIN hubs h ON h.account_id = t.from_account_id
    LEFT JOIN accounts a ON a.account_id = t.to_account_id
    WHERE t.booked_at >= $window_start AND t.booked_at < $until
      AND (st_list_has($offramp_kinds, a.kind) OR (t.rail = 'crypto' AND h.bank_funded = 1))
),
scored AS (                 -- off-ramp debits from the episode's first credit until `window` after its last
    SELECT e.account_id, e.anchor_id, e.anchor_at, e.n_senders, e.inflow_usd, e.in_ids, e.senders,
           sum(o.amount_usd) AS offramp_usd,
           count(DISTINCT o.payee_id) AS n_offramps,
           st_ids(o.txn_id) AS out_ids, st_ids(o.payee_id) AS payees,
           max(o.booked_at) AS window_end
    FROM episodes e
    JOIN offramps o ON o.account_id = e.account_id AND o.booked_at >= e.anchor_at AND o.booked_at <= e.last_in_at + $window
    GROUP BY e.account_id, e.anchor_id, e.anchor_at, e.n_senders, e.inflow_usd, e.in_ids, e.senders
),
best AS (                  -- per hub the widest fan-in episode whose off-ramping it can explain
    SELECT s.*, least(s.offramp_usd / s.inflow_usd, 1.0) AS share,
           row_number() OVER (PARTITION BY account_id ORDER BY n_senders DESC, least(s.offramp_usd / s.inflow_usd, 1.0) DESC, anchor_at) AS rn
    FROM scored s
    WHERE s.offramp_usd <= $max_ratio * s.inflow_usd   -- far more than the fan-in brought: the holder's own money
)
SELECT account_id AS subject_id,                           -- the hub
       share AS value,                                     -- measured: share of the episode's inflow off-ramped
       st_union_ids(in_ids, out_ids) AS txn_ids,
       st_union_ids(senders, payees) AS member_ids,        -- the senders and the off-ramp accounts
       anchor_at AS window_start, window_end,
       inflow_usd,
       offramp_usd,                                        -- USD sent to off-ramps
       n_senders,
       n_offramps                                          -- distinct off-ramp accounts
FROM best WHERE rn = 1
