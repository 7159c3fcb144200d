-- Accounts (hashed, h) that take part in exactly one transaction of the read range [$window_start, $until), on
-- either side and of any kind (cash, card, fees, unknown counterparties: a customer is seen): once among the
-- transfers between known accounts (rules/transfers.py), and in none of the transactions that table leaves out
-- (`other_moves`: cash, unknown counterparties, transfers to oneself). Only an account of a transfer can be seen
-- once in a transfer, so no other account is counted.
    SELECT h
    FROM (SELECT hs AS h FROM transfers WHERE booked_at >= $window_start AND booked_at < $until
          UNION ALL
          SELECT hd FROM transfers WHERE booked_at >= $window_start AND booked_at < $until) x
    GROUP BY h
    HAVING count(*) = 1
       AND h NOT IN (SELECT hf FROM other_moves WHERE booked_at >= $window_start AND booked_at < $until
                     UNION ALL
                     SELECT ht FROM other_moves WHERE booked_at >= $window_start AND booked_at < $until)
