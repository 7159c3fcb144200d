"""Round cut: a forward whose share is an exact multiple of cut_step, standing out against every forward of the run.

Steps 1-2 (rules/forwards.py): the forwards of the read range, each with its share and its tolerance (the
rounding of its amounts over its credits).
Step 3 (polars): each forward's p-value, the chance that a share unrelated to any cut lies as close to a multiple
of cut_step: 2 x tolerance / cut_step for a forward within its tolerance of a multiple below 1 (a share is spread
evenly at that scale, and cannot agree closer than its amounts' rounding), 1 for any other. Benjamini-Hochberg
over all forwards of the run keeps those below the false discovery rate max_false_share; of overlapping kept
forwards, the widest is the hit.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from rules.forwards import find_forwards, transfers_of, usd_sum

OUTPUT_SCHEMA: dict[str, Any] = {
    "subject_id": pl.Utf8, "value": pl.Float64, "txn_ids": pl.List(pl.Utf8), "member_ids": pl.List(pl.Utf8),
    "window_start": pl.Datetime("us", "UTC"), "window_end": pl.Datetime("us", "UTC"),
    "share": pl.Float64, "in_usd": pl.Float64, "out_usd": pl.Float64, "n_payers": pl.Int64, "n_payees": pl.Int64,
    "chance": pl.Float64, "n_tested": pl.Int64,
}


def _kept(table: pl.DataFrame, step: float, q: float) -> pl.DataFrame:
    """The forwards (fwd, share, cut, chance, n_tested) whose share is a multiple of `step` below 1 to within their
    tolerance and that Benjamini-Hochberg keeps at false discovery rate q over every forward of the table. A
    forward that is no such cut (all of it passed on, or off every multiple) has chance 1: it cannot lower the
    bar for the others."""
    m = table.height
    cut = (pl.col("share") / step).round(0) * step
    is_cut = ((pl.col("share") - pl.col("cut")).abs() <= pl.col("tol")) & (pl.col("cut") < 1.0 - 1e-9)
    scored = (table.with_columns(cut=cut)
              .with_columns(chance=pl.when(is_cut).then((2 * pl.col("tol") / step).clip(upper_bound=1.0))
                            .otherwise(1.0))
              .sort("chance", "fwd").with_row_index("rank", offset=1))
    passing = scored.filter(pl.col("chance") <= q * pl.col("rank") / m)
    last = passing["rank"].max() if passing.height else 0
    return (scored.filter(pl.col("rank") <= last, is_cut)
            .select("fwd", "share", "cut", "chance", n_tested=pl.lit(m, dtype=pl.Int64)))


def _widest(kept: pl.DataFrame, sides: pl.DataFrame) -> pl.DataFrame:
    """Drop a kept forward whose transfers all belong to another kept forward (a split's 60 % to one payee inside
    its 90 % to two): the widest one says what the intermediary kept."""
    rids = sides.join(kept.select("fwd"), on="fwd").select("fwd", "rid")
    size = rids.group_by("fwd").len("n")
    shared = (rids.join(rids.rename({"fwd": "other"}), on="rid").filter(pl.col("fwd") != pl.col("other"))
              .group_by("fwd", "other").len("common").join(size, on="fwd")
              .join(size.rename({"fwd": "other", "n": "n_other"}), on="other"))
    inside = shared.filter(pl.col("common") == pl.col("n"),   # all of fwd's transfers are in other's ...
                           (pl.col("n_other") > pl.col("n")) | (pl.col("other") < pl.col("fwd")))  # ... and other is wider
    return kept.join(inside.select("fwd").unique(), on="fwd", how="anti")


def run(con, params: dict) -> pl.DataFrame:
    step, q = float(params["cut_step"]), float(params["max_false_share"])
    if not 0 < step < 1 or q <= 0:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    fw = find_forwards(con, params)
    if fw is None:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    kept = _widest(_kept(fw.table, step, q), fw.sides)
    if kept.is_empty():
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    sides = fw.sides.join(kept.select("fwd"), on="fwd").select("fwd", "rid", "side")
    info = transfers_of(con, sides.select("rid").unique())
    full = sides.join(info, on="rid").join(fw.times, on="rid")
    is_in = pl.col("side") == "in"
    per_fwd = full.group_by("fwd").agg(
        subject_id=pl.col("dst").filter(is_in).first(),
        txn_ids=pl.col("txn_id").sort(),
        payers=pl.col("src").filter(is_in).unique().sort(),
        payees=pl.col("dst").filter(~is_in).unique().sort(),
        window_start=pl.col("booked_at").min(), window_end=pl.col("booked_at").max(),
        in_usd=usd_sum(is_in), out_usd=usd_sum(~is_in),
    ).join(kept, on="fwd")
    out = per_fwd.select(
        "subject_id", value=(pl.col("cut") * 100).round(4), txn_ids="txn_ids",
        member_ids=pl.col("payers").list.concat("payees").list.unique().list.sort(),
        window_start="window_start", window_end="window_end", share=pl.col("share").round(6),
        in_usd="in_usd", out_usd="out_usd", n_payers=pl.col("payers").list.len().cast(pl.Int64),
        n_payees=pl.col("payees").list.len().cast(pl.Int64), n_tested="n_tested",
        chance=pl.Series([float(f"{c:.2g}") for c in per_fwd["chance"]], dtype=pl.Float64))
    # a pool account serving several schemes has a hit for each forward
    return (out.with_columns(key=pl.col("txn_ids").list.join(",")).sort("subject_id", "key").drop("key")
            .cast(OUTPUT_SCHEMA))  # type: ignore[arg-type]
