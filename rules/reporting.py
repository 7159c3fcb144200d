"""Read-only summaries of the casework tables for run artifacts and the CLI (top alerts, counts)."""

from __future__ import annotations

import duckdb

from transforms.store import has_table as _has


def top_alerts(con: duckdb.DuckDBPyConnection, limit: int = 20) -> list[dict]:
    """The highest-priority new and updated alerts."""
    if not _has(con, "alerts"):
        return []
    cur = con.execute(
        """SELECT alert_id, status, typology_id, subject_id, coalesce(subject_name, '') AS subject_name,
                  round(priority_score, 3) AS priority_score, priority, CAST(total_usd AS DOUBLE) AS total_usd,
                  coalesce(network_id, '') AS network_id, array_to_string(compound_ids, ' ') AS compounds
           FROM alerts WHERE status IN ('new', 'updated') AND is_current
           ORDER BY priority_score DESC, total_usd DESC, alert_id LIMIT ?""",
        [limit],
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def alert_counts(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Current alerts per typology and status, and per linked compound."""
    if not _has(con, "alerts"):
        return {"by_typology": [], "by_compound": []}
    by_typology = con.execute(
        """SELECT typology_id, status, count(*) FROM alerts WHERE is_current GROUP BY ALL ORDER BY 1, 2"""
    ).fetchall()
    by_compound = con.execute(
        """SELECT coalesce(c, '(none)') AS compound, count(*) FROM
             (SELECT unnest(CASE WHEN len(compound_ids) = 0 THEN [NULL] ELSE compound_ids END) AS c FROM alerts WHERE is_current)
           GROUP BY 1 ORDER BY 2 DESC, 1"""
    ).fetchall()
    return {"by_typology": by_typology, "by_compound": by_compound}
