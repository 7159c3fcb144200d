-- One-off payees: an account that paid improbably many of its payees once and never again, against its peers
-- (the accounts with about as many payees).
WITH t AS NOT MATERIALIZED (  -- transfers between known accounts in the read range, accounts hashed
    SELECT rid, hs, hd FROM transfers                                -- (rules/transfers.py)
    WHERE booked_at >= $window_start AND booked_at < $until AND NOT is_fee
),
pairs AS (                  -- payments per (payer, payee)
    SELECT hs, hd, count(*) AS n FROM t GROUP BY hs, hd
),
per_payer AS (              -- payees and one-off payees per paying account; the peer group is the power of two
    SELECT hs AS account_key, count(*) AS n_payees,                 -- of its number of payees
           sum(CASE WHEN n <= $max_payments_per_payee THEN 1 ELSE 0 END) AS n_one_off,
           CAST(floor(log2(count(*))) AS INTEGER) AS peer_group
    FROM pairs
    GROUP BY hs
),
shares AS (                 -- per peer group the quantile of the one-off share
    SELECT peer_group, count(*) AS n_peers,
           quantile_cont(CAST(n_one_off AS DOUBLE) / n_payees, $peer_quantile) AS q_share
    FROM per_payer
    GROUP BY peer_group
),
groups AS (                 -- and the pooled share of the peers at or below it (smoothed: never 0); the larger is
    SELECT s.peer_group, s.n_peers, s.q_share,                     -- the rate expected by chance
           (sum(p.n_one_off) + 1.0) / (sum(p.n_payees) + 2.0) AS pooled_share
    FROM shares s JOIN per_payer p ON p.peer_group = s.peer_group
    WHERE CAST(p.n_one_off AS DOUBLE) / p.n_payees <= s.q_share
    GROUP BY s.peer_group, s.n_peers, s.q_share
),
payers AS (                 -- how many accounts pay: the population the bar is set for
    SELECT count(*) AS n_payers FROM per_payer
),
rated AS (                  -- the rate expected by chance for each candidate with enough peers to judge it
    SELECT p.account_key, p.n_payees, p.n_one_off, n.n_payers,
           least(0.999, greatest(g.q_share, g.pooled_share)) AS rate,
           CAST(p.n_one_off AS DOUBLE) / p.n_payees AS share
    FROM per_payer p JOIN groups g ON g.peer_group = p.peer_group CROSS JOIN payers n
    WHERE p.n_one_off >= $min_payees AND g.n_peers >= $min_peers
),
bounded AS (                -- -ln of the Chernoff bound on P(X >= n_one_off), X ~ Binomial(n_payees, rate)
    SELECT r.*,
           n_one_off * ln(share / rate)
           + CASE WHEN n_one_off < n_payees THEN (n_payees - n_one_off) * ln((1 - share) / (1 - rate)) ELSE 0 END
             AS neg_ln_chance
    FROM rated r
    WHERE share > rate
),
hits AS (
    SELECT b.*
    FROM bounded b
    WHERE b.neg_ln_chance > ln(b.n_payers / $max_chance_hits)
      AND b.account_key NOT IN (SELECT st_hash(account_id) FROM accounts WHERE st_list_has($service_kinds, kind))
),
one_off_keys AS (           -- the one-off payments of the hits: the evidence
    SELECT t.rid, t.hs
    FROM t JOIN pairs p ON p.hs = t.hs AND p.hd = t.hd
    WHERE p.n <= $max_payments_per_payee AND t.hs IN (SELECT account_key FROM hits)
),
one_off AS (                -- ... read back with their ids
    SELECT k.hs, x.txn_id, x.src, x.dst, x.booked_at, x.amount_usd
    FROM one_off_keys k
    JOIN (SELECT rowid AS rid, txn_id, from_account_id AS src, to_account_id AS dst, booked_at, amount_usd
          FROM transactions WHERE rowid IN (SELECT rid FROM one_off_keys)) x ON x.rid = k.rid
)
SELECT any_value(o.src) AS subject_id,
       h.n_one_off AS value,                   -- measured: one-off payees
       st_ids(o.txn_id) AS txn_ids,
       st_ids(o.dst) AS member_ids,
       min(o.booked_at) AS window_start,
       max(o.booked_at) AS window_end,
       h.n_payees,
       sum(o.amount_usd) AS total_usd,
       st_days_between(min(o.booked_at), max(o.booked_at)) AS span_days,
       round(100 * h.rate, 1) AS peer_share_pct,
       CAST(round(exp(least(h.neg_ln_chance, 41))) AS BIGINT) AS one_in   -- capped near 6e17 (a BIGINT)
FROM hits h JOIN one_off o ON o.hs = h.account_key
GROUP BY h.account_key, h.n_one_off, h.n_payees, h.rate, h.neg_ln_chance
