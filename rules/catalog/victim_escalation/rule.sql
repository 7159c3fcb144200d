-- Victim escalation: runs of payments to new payees, each >= $growth x the previous.
WITH pay AS NOT MATERIALIZED (  -- payments between two accounts (rules/transfers.py; payer hp, payee hq hashed)
    SELECT rid, hs AS hp, hd AS hq, booked_at, amount_usd
    FROM transfers
    WHERE booked_at >= $window_start AND booked_at < $until
      AND channel IN ('transfer', 'wire', 'ewallet', 'onchain', 'card', 'other')
      AND amount_usd >= $min_first_usd
),
pairs AS (                  -- per payer and payee (hashed; a collision, odds about n^2 / 2^65 for n accounts, would
                            -- merge two accounts' pairs and totals): first payment, count, and whether the amounts
    SELECT hp, hq, min(booked_at) AS first_at,                 -- are far enough apart for a run (its last payment is at least
           count(*) AS n_paid,                                  -- growth^(min_payments-1) x its first; the 1e-9
           max(amount_usd) >= min(amount_usd) * power($growth, $min_payments - 1) * (1 - 1e-9) AS may_escalate,
           max(max(booked_at)) OVER (PARTITION BY hp) AS payer_last,  -- spares a rounding of the product)
           sum(count(*)) OVER (PARTITION BY hp) AS payer_n
    FROM (SELECT * FROM pay WHERE $until - $since > $window
          UNION ALL                                     -- a short range (a day): only payers who paid in it can hit,
          SELECT p.* FROM pay p                         -- and they are few (a join with them: DuckDB would build
          JOIN (SELECT DISTINCT hp FROM pay             -- an IN's hash table on pay; a payer with no payment in the
                WHERE booked_at >= $since AND $until - $since <= $window) d   -- range cannot pass payer_last below)
            ON d.hp = p.hp)
    GROUP BY hp, hq
),
firsts AS (                 -- payees first paid within the read range (later payments go to a "new" payee), of payers
    SELECT hp, hq, n_paid, may_escalate                        -- with enough payments, one of them in the detection
    FROM pairs                                                 -- range (a run without one ends before the range);
    WHERE first_at > $window_start AND payer_last >= $since AND payer_n >= $min_payments  -- not services, which pay
      AND hp NOT IN (SELECT st_hash(account_id) FROM accounts WHERE st_list_has($service_kinds, kind))  -- by trade
),
picked_keys AS MATERIALIZED (  -- the payments that can make a run: to a new payee paid often enough, with amounts
    SELECT p.rid, p.booked_at, p.amount_usd, f.n_paid,         -- apart enough (customers paying their usual payees
           f.n_paid >= $min_payments AND f.may_escalate AS own_run, f.is_vasp   -- their usual amounts stop here), or
    FROM pay p                                                                  -- to a new VASP / OTC / P2P payee
    JOIN (SELECT *, hq IN (SELECT st_hash(account_id) FROM accounts WHERE st_list_has($vasp_kinds, kind)) AS is_vasp
          FROM firsts) f
      ON f.hp = p.hp AND f.hq = p.hq
    WHERE (f.n_paid >= $min_payments AND f.may_escalate) OR f.is_vasp
),
picked AS (                 -- those payments with their ids, read back for them only
    SELECT k.*, x.txn_id, x.payer_id, x.payee_id
    FROM picked_keys k
    JOIN (SELECT rowid AS rid, txn_id, from_account_id AS payer_id, to_account_id AS payee_id FROM transactions
          WHERE rowid IN (SELECT rid FROM picked_keys)) x ON x.rid = k.rid
),
grouped AS (                -- the sequences: per new payee, and all new VASP / OTC / P2P payees together ('*')
    SELECT txn_id, payer_id, payee_id, booked_at, amount_usd, payee_id AS grouping, n_paid AS n_grouping
    FROM picked WHERE own_run
    UNION ALL
    SELECT txn_id, payer_id, payee_id, booked_at, amount_usd, '*' AS grouping, n_vasp AS n_grouping
    FROM (SELECT *, count(*) OVER (PARTITION BY payer_id) AS n_vasp FROM picked WHERE is_vasp)  -- payments to new
    WHERE n_vasp >= $min_payments                                                                -- VASP payees
),
steps AS (                  -- is each payment an escalation of the previous one in its sequence?
    SELECT g.*,
           CASE WHEN lag(amount_usd) OVER w IS NOT NULL AND amount_usd >= $growth * lag(amount_usd) OVER w
                THEN 0 ELSE 1 END AS starts_run
    FROM grouped g
    WINDOW w AS (PARTITION BY payer_id, grouping ORDER BY booked_at, txn_id)
),
runs AS (                   -- run number = running count of run starts
    SELECT s.*, sum(starts_run) OVER (PARTITION BY payer_id, grouping ORDER BY booked_at, txn_id
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run_no
    FROM steps s
),
run_stats AS (              -- runs long enough to hit, within the window, that are most of the relationship: a victim's
    SELECT payer_id, grouping, run_no,                         -- payments to the scam's account are the escalation,
                                                               -- a customer's long relationship escalates by chance
           count(*) AS n_payments,                        -- payments in the escalating run
           min(amount_usd) AS first_usd, max(amount_usd) AS last_usd, sum(amount_usd) AS total_usd,
           min(booked_at) AS window_start, max(booked_at) AS window_end
    FROM runs
    GROUP BY payer_id, grouping, run_no
    HAVING max(booked_at) <= min(booked_at) + $window AND count(*) >= $min_payments
       AND count(*) >= $min_run_share * any_value(n_grouping)
),
best AS (                   -- per payer the longest run
    SELECT r.*, row_number() OVER (PARTITION BY payer_id ORDER BY n_payments DESC, grouping DESC, window_start) AS rn
    FROM run_stats r
),
evidence AS (               -- the payments of the best run only
    SELECT b.payer_id, st_ids(r.txn_id) AS txn_ids, st_ids(r.payee_id) AS member_ids
    FROM best b JOIN runs r ON r.payer_id = b.payer_id AND r.grouping = b.grouping AND r.run_no = b.run_no
    WHERE b.rn = 1
    GROUP BY b.payer_id
)
SELECT b.payer_id AS subject_id,   -- the paying (likely victim) account
       b.n_payments AS value,      -- measured: payments in the longest escalating run
       e.txn_ids, e.member_ids, b.window_start, b.window_end,
       CASE WHEN b.grouping = '*' THEN 'new VASP payees' ELSE 'one payee' END AS grouping,
       b.first_usd, b.last_usd, b.total_usd
FROM best b JOIN evidence e ON e.payer_id = b.payer_id
WHERE b.rn = 1
