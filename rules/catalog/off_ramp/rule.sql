-- Off-ramp: share of a fan-in episode's inflow that the hub sends to VASPs / OTC / P2P (or converts to crypto) soon after.
WITH service AS (           -- accounts of service kinds are not hubs (an OTC desk converting clients' money is its trade)
    SELECT account_id FROM accounts WHERE st_list_has($service_kinds, kind)
),
payers AS (                 -- accounts with a debit that can be an off-ramp (an off-ramp kind, or on the crypto rail)
    SELECT DISTINCT t.from_account_id AS account_id
    FROM transactions t LEFT JOIN accounts a ON a.account_id = t.to_account_id
    WHERE t.booked_at >= $window_start AND t.booked_at < $until
      AND (st_list_has($offramp_kinds, a.kind) OR t.rail = 'crypto')
),
inflow AS MATERIALIZED (      -- credits from known senders to non-service accounts that can off-ramp, read once.
    -- A join with payers, not `IN (SELECT .. FROM payers)`: DuckDB built the semi-join's hash table on the
    -- transactions (86M rows at 100M, spilled) instead of on the payers (339k)
    SELECT t.to_account_id AS account_id, t.from_account_id AS sender_id, t.txn_id, t.booked_at, t.amount_usd, t.rail
    FROM transactions t JOIN payers p ON p.account_id = t.to_account_id
    WHERE t.booked_at >= $window_start AND t.booked_at < $until
      AND st_is_account(t.to_account_id)
      AND st_is_account(t.from_account_id) AND t.from_account_id <> t.to_account_id
      AND t.to_account_id NOT IN (SELECT account_id FROM service)
),
hubs AS (                   -- cheap pre-filter: enough senders and inflow over the range
    SELECT account_id, max(CASE WHEN rail = 'bank' THEN 1 ELSE 0 END) AS bank_funded
    FROM inflow
    GROUP BY account_id
    HAVING count(DISTINCT sender_id) >= $min_senders AND sum(amount_usd) >= $min_inflow_usd
),
offramps AS (               -- hubs' debits to off-ramps: an off-ramp kind, or a crypto debit from a bank-funded hub
    SELECT t.from_account_id AS account_id, t.to_account_id AS payee_id, t.txn_id, t.booked_at, t.amount_usd
    FROM transactions t
    JOIN hubs h ON h.account_id = t.from_account_id
    LEFT JOIN accounts a ON a.account_id = t.to_account_id
    WHERE t.booked_at >= $window_start AND t.booked_at < $until
      AND (st_list_has($offramp_kinds, a.kind) OR (t.rail = 'crypto' AND h.bank_funded = 1))
),
hin AS (                    -- credits of hubs that off-ramp at all (an episode counts only with off-ramp debits)
    SELECT i.account_id, i.sender_id, i.txn_id, i.booked_at, i.amount_usd,
           st_bucket(i.booked_at, $window) AS bucket                -- window-long time bucket
    FROM inflow i
    WHERE i.account_id IN (SELECT account_id FROM offramps)
),
per_bucket AS (SELECT account_id, bucket, count(*) AS n FROM hin GROUP BY account_id, bucket),
live AS (                   -- pre-filter: an episode starting in bucket b lies in buckets b and b + 1,
    SELECT c.account_id, c.bucket AS start_bucket   -- which together need min_senders credits
    FROM per_bucket c LEFT JOIN per_bucket d ON d.account_id = c.account_id AND d.bucket = c.bucket + 1
    WHERE c.n + coalesce(d.n, 0) >= $min_senders
),
need AS (                   -- the live buckets and the bucket after each
    SELECT DISTINCT account_id, bucket
    FROM (SELECT account_id, start_bucket AS bucket FROM live
          UNION ALL SELECT account_id, start_bucket + 1 AS bucket FROM live) x
),
near AS (SELECT h.* FROM hin h JOIN need n ON n.account_id = h.account_id AND n.bucket = h.bucket),
anchored AS (               -- per anchor credit: the fan-in of credits within `window` from it
    SELECT account_id, txn_id AS anchor_id, booked_at AS anchor_at, bucket,
           max(booked_at) OVER w AS last_in_at,
           count(DISTINCT sender_id) OVER w AS n_senders,           -- distinct senders in the episode
           sum(amount_usd) OVER w AS inflow_usd                     -- USD gathered in the episode
    FROM near
    WINDOW w AS (PARTITION BY account_id ORDER BY booked_at RANGE BETWEEN CURRENT ROW AND $window FOLLOWING)
),
episodes AS (               -- fan-in episodes starting in a live bucket
    SELECT a.* FROM anchored a JOIN live l ON l.account_id = a.account_id AND l.start_bucket = a.bucket
    WHERE a.n_senders >= $min_senders
),
scored AS (                 -- off-ramp debits from the episode's first credit until `window` after its last
    SELECT e.account_id, e.anchor_id, e.anchor_at, e.last_in_at, e.n_senders, e.inflow_usd,
           sum(o.amount_usd) AS offramp_usd,
           count(DISTINCT o.payee_id) AS n_offramps,
           max(o.booked_at) AS window_end
    FROM episodes e
    JOIN offramps o ON o.account_id = e.account_id AND o.booked_at >= e.anchor_at AND o.booked_at <= e.last_in_at + $window
    GROUP BY e.account_id, e.anchor_id, e.anchor_at, e.last_in_at, e.n_senders, e.inflow_usd
),
ranked AS (                 -- per hub the widest fan-in episode whose off-ramping it can explain
    SELECT s.*, least(s.offramp_usd / s.inflow_usd, 1.0) AS share,
           row_number() OVER (PARTITION BY account_id ORDER BY n_senders DESC, least(s.offramp_usd / s.inflow_usd, 1.0) DESC, anchor_at) AS rn
    FROM scored s
    WHERE s.offramp_usd <= $max_ratio * s.inflow_usd   -- far more than the fan-in brought: the holder's own money
),
best AS (SELECT * FROM ranked WHERE rn = 1),
in_evidence AS (            -- the best episode's credits and senders
    SELECT b.account_id, st_ids(h.txn_id) AS in_ids, st_ids(h.sender_id) AS senders
    FROM best b JOIN hin h ON h.account_id = b.account_id AND h.booked_at >= b.anchor_at AND h.booked_at <= b.anchor_at + $window
    GROUP BY b.account_id
),
out_evidence AS (           -- its off-ramp debits and off-ramp accounts
    SELECT b.account_id, st_ids(o.txn_id) AS out_ids, st_ids(o.payee_id) AS payees
    FROM best b JOIN offramps o ON o.account_id = b.account_id AND o.booked_at >= b.anchor_at AND o.booked_at <= b.last_in_at + $window
    GROUP BY b.account_id
)
SELECT b.account_id AS subject_id,                         -- the hub
       b.share AS value,                                   -- measured: share of the episode's inflow off-ramped
       st_union_ids(i.in_ids, o.out_ids) AS txn_ids,
       st_union_ids(i.senders, o.payees) AS member_ids,    -- the senders and the off-ramp accounts
       b.anchor_at AS window_start, b.window_end,
       b.inflow_usd,
       b.offramp_usd,                                      -- USD sent to off-ramps
       b.n_senders,
       b.n_offramps                                        -- distinct off-ramp accounts
FROM best b
JOIN in_evidence i ON i.account_id = b.account_id
JOIN out_evidence o ON o.account_id = b.account_id
