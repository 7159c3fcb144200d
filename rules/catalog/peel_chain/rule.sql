-- Peel chain: fresh addresses each forwarding most of a single inbound transfer.
WITH RECURSIVE c AS (       -- crypto transfers in the read range
    SELECT txn_id, from_account_id AS src, to_account_id AS dst, booked_at, amount, currency
    FROM transactions
    WHERE rail = 'crypto' AND booked_at >= $window_start AND booked_at < $until
      AND from_account_id <> to_account_id
      AND from_account_id NOT LIKE 'unknown:%' AND to_account_id NOT LIKE 'unknown:%'
),
fresh AS (                  -- addresses with exactly one inbound transfer in the range
    SELECT dst AS address FROM c GROUP BY dst HAVING count(*) = 1
),
hops AS (                   -- (inbound, forward) pairs at a fresh address: forward is most of the inbound
    SELECT i.txn_id AS in_id, o.txn_id AS out_id
    FROM c i
    JOIN fresh f ON f.address = i.dst
    JOIN c o ON o.src = i.dst AND o.currency = i.currency
            AND o.booked_at > i.booked_at AND o.booked_at <= i.booked_at + $hop_window
            AND o.amount >= $min_forward * i.amount AND o.amount <= $max_forward * i.amount
),
heads AS (                  -- chain starts: inbound transfers that are not themselves a forward
    SELECT DISTINCT h.in_id FROM hops h WHERE NOT EXISTS (SELECT 1 FROM hops x WHERE x.out_id = h.in_id)
),
chains AS (                 -- walk forward hop by hop
    SELECT h.in_id AS head_id, h.in_id AS cur_id, 0 AS n_hops, st_list(h.in_id) AS txn_ids FROM heads h
    UNION ALL
    SELECT ch.head_id, h.out_id, ch.n_hops + 1, st_list_append(ch.txn_ids, h.out_id)
    FROM chains ch JOIN hops h ON h.in_id = ch.cur_id
    WHERE ch.n_hops < $max_hops
),
longest AS (
    SELECT ch.*, row_number() OVER (PARTITION BY head_id ORDER BY n_hops DESC, cur_id) AS rn FROM chains ch
),
detail AS (                 -- addresses, amounts and times along each chain
    SELECT l.head_id, l.n_hops, l.txn_ids,
           st_ids(t.dst) AS addresses,
           min(t.booked_at) AS window_start, max(t.booked_at) AS window_end
    FROM longest l
    JOIN c t ON st_list_has(l.txn_ids, t.txn_id)
    WHERE l.rn = 1 AND l.n_hops > 0
    GROUP BY l.head_id, l.n_hops, l.txn_ids
)
SELECT h.dst AS subject_id,               -- first fresh address of the chain
       d.n_hops AS value,                  -- measured: forwarding hops
       d.txn_ids, d.addresses AS member_ids, d.window_start, d.window_end,
       h.amount AS start_amount,
       e.amount AS end_amount,
       h.currency
FROM detail d
JOIN c h ON h.txn_id = d.head_id
JOIN c e ON e.txn_id = st_last(d.txn_ids)
