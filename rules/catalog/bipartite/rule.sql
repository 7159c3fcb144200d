-- Bipartite: accounts sharing several new counterparties on the same side within one window (many-to-many layering).
WITH service AS (           -- accounts whose KYC kind is a business that many unrelated customers pay or are paid by
    SELECT account_id FROM accounts WHERE st_list_has($service_kinds, kind)
),
t AS NOT MATERIALIZED (  -- transfers between known, non-service accounts in the read range
    SELECT txn_id, from_account_id AS src, to_account_id AS dst, booked_at
    FROM transactions
    WHERE booked_at >= $window_start AND booked_at < $until
      AND st_is_account(from_account_id)
      AND st_is_account(to_account_id)
      AND from_account_id <> to_account_id
      AND from_account_id NOT IN (SELECT account_id FROM service)
      AND to_account_id NOT IN (SELECT account_id FROM service)
),
links AS (                  -- (common counterparty, member, side): payees share senders, senders share payees
    SELECT src AS common_id, dst AS member_id, 'payee' AS side, txn_id, booked_at FROM t
    UNION ALL
    SELECT dst AS common_id, src AS member_id, 'sender' AS side, txn_id, booked_at FROM t
),
older AS (                  -- transfers per pair in the rule's history before the read range (none in a full run)
    SELECT from_account_id AS src, to_account_id AS dst, count(*) AS n FROM transactions
    WHERE booked_at >= $history_start AND booked_at < $window_start
    GROUP BY ALL
),
pairs AS (                  -- each one-time (payer, payee) pair (at most $max_payments_per_pair transfers over the
    SELECT p.src, p.dst, p.first_at                 -- history) and its first transfer: a layer pays the next once;
    FROM (SELECT src, dst, min(booked_at) AS first_at, count(*) AS n FROM t GROUP BY src, dst) p   -- customers pay
    LEFT JOIN older o ON o.src = p.src AND o.dst = p.dst                                          -- their usual
    WHERE p.n + coalesce(o.n, 0) <= $max_payments_per_pair                                        -- payees again
),
commons AS (                -- usable commons: payers of 2..max_degree payees, payees of 2..max_degree payers
    SELECT src AS common_id, 'payee' AS side FROM pairs GROUP BY src HAVING count(*) BETWEEN 2 AND $max_degree
    UNION ALL
    SELECT dst AS common_id, 'sender' AS side FROM pairs GROUP BY dst HAVING count(*) BETWEEN 2 AND $max_degree
),
first_link AS (             -- each usable (common, member) link, when it was first used in the range, and the
    SELECT p.src AS common_id, p.dst AS member_id, 'payee' AS side, p.first_at AS link_at,   -- window-long bucket of that
           st_bucket(p.first_at, $window) AS bucket
    FROM pairs p JOIN commons c ON c.common_id = p.src AND c.side = 'payee'
    UNION ALL
    SELECT p.dst AS common_id, p.src AS member_id, 'sender' AS side, p.first_at AS link_at,
           st_bucket(p.first_at, $window) AS bucket
    FROM pairs p JOIN commons c ON c.common_id = p.dst AND c.side = 'sender'
),
member_buckets AS (         -- usable links per member and bucket
    SELECT member_id, side, bucket, count(*) AS n_links FROM first_link GROUP BY member_id, side, bucket
),
members AS (                -- pre-filter: a member's shared links all began within one window, so in two adjacent
    SELECT DISTINCT a.member_id, a.side                          -- buckets that need min_shared links together
    FROM member_buckets a
    LEFT JOIN member_buckets b ON b.member_id = a.member_id AND b.side = a.side AND b.bucket = a.bucket + 1
    WHERE a.n_links + coalesce(b.n_links, 0) >= $min_shared
),
usable AS (
    SELECT f.* FROM first_link f JOIN members m ON m.member_id = f.member_id AND m.side = f.side
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
evidence AS (               -- the member's and its peer's transfers with the shared commons
    SELECT bc.member_id, bc.side, st_ids(l.txn_id) AS txn_ids, min(l.booked_at) AS window_start, max(l.booked_at) AS window_end
    FROM best_commons bc
    JOIN links l ON l.side = bc.side AND l.common_id = bc.common_id AND l.member_id IN (bc.member_id, bc.peer_id)
    GROUP BY bc.member_id, bc.side
)
SELECT b.member_id AS subject_id,
       b.n_shared AS value,                    -- measured: counterparties shared with one peer
       e.txn_ids,
       st_list_append(b.commons, b.peer_id) AS member_ids,
       e.window_start, e.window_end,
       b.side, b.peer_id, b.n_shared
FROM best b JOIN evidence e ON e.member_id = b.member_id AND e.side = b.side
WHERE b.rn = 1
