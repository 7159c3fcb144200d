"""Rapid layering: longest time-respecting paths where each hop passes on most of the amount quickly.

Step 1 (DuckDB, named parameters): transfers between known accounts that both receive and pay, and the linked
pairs (e1 into an account, e2 out of it within hop_window, e2 amount in [min_share, max_share] x e1 amount), never
through an account of a service kind (an exchange's hot wallet pays out other clients' money, not the same funds),
and only over one-time relationships (the payer paid the payee at most max_payments_per_pair times over the rule's
history, from history_start to until).
Step 2 (polars): depth(e) = longest chain ending with e, by iterating depth(e2) = max(depth(e1) + 1) over the
pairs until stable (at most max_hops rounds); the best predecessor of each edge is kept.
Step 3 (polars): for maximal chain ends with depth >= min_hops, walk predecessors back (vectorised, max_hops
rounds) to get the path; each intermediate account gets the longest path through it (ties: the earliest, then
the one ending with the smallest transfer id, so that reruns report the same path).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from rules.dialect import DIALECT

EDGES_SQL = """
WITH t AS NOT MATERIALIZED (  -- transfers between known accounts in the read range, above the floor: row ids,
    SELECT rid, hs AS src, hd AS dst,                                                       -- hashed accounts
           booked_at, amount_usd, st_bucket(booked_at, $hop_window) AS bucket,              -- (rules/transfers.py)
           hd NOT IN (SELECT st_hash(account_id) FROM accounts                              -- and the hop_window-
                      WHERE st_list_has($service_kinds, kind)) AS to_plain                  -- long bucket: narrow
    FROM transfers                                                                          -- rows, so that the
    WHERE booked_at >= $window_start AND booked_at < $until                                 -- join's hash table
      AND amount_usd >= $min_usd                                                            -- fits in memory
),
linked AS (                 -- the onward transfer lies in a's bucket or the next: joined on (account, bucket), not
    SELECT a.rid AS r1, b.rid AS r2                                   -- on the account alone, which checked every
    FROM (SELECT t.*, t.bucket + k.k AS next_bucket                   -- credit of an account against all its
          FROM t CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1 AS k) k -- debits of the range; services pool
          WHERE t.to_plain) a                                         -- clients' money
    JOIN t b ON b.src = a.dst AND b.bucket = a.next_bucket
            AND b.booked_at > a.booked_at AND b.booked_at <= a.booked_at + $hop_window
            AND b.amount_usd >= $min_share * a.amount_usd AND b.amount_usd <= $max_share * a.amount_usd
),
hop_pairs AS (               -- the (payer, payee) pairs of the linked transfers ...
    SELECT DISTINCT src, dst FROM t WHERE rid IN (SELECT r1 FROM linked UNION ALL SELECT r2 FROM linked)
),
one_time AS (               -- ... that transact at most $max_payments_per_pair time(s) over the rule's history: a
    SELECT t.rid                                        -- layering hop is a one-time relationship, while wages, rent
    FROM t JOIN (SELECT h.src, h.dst                    -- and family transfers that happen to pass money on repeat
                 FROM transfers tr
                 JOIN hop_pairs h ON h.src = tr.hs AND h.dst = tr.hd
                 WHERE tr.booked_at >= $history_start AND tr.booked_at < $until
                 GROUP BY h.src, h.dst HAVING count(*) <= $max_payments_per_pair) p
         ON p.src = t.src AND p.dst = t.dst
    WHERE t.rid IN (SELECT r1 FROM linked UNION ALL SELECT r2 FROM linked)
),
ids AS (                    -- the linked transfers' ids and accounts, to check the pairs on the accounts themselves
    SELECT rowid AS rid, txn_id, from_account_id, to_account_id FROM transactions
    WHERE rowid IN (SELECT rid FROM one_time)
)
SELECT i1.txn_id AS e1, i2.txn_id AS e2
FROM linked l JOIN ids i1 ON i1.rid = l.r1 JOIN ids i2 ON i2.rid = l.r2
WHERE i2.from_account_id = i1.to_account_id AND i2.to_account_id <> i1.from_account_id
"""

EDGE_INFO_SQL = """
SELECT txn_id, from_account_id AS src, to_account_id AS dst, booked_at, CAST(amount_usd AS DOUBLE) AS usd
FROM transactions
WHERE booked_at >= $window_start AND booked_at < $until AND amount_usd >= $min_usd
  AND from_account_id <> to_account_id
  AND st_is_account(to_account_id)
  AND st_is_account(from_account_id)
  AND txn_id IN (SELECT txn_id FROM _st_path_txns)   -- the transfers on the reported paths only
"""

OUTPUT_SCHEMA: dict[str, Any] = {
    "subject_id": pl.Utf8, "value": pl.Int64, "txn_ids": pl.List(pl.Utf8), "member_ids": pl.List(pl.Utf8),
    "window_start": pl.Datetime("us", "UTC"), "window_end": pl.Datetime("us", "UTC"),
    "path_start_id": pl.Utf8, "path_end_id": pl.Utf8, "first_usd": pl.Float64, "last_usd": pl.Float64,
}


def _bind(sql: str, params: dict, names: tuple[str, ...]) -> dict:
    return {k: params[k] for k in names if f"${k}" in sql}


def run(con, params: dict) -> pl.DataFrame:
    names = ("window_start", "history_start", "until", "min_usd", "hop_window", "min_share", "max_share",
             "service_kinds", "max_payments_per_pair")
    pairs = DIALECT.fetch_polars(con, EDGES_SQL, _bind(EDGES_SQL, params, names))
    if pairs.is_empty():
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    max_hops, min_hops = int(params["max_hops"]), int(params["min_hops"])

    # depth(e): transfers on the longest chain ending with e; pred(e): predecessor on that chain
    edges = pl.concat([pairs["e1"], pairs["e2"]]).unique().to_frame("e")
    depth = edges.with_columns(pl.lit(1, pl.Int64).alias("d"), pl.lit(None, pl.Utf8).alias("pred"))
    for _ in range(max_hops - 1):
        ext = (
            pairs.join(depth.select("e", "d"), left_on="e1", right_on="e")
            .with_columns((pl.col("d") + 1).alias("d"))
            .sort(["e2", "d", "e1"], descending=[False, True, False])
            .group_by("e2", maintain_order=True)
            .first()
            .select(pl.col("e2").alias("e"), "d", pl.col("e1").alias("pred"))
        )
        new = (
            depth.join(ext, on="e", how="left", suffix="_n")
            .with_columns(
                pl.when(pl.col("d_n") > pl.col("d")).then(pl.col("d_n")).otherwise(pl.col("d")).alias("d2"),
                pl.when(pl.col("d_n") > pl.col("d")).then(pl.col("pred_n")).otherwise(pl.col("pred")).alias("p2"),
            )
            .select("e", pl.col("d2").alias("d"), pl.col("p2").alias("pred"))
        )
        changed = new.join(depth, on="e", suffix="_o").filter(pl.col("d") != pl.col("d_o")).height
        depth = new
        if not changed:
            break

    # maximal chain ends: long enough and not extended by a longer chain
    extended = pairs.join(depth.select("e", "d"), left_on="e1", right_on="e").join(
        depth.select(pl.col("e").alias("e2"), pl.col("d").alias("d2")), on="e2"
    ).filter(pl.col("d2") == pl.col("d") + 1)["e1"].unique()
    ends = depth.filter((pl.col("d") >= min_hops) & ~pl.col("e").is_in(extended.implode()))
    if ends.is_empty():
        return pl.DataFrame(schema=OUTPUT_SCHEMA)

    # walk back: path = [first, ..., end] as txn ids
    pred = depth.select("e", "pred")
    walk = ends.select(pl.col("e").alias("end"), pl.col("d"), pl.col("e").alias("cur"), pl.concat_list(pl.col("e")).alias("path"))
    for _ in range(max_hops - 1):
        walk = walk.join(pred, left_on="cur", right_on="e", how="left").with_columns(
            pl.when(pl.col("pred").is_not_null()).then(pl.concat_list(pl.col("pred"), pl.col("path"))).otherwise(pl.col("path")).alias("path"),
            pl.coalesce(pl.col("pred"), pl.col("cur")).alias("cur"),
        ).drop("pred")

    # details of the paths' transfers only (all transfers of the range would not fit in memory at 100M rows)
    DIALECT.register(con, "_st_path_txns", walk.select(pl.col("path").explode().unique().alias("txn_id")))
    try:
        info = DIALECT.fetch_polars(con, EDGE_INFO_SQL, _bind(EDGE_INFO_SQL, params, names))
    finally:
        DIALECT.unregister(con, "_st_path_txns")
    hops = walk.select("end", "d", "path").with_row_index("path_no").explode("path").join(
        info, left_on="path", right_on="txn_id"
    ).sort(["path_no", "booked_at"])
    paths = hops.group_by("path_no", maintain_order=True).agg(
        pl.col("d").first().alias("value"),
        pl.col("end").first().alias("end_id"),  # the path's last transfer: names the path, breaks ties
        pl.col("path").alias("txn_ids"),
        pl.col("src").first().alias("path_start_id"),
        pl.col("dst").last().alias("path_end_id"),
        pl.col("dst").alias("dsts"),
        pl.col("booked_at").min().alias("window_start"),
        pl.col("booked_at").max().alias("window_end"),
        pl.col("usd").first().alias("first_usd"),
        pl.col("usd").last().alias("last_usd"),
    ).with_columns(
        pl.concat_list(pl.col("path_start_id"), pl.col("dsts")).alias("member_ids"),
        pl.col("dsts").list.head(pl.col("dsts").list.len() - 1).alias("subjects"),  # intermediaries
    )
    rows = (
        paths.explode("subjects")
        .rename({"subjects": "subject_id"})
        .filter(pl.col("subject_id").is_not_null())
        .sort(["subject_id", "value", "window_start", "end_id"], descending=[False, True, False, False])
        .group_by("subject_id", maintain_order=True)
        .first()
    )
    return rows.select(
        "subject_id", pl.col("value").cast(pl.Int64), "txn_ids", "member_ids",
        pl.col("window_start").dt.convert_time_zone("UTC"), pl.col("window_end").dt.convert_time_zone("UTC"),
        "path_start_id", "path_end_id", "first_usd", "last_usd",
    )
