-- One-shot senders: distinct senders whose only transaction in the read range is one payment into the subject.
WITH t AS NOT MATERIALIZED (  -- transfers between known accounts in the read range
    SELECT txn_id, from_account_id AS src, to_account_id AS dst, booked_at, amount_usd
    FROM transactions
    WHERE booked_at >= $window_start AND booked_at < $until
      AND st_is_account(from_account_id)
      AND st_is_account(to_account_id)
      AND from_account_id <> to_account_id
      AND channel <> 'fee'
),
seen AS (                   -- how many transactions each account takes part in, either side, of any kind (cash,
    SELECT account_id, count(*) AS n                     -- card, fees, unknown counterparties: a customer is seen)
    FROM (SELECT from_account_id AS account_id FROM transactions WHERE booked_at >= $window_start AND booked_at < $until
          UNION ALL
          SELECT to_account_id AS account_id FROM transactions WHERE booked_at >= $window_start AND booked_at < $until)
    GROUP BY account_id
),
one_shot AS (               -- payments whose payer is seen in no other transaction
    SELECT t.* FROM t JOIN seen s ON s.account_id = t.src WHERE s.n = 1
),
per_account AS (            -- one-shot senders per receiving account, 0 for accounts with none
    SELECT r.dst AS account_id, count(DISTINCT o.src) AS n_senders
    FROM (SELECT DISTINCT dst FROM t) r
    LEFT JOIN one_shot o ON o.dst = r.dst
    GROUP BY r.dst
),
bar AS (                    -- the population's level of the same count
    SELECT quantile_cont(n_senders, $population_quantile) AS population_bar FROM per_account
),
hits AS (
    SELECT p.account_id, p.n_senders, round(b.population_bar, 2) AS population_bar
    FROM per_account p CROSS JOIN bar b
    WHERE p.n_senders >= $min_senders AND p.n_senders > b.population_bar
      AND p.account_id NOT IN (SELECT account_id FROM accounts WHERE st_list_has($service_kinds, kind))
)
SELECT h.account_id AS subject_id,
       h.n_senders AS value,                   -- measured: distinct one-shot senders
       st_ids(o.txn_id) AS txn_ids,
       st_ids(o.src) AS member_ids,
       min(o.booked_at) AS window_start,
       max(o.booked_at) AS window_end,
       h.n_senders,
       sum(o.amount_usd) AS total_usd,
       st_days_between(min(o.booked_at), max(o.booked_at)) AS span_days,
       h.population_bar
FROM hits h JOIN one_shot o ON o.dst = h.account_id
GROUP BY h.account_id, h.n_senders, h.population_bar
