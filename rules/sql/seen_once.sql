-- Accounts (hashed, h) that take part in exactly one transaction of the read range [$window_start, $until), on
-- either side and of any kind (cash, card, fees, unknown counterparties: a customer is seen): once among the
-- transfers between known accounts (rules/transfers.py), and in none of the transactions that table leaves out
-- (`other_moves`: cash, unknown counterparties, transfers to oneself; an anti join, which engines plan as a hash
-- join where a NOT IN over many rows must keep NULL semantics). Only an account of a transfer can be seen once in
-- a transfer, so no other account is counted.
    SELECT s.h
    FROM (SELECT h
          FROM (SELECT hs AS h FROM transfers WHERE booked_at >= $window_start AND booked_at < $until
                UNION ALL
                SELECT hd FROM transfers WHERE booked_at >= $window_start AND booked_at < $until) x
          GROUP BY h
          HAVING count(*) = 1) s
    ANTI JOIN (SELECT hf AS h FROM other_moves WHERE booked_at >= $window_start AND booked_at < $until
               UNION ALL
               SELECT ht FROM other_moves WHERE booked_at >= $window_start AND booked_at < $until) o
      ON o.h = s.h
