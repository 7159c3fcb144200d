-- Accounts (hashed, h) that take part in exactly one transaction of the read range [$window_start, $until), on
-- either side and of any kind (cash, card, fees, unknown counterparties: a customer is seen): once among the
-- transfers between known accounts (rules/transfers.py), and in none of the transactions that table leaves out
-- (cash, unknown counterparties, transfers to oneself; one read of their few rows). Only an account of a transfer
-- can be seen once in a transfer, so no other account is counted.
    SELECT h
    FROM (SELECT hs AS h FROM transfers WHERE booked_at >= $window_start AND booked_at < $until
          UNION ALL
          SELECT hd FROM transfers WHERE booked_at >= $window_start AND booked_at < $until) x
    GROUP BY h
    HAVING count(*) = 1
       AND h NOT IN (SELECT h FROM (
               SELECT st_unnest(st_list_append(st_list(st_hash(from_account_id)), st_hash(to_account_id))) AS h
               FROM transactions
               WHERE booked_at >= $window_start AND booked_at < $until
                 AND NOT coalesce(st_is_account(from_account_id) AND st_is_account(to_account_id)
                                  AND from_account_id <> to_account_id, false)) y)
