"""Ring: isolated cycles of one-off relationships, whatever their amounts and order in time.

Step 1 (DuckDB): the one-off relationships of the read range (pairs with exactly one transfer), between accounts
that are not hubs (distinct counterparties at most the population's hub_quantile) nor services.
Step 2 (polars): trim accounts that cannot lie on a cycle (no one-off credit or no one-off debit left), until
stable.
Step 3 (networkx): strongly connected components of what remains (linear time); a component that is one simple
cycle (as many edges as accounts) of min_length..max_length transfers spanning at most `window` is a ring.
"""

from __future__ import annotations

from datetime import timedelta

import networkx as nx
import polars as pl

from rules.dialect import DIALECT

EDGES_SQL = """
WITH t AS NOT MATERIALIZED (  -- transfers between known accounts in the read range
    SELECT txn_id, from_account_id AS src, to_account_id AS dst, booked_at, amount_usd
    FROM transactions
    WHERE booked_at >= $window_start AND booked_at < $until
      AND from_account_id <> 'cash' AND from_account_id NOT LIKE 'unknown:%'
      AND to_account_id <> 'cash' AND to_account_id NOT LIKE 'unknown:%'
      AND from_account_id <> to_account_id
      AND amount_usd >= $min_usd
),
pairs AS (                  -- one row per relationship: how often it was used, and its transfer when once
    SELECT src, dst, count(*) AS n, min(txn_id) AS txn_id, min(booked_at) AS booked_at,
           CAST(min(amount_usd) AS DOUBLE) AS usd
    FROM t GROUP BY src, dst
),
degree AS (                 -- distinct counterparties per account, in and out
    SELECT account_id, count(DISTINCT cp) AS n_cp
    FROM (SELECT src AS account_id, dst AS cp FROM pairs UNION ALL SELECT dst, src FROM pairs)
    GROUP BY account_id
),
hub_floor AS (              -- the population's bound: accounts above it are hubs
    SELECT quantile_cont(n_cp, $hub_quantile) AS q FROM degree
),
plain AS (                  -- accounts a ring may pass through
    SELECT d.account_id FROM degree d, hub_floor h
    WHERE d.n_cp <= h.q
      AND d.account_id NOT IN (SELECT account_id FROM accounts WHERE st_list_has($service_kinds, kind))
)
SELECT p.src, p.dst, p.txn_id, p.booked_at, p.usd
FROM pairs p
JOIN plain a ON a.account_id = p.src
JOIN plain b ON b.account_id = p.dst
WHERE p.n = 1
"""

OUTPUT_SCHEMA = {
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


def _ring_order(graph: nx.DiGraph, nodes: set) -> list:
    """The accounts of a simple-cycle component in the order the money goes round."""
    start = min(nodes)
    order = [start]
    while True:
        (nxt,) = [n for n in graph.successors(order[-1]) if n in nodes]
        if nxt == start:
            return order
        order.append(nxt)


def run(con, params: dict) -> pl.DataFrame:
    bind = {k: params[k] for k in ("window_start", "until", "min_usd", "hub_quantile", "service_kinds")}
    edges = _trim(DIALECT.fetch_polars(con, EDGES_SQL, bind))
    if edges.is_empty():
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    span = params["window"]
    span = span if isinstance(span, timedelta) else timedelta(seconds=float(span))
    min_len, max_len = int(params["min_length"]), int(params["max_length"])
    info = {(s, d): (t, at, usd) for s, d, t, at, usd in edges.iter_rows()}
    graph = nx.DiGraph(list(info))
    rows = []
    for comp in nx.strongly_connected_components(graph):
        if not min_len <= len(comp) <= max_len or graph.subgraph(comp).number_of_edges() != len(comp):
            continue
        ring = _ring_order(graph, comp)
        hops = [info[(ring[i], ring[(i + 1) % len(ring)])] for i in range(len(ring))]
        times = [h[1] for h in hops]
        if max(times) - min(times) > span:
            continue
        first = min(range(len(hops)), key=lambda i: (times[i], hops[i][0]))  # the ring starts at its earliest hop
        ring = ring[first:] + ring[:first]
        hops = hops[first:] + hops[:first]
        for acct in ring:
            rows.append({"subject_id": acct, "value": len(ring), "txn_ids": [h[0] for h in hops],
                         "member_ids": [m for m in ring if m != acct], "window_start": min(times),
                         "window_end": max(times), "origin_id": ring[0], "first_usd": hops[0][2],
                         "total_usd": sum(h[2] for h in hops)})
    return pl.DataFrame(rows, schema=OUTPUT_SCHEMA).sort("subject_id")
