-- Bipartite: accounts sharing many counterparties on the same side (many-to-many layering).
WITH t AS (                 -- transfers between known accounts in the read range
    SELECT txn_id, from_account_id AS src, to_account_id AS dst, booked_at
    FROM transactions
    WHERE booked_at >= $window_start AND booked_at < $until
      AND from_account_id <> 'cash' AND from_account_id NOT LIKE 'unknown:%'
      AND to_account_id <> 'cash' AND to_account_id NOT LIKE 'unknown:%'
      AND from_account_id <> to_account_id
),
links AS (                  -- (common counterparty, member, side): payees share senders, senders share payees
    SELECT src AS common_id, dst AS member_id, 'payee' AS side, txn_id, booked_at FROM t
    UNION ALL
    SELECT dst AS common_id, src AS member_id, 'sender' AS side, txn_id, booked_at FROM t
),
degree AS (                 -- pre-filter: commons with 2..max_degree members
    SELECT common_id, side FROM links GROUP BY common_id, side
    HAVING count(DISTINCT member_id) BETWEEN 2 AND $max_degree
),
members AS (                -- pre-filter: members with at least min_shared usable commons
    SELECT l.member_id, l.side FROM links l JOIN degree d ON d.common_id = l.common_id AND d.side = l.side
    GROUP BY l.member_id, l.side HAVING count(DISTINCT l.common_id) >= $min_shared
),
usable AS (
    SELECT DISTINCT l.common_id, l.member_id, l.side
    FROM links l
    JOIN degree d ON d.common_id = l.common_id AND d.side = l.side
    JOIN members m ON m.member_id = l.member_id AND m.side = l.side
),
shared AS (                 -- pairs of members and how many commons they share
    SELECT a.member_id, b.member_id AS peer_id, a.side, count(*) AS n_shared, st_ids(a.common_id) AS commons
    FROM usable a JOIN usable b ON b.common_id = a.common_id AND b.side = a.side AND b.member_id <> a.member_id
    GROUP BY a.member_id, b.member_id, a.side
    HAVING count(*) >= $min_shared
),
best AS (
    SELECT s.*, row_number() OVER (PARTITION BY member_id ORDER BY n_shared DESC, peer_id) AS rn FROM shared s
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
