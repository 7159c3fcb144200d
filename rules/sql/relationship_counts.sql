-- Transfers per relationship over the rule's history, from the rule's `hist` CTE (its transfers between known
-- accounts over [$history_start, $until), with 64-bit hashes of the accounts as hs, hd: narrow rows; two
-- relationships whose hashes collide, odds about n^2 / 2^65 for n accounts, would count as one). In a long read
-- range every relationship is counted (most are in it); in a short one (a day's run) only the range's few. DuckDB
-- folds the parameter predicates: one branch runs.
    SELECT hs, hd, count(*) AS n FROM hist
    WHERE $until - $window_start >= $window_start - $history_start
    GROUP BY hs, hd
    UNION ALL
    SELECT h.hs, h.hd, count(*) AS n FROM hist h
    SEMI JOIN (SELECT DISTINCT hs, hd FROM hist WHERE booked_at >= $window_start) r ON r.hs = h.hs AND r.hd = h.hd
    WHERE $until - $window_start < $window_start - $history_start
    GROUP BY h.hs, h.hd
