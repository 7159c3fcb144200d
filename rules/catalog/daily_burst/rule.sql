-- Daily burst: a relationship used on consecutive days and never otherwise, into an account that has no other
-- counterparty over the history.
WITH t AS NOT MATERIALIZED (  -- transfers between known accounts over the history, with their day
    SELECT txn_id, from_account_id AS src, to_account_id AS dst, booked_at, amount_usd,
           st_bucket(booked_at, $period) AS day
    FROM transactions
    WHERE booked_at >= $history_start AND booked_at < $until
      AND st_is_account(from_account_id)
      AND st_is_account(to_account_id)
      AND from_account_id <> to_account_id
      AND channel <> 'fee'
),
pairs AS (                  -- each relationship: the days it was used and the span from its first to its last
    SELECT src, dst, count(DISTINCT day) AS n_days, max(day) - min(day) + 1 AS span_days, max(booked_at) AS last_at
    FROM t GROUP BY src, dst
),
counterparties AS (         -- distinct counterparties per account, paid or paying
    SELECT account_id, count(*) AS n_cp
    FROM (SELECT src AS account_id, dst AS other FROM pairs UNION SELECT dst, src FROM pairs) x
    GROUP BY account_id
),
services AS (
    SELECT account_id FROM accounts WHERE st_list_has($service_kinds, kind)
),
bursts AS (                 -- whole life one run of consecutive days, ending in the read range, into a lone payee
    SELECT p.src, p.dst, p.n_days, a.n_cp AS payer_counterparties
    FROM pairs p
    JOIN counterparties a ON a.account_id = p.src
    JOIN counterparties b ON b.account_id = p.dst
    WHERE p.n_days = p.span_days
      AND p.n_days >= $min_days
      AND p.last_at >= $window_start
      AND b.n_cp = 1
      AND p.src NOT IN (SELECT account_id FROM services)
      AND p.dst NOT IN (SELECT account_id FROM services)
),
sides AS (                  -- both accounts are subjects, each with the other as member
    SELECT src AS subject_id, dst AS counterparty_id, src, dst, n_days, payer_counterparties FROM bursts
    UNION ALL
    SELECT dst, src, src, dst, n_days, payer_counterparties FROM bursts
)
SELECT s.subject_id,
       s.n_days AS value,                      -- measured: days of the burst
       st_ids(t.txn_id) AS txn_ids,
       st_list(s.counterparty_id) AS member_ids,
       min(t.booked_at) AS window_start,
       max(t.booked_at) AS window_end,
       s.counterparty_id,
       s.payer_counterparties,
       count(*) AS n_transfers,
       CASE WHEN count(t.amount_usd) = count(*) THEN sum(t.amount_usd) END AS total_usd   -- null if any lacks a rate
FROM sides s
JOIN t ON t.src = s.src AND t.dst = s.dst
GROUP BY s.subject_id, s.counterparty_id, s.n_days, s.payer_counterparties
