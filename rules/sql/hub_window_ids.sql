-- The ids of the transfers of a hub's window, read back from `transactions` (rules/transfers.py): from the rule's
-- `window_rows` (hub: the hub's hashed account; rid; is_in: 1 a credit into the hub, 0 a debit out of it), per
-- hub its account id (hub_id), the transactions (txn_ids) and the counterparties (member_ids).
    SELECT w.hub,
           any_value(CASE WHEN w.is_in = 1 THEN t.to_account_id ELSE t.from_account_id END) AS hub_id,
           st_ids(t.txn_id) AS txn_ids,
           st_ids(CASE WHEN w.is_in = 1 THEN t.from_account_id ELSE t.to_account_id END) AS member_ids
    FROM window_rows w
    JOIN (SELECT rowid AS rid, txn_id, from_account_id, to_account_id FROM transactions
          WHERE rowid IN (SELECT rid FROM window_rows)) t ON t.rid = w.rid
    GROUP BY w.hub
