-- Bipartite: accounts sharing several new counterparties on the same side within one window (many-to-many layering).
WITH service AS (           -- accounts whose KYC kind is a business that many unrelated customers pay or are paid by
    SELECT st_hash(account_id) AS h FROM accounts WHERE st_list_has($service_kinds, kind)
),
t AS NOT MATERIALIZED (     -- transfers between known, non-service accounts in the read range, accounts hashed
    SELECT rid, hs, hd, booked_at FROM transfers                     -- (rules/transfers.py)
    WHERE booked_at >= $window_start AND booked_at < $until
      AND hs NOT IN (SELECT h FROM service) AND hd NOT IN (SELECT h FROM service)
),
older AS (                  -- transfers per pair in the rule's history before the read range (none in a full run)
    SELECT hs, hd, count(*) AS n FROM transfers
    WHERE booked_at >= $history_start AND booked_at < $window_start
    GROUP BY ALL
),
pairs AS (                  -- each one-time (payer, payee) pair (at most $max_payments_per_pair transfers over the
    SELECT p.hs, p.hd, p.first_at, p.rid            -- history), its first transfer and one of its row keys: a layer
    FROM (SELECT hs, hd, min(booked_at) AS first_at, min(rid) AS rid, count(*) AS n   -- pays the next once;
          FROM t GROUP BY hs, hd) p                                                        -- customers pay their
    LEFT JOIN older o ON o.hs = p.hs AND o.hd = p.hd                                       -- usual payees again
    WHERE p.n + coalesce(o.n, 0) <= $max_payments_per_pair
),
commons AS (                -- usable commons: payers of 2..max_degree payees, payees of 2..max_degree payers
    SELECT hs AS common_key, 'payee' AS side FROM pairs GROUP BY hs HAVING count(*) BETWEEN 2 AND $max_degree
    UNION ALL
    SELECT hd AS common_key, 'sender' AS side FROM pairs GROUP BY hd HAVING count(*) BETWEEN 2 AND $max_degree
),
first_link AS (             -- each usable (common, member) link, when it was first used in the range, and the
    SELECT p.hs AS common_key, p.hd AS member_key, 'payee' AS side, p.first_at AS link_at, p.rid,   -- window-long
           st_bucket(p.first_at, $window) AS bucket                                               -- bucket of that
    FROM pairs p JOIN commons c ON c.common_key = p.hs AND c.side = 'payee'
    UNION ALL
    SELECT p.hd AS common_key, p.hs AS member_key, 'sender' AS side, p.first_at AS link_at, p.rid,
           st_bucket(p.first_at, $window) AS bucket
    FROM pairs p JOIN commons c ON c.common_key = p.hd AND c.side = 'sender'
),
member_buckets AS (         -- usable links per member and bucket
    SELECT member_key, side, bucket, count(*) AS n_links FROM first_link GROUP BY member_key, side, bucket
),
members AS (                -- pre-filter: a member's shared links all began within one window, so in two adjacent
    SELECT DISTINCT a.member_key, a.side                         -- buckets that need min_shared links together
    FROM member_buckets a
    LEFT JOIN member_buckets b ON b.member_key = a.member_key AND b.side = a.side AND b.bucket = a.bucket + 1
    WHERE a.n_links + coalesce(b.n_links, 0) >= $min_shared
),
usable_keys AS MATERIALIZED (
    SELECT f.* FROM first_link f JOIN members m ON m.member_key = f.member_key AND m.side = f.side
),
usable AS (                 -- those links with the accounts' ids, read back from one transfer of each pair
    SELECT CASE WHEN u.side = 'payee' THEN x.src ELSE x.dst END AS common_id,
           CASE WHEN u.side = 'payee' THEN x.dst ELSE x.src END AS member_id,
           u.side, u.link_at, u.bucket
    FROM usable_keys u
    JOIN (SELECT rowid AS rid, from_account_id AS src, to_account_id AS dst FROM transactions
          WHERE rowid IN (SELECT rid FROM usable_keys)) x ON x.rid = u.rid
),
pair_commons AS (           -- commons two members started using within `window` of each other (so in the same or
    SELECT a.member_id, b.member_id AS peer_id, a.side, a.common_id,            -- an adjacent bucket)
           least(a.link_at, b.link_at) AS lo, greatest(a.link_at, b.link_at) AS hi
    FROM usable a
    CROSS JOIN (SELECT -1 AS k UNION ALL SELECT 0 AS k UNION ALL SELECT 1 AS k) k
    JOIN usable b ON b.common_id = a.common_id AND b.side = a.side AND b.bucket = a.bucket + k.k
    WHERE b.member_id <> a.member_id
      AND b.link_at BETWEEN a.link_at - $window AND a.link_at + $window
),
shared AS (                 -- pairs of members, the commons they share, all first used within one window
    SELECT member_id, peer_id, side, count(*) AS n_shared, st_ids(common_id) AS commons
    FROM pair_commons
    GROUP BY member_id, peer_id, side
    HAVING count(*) >= $min_shared AND max(hi) <= min(lo) + $window
),
best AS (
    SELECT s.*, row_number() OVER (PARTITION BY member_id ORDER BY n_shared DESC, peer_id, side) AS rn FROM shared s
),
best_commons AS (           -- the shared commons of each member's best pair, one row each
    SELECT member_id, peer_id, side, st_unnest(commons) AS common_id FROM best WHERE rn = 1
),
linked AS (                 -- the member and its peer, each with the shared commons
    SELECT member_id, side, common_id, member_id AS linked_id FROM best_commons
    UNION ALL
    SELECT member_id, side, common_id, peer_id AS linked_id FROM best_commons
),
links AS (                  -- every transfer of the range on those (common, linked) pairs
    SELECT l.member_id, l.side, t.rid, t.booked_at
    FROM linked l
    JOIN t ON t.hs = st_hash(CASE WHEN l.side = 'payee' THEN l.common_id ELSE l.linked_id END)
          AND t.hd = st_hash(CASE WHEN l.side = 'payee' THEN l.linked_id ELSE l.common_id END)
),
evidence AS (               -- the member's and its peer's transfers with the shared commons
    SELECT l.member_id, l.side, st_ids(x.txn_id) AS txn_ids, min(l.booked_at) AS window_start, max(l.booked_at) AS window_end
    FROM links l
    JOIN (SELECT rowid AS rid, txn_id FROM transactions WHERE rowid IN (SELECT rid FROM links)) x ON x.rid = l.rid
    GROUP BY l.member_id, l.side
)
SELECT b.member_id AS subject_id,
       b.n_shared AS value,                    -- measured: counterparties shared with one peer
       e.txn_ids,
       st_list_append(b.commons, b.peer_id) AS member_ids,
       e.window_start, e.window_end,
       b.side, b.peer_id, b.n_shared
FROM best b JOIN evidence e ON e.member_id = b.member_id AND e.side = b.side
WHERE b.rn = 1
