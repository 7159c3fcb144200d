"""Labels from dispositions: the latest decision per subject, party subjects spread to the accounts they hold."""

from __future__ import annotations

import duckdb

from rules.casework.dispositions import latest_sql as latest_dispositions_sql


def account_labels(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """account_id -> 1 (confirmed) / 0 (false positive); inconclusive and undecided accounts are absent.
    An account named directly wins over a decision on the party that holds it."""
    rows = con.execute(
        f"""
        WITH d AS ({latest_dispositions_sql(con)} ),
        direct AS (SELECT subject_id AS account_id, disposition, 0 AS via FROM d),
        via_party AS (
            SELECT a.account_id, d.disposition, 1 AS via FROM d JOIN accounts a ON a.holder_id = d.subject_id
        )
        SELECT account_id, arg_min(disposition, via) FROM (SELECT * FROM direct UNION ALL SELECT * FROM via_party)
        GROUP BY account_id
        """
    ).fetchall()
    return {a: (1 if d == "confirmed" else 0) for a, d in rows if d in ("confirmed", "false_positive")}


def decided_sql(con: duckdb.DuckDBPyConnection) -> str:
    """A query of the accounts with any decision (inconclusive included), named directly or through their holder."""
    return (f"WITH d AS ({latest_dispositions_sql(con)}) SELECT subject_id AS account_id FROM d"
            " UNION SELECT a.account_id FROM d JOIN accounts a ON a.holder_id = d.subject_id")


def decided_accounts(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Accounts with any decision: never sampled as presumed negatives, never raised by the model on its own."""
    return {r[0] for r in con.execute(decided_sql(con)).fetchall()}
