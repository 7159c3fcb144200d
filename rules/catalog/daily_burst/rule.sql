-- Daily burst: a relationship used on consecutive days and never otherwise, into an account that has no other
-- counterparty over the history.
WITH t AS NOT MATERIALIZED (  -- transfers between known accounts over the history, with their day and hashed
    SELECT rid, hs, hd, booked_at, st_bucket(booked_at, $period) AS day   -- accounts (rules/transfers.py)
    FROM transfers
    WHERE booked_at >= $history_start AND booked_at < $until AND NOT is_fee
),
pairs AS (                  -- each relationship (hashed: narrow rows over the whole history): its transfers, and
    SELECT hs, hd, count(*) AS n,                            -- the span of days from its first to its last
           max(day) - min(day) + 1 AS span_days, max(booked_at) AS last_at
    FROM t GROUP BY hs, hd
),
dense AS (                  -- those that can be one run of consecutive days: at least a transfer a day over a span
    SELECT hs, hd, span_days FROM pairs   -- long enough (the distinct days are counted for these few only)
    WHERE n >= span_days AND span_days >= $min_days AND last_at >= $window_start
),
runs AS (                   -- of those, the ones used on every day of their span
    SELECT t.hs, t.hd, count(DISTINCT t.day) AS n_days
    FROM t JOIN dense d ON d.hs = t.hs AND d.hd = t.hd
    GROUP BY t.hs, t.hd, d.span_days
    HAVING count(DISTINCT t.day) = d.span_days
),
counterparties AS (         -- distinct counterparties per account, paid or paying
    SELECT h, count(*) AS n_cp
    FROM (SELECT hs AS h, hd AS other FROM pairs UNION SELECT hd, hs FROM pairs) x
    GROUP BY h
),
services AS (
    SELECT st_hash(account_id) AS h FROM accounts WHERE st_list_has($service_kinds, kind)
),
bursts AS (                 -- whole life one run of consecutive days, ending in the read range, into a lone payee
    SELECT r.hs, r.hd, r.n_days, a.n_cp AS payer_counterparties
    FROM runs r
    JOIN counterparties a ON a.h = r.hs
    JOIN counterparties b ON b.h = r.hd
    WHERE b.n_cp = 1
      AND r.hs NOT IN (SELECT h FROM services)
      AND r.hd NOT IN (SELECT h FROM services)
),
burst_keys AS (
    SELECT t.rid, b.n_days, b.payer_counterparties
    FROM t JOIN bursts b ON b.hs = t.hs AND b.hd = t.hd
),
burst_transfers AS (        -- read back with their ids
    SELECT x.txn_id, x.src, x.dst, x.booked_at, x.amount_usd, k.n_days, k.payer_counterparties
    FROM burst_keys k
    JOIN (SELECT rowid AS rid, txn_id, from_account_id AS src, to_account_id AS dst, booked_at, amount_usd
          FROM transactions WHERE rowid IN (SELECT rid FROM burst_keys)) x ON x.rid = k.rid
),
sides AS (                  -- both accounts are subjects, each with the other as member
    SELECT src AS subject_id, dst AS counterparty_id, txn_id, booked_at, amount_usd, n_days, payer_counterparties
    FROM burst_transfers
    UNION ALL
    SELECT dst, src, txn_id, booked_at, amount_usd, n_days, payer_counterparties FROM burst_transfers
)
SELECT subject_id,
       n_days AS value,                        -- measured: periods of the burst
       st_ids(txn_id) AS txn_ids,
       st_list(counterparty_id) AS member_ids,
       min(booked_at) AS window_start,
       max(booked_at) AS window_end,
       counterparty_id,
       payer_counterparties,
       count(*) AS n_transfers,
       CASE WHEN count(amount_usd) = count(*) THEN sum(amount_usd) END AS total_usd   -- null if any lacks a rate
FROM sides
GROUP BY subject_id, counterparty_id, n_days, payer_counterparties
