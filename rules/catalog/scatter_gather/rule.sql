-- Scatter-gather: source -> k intermediaries -> sink, each intermediary forwarding within $window, over one-time
-- relationships (the payer paid the payee at most $max_payments_per_pair time(s) over the rule's history).
WITH service AS (           -- accounts of service kinds: payroll paying staff who pay a shop is not layering
    SELECT st_hash(account_id) AS h FROM accounts WHERE st_list_has($service_kinds, kind)
),
hist AS NOT MATERIALIZED (  -- transfers between known accounts over the history, accounts hashed (rules/transfers.py)
    SELECT rid, hs, hd, booked_at, amount_usd FROM transfers
    WHERE booked_at >= $history_start AND booked_at < $until
),
once AS (                   -- one-time relationships over the rule's history (a hash collision only merges two
    SELECT hs, hd FROM hist GROUP BY ALL HAVING count(*) <= $max_payments_per_pair   -- pairs' counts, which drops them)
),
hops AS MATERIALIZED (      -- the read range's transfers between non-service accounts on one-time relationships:
    SELECT h.rid, h.hs AS src_key, h.hd AS dst_key, h.booked_at, h.amount_usd   -- layering hops are, a staff member
    FROM hist h SEMI JOIN once o ON o.hs = h.hs AND o.hd = h.hd                 -- paid monthly by the source who
    WHERE h.booked_at >= $window_start                                          -- pays rent to the sink is not
      AND h.hs NOT IN (SELECT h FROM service) AND h.hd NOT IN (SELECT h FROM service)   -- (about an eighth of the
),                                                                                      -- transfers, read 3 times)
candidates AS (             -- pre-filter: (source, sink) keys with at least k two-hop legs passing most of the money
    SELECT a.src_key, b.dst_key                                    -- on in time (legs bound the distinct intermediaries
    FROM (SELECT h.*, st_bucket(h.booked_at - $clock_slack, $window + $clock_slack) + k.k AS bucket   -- from above; a
          FROM hops h CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1 AS k) k) a    -- key collision only lets more through)
    JOIN (SELECT h.*, st_bucket(h.booked_at, $window + $clock_slack) AS bucket FROM hops h) b
      ON b.src_key = a.dst_key AND b.bucket = a.bucket
    WHERE b.booked_at >= a.booked_at - $clock_slack AND b.booked_at <= a.booked_at + $window
      AND b.amount_usd >= $min_pass_share * a.amount_usd
    GROUP BY a.src_key, b.dst_key
    HAVING count(*) >= $min_intermediaries
),
cand_keys AS (              -- the transfers out of candidate sources and into candidate sinks
    SELECT * FROM (SELECT h.rid, h.src_key IN (SELECT src_key FROM candidates) AS from_source,
                          h.dst_key IN (SELECT dst_key FROM candidates) AS to_sink
                   FROM hops h)
    WHERE from_source OR to_sink
),
cand_legs AS MATERIALIZED (  -- ... read back with their ids
    SELECT t.txn_id, t.src, t.dst, t.booked_at, t.amount_usd, c.from_source, c.to_sink
    FROM cand_keys c
    JOIN (SELECT rowid AS rid, txn_id, from_account_id AS src, to_account_id AS dst, booked_at, amount_usd
          FROM transactions WHERE rowid IN (SELECT rid FROM cand_keys)) t ON t.rid = c.rid
),
hop_in AS (                 -- candidate sources' legs, with the buckets (of length window + clock_slack) in which the
    SELECT c.* EXCLUDE (from_source, to_sink),                                                  -- onward leg can lie:
           st_bucket(c.booked_at - $clock_slack, $window + $clock_slack) + k.k AS bucket        -- at most two
    FROM cand_legs c CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1 AS k) k
    WHERE c.from_source
),
hop_out AS (                -- candidate sinks' legs, with their bucket
    SELECT c.* EXCLUDE (from_source, to_sink), st_bucket(c.booked_at, $window + $clock_slack) AS bucket
    FROM cand_legs c WHERE c.to_sink
),
legs AS (                   -- source -> intermediary then intermediary -> sink within the window, passing most of it on
    SELECT a.src AS source_id, a.dst AS mid_id, b.dst AS sink_id, a.txn_id AS t1, b.txn_id AS t2,
           a.booked_at AS t1_at, b.booked_at AS t2_at, b.amount_usd
    FROM hop_in a
    JOIN hop_out b ON b.src = a.dst AND b.bucket = a.bucket
    WHERE b.booked_at >= a.booked_at - $clock_slack AND b.booked_at <= a.booked_at + $window
      AND b.dst <> a.src AND b.txn_id <> a.txn_id
      AND b.amount_usd >= $min_pass_share * a.amount_usd
),
windowed AS (               -- per source and sink: intermediaries whose scatter leg lies within $scatter_window of each
    SELECT source_id, sink_id, t1_at,
           count(DISTINCT mid_id) OVER (PARTITION BY source_id, sink_id ORDER BY t1_at
                                        RANGE BETWEEN CURRENT ROW AND $scatter_window FOLLOWING) AS n_from_here
    FROM legs
),
episode AS (                -- per source and sink, the one episode with most intermediaries (legs months apart
    SELECT source_id, sink_id, t1_at AS start_at     -- between two accounts that meet now and then are not one)
    FROM (SELECT *, row_number() OVER (PARTITION BY source_id, sink_id ORDER BY n_from_here DESC, t1_at) AS rn
          FROM windowed WHERE n_from_here >= $min_intermediaries)
    WHERE rn = 1
),
pairs AS (                  -- per source and sink: distinct intermediaries of the episode
    SELECT source_id, sink_id,
           count(DISTINCT mid_id) AS n_intermediaries,
           st_union_ids(st_ids(t1), st_ids(t2)) AS txn_ids,
           st_ids(mid_id) AS mids,
           sum(amount_usd) AS total_usd,       -- USD reaching the sink through the intermediaries
           min(t1_at) AS window_start,
           max(t2_at) AS window_end
    FROM legs l JOIN episode e USING (source_id, sink_id)
    WHERE l.t1_at >= e.start_at AND l.t1_at <= e.start_at + $scatter_window
    GROUP BY source_id, sink_id
    HAVING count(DISTINCT mid_id) >= $min_intermediaries
),
roles AS (                  -- one row for the sink and one for the source
    SELECT sink_id AS subject_id, 'sink' AS role, * FROM pairs
    UNION ALL
    SELECT source_id AS subject_id, 'source' AS role, * FROM pairs
),
best AS (
    SELECT r.*, row_number() OVER (PARTITION BY subject_id           -- ties: earliest, then by role, source, sink
                                         ORDER BY n_intermediaries DESC, window_start, role, source_id, sink_id) AS rn
    FROM roles r
)
SELECT subject_id,
       n_intermediaries AS value,                             -- measured: distinct intermediaries
       txn_ids,
       st_list_append(st_list_append(mids, source_id), sink_id) AS member_ids,
       window_start, window_end, role, source_id, sink_id, n_intermediaries, total_usd
FROM best WHERE rn = 1
