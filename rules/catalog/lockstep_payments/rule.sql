-- Lockstep payments: an account's new relationships used on the same days, again and again, within $window.
WITH service AS (           -- payroll, merchants, exchanges...: paying or being paid by many on the same day is trade
    SELECT st_hash(account_id) AS h FROM accounts WHERE st_list_has($service_kinds, kind)
),
t AS NOT MATERIALIZED (     -- transfers between known, non-service accounts in the read range, accounts hashed
    SELECT rid, hs, hd, booked_at FROM transfers                     -- (rules/transfers.py)
    WHERE booked_at >= $window_start AND booked_at < $until AND NOT is_fee
      AND hs NOT IN (SELECT h FROM service) AND hd NOT IN (SELECT h FROM service)
),
busy AS (                   -- cheap pre-filter on the pairs: >= $min_periods transfers, all within $window
    SELECT hs, hd FROM t GROUP BY hs, hd
    HAVING count(*) >= $min_periods AND max(booked_at) <= min(booked_at) + $window
),
pair_t AS (                 -- the transfers of those pairs only, read back with their ids
    SELECT txn_id, from_account_id AS src, to_account_id AS dst, booked_at, amount_usd
    FROM transactions
    WHERE rowid IN (SELECT t.rid FROM t SEMI JOIN busy b ON b.hs = t.hs AND b.hd = t.hd)
),
rel AS (                    -- each such relationship seen from both ends: (account, counterparty, side)
    SELECT src AS account_id, dst AS cpty_id, 'payee' AS side, txn_id, booked_at, amount_usd FROM pair_t
    UNION ALL
    SELECT dst AS account_id, src AS cpty_id, 'sender' AS side, txn_id, booked_at, amount_usd FROM pair_t
),
dense AS (                  -- relationships used on >= $min_periods periods
    SELECT account_id, cpty_id, side, count(DISTINCT st_bucket(booked_at, $period)) AS n_periods
    FROM rel
    GROUP BY ALL
    HAVING count(DISTINCT st_bucket(booked_at, $period)) >= $min_periods
),
older AS (                  -- busy pairs that already transacted in the rule's history before the read range
    SELECT DISTINCT b.hs, b.hd
    FROM transfers h JOIN busy b ON b.hs = h.hs AND b.hd = h.hd
    WHERE h.booked_at >= $history_start AND h.booked_at < $window_start
),
fresh AS (                  -- dense relationships that are new: nothing on the pair before the read range
    SELECT d.* FROM dense d
    WHERE NOT EXISTS (
        SELECT 1 FROM older o
        WHERE o.hs = st_hash(CASE WHEN d.side = 'payee' THEN d.account_id ELSE d.cpty_id END)   -- the payer
          AND o.hd = st_hash(CASE WHEN d.side = 'payee' THEN d.cpty_id ELSE d.account_id END))  -- the payee
),
fresh_periods AS (          -- the periods each new dense relationship was used
    SELECT DISTINCT r.account_id, r.cpty_id, r.side, st_bucket(r.booked_at, $period) AS period_no
    FROM rel r JOIN fresh f ON f.account_id = r.account_id AND f.cpty_id = r.cpty_id AND f.side = r.side
),
shared AS (                 -- two relationships of one account, same side, and the periods they share
    SELECT a.account_id, a.side, a.cpty_id, b.cpty_id AS peer_id, count(*) AS n_shared
    FROM fresh_periods a
    JOIN fresh_periods b
      ON b.account_id = a.account_id AND b.side = a.side AND b.period_no = a.period_no AND b.cpty_id <> a.cpty_id
    GROUP BY ALL
),
lockstep AS (               -- shared on >= $min_periods periods and >= $min_overlap of each relationship's periods
    SELECT s.account_id, s.side, s.cpty_id, s.n_shared
    FROM shared s
    JOIN fresh fa ON fa.account_id = s.account_id AND fa.side = s.side AND fa.cpty_id = s.cpty_id
    JOIN fresh fb ON fb.account_id = s.account_id AND fb.side = s.side AND fb.cpty_id = s.peer_id
    WHERE s.n_shared >= $min_periods
      AND s.n_shared >= $min_overlap * greatest(fa.n_periods, fb.n_periods)
),
partners AS (               -- per account and side: the counterparties in lockstep with at least one other
    SELECT account_id, side, cpty_id, max(n_shared) AS n_shared FROM lockstep GROUP BY ALL
),
best_side AS (              -- the side with the most lockstep counterparties (an account is one subject)
    SELECT account_id, side, n_partners, n_periods
    FROM (SELECT account_id, side, count(*) AS n_partners, max(n_shared) AS n_periods,
                 row_number() OVER (PARTITION BY account_id ORDER BY count(*) DESC, side) AS rn
          FROM partners GROUP BY account_id, side)
    WHERE rn = 1
)
SELECT b.account_id AS subject_id,
       b.n_partners AS value,                  -- measured: counterparties in lockstep
       st_ids(r.txn_id) AS txn_ids,
       st_ids(r.cpty_id) AS member_ids,
       min(r.booked_at) AS window_start,
       max(r.booked_at) AS window_end,
       b.side,
       b.n_periods,                            -- most periods one pair of relationships shares
       count(*) AS n_transfers,
       sum(r.amount_usd) AS total_usd
FROM best_side b
JOIN partners p ON p.account_id = b.account_id AND p.side = b.side
JOIN rel r ON r.account_id = p.account_id AND r.side = p.side AND r.cpty_id = p.cpty_id
GROUP BY b.account_id, b.n_partners, b.side, b.n_periods
