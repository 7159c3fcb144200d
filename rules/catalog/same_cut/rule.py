"""Same cut: forwards that keep the same share of what came in, linked along a chain or from one payer.

Steps 1-2 (rules/forwards.py): the forwards of the read range, each with its share and its tolerance.
Step 3 (polars): links between forwards whose shares agree to within the amounts' rounding: one's debit is the
other's credit (a chain), or their credits came from one payer within `window` (one source split).
Step 4 (scipy): connected components of the linked forwards; each is a hit for every forwarding account in it.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from rules.forwards import chain_links, find_forwards, link_components, sibling_links, transfers_of, usd_sum, window_seconds

OUTPUT_SCHEMA: dict[str, Any] = {
    "subject_id": pl.Utf8, "value": pl.Int64, "txn_ids": pl.List(pl.Utf8), "member_ids": pl.List(pl.Utf8),
    "window_start": pl.Datetime("us", "UTC"), "window_end": pl.Datetime("us", "UTC"),
    "share": pl.Float64, "n_links": pl.Int64, "in_usd": pl.Float64, "out_usd": pl.Float64,
}


def run(con, params: dict) -> pl.DataFrame:
    min_share, max_chance = float(params["min_share"]), float(params["max_chance"])
    if max_chance <= 0:  # no chance allowed: nothing can link
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    fw = find_forwards(con, params)
    if fw is None:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    sides = fw.sides
    band = 1.0 - min_share
    links = pl.concat([chain_links(sides, band, max_chance),
                       sibling_links(sides, fw.credits, window_seconds(params), band, max_chance).select("fwd", "fwd_b")]).unique()
    if links.is_empty():
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    comps = link_components(links)
    members = comps.join(sides, on="fwd").select("comp", "fwd", "rid", "side", "share")
    n_links = links.join(comps, on="fwd").group_by("comp").len("n_links")
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
