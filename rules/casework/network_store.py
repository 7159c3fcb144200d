"""Storing a casework build's networks: networks, network_members and network_edges rows (Arrow, built column by
column), with each network's status against the stored one."""

from __future__ import annotations

import polars as pl

from rules.casework.common import fetch_rows, insert_frame


def store_networks(con, run_id: str, net_rows: list[dict], member_rows: list, edge_rows: list) -> dict:
    """Replace the stored networks that this build rebuilt (rows, members, edges, flows) and drop the staging
    tables; a network keeps its first run and creation time, its status says whether it changed."""
    from rules.alert_tables import NETWORK_EDGES, NETWORK_MEMBERS, NETWORKS

    nschema = {c: _pl_type(t.type) for c, t in ((c.name, c) for c in NETWORKS.columns) if c in (net_rows[0] if net_rows else {})}
    changed = """(o.alert_ids IS DISTINCT FROM n.alert_ids OR o.n_accounts IS DISTINCT FROM n.n_accounts
               OR o.n_parties IS DISTINCT FROM n.n_parties OR o.total_usd IS DISTINCT FROM CAST(n.total_usd AS DECIMAL(18,2))
               OR o.top_member_id IS DISTINCT FROM n.top_member_id
               OR n.network_id IN (SELECT network_id FROM _cw_net_changed))"""
    computed = {
        "status": f"CASE WHEN o.network_id IS NULL THEN 'new' WHEN {changed} THEN 'updated' ELSE 'unchanged' END",
        "is_current": "true",
        "run_id": "$run_id",
        "first_run_id": "coalesce(o.first_run_id, $run_id)",
        "created_at": "coalesce(o.created_at, now())",
        "updated_at": f"CASE WHEN o.network_id IS NULL OR {changed} THEN now() ELSE o.updated_at END",
    }
    select = ", ".join(f"{computed[c]} AS {c}" if c in computed else f"n.{c}" for c in NETWORKS.names)
    con.execute("CREATE OR REPLACE TEMP TABLE _cw_net_new AS SELECT * FROM networks WHERE false")
    if net_rows:
        nf = pl.DataFrame(net_rows, schema=nschema)
        con.register("_cw_nf", nf.to_arrow())
        # networks with an alert that is not unchanged (a join on the unnested alert ids, not a scan per network)
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _cw_net_changed AS
            SELECT DISTINCT x.network_id FROM (SELECT network_id, unnest(alert_ids) AS alert_id FROM _cw_nf) x
            JOIN alerts a ON a.alert_id = x.alert_id WHERE a.status <> 'unchanged'""")
        con.execute(f"INSERT INTO _cw_net_new SELECT {select} FROM _cw_nf n LEFT JOIN networks o ON o.network_id = n.network_id",
                    {"run_id": run_id})
        con.unregister("_cw_nf")
    con.execute("CREATE OR REPLACE TEMP TABLE _cw_mem_new AS SELECT * FROM network_members WHERE false")
    if member_rows:
        insert_frame(con, "_cw_mem_new", _arrow(member_rows, NETWORK_MEMBERS))
    con.execute("UPDATE networks SET is_current = false WHERE network_id NOT IN (SELECT network_id FROM _cw_net_new)")
    con.execute("DELETE FROM networks WHERE network_id IN (SELECT network_id FROM _cw_net_new)")
    con.execute("INSERT INTO networks SELECT * FROM _cw_net_new")
    con.execute("DELETE FROM network_members WHERE network_id IN (SELECT network_id FROM _cw_net_new)")
    con.execute("INSERT INTO network_members SELECT * FROM _cw_mem_new")
    con.execute("DELETE FROM network_edges WHERE network_id IN (SELECT network_id FROM _cw_net_new)")
    con.execute("""
        INSERT INTO network_edges (network_id, src_type, src_id, dst_type, dst_id, kind, usd, n_txns, first_at, last_at,
                                   evidence)
        SELECT network_id, 'account', from_account_id, 'account', to_account_id, 'flow', round(coalesce(usd, 0), 2),
               n_txns, first_at, last_at, evidence
        FROM _cw_net_flows WHERE network_id IN (SELECT network_id FROM _cw_net_new)""")
    if edge_rows:
        insert_frame(con, "network_edges", _arrow(edge_rows, NETWORK_EDGES))
    counts = dict(fetch_rows(con, "SELECT status, count(*) FROM _cw_net_new GROUP BY 1"))
    out = {"networks": sum(counts.values()), **{f"networks_{k}": v for k, v in counts.items()},
           "network_members": len(member_rows)}
    for t in ("_cw_net_new", "_cw_mem_new", "_cw_net_changed"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return out


def _arrow(rows: list, table):
    """An Arrow table with `table`'s columns from row tuples, built column by column by pyarrow (polars' and
    pyarrow's row-wise construction is slow on list columns: ~50 us a row)."""
    import pyarrow as pa

    return pa.table({c.name: pa.array([r[i] for r in rows], type=_pa_type(c.type)) for i, c in enumerate(table.columns)})


def _pa_type(sql_type: str):
    import pyarrow as pa

    t = sql_type.upper()
    if t.endswith("[]"):
        return pa.list_(pa.string())
    if t.startswith("DECIMAL") or t == "DOUBLE":
        return pa.float64()
    if t in ("BIGINT", "INTEGER"):
        return pa.int64()
    if t == "BOOLEAN":
        return pa.bool_()
    if t == "TIMESTAMPTZ":
        return pa.timestamp("us", tz="UTC")
    return pa.string()


def _pl_type(sql_type: str):
    t = sql_type.upper()
    if t.endswith("[]"):
        return pl.List(pl.Utf8)
    if t.startswith("DECIMAL") or t == "DOUBLE":
        return pl.Float64
    if t in ("BIGINT", "INTEGER"):
        return pl.Int64
    if t == "BOOLEAN":
        return pl.Boolean
    if t == "TIMESTAMPTZ":
        return pl.Datetime("us", "UTC")
    return pl.Utf8
