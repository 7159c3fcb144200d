"""Ring: isolated cycles of one-off relationships, whatever their amounts and order in time.

Step 1 (DuckDB): the one-off relationships of the read range (pairs with exactly one transfer), between accounts
that are not hubs (distinct counterparties at most the population's hub_quantile) nor services, on hashed accounts
and row ids (narrow rows at 100M transfers).
Step 2 (polars): trim accounts that cannot lie on a cycle (no one-off credit or no one-off debit left), until
stable; then the ids, accounts, times and amounts of the transfers left are read.
Step 3 (scipy): strongly connected components of what remains (linear time); a component that is one simple
cycle (as many edges as accounts) of min_length..max_length transfers spanning at most `window` is a ring. Only
the rings' transfers are read back in full.
"""

from __future__ import annotations

from typing import Any

from datetime import timedelta

import numpy as np
import polars as pl
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from rules.dialect import DIALECT

EDGES_SQL = """
WITH t AS NOT MATERIALIZED (  -- transfers between known accounts in the read range: row id and hashed accounts
    SELECT rid, hs AS src, hd AS dst FROM transfers                 -- (rules/transfers.py), narrow rows so that
    WHERE booked_at >= $window_start AND booked_at < $until         -- the pair aggregate over every transfer
      AND amount_usd >= $min_usd                                    -- stays small
),
pairs AS (                  -- one row per relationship: how often it was used, and its transfer when once (a hash
    SELECT src, dst, count(*) AS n, min(rid) AS rid   -- collision only merges two pairs: they look repeated)
    FROM t GROUP BY src, dst
),
degree AS (                 -- relationships per account, in and out (pairs are distinct: no DISTINCT needed)
    SELECT account, count(*) AS n_cp
    FROM (SELECT src AS account FROM pairs UNION ALL SELECT dst FROM pairs)
    GROUP BY account
),
hub_floor AS (              -- the population's bound: accounts above it are hubs
    SELECT quantile_cont(n_cp, $hub_quantile) AS q FROM degree
),
plain AS (                  -- accounts a ring may pass through: not hubs, not services
    SELECT d.account FROM degree d, hub_floor h
    WHERE d.n_cp <= h.q
      AND d.account NOT IN (SELECT st_hash(account_id) FROM accounts WHERE st_list_has($service_kinds, kind))
)
SELECT p.src, p.dst, p.rid
FROM pairs p
JOIN plain a ON a.account = p.src
JOIN plain b ON b.account = p.dst
WHERE p.n = 1
"""

INFO_SQL = """
SELECT rowid AS rid, txn_id, from_account_id AS src, to_account_id AS dst, booked_at, CAST(amount_usd AS DOUBLE) AS usd
FROM transactions
WHERE rowid IN (SELECT rid FROM _st_ring_rows)   -- the transfers left after trimming only
"""

OUTPUT_SCHEMA: dict[str, Any] = {
    "subject_id": pl.Utf8, "value": pl.Int64, "txn_ids": pl.List(pl.Utf8), "member_ids": pl.List(pl.Utf8),
    "window_start": pl.Datetime("us", "UTC"), "window_end": pl.Datetime("us", "UTC"),
    "origin_id": pl.Utf8, "first_usd": pl.Float64, "total_usd": pl.Float64,
}


def _trim(edges: pl.DataFrame) -> pl.DataFrame:
    """Drop edges whose payer receives nothing or whose payee pays nothing, until none is dropped."""
    while True:
        kept = edges.filter(pl.col("src").is_in(edges["dst"].unique().implode())
                            & pl.col("dst").is_in(edges["src"].unique().implode()))
        if kept.height == edges.height:
            return kept
        edges = kept


def _ring_components(edges: pl.DataFrame, min_len: int, max_len: int) -> pl.DataFrame:
    """Edges (src, dst, rid) of the strongly connected components that are one simple cycle of min_len..max_len
    accounts, with their component number `ring` (scipy on integer codes: linear time, no Python loop)."""
    nodes = pl.concat([edges["src"], edges["dst"]]).unique().to_frame("node").with_row_index("code")
    coded = (edges.join(nodes.rename({"node": "src", "code": "s"}), on="src")
             .join(nodes.rename({"node": "dst", "code": "d"}), on="dst"))
    n = nodes.height
    graph = csr_matrix((np.ones(coded.height, dtype=np.int8), (coded["s"].to_numpy(), coded["d"].to_numpy())), shape=(n, n))
    _, label = connected_components(graph, directed=True, connection="strong")
    comp = pl.Series("ring", label)
    coded = coded.with_columns(ring=comp.gather(coded["s"]), ring_d=comp.gather(coded["d"]))
    inside = coded.filter(pl.col("ring") == pl.col("ring_d"))
    sizes = inside.group_by("ring").agg(pl.len().alias("n_edges"), pl.col("s").n_unique().alias("n_nodes"))
    rings = sizes.filter((pl.col("n_edges") == pl.col("n_nodes")) & pl.col("n_nodes").is_between(min_len, max_len))
    return inside.join(rings.select("ring"), on="ring").select("ring", "rid")


def _ring_order(hops: list[tuple]) -> list[tuple]:
    """The hops (txn_id, src, dst, booked_at, usd) of one ring in the order the money goes round, from its earliest."""
    out_of = {h[1]: h for h in hops}
    first = min(hops, key=lambda h: (h[3], h[0]))
    order = [first]
    while len(order) < len(hops):
        order.append(out_of[order[-1][2]])
    return order


def run(con, params: dict) -> pl.DataFrame:
    bind = {k: params[k] for k in ("window_start", "until", "min_usd", "hub_quantile", "service_kinds")}
    min_len, max_len = int(params["min_length"]), int(params["max_length"])
    kept = _trim(DIALECT.fetch_polars(con, EDGES_SQL, bind))
    if kept.is_empty():
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    ring_rows = _ring_components(kept, min_len, max_len)
    if ring_rows.is_empty():
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    DIALECT.register(con, "_st_ring_rows", ring_rows.select("rid"))
    try:
        info = DIALECT.fetch_polars(con, INFO_SQL)
    finally:
        DIALECT.unregister(con, "_st_ring_rows")
    span = params["window"]
    span = span if isinstance(span, timedelta) else timedelta(seconds=float(span))
    rows = []
    for _, group in info.join(ring_rows, on="rid").group_by("ring"):
        hops = _ring_order(list(group.select("txn_id", "src", "dst", "booked_at", "usd").iter_rows()))
        times = [h[3] for h in hops]
        if max(times) - min(times) > span:
            continue
        accounts = [h[1] for h in hops]
        for acct in accounts:
            rows.append({"subject_id": acct, "value": len(hops), "txn_ids": [h[0] for h in hops],
                         "member_ids": [a for a in accounts if a != acct], "window_start": min(times),
                         "window_end": max(times), "origin_id": accounts[0], "first_usd": hops[0][4],
                         "total_usd": sum(h[4] for h in hops)})
    return pl.DataFrame(rows, schema=OUTPUT_SCHEMA).sort("subject_id")
