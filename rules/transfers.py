"""`transfers` and `other_moves`: the detect run's transactions as narrow rows, built once per run for every rule.

Most rules start from the same rows: transactions between two distinct real accounts (neither cash nor an
'unknown:' placeholder), grouped on payer and payee. Read from `transactions`, each rule paid again for the string
filters and for hashing the account ids (about 0.25 s per read at 10M, several reads per rule). This table holds
those rows once, as fixed-width columns:

    rid         BIGINT       the transaction's row key in `transactions` (DuckDB rowid; Spark: xxhash64(txn_id))
    hs, hd      BIGINT       st_hash of the payer and payee account ids
    booked_at   TIMESTAMPTZ
    amount_usd  DECIMAL      NULL where the day had no rate
    is_fee      BOOLEAN      channel = 'fee' (NULL when the channel is: `NOT is_fee` then keeps no row, as
                             `channel <> 'fee'` does)

over [the earliest history_start of the enabled rules, until). `other_moves` holds the rest of the transactions
of that span (cash, unknown counterparties, transfers to oneself), for the rules that follow an account's every
movement (dormant_active, pass_through, accounts seen once):

    rid, booked_at, amount_usd, is_fee   as above
    hf, ht                  BIGINT   st_hash of the payer and payee ids, whatever they are ('cash' too)
    from_known, to_known    BOOLEAN  that side is a real account (st_is_account)

A rule filters them to its own range and goes back to `transactions` only for the rows it reports
(`WHERE rowid IN (SELECT rid FROM ...)`): ids, names, text.
Two accounts whose 64-bit hashes collide (odds about n^2 / 2^65 for n accounts) would look like one in a rule
that groups on hs / hd; rules/forwards.py and the relationship counts made that trade already.
"""

from __future__ import annotations

from datetime import datetime

TABLE = "transfers"
OTHER = "other_moves"

TRANSFERS_SQL = """
SELECT rowid AS rid, st_hash(from_account_id) AS hs, st_hash(to_account_id) AS hd, booked_at, amount_usd,
       channel = 'fee' AS is_fee
FROM transactions
WHERE booked_at >= $start AND booked_at < $until
  AND st_is_account(from_account_id)
  AND st_is_account(to_account_id)
  AND from_account_id <> to_account_id
"""

OTHER_SQL = """
SELECT rowid AS rid, st_hash(from_account_id) AS hf, st_hash(to_account_id) AS ht, booked_at, amount_usd,
       channel = 'fee' AS is_fee,
       coalesce(st_is_account(from_account_id), false) AS from_known,
       coalesce(st_is_account(to_account_id), false) AS to_known
FROM transactions
WHERE booked_at >= $start AND booked_at < $until
  AND NOT coalesce(st_is_account(from_account_id) AND st_is_account(to_account_id)
                   AND from_account_id <> to_account_id, false)
"""


def build(con, runner, start: datetime, until: datetime, shared: dict) -> None:
    """Build (or keep, when `shared` says this range was built on this connection already) the tables."""
    key = (TABLE, start, until)
    if shared.get(TABLE) == key:
        return
    for name, sql in ((TABLE, TRANSFERS_SQL), (OTHER, OTHER_SQL)):
        runner.derive(con, name, sql, {"start": start, "until": until})
    shared[TABLE] = key


def drop(con, runner, shared: dict) -> None:
    for name in (TABLE, OTHER):
        runner.drop_derived(con, name)
    shared.pop(TABLE, None)
