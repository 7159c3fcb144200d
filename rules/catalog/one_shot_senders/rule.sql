-- One-shot senders: distinct senders whose only transaction in the read range is one payment into the subject.
WITH t AS NOT MATERIALIZED (  -- transfers between known accounts in the read range, accounts hashed
    SELECT rid, hs, hd FROM transfers                                -- (rules/transfers.py)
    WHERE booked_at >= $window_start AND booked_at < $until AND NOT is_fee
),
single AS (                 -- accounts seen in one transaction of the read range (h)
    /* include: seen_once */
),
one_shot AS (               -- payments whose payer is seen in no other transaction
    SELECT t.* FROM t WHERE t.hs IN (SELECT h FROM single)
),
per_account AS (            -- distinct senders and one-shot senders per receiving account
    SELECT r.hd, r.n_payers, count(DISTINCT o.hs) AS n_senders
    FROM (SELECT hd, count(DISTINCT hs) AS n_payers FROM t GROUP BY hd) r
    LEFT JOIN one_shot o ON o.hd = r.hd
    GROUP BY r.hd, r.n_payers
),
bar AS (                    -- the population's level of the same count, its share of one-shot senders among
    SELECT quantile_cont(n_senders, $population_quantile) AS population_bar,   -- all senders, and its size
           CAST(sum(n_senders) AS DOUBLE) / sum(n_payers) AS rate,
           count(*) AS n_receivers
    FROM per_account
),
bounded AS (                -- -ln of the Chernoff bound on P(X >= n_senders), X ~ Binomial(n_payers, rate): the
    SELECT p.*, b.population_bar, b.n_receivers,               -- chance of so many at the population's share
           CASE WHEN b.rate <= 0 OR CAST(p.n_senders AS DOUBLE) / p.n_payers <= b.rate THEN 0
                ELSE p.n_senders * ln(CAST(p.n_senders AS DOUBLE) / p.n_payers / b.rate)
                     + CASE WHEN p.n_senders < p.n_payers
                            THEN (p.n_payers - p.n_senders) * ln((1 - CAST(p.n_senders AS DOUBLE) / p.n_payers) / (1 - b.rate))
                            ELSE 0 END
           END AS neg_ln_chance
    FROM per_account p CROSS JOIN bar b
    WHERE p.n_senders >= $min_senders
),
hits AS (                   -- above the population's level, or improbable at its share (a receiver with many
    SELECT hd, n_senders, round(population_bar, 2) AS population_bar,  -- payers meets more by chance)
           CAST(floor(least(exp(neg_ln_chance), 1e18)) AS BIGINT) AS one_in   -- floor: engines round casts apart
    FROM bounded
    WHERE (n_senders > population_bar OR neg_ln_chance > ln(n_receivers / $max_chance_hits))
      AND hd NOT IN (SELECT st_hash(account_id) FROM accounts WHERE st_list_has($service_kinds, kind))
),
evidence AS (               -- the hits' one-shot payments, read back with their ids
    SELECT txn_id, from_account_id AS src, to_account_id AS dst, booked_at, amount_usd, st_hash(to_account_id) AS hd
    FROM transactions
    WHERE rowid IN (SELECT o.rid FROM one_shot o WHERE o.hd IN (SELECT hd FROM hits))
)
SELECT any_value(o.dst) AS subject_id,
       h.n_senders AS value,                   -- measured: distinct one-shot senders
       st_ids(o.txn_id) AS txn_ids,
       st_ids(o.src) AS member_ids,
       min(o.booked_at) AS window_start,
       max(o.booked_at) AS window_end,
       h.n_senders,
       sum(o.amount_usd) AS total_usd,
       st_days_between(min(o.booked_at), max(o.booked_at)) AS span_days,
       h.population_bar,
       h.one_in
FROM hits h JOIN evidence o ON o.hd = h.hd
GROUP BY h.hd, h.n_senders, h.population_bar, h.one_in
