"""Same cut: forwards that keep the same share of what came in, linked along a chain or from one payer.

Steps 1-2 (rules/forwards.py): the forwards of the read range, each with its share and its tolerance.
Step 3 (polars): links between forwards whose shares agree to within the amounts' rounding: one's debit is the
other's credit (a chain), or their credits came from one payer within `window` (one source split).
Step 4 (scipy): connected components of the linked forwards; each is a hit for every forwarding account in it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from rules.forwards import find_forwards, transfers_of, usd_sum, window_seconds

OUTPUT_SCHEMA: dict[str, Any] = {
    "subject_id": pl.Utf8, "value": pl.Int64, "txn_ids": pl.List(pl.Utf8), "member_ids": pl.List(pl.Utf8),
    "window_start": pl.Datetime("us", "UTC"), "window_end": pl.Datetime("us", "UTC"),
    "share": pl.Float64, "n_links": pl.Int64, "in_usd": pl.Float64, "out_usd": pl.Float64,
}


def _links(sides: pl.DataFrame, credits: pl.DataFrame, window_s: int, band: float, max_chance: float) -> pl.DataFrame:
    """Pairs of forwards (a, b) whose shares agree within their rounding: chained, or fed by one payer. Kept when
    agreeing by chance is unlikely (at most max_chance): the pairs that could have agreed, times the width of the
    agreement over the width of the band of shares. A chain could pair any forward that pays the transfer on with
    any that takes it in; one payer's forwards within `window` of either could pair any two of them. Candidates
    meet on the share's bucket (no kept link spans more than one) and, for one payer, on the window-long time
    bucket: a busy account's many forwards are never paired all with all."""
    width = 2 * (pl.col("tol") + pl.col("tol_b"))  # unrelated shares agree this closely with this chance (over the band)
    agree = (pl.col("share") - pl.col("share_b")).abs() <= width / 2
    bucket_w = max_chance * band / 2
    sides = sides.with_columns(bucket=(pl.col("share") / bucket_w).floor().cast(pl.Int64),
                               tries=pl.max_horizontal("tries", pl.len().over("rid", "side")))

    def meet(left: pl.DataFrame, right: pl.DataFrame, keys: list[str], near: list[str]) -> pl.DataFrame:
        """left x right on the keys and on each `near` column equal or next to right's (its name + '_b')."""
        out = [left.with_columns([(pl.col(c) + d).alias(f"{c}_b") for c, d in zip(near, offs)])
               .join(right, on=keys + [f"{c}_b" for c in near])
               for offs in _offsets(len(near))]
        return pl.concat(out)

    ins = sides.filter(pl.col("side") == "in", pl.col("tries") * 2 * pl.col("tol") / band <= max_chance)
    outs = sides.filter(pl.col("side") == "out", pl.col("tries") * 2 * pl.col("tol") / band <= max_chance)
    chain = (meet(outs, ins.select("rid", bucket_b="bucket", fwd_b="fwd", share_b="share", tol_b="tol", tries_b="tries"),
                  ["rid"], ["bucket"])
             .filter(agree, pl.col("tries") * pl.col("tries_b") * width / band <= max_chance)
             .select("fwd", "fwd_b"))
    fed = sides.filter(pl.col("side") == "in").join(credits.select("rid", "payer", "acct", "ts"), on="rid")
    window = pl.len().rolling(index_column="ts", period=f"{2 * window_s}i", offset=f"{-window_s}i", closed="both")
    shared = (fed.sort("payer", "ts", "fwd").with_columns(n=window.over("payer"),  # the payer's forwards within `window`
                                                          tb=pl.col("ts") // max(window_s, 1))
              .filter(pl.col("n") * (pl.col("n") - 1) * pl.col("tol") / band <= max_chance))
    n_pairs = pl.max_horizontal("n", "n_b") * (pl.max_horizontal("n", "n_b") - 1) / 2
    sibling = (meet(shared, shared.select("payer", bucket_b="bucket", tb_b="tb", fwd_b="fwd", share_b="share",
                                          tol_b="tol", acct_b="acct", ts_b="ts", n_b="n"), ["payer"], ["bucket", "tb"])
               .filter(pl.col("fwd") < pl.col("fwd_b"), pl.col("acct") != pl.col("acct_b"),
                       (pl.col("ts") - pl.col("ts_b")).abs() <= window_s, agree, n_pairs * width / band <= max_chance)
               .select("fwd", "fwd_b"))
    return pl.concat([chain, sibling]).unique()


def _offsets(k: int) -> list[tuple[int, ...]]:
    """Every combination of -1, 0 and +1 for k columns."""
    out: list[tuple[int, ...]] = [()]
    for _ in range(k):
        out = [o + (d,) for o in out for d in (-1, 0, 1)]
    return out


def run(con, params: dict) -> pl.DataFrame:
    min_share, max_chance = float(params["min_share"]), float(params["max_chance"])
    if max_chance <= 0:  # no chance allowed: nothing can link
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    fw = find_forwards(con, params)
    if fw is None:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    sides = fw.sides
    links = _links(sides, fw.credits, window_seconds(params), 1.0 - min_share, max_chance)
    if links.is_empty():
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    linked = pl.concat([links["fwd"], links["fwd_b"]]).unique().to_frame("fwd").with_row_index("code")
    coded = (links.join(linked, on="fwd").join(linked.rename({"fwd": "fwd_b", "code": "code_b"}), on="fwd_b"))
    n = linked.height
    graph = csr_matrix((np.ones(coded.height, dtype=np.int8), (coded["code"].to_numpy(), coded["code_b"].to_numpy())),
                       shape=(n, n))
    _, label = connected_components(graph, directed=False)
    members = (linked.with_columns(comp=pl.Series(label).gather(linked["code"]))
               .join(sides, on="fwd").select("comp", "fwd", "rid", "side", "share"))
    n_links = coded.with_columns(comp=pl.Series(label).gather(coded["code"])).group_by("comp").len("n_links")
    rows = members.select("rid").unique()
    info = transfers_of(con, rows)
    full = members.join(info, on="rid").join(fw.times, on="rid")
    once = full.select("comp", "rid", "side", "usd").unique()  # a transfer in two forwards counts once
    forwarders = (full.filter(pl.col("side") == "in").select("comp", acct="dst").unique())
    per_comp = (full.group_by("comp").agg(
        txn_ids=pl.col("txn_id").unique().sort(), accounts=pl.col("src").append(pl.col("dst")).unique().sort(),
        window_start=pl.col("booked_at").min(), window_end=pl.col("booked_at").max(),
        share=pl.col("share").median(),
    )).join(once.group_by("comp").agg(in_usd=usd_sum(pl.col("side") == "in"),
                                       out_usd=usd_sum(pl.col("side") == "out")), on="comp")
    n_fwd = forwarders.group_by("comp").len("value")
    out = (forwarders.join(per_comp, on="comp").join(n_fwd, on="comp").join(n_links, on="comp")
           .with_columns(member_ids=pl.col("accounts").list.set_difference(pl.concat_list("acct")).list.sort(),
                         share=pl.col("share").round(4), value=pl.col("value").cast(pl.Int64),
                         n_links=pl.col("n_links").cast(pl.Int64))
           .select(subject_id="acct", value="value", txn_ids="txn_ids", member_ids="member_ids",
                   window_start="window_start", window_end="window_end", share="share", n_links="n_links",
                   in_usd="in_usd", out_usd="out_usd"))
    # an account in two schemes (a laundering pool's account serves several) has a hit for each
    return (out.with_columns(key=pl.col("txn_ids").list.join(","))
            .sort("subject_id", "key").drop("key"))
