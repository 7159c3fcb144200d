-- Worker turned mule: after an account's logins moved into a compound, new senders start paying it.
WITH moved AS (             -- accounts that moved into a compound in time for a window ending in the range
    SELECT r.account_id, r.compound_id, r.arrived_at
    FROM relocations r LEFT JOIN accounts a ON a.account_id = r.account_id
    WHERE r.arrived_at >= $window_start AND r.arrived_at < $until
      AND r.last_outside_at >= r.arrived_at - $home_within AND r.first_outside_at <= r.arrived_at - $home_for   -- an established life at home, active until the move
      AND NOT st_list_has($service_kinds, coalesce(a.kind, ''))
),
inflow AS (                 -- payments into those accounts, from the span before the move to the window after it
    SELECT m.account_id, m.compound_id, m.arrived_at, t.from_account_id AS sender, t.txn_id, t.booked_at,
           CAST(t.amount_usd AS DOUBLE) AS usd
    FROM transactions t JOIN moved m ON m.account_id = t.to_account_id
    WHERE t.booked_at >= $window_start - $window AND t.booked_at < $until
      AND t.booked_at >= m.arrived_at - $window AND t.booked_at < m.arrived_at + $window
      AND st_is_account(t.from_account_id) AND t.from_account_id <> t.to_account_id
),
before AS (
    SELECT account_id, compound_id, count(DISTINCT sender) AS senders_before FROM inflow
    WHERE booked_at < arrived_at GROUP BY account_id, compound_id
),
prior AS (                  -- who paid the account at any time before the move (over the whole read range)
    SELECT DISTINCT t.to_account_id AS account_id, t.from_account_id AS sender
    FROM transactions t JOIN moved m ON m.account_id = t.to_account_id
    WHERE t.booked_at >= $window_start - $window AND t.booked_at < m.arrived_at
),
fresh AS (                  -- payments after the move from senders that had not paid the account before it
    SELECT i.* FROM inflow i
    ANTI JOIN prior p ON p.account_id = i.account_id AND p.sender = i.sender
    WHERE i.booked_at >= i.arrived_at
),
counted AS (
    SELECT f.account_id, f.compound_id, min(f.arrived_at) AS arrived_at, count(DISTINCT f.sender) AS n_senders,
           coalesce(min(b.senders_before), 0) AS senders_before, st_ids(f.txn_id) AS txn_ids,
           st_ids(f.sender) AS senders, sum(f.usd) AS total_usd, max(f.booked_at) AS last_at
    FROM fresh f LEFT JOIN before b ON b.account_id = f.account_id AND b.compound_id = f.compound_id
    GROUP BY f.account_id, f.compound_id
),
best AS (                   -- one compound per account: the one with the most new senders
    SELECT c.*, row_number() OVER (PARTITION BY account_id ORDER BY n_senders DESC, compound_id) AS rk FROM counted c
    WHERE n_senders > $growth * (senders_before + 1)
)
SELECT account_id AS subject_id, n_senders AS value, txn_ids, senders AS member_ids,
       arrived_at AS window_start, last_at AS window_end,
       compound_id, arrived_at, senders_before, round(total_usd, 2) AS total_usd
FROM best WHERE rk = 1
