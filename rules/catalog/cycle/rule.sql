-- Cycle: time-respecting simple cycles of one-time relationships that take funds round back to their origin.
-- Amounts are not required to be conserved (hops take fees, split and merge, and simulators draw them afresh);
-- $min_return_share > 0 asks each hop to carry at least that share of the first amount.
WITH RECURSIVE hist AS NOT MATERIALIZED (  -- transfers between known accounts over the history, accounts hashed
    SELECT rid, hs, hd, booked_at, amount_usd FROM transfers           -- (rules/transfers.py)
    WHERE booked_at >= $history_start AND booked_at < $until
),
t AS NOT MATERIALIZED (     -- those of the read range above the floor
    SELECT * FROM hist WHERE booked_at >= $window_start AND amount_usd >= $min_usd
),
legs AS MATERIALIZED (      -- each account's counterparties, in and out, on the accounts' hashes (as `pairs` below)
    SELECT hd AS h, hs AS cp, 1 AS is_in FROM t UNION ALL SELECT hs, hd, 0 FROM t
),
deg AS (                    -- legs per account, in and out (a count bounds the distinct counterparties)
    SELECT h, count(*) AS n_legs, max(is_in) AS has_in, max(1 - is_in) AS has_out
    FROM legs GROUP BY h
),
busy AS (                   -- distinct counterparties, counted only where the legs exceed max_degree
    SELECT h, count(DISTINCT cp) AS n_cp
    FROM legs WHERE h IN (SELECT h FROM deg WHERE n_legs > $max_degree)
    GROUP BY h
),
walkable AS (               -- pre-filter: on a cycle an account both receives and pays; hubs are skipped
    SELECT d.h FROM deg d LEFT JOIN busy b ON b.h = d.h
    WHERE d.has_in = 1 AND d.has_out = 1 AND (d.n_legs <= $max_degree OR b.n_cp <= $max_degree)
),
pairs AS (                  -- transfers per relationship of `hist` over the history (hs, hd, n)
    /* include: relationship_counts */
),
e_keys AS (                 -- edges between walkable accounts, on one-time relationships only (at most
    SELECT t.rid                                     -- $max_payments_per_pair transfers): money sent round goes
    FROM t                                           -- through accounts that meet for it; households and firms
    JOIN walkable a ON a.h = t.hs                    -- that pay each other back and forth repeat
    JOIN walkable b ON b.h = t.hd
    JOIN pairs p ON p.hs = t.hs AND p.hd = t.hd
    WHERE p.n <= $max_payments_per_pair
),
e AS MATERIALIZED (         -- those edges read back with their ids, with their window-long time bucket
    SELECT txn_id, from_account_id AS src, to_account_id AS dst, booked_at, amount_usd,
           st_bucket(booked_at, $window) AS bucket
    FROM transactions
    WHERE rowid IN (SELECT rid FROM e_keys)
),
starts AS (                 -- edges with a second hop (the paths' first step below, without their lists): a path
    SELECT a.txn_id                                  -- from any other edge ends at one hop, and no cycle has one
    FROM e a CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1 AS k) k
    SEMI JOIN e b ON b.src = a.dst AND b.bucket = a.bucket + k.k
          AND b.booked_at > a.booked_at AND b.booked_at <= a.booked_at + $window
          AND b.amount_usd >= $min_return_share * a.amount_usd
    WHERE $max_length > 1
),
paths AS (                  -- time-respecting simple paths from each edge, closed when they reach the origin
    SELECT src AS origin_id, dst AS cur, booked_at AS first_at, booked_at AS last_at,
           amount_usd AS first_usd, amount_usd AS last_usd, 1 AS hops,
           st_list(txn_id) AS txn_ids, st_list_append(st_list(src), dst) AS nodes,
           bucket AS first_bucket   -- every later hop lies in the first hop's bucket or the next one
    FROM e WHERE txn_id IN (SELECT txn_id FROM starts)
    UNION ALL
    SELECT p.origin_id, e.dst, p.first_at, e.booked_at, p.first_usd, e.amount_usd, p.hops + 1,
           st_list_append(p.txn_ids, e.txn_id), st_list_append(p.nodes, e.dst), p.first_bucket
    FROM paths p
    CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1 AS k) k
    JOIN e ON e.src = p.cur AND e.bucket = p.first_bucket + k.k
          AND e.booked_at > p.last_at AND e.booked_at <= p.first_at + $window
    WHERE p.hops < $max_length
      AND p.cur <> p.origin_id
      AND (e.dst = p.origin_id OR NOT st_list_has(p.nodes, e.dst))
      AND e.amount_usd >= $min_return_share * p.first_usd
),
cycles AS (                 -- closed cycles long enough
    SELECT *, last_usd / first_usd AS returned_share
    FROM paths
    WHERE cur = origin_id AND hops >= $min_length
),
members AS (                -- every account on a cycle (the closing node is the origin, listed once)
    SELECT st_unnest(nodes) AS account_id, c.* FROM cycles c
),
best AS (
    SELECT m.*, row_number() OVER (PARTITION BY account_id       -- the cycle that returned most, then the
                                      ORDER BY returned_share DESC, hops, first_at, origin_id, txn_ids) AS rn  -- shortest
    FROM members m
)
SELECT account_id AS subject_id,
       hops AS value,                  -- measured: transfers on the cycle
       round(returned_share, 6) AS returned_share,   -- share of the first amount that came back
       txn_ids, nodes AS member_ids, first_at AS window_start, last_at AS window_end,
       origin_id, hops, first_usd, last_usd AS returned_usd
FROM best WHERE rn = 1
