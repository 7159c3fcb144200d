"""`transfers` and `other_moves`: the detect run's transactions as narrow rows, built once per run for the rules
that read them (`reads: [transfers, other_moves]` in rule.yml).

Most rules start from the same rows: transactions between two distinct real accounts (neither cash nor an
'unknown:' placeholder), grouped on payer and payee. Read from `transactions`, each rule paid again for the string
filters and for hashing the account ids (about 0.25 s per read at 10M, several reads per rule). `transfers` holds
those rows once, as fixed-width columns:

    rid         the transaction's row key in `transactions` (DuckDB rowid; Spark: xxhash64(txn_id))
    hs, hd      st_hash of the payer and payee account ids (UBIGINT on DuckDB, BIGINT on Spark)
    booked_at   TIMESTAMPTZ
    amount_usd  DECIMAL, NULL where the day had no rate
    is_fee      channel = 'fee' (NULL when the channel is: `NOT is_fee` then keeps no row, as
                `channel <> 'fee'` does)
    channel     the channel itself, for rules that keep some channels only (a few distinct values: DuckDB
                stores them as a dictionary, a byte or so a row)

`other_moves` holds the rest of the transactions (cash, unknown counterparties, transfers to oneself), for the
rules that follow an account's every movement (dormant_active, pass_through, accounts seen once):

    rid, booked_at, amount_usd, is_fee   as above
    hf, ht                  st_hash of the payer and payee ids, whatever they are ('cash' too)
    from_known, to_known    that side is a real account (st_is_account)

Both cover [the earliest history_start of the enabled rules that read them, until): the same tables whichever of
those rules a run selects. A rule filters them to its own range and goes back to `transactions` only for the rows
it reports (`WHERE rowid IN (SELECT rid FROM ...)`): ids, names, text.

What the rules may assume, because validation quarantines anything else (transforms/validate.py): payer, payee,
amount and booking time are present and amounts are positive, and txn_id is unique. Two accounts whose 64-bit
hashes collide (odds about n^2 / 2^65 for n accounts) would look like one in a rule that groups on them.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

TRANSFERS_SQL = """
SELECT rowid AS rid, st_hash(from_account_id) AS hs, st_hash(to_account_id) AS hd, booked_at, amount_usd,
       channel = 'fee' AS is_fee, channel
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

TABLES = {"transfers": TRANSFERS_SQL, "other_moves": OTHER_SQL}


def build(con, runner, names: set[str], start: datetime, until: datetime, shared: dict) -> dict[str, str]:
    """Build the named tables over [start, until), or keep those that `shared` says were built on this connection
    for this range and this many transactions (a caller that passes `shared` to several detect calls, and changes
    no data in between). Returns the tables that could not be built, each with why (one line)."""
    failed: dict[str, str] = {}
    try:
        n = runner.scalar_rows(con, "SELECT count(*) FROM transactions")[0][0]
    except (duckdb.Error, *runner.errors) as exc:
        return {name: _why(name, exc) for name in names}
    key = (id(con), start, until, n)
    for name in sorted(names):
        if shared.get(("table", name)) == key:
            continue
        shared.pop(("table", name), None)
        try:
            runner.derive(con, name, TABLES[name], {"start": start, "until": until})
        except (duckdb.Error, OSError, ValueError, *runner.errors) as exc:  # a full disk, a lost executor
            failed[name] = _why(name, exc)
            continue
        shared[("table", name)] = key
    return failed


def _why(name: str, exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"the shared table {name} could not be built: {type(exc).__name__}: {text}"


def drop(con, runner, shared: dict) -> None:
    """Drop the tables (those `shared` lists, and any left half-built)."""
    for name in TABLES:
        shared.pop(("table", name), None)
        runner.drop_derived(con, name)
