-- Pass-through: share of an account's inflow debited again within $window of a credit, to one-time payees.
-- A one-time payee was paid by the account at most $max_payments_per_payee time(s) over the rule's history: a mule
-- passes the money to the next hop once, while an account that forwards to the same payees again and again
-- (rent, savings, a household moving money between its accounts) is not a mule. The share is of all inflow.
WITH service AS (           -- accounts of service kinds (merchants, payroll, exchanges...) move money by trade
    SELECT st_hash(account_id) AS h FROM accounts WHERE st_list_has($service_kinds, kind)
),
legs AS NOT MATERIALIZED (  -- each known account's credits (is_in = 1) and debits (is_in = 0) in the read range, on
    SELECT hd AS h, hs AS cp, rid, booked_at, amount_usd, 1 AS is_in FROM transfers   -- hashed accounts (rules/
    WHERE booked_at >= $window_start AND booked_at < $until AND NOT is_fee            -- transfers.py); cash and
    UNION ALL                                                                         -- unknown counterparties too
    SELECT ht, hf, rid, booked_at, amount_usd, 1 FROM other_moves
    WHERE booked_at >= $window_start AND booked_at < $until AND NOT is_fee AND to_known AND hf <> ht
    UNION ALL
    SELECT hs, hd, rid, booked_at, amount_usd, 0 FROM transfers
    WHERE booked_at >= $window_start AND booked_at < $until AND NOT is_fee
    UNION ALL
    SELECT hf, ht, rid, booked_at, amount_usd, 0 FROM other_moves
    WHERE booked_at >= $window_start AND booked_at < $until AND NOT is_fee AND from_known AND hf <> ht
),
totals AS (                 -- cheap pre-filter: enough inflow, and enough outflow to reach the share at all
    SELECT h,
           sum(CASE WHEN is_in = 1 THEN amount_usd ELSE 0 END) AS inflow_usd,
           sum(CASE WHEN is_in = 0 THEN amount_usd ELSE 0 END) AS outflow_usd,
           sum(is_in) AS n_credits
    FROM legs
    GROUP BY h
    HAVING sum(CASE WHEN is_in = 1 THEN amount_usd ELSE 0 END) >= $min_inflow_usd
       AND sum(is_in) >= $min_credits
       AND sum(CASE WHEN is_in = 0 THEN amount_usd ELSE 0 END) >= $min_share * sum(CASE WHEN is_in = 1 THEN amount_usd ELSE 0 END)
       -- pays out far more than it receives: spending a balance (a business, a saver), not passing money through
       AND sum(CASE WHEN is_in = 0 THEN amount_usd ELSE 0 END) <= $max_ratio * sum(CASE WHEN is_in = 1 THEN amount_usd ELSE 0 END)
       AND h NOT IN (SELECT h FROM service)
),
marked AS (                 -- time of the latest credit at or before each leg
    SELECT l.*,
           max(CASE WHEN l.is_in = 1 THEN l.booked_at END)
               OVER (PARTITION BY l.h ORDER BY l.booked_at, l.is_in DESC
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS last_in_at
    FROM legs l JOIN totals t ON t.h = l.h
),
repeat_payees AS (          -- payees the candidates paid more than $max_payments_per_payee time(s) over the rule's
    SELECT h, cp                                    -- history: the read range, and the history before it for the
    FROM (SELECT l.h, l.cp FROM legs l SEMI JOIN totals t ON t.h = l.h   -- candidates (none in a full run)
          WHERE l.is_in = 0
          UNION ALL
          SELECT tr.hs, tr.hd FROM transfers tr SEMI JOIN totals t ON t.h = tr.hs
          WHERE tr.booked_at >= $history_start AND tr.booked_at < $window_start
          UNION ALL
          SELECT o.hf, o.ht FROM other_moves o SEMI JOIN totals t ON t.h = o.hf
          WHERE o.booked_at >= $history_start AND o.booked_at < $window_start) x
    GROUP BY h, cp
    HAVING count(*) > $max_payments_per_payee
),
kept AS (                   -- credits, and debits to one-time payees that follow a credit within $window
    SELECT m.* FROM marked m
    ANTI JOIN repeat_payees r ON m.is_in = 0 AND r.h = m.h AND r.cp = m.cp
    WHERE m.is_in = 1 OR (m.last_in_at IS NOT NULL AND m.booked_at <= m.last_in_at + $window)
),
passing AS (                -- the legs of accounts that pass on min_share of their inflow (evidence lists for hits only)
    SELECT k.*, t.inflow_usd, t.outflow_usd, t.n_credits
    FROM (SELECT kept.*, sum(CASE WHEN is_in = 0 THEN amount_usd ELSE 0 END) OVER (PARTITION BY h) AS passed_usd
          FROM kept) k
    JOIN totals t ON t.h = k.h
    WHERE least(k.passed_usd / t.inflow_usd, 1.0) >= $min_share
),
named AS (                  -- those legs read back with their ids: the account, and the payee of a debit
    SELECT p.*, x.txn_id,
           CASE WHEN p.is_in = 1 THEN x.to_account_id ELSE x.from_account_id END AS account_id,
           CASE WHEN p.is_in = 0 THEN x.to_account_id END AS payee_id
    FROM passing p
    JOIN (SELECT rowid AS rid, txn_id, from_account_id, to_account_id FROM transactions
          WHERE rowid IN (SELECT rid FROM passing)) x ON x.rid = p.rid
)
SELECT any_value(k.account_id) AS subject_id,                                  -- the pass-through account
       least(sum(CASE WHEN k.is_in = 0 THEN k.amount_usd ELSE 0 END) / k.inflow_usd, 1.0) AS value,  -- measured: share passed on
       st_ids(k.txn_id) AS txn_ids,
       st_ids(k.payee_id) AS member_ids,                                        -- the payees it passed the money to
       min(k.booked_at) AS window_start,
       max(k.booked_at) AS window_end,
       k.inflow_usd,                                                            -- USD received
       sum(CASE WHEN k.is_in = 0 THEN k.amount_usd ELSE 0 END) AS passed_on_usd,  -- USD sent on within the window
       k.inflow_usd - k.outflow_usd AS retained_usd,                             -- inflow minus all outflow in the range
       k.n_credits,
       sum(1 - k.is_in) AS n_debits
FROM named k
GROUP BY k.h, k.inflow_usd, k.outflow_usd, k.n_credits
