"""Split and rejoin: one source's payments to intermediaries that keep the same cut and pay one sink.

Steps 1-2 (rules/forwards.py): the forwards of the read range (shared with same_cut when the settings agree).
Step 3 (polars): same_cut's links between forwards fed by one payer (sibling_links), kept where both forwards also
pay one account, the sink, and neither the source nor the sink is a service.
Step 4 (scipy): per source and sink, the connected components of those links: one cut, one episode (links lie
within `window` of each other); a hit for the sink and one for the source per component.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from rules.dialect import DIALECT
from rules.forwards import find_forwards, link_components, sibling_links, transfers_of, usd_sum, window_seconds

OUTPUT_SCHEMA: dict[str, Any] = {
    "subject_id": pl.Utf8, "value": pl.Int64, "txn_ids": pl.List(pl.Utf8), "member_ids": pl.List(pl.Utf8),
    "window_start": pl.Datetime("us", "UTC"), "window_end": pl.Datetime("us", "UTC"),
    "role": pl.Utf8, "source_id": pl.Utf8, "sink_id": pl.Utf8, "share": pl.Float64, "total_usd": pl.Float64,
}
SERVICES_SQL = "SELECT account_id FROM accounts WHERE st_list_has($service_kinds, kind)"


def run(con, params: dict) -> pl.DataFrame:
    min_share, max_chance = float(params["min_share"]), float(params["max_chance"])
    if max_chance <= 0:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    fw = find_forwards(con, params)
    if fw is None:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    links = sibling_links(fw.sides, fw.credits, window_seconds(params), 1.0 - min_share, max_chance).unique()
    if links.is_empty():
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    linked = pl.concat([links["fwd"], links["fwd_b"]]).unique().to_frame("fwd")
    sides = fw.sides.join(linked, on="fwd").select("fwd", "rid", "side", "share")
    info = transfers_of(con, sides.select("rid").unique()).join(fw.times, on="rid")
    named = sides.join(info, on="rid")
    services = DIALECT.fetch_polars(con, SERVICES_SQL, {"service_kinds": params["service_kinds"]})["account_id"]
    # the source in names (links carry it hashed), and each forward's payees: the candidate sinks
    payer = fw.credits.select("rid", "payer").join(named.filter(pl.col("side") == "in"), on="rid").select(
        "payer", source="src").unique()
    outs = named.filter(pl.col("side") == "out").select("fwd", sink="dst").unique()
    pairs = (links.join(payer, on="payer")
             .join(outs, on="fwd").join(outs.rename({"fwd": "fwd_b"}), on=["fwd_b", "sink"])   # both pay the sink
             .filter(pl.col("sink") != pl.col("source"), ~pl.col("source").is_in(services.implode()),
                     ~pl.col("sink").is_in(services.implode())))
    if pairs.is_empty():
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    keys = ["source", "sink", "comp"]
    legs = link_components(pairs, by=("source", "sink")).join(named, on="fwd").filter(   # the source's payments to the intermediaries, theirs to the sink
        ((pl.col("side") == "in") & (pl.col("src") == pl.col("source")))
        | ((pl.col("side") == "out") & (pl.col("dst") == pl.col("sink"))))
    mids = legs.filter(pl.col("side") == "in").select(*keys, mid="dst").unique()
    per = (legs.group_by(keys).agg(
        txn_ids=pl.col("txn_id").unique().sort(), window_start=pl.col("booked_at").min(),
        window_end=pl.col("booked_at").max(), share=pl.col("share").median())
        .join(legs.select(*keys, "rid", "side", "usd").unique().group_by(keys).agg(
            total_usd=usd_sum(pl.col("side") == "out")), on=keys)
        .join(mids.group_by(keys).agg(mids=pl.col("mid").sort(), value=pl.len()), on=keys))
    rows = [per.with_columns(subject_id=pl.col(who), role=pl.lit(who),
                             member_ids=pl.col("mids").list.concat(pl.concat_list(other)).list.sort())
            for who, other in (("sink", "source"), ("source", "sink"))]
    return (pl.concat(rows)
            .select("subject_id", pl.col("value").cast(pl.Int64), "txn_ids", "member_ids", "window_start", "window_end",
                    "role", source_id="source", sink_id="sink", share=pl.col("share").round(4), total_usd="total_usd")
            .with_columns(key=pl.col("txn_ids").list.join(",")).sort("subject_id", "key").drop("key"))
