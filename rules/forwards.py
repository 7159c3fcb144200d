"""Forwards: one-time money into an account paid on out of it, the building block of the rules that look at the
cut an intermediary keeps (same_cut, round_cut).

Step 1 (DuckDB): the one-time transfers of the read range (pairs used at most max_payments_per_pair times over
the history), in and out of relay accounts (both receive and pay such transfers; services are not relays), on
hashed accounts and row ids.
Step 2 (polars): forwards, each in one account and currency, its debits within `window` of its first credit and
none back to a payer. A split is one credit and up to max_split of the next max_after debits; a gather is one
debit and the 2 to max_after credits just before it; a mix is two or three of the max_mix credits before a
debit, paid on in it and up to two of the debits after it. A forward keeps its share, debits over credits, when
it lies in [min_share, 1] (1 to within the amounts' rounding); a forward found twice (a gather is also a mix)
counts once. Its tolerance `tol` is the rounding of its amounts over its credits: two shares, or a share and a
cut, can agree no closer than that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from rules.dialect import DIALECT

EDGES_SQL = """
WITH t AS NOT MATERIALIZED (  -- transfers between known accounts over the history: row id and hashed accounts
    SELECT rid, hs AS src, hd AS dst, booked_at FROM transfers        -- (rules/transfers.py; amounts are positive:
    WHERE booked_at >= $history_start AND booked_at < $until          -- validation quarantines the others)
),
pairs AS (                  -- how often each relationship was used (a hash collision only makes pairs look repeated)
    SELECT src, dst, count(*) AS n FROM t GROUP BY src, dst
),
once AS (                   -- the one-time transfers of the read range
    SELECT t.rid, t.src, t.dst, t.booked_at
    FROM t JOIN pairs p ON p.src = t.src AND p.dst = t.dst
    WHERE p.n <= $max_payments_per_pair AND t.booked_at >= $window_start
),
relay AS (                  -- accounts that received and paid one-time transfers, services excepted
    SELECT DISTINCT dst AS account FROM once
    WHERE dst IN (SELECT src FROM once)
      AND dst NOT IN (SELECT st_hash(account_id) FROM accounts WHERE st_list_has($service_kinds, kind))
),
relayed AS MATERIALIZED (   -- those in or out of a relay
    SELECT o.rid, o.src, o.dst, o.booked_at,
           r_in.account IS NOT NULL AS to_relay, r_out.account IS NOT NULL AS from_relay
    FROM once o
    LEFT JOIN relay r_in ON r_in.account = o.dst
    LEFT JOIN relay r_out ON r_out.account = o.src
    WHERE r_in.account IS NOT NULL OR r_out.account IS NOT NULL
)
SELECT r.rid, r.src, r.dst, r.booked_at, CAST(x.amount AS DOUBLE) AS amount, x.currency, r.to_relay, r.from_relay
FROM relayed r
JOIN (SELECT rowid AS rid, amount, currency FROM transactions WHERE rowid IN (SELECT rid FROM relayed)) x
  ON x.rid = r.rid   -- their amounts, read back
"""

TRANSFERS_SQL = """
SELECT rowid AS rid, txn_id, from_account_id AS src, to_account_id AS dst, CAST(amount_usd AS DOUBLE) AS usd
FROM transactions
WHERE rowid IN (SELECT rid FROM _st_forward_rows)   -- the transfers asked for only
"""


@dataclass
class Forwards:
    """The forwards of a read range. `table`: one row per forward (fwd, share, tol, tries, ins, outs: the row ids
    of its credits and debits, sorted). `sides`: one row per transfer of a forward (fwd, share, tol, tries, rid,
    side 'in' or 'out'). `credits`: the credits into relay accounts (g, rid, payer, acct, currency, ts, amount, unit,
    i, size: see _transfers). `times`: rid and booked_at of every transfer read."""
    table: pl.DataFrame
    sides: pl.DataFrame
    credits: pl.DataFrame
    times: pl.DataFrame


def window_seconds(params: dict) -> int:
    window = params["window"]
    return int((window if isinstance(window, timedelta) else timedelta(seconds=float(window))).total_seconds())


def find_forwards(con, params: dict) -> Forwards | None:
    """The forwards of the read range under the rule's parameters (window, min_share, max_split, max_after, max_mix,
    max_payments_per_pair, service_kinds, and the engine's history_start, window_start, until); None when there is
    no one-time transfer through a relay account, or no band of shares (min_share 1 or more)."""
    if float(params["min_share"]) >= 1.0:
        return None
    names = ("history_start", "window_start", "until", "window", "min_share", "max_split", "max_after", "max_mix",
             "max_payments_per_pair")
    key = ("forwards", *(params[k] for k in names), tuple(params["service_kinds"]))
    shared = params.get("shared")   # the detect run's dict: same_cut and round_cut with these settings build them once
    if shared is not None and key in shared:
        return shared[key]
    found = _find(con, params)
    if shared is not None:
        shared[key] = found
    return found


def _find(con, params: dict) -> Forwards | None:
    bind = {k: params[k] for k in ("history_start", "window_start", "until", "max_payments_per_pair", "service_kinds")}
    edges = DIALECT.fetch_polars(con, EDGES_SQL, bind)
    if edges.is_empty():
        return None
    window_s, min_share = window_seconds(params), float(params["min_share"])
    credits, debits = _transfers(edges)
    max_after, max_mix = int(params["max_after"]), int(params["max_mix"])
    parts = [_splits(credits, debits, window_s, max_after, int(params["max_split"]), min_share)]
    count = max(max_after, max_mix)
    before = _credits_before(credits, debits, window_s, count)  # for gathers and mixes alike
    parts.append(_gathers(before if max_after >= count else before.filter(pl.col("k") < max_after), min_share))
    if max_mix >= 2:
        parts.append(_mixes(before if max_mix >= count else before.filter(pl.col("k") < max_mix), debits, window_s,
                            max_mix, min_share))
    table = (pl.concat(parts).with_columns(pl.col("ins").list.sort(), pl.col("outs").list.sort())
             .group_by("ins", "outs").agg(pl.col("share").first(), pl.col("tol").first(), pl.col("tries").max())
             .sort("ins", "outs").with_row_index("fwd"))
    ins = table.select("fwd", "share", "tol", "tries", rid="ins").explode("rid").with_columns(side=pl.lit("in"))
    outs = table.select("fwd", "share", "tol", "tries", rid="outs").explode("rid").with_columns(side=pl.lit("out"))
    return Forwards(table=table, sides=pl.concat([ins, outs]), credits=credits, times=edges.select("rid", "booked_at"))


def _rounding(amount: pl.Expr) -> pl.Expr:
    """Half the unit of an amount's last non-zero digit: 0.005 for 1234.56, 0.5 for 1234, 500 for 2000 (a round
    sum could be any amount rounded), and finer where the data carries more digits. Two shares can agree no
    closer than their amounts' rounding allows."""
    expr = pl.lit(5e-9)
    for unit in (1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5):  # coarsest that fits wins
        q = amount / unit
        fits = (q - q.round(0)).abs() * unit <= amount.abs() * 1e-15   # exact but for a few ulps of float error
        expr = pl.when(fits).then(unit / 2).otherwise(expr)
    return expr


def _transfers(edges: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Credits into and debits out of the relay accounts, sorted by account, currency and time; each with its
    index among its account's in that currency (i), their number (size) and its row in the frame (g). The
    transfer k places after or before one of them is then taken by its row (_take), not found by a join."""
    t = edges.with_columns(ts=pl.col("booked_at").dt.epoch("s"), unit=_rounding(pl.col("amount")))
    numbered = [pl.int_range(pl.len()).over("acct", "currency").alias("i"),
                pl.len().over("acct", "currency").alias("size")]
    credits = (t.filter("to_relay").rename({"dst": "acct", "src": "payer"}).sort("acct", "currency", "ts", "rid")
               .with_columns(numbered).with_row_index("g"))
    debits = (t.filter("from_relay").rename({"src": "acct", "dst": "payee"}).sort("acct", "currency", "ts", "rid")
              .with_columns(numbered).with_row_index("g"))
    return credits, debits


def _take(frame: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
    """The given rows of a frame of _transfers, as it returned it (g is then the row: checked, as a frame filtered
    or sorted again would give other transfers without an error)."""
    g = frame.get_column("g")
    if frame.height and not (g[0] == 0 and g[-1] == frame.height - 1 and g.is_sorted()):
        raise ValueError("rows taken by place from a frame that is not _transfers' own")
    return frame[rows]


def _debits_from(anchors: pl.DataFrame, debits: pl.DataFrame, window_s: int, count: int) -> pl.DataFrame:
    """For each anchor (its first debit's row g0 and index i0 among the `size` debits of its account in its
    currency, its time ts, and any other columns, kept), the `count` debits from index i0 on (k = 0 the first)
    within `window` of ts: rid_d, party (the payee), t, a (amount), u (its rounding). debits: of _transfers."""
    offsets = pl.DataFrame({"k": pl.int_range(count, eager=True)})
    near = (anchors.join(offsets, how="cross").filter(pl.col("i0") + pl.col("k") < pl.col("size"))
            .with_columns(g_d=pl.col("g0") + pl.col("k")))
    taken = _take(debits, near.get_column("g_d")).select(party="payee", t="ts", rid_d="rid", a="amount", u="unit")
    return pl.concat([near.drop("g_d"), taken], how="horizontal").filter(pl.col("t") <= pl.col("ts") + window_s)


def _credits_before(credits: pl.DataFrame, debits: pl.DataFrame, window_s: int, count: int) -> pl.DataFrame:
    """Each debit (its rid, amount, unit, payee) with the `count` credits in a row before it (k = 0 the latest)
    that came within `window` of it: rid_c, payer, ts_c, amount_c, unit_c. credits and debits: of _transfers."""
    last = (debits.drop("g", "size").sort("ts", maintain_order=True).join_asof(
        credits.select("acct", "currency", "ts", last="i", g_last="g").sort("ts", maintain_order=True), on="ts",
        by=["acct", "currency"], strategy="backward", check_sortedness=False).drop_nulls("last"))
    offsets = pl.DataFrame({"k": pl.int_range(count, eager=True)})
    near = (last.join(offsets, how="cross").filter(pl.col("k") <= pl.col("last"))
            .with_columns(g_c=pl.col("g_last") - pl.col("k")))
    taken = _take(credits, near.get_column("g_c")).select("payer", ts_c="ts", rid_c="rid", amount_c="amount",
                                                          unit_c="unit")
    return (pl.concat([near.drop("g_c", "g_last"), taken], how="horizontal")
            .filter(pl.col("ts_c") >= pl.col("ts") - window_s))


def _subsets(cand: pl.DataFrame, max_size: int, min_size: int = 1) -> pl.DataFrame:
    """Combinations of min_size..max_size candidate transfers per anchor, taken in order of k, whose amounts add
    up to at most the anchor's cap. cand: anchor, k, rid, party, t, a, u, cap. Out: anchor, rids, parties, t0
    (earliest), t1 (latest), total, units."""
    cols = ["anchor", "k", "rids", "parties", "t0", "t1", "total", "units", "cap"]
    grown = [cand.select("anchor", "k", rids=pl.concat_list("rid"), parties=pl.concat_list("party"), t0="t", t1="t",
                         total="a", units="u", cap="cap")]
    for _ in range(max_size - 1):  # extend each combination by one later candidate
        grown.append(
            grown[-1].join(cand.select("anchor", k2="k", rid2="rid", party2="party", t2="t", a2="a", u2="u"),
                           on="anchor")
            .filter(pl.col("k2") > pl.col("k"), pl.col("total") + pl.col("a2") <= pl.col("cap"))
            .select("anchor", k="k2", rids=pl.col("rids").list.concat(pl.concat_list("rid2")),
                    parties=pl.col("parties").list.concat(pl.concat_list("party2")),
                    t0=pl.min_horizontal("t0", "t2"), t1=pl.max_horizontal("t1", "t2"),
                    total=pl.col("total") + pl.col("a2"), units=pl.col("units") + pl.col("u2"), cap="cap"))
    return pl.concat([g.select(cols) for g in grown[min_size - 1:]]).drop("k", "cap")


def _splits(credits: pl.DataFrame, debits: pl.DataFrame, window_s: int, max_after: int, max_split: int,
            min_share: float) -> pl.DataFrame:
    """One credit and up to max_split of the next max_after debits of its account, none back to its payer."""
    first = (credits.drop("g", "size").sort("ts", maintain_order=True).join_asof(
        debits.select("acct", "currency", "ts", "size", i0="i", g0="g").sort("ts", maintain_order=True), on="ts",
        by=["acct", "currency"], strategy="forward", check_sortedness=False).drop_nulls("i0"))
    cand = (_debits_from(first, debits, window_s, max_after).filter(pl.col("party") != pl.col("payer"))
            .select(anchor="rid", k="k", rid="rid_d", party="party", t="t", a="a", u="u",
                    cap=pl.col("amount") + pl.col("unit")))   # a split stays within its credit
    combos = (_subsets(cand, max_split).join(credits.select(anchor="rid", amount="amount", unit="unit"), on="anchor")
              .with_columns(share=pl.col("total") / pl.col("amount"))
              .filter(pl.col("share").is_between(min_share, 1.0 + pl.col("unit") / pl.col("amount")))
              .with_columns(tol=(pl.col("units") + pl.col("unit")) / pl.col("amount"),
                            tries=pl.len().over("anchor")))   # combinations of one credit that fell in the band
    return combos.select("share", "tol", "tries", ins=pl.concat_list("anchor"), outs="rids")


def _gathers(before: pl.DataFrame, min_share: float) -> pl.DataFrame:
    """One debit and the 2..max_after credits just before it (in a row, within `window`: `before`, of
    _credits_before, holds the max_after credits before each debit)."""
    cand = before.filter(pl.col("payer") != pl.col("payee")).sort("rid", "k")
    cand = cand.with_columns(total=pl.col("amount_c").cum_sum().over("rid"),
                             units=pl.col("unit_c").cum_sum().over("rid"), n=pl.int_range(1, pl.len() + 1).over("rid"))
    kept = (cand.filter(pl.col("n") >= 2).with_columns(share=pl.col("amount") / pl.col("total"))
            .filter(pl.col("share").is_between(min_share, 1.0 + pl.col("unit") / pl.col("total"))))
    rows = (kept.select("rid", "n", "share", tol=(pl.col("units") + pl.col("unit")) / pl.col("total"),
                        tries=pl.len().over("rid"))   # runs of credits before one debit that fell in the band
            .join(cand.select("rid", "rid_c", n_c="n"), on="rid").filter(pl.col("n_c") <= pl.col("n"))
            .group_by("rid", "n").agg(pl.col("share").first(), pl.col("tol").first(), pl.col("tries").first(),
                                      ins=pl.col("rid_c"))
            .select("share", "tol", "tries", "ins", outs=pl.concat_list("rid")))
    return rows


def _mixes(before: pl.DataFrame, debits: pl.DataFrame, window_s: int, max_mix: int,
           min_share: float) -> pl.DataFrame:
    """Two or three of the max_mix credits before a debit (`before`, of _credits_before), paid on in that debit
    and up to two of the max_mix - 1 debits after it, all within `window` of the earliest credit and none back to
    a payer: gathered and split again, with other traffic in between. Amounts are matched on numbers first; the
    lists are built for the few combinations kept."""
    cin = (before
           .select(anchor="rid", k="k", rid="rid_c", party="payer", t="ts_c", a="amount_c", u="unit_c",
                   cap=pl.lit(float("inf"))))
    ins = (_subsets(cin, 3, min_size=2)
           .select("anchor", ins="rids", payers="parties", t0="t0", c_total="total", c_units="units")
           .with_row_index("cid"))
    paid = debits.join(cin.select("anchor").unique(), left_on="rid", right_on="anchor", how="semi")
    d0 = paid.select(anchor="rid", payee="payee", t1="ts", total="amount", units="unit")
    anchors = paid.with_columns(i0=pl.col("i") + 1, g0=pl.col("g") + 1)  # the debits after it, from the next one
    later = (_debits_from(anchors, debits, window_s, max_mix - 1)
             .select(anchor="rid", k="k", rid="rid_d", party="party", t="t", a="a", u="u"))
    # the debit alone, or with one or two of the later ones (k1, k2): numbers only, lists for the pairs kept
    no_k = pl.lit(None, dtype=later.schema["k"])
    one = later.select("anchor", k1="k", k2=no_k, t="t", a="a", u="u")
    two = (later.join(later.select("anchor", k2="k", t2="t", a2="a", u2="u"), on="anchor")
           .filter(pl.col("k2") > pl.col("k"))
           .select("anchor", k1="k", k2="k2", t=pl.max_horizontal("t", "t2"), a=pl.col("a") + pl.col("a2"),
                   u=pl.col("u") + pl.col("u2")))
    with_later = (pl.concat([one, two]).join(d0.drop("payee"), on="anchor")
                  .select("anchor", "k1", "k2", t1=pl.max_horizontal("t", "t1"), total=pl.col("a") + pl.col("total"),
                          units=pl.col("u") + pl.col("units")))
    outs = pl.concat([d0.select("anchor", k1=no_k, k2=no_k, t1="t1", total="total", units="units"),
                      with_later]).with_row_index("did")
    pairs = (ins.select("anchor", "cid", "t0", "c_total", "c_units")   # numbers first
             .join(outs.select("anchor", "did", "t1", "total", "units"), on="anchor")
             .filter(pl.col("t1") <= pl.col("t0") + window_s)
             .with_columns(share=pl.col("total") / pl.col("c_total"))
             .filter(pl.col("share").is_between(min_share, 1.0 + pl.col("units") / pl.col("c_total"))))
    listed = (outs.join(pairs.select("did").unique(), on="did", how="semi")
              .join(later.select("anchor", k1="k", rid1="rid", party1="party"), on=["anchor", "k1"], how="left")
              .join(later.select("anchor", k2="k", rid2="rid", party2="party"), on=["anchor", "k2"], how="left")
              .join(d0.select("anchor", "payee"), on="anchor")
              .select("did", outs=pl.concat_list("anchor", "rid1", "rid2").list.drop_nulls(),
                      payees=pl.concat_list("payee", "party1", "party2").list.drop_nulls()))
    rows = (pairs.join(ins.select("cid", "ins", "payers"), on="cid").join(listed, on="did")
            .filter(pl.col("payers").list.set_intersection("payees").list.len() == 0)   # nothing paid back
            .with_columns(tol=(pl.col("units") + pl.col("c_units")) / pl.col("c_total"),
                          tries=pl.len().over("anchor"))
            .select("share", "tol", "tries", "ins", "outs"))
    return rows


def transfers_of(con, rids: pl.DataFrame) -> pl.DataFrame:
    """rid, txn_id, payer (src), payee (dst) and USD of the given transfers (a frame of `rid`): only the few a
    rule reports are read back in full."""
    DIALECT.register(con, "_st_forward_rows", rids)
    try:
        return DIALECT.fetch_polars(con, TRANSFERS_SQL)
    finally:
        DIALECT.unregister(con, "_st_forward_rows")


def usd_sum(which: pl.Expr) -> pl.Expr:
    """The USD of the transfers `which` selects (of transfers_of's `usd`), to the cent; null when one of them has
    no rate (not a sum that reads as 0)."""
    usd = pl.col("usd").filter(which)
    return pl.when(usd.null_count() == 0).then(usd.sum().round(2))


# Links between forwards whose shares agree to within their rounding (same_cut, split_rejoin). A link is kept when
# agreeing by chance is unlikely (at most max_chance): the pairs that could have agreed, times the width of the
# agreement over the width of the band of shares (1 - min_share). Candidates meet on the share's bucket (no kept
# link spans more than one): a busy account's many forwards are never paired all with all.

_WIDTH = 2 * (pl.col("tol") + pl.col("tol_b"))  # unrelated shares agree this closely with this chance (over the band)
_AGREE = (pl.col("share") - pl.col("share_b")).abs() <= _WIDTH / 2


def _bucketed(sides: pl.DataFrame, band: float, max_chance: float) -> pl.DataFrame:
    """Forwards' sides with their share's bucket, and their tries raised to the forwards sharing the transfer."""
    return sides.with_columns(bucket=(pl.col("share") / (max_chance * band / 2)).floor().cast(pl.Int64),
                              tries=pl.max_horizontal("tries", pl.len().over("rid", "side")))


def _meet(left: pl.DataFrame, right: pl.DataFrame, keys: list[str], near: list[str]) -> pl.DataFrame:
    """left x right on the keys and on each `near` column equal or next to right's (its name + '_b')."""
    out = [left.with_columns([(pl.col(c) + d).alias(f"{c}_b") for c, d in zip(near, offs)])
           .join(right, on=keys + [f"{c}_b" for c in near])
           for offs in _offsets(len(near))]
    return pl.concat(out)


def _offsets(k: int) -> list[tuple[int, ...]]:
    """Every combination of -1, 0 and +1 for k columns."""
    out: list[tuple[int, ...]] = [()]
    for _ in range(k):
        out = [o + (d,) for o in out for d in (-1, 0, 1)]
    return out


def chain_links(sides: pl.DataFrame, band: float, max_chance: float) -> pl.DataFrame:
    """(fwd, fwd_b): one forward pays on the transfer the other takes in, at the same share. A chain could pair
    any forward that pays the transfer on with any that takes it in."""
    sides = _bucketed(sides, band, max_chance)
    ins = sides.filter(pl.col("side") == "in", pl.col("tries") * 2 * pl.col("tol") / band <= max_chance)
    outs = sides.filter(pl.col("side") == "out", pl.col("tries") * 2 * pl.col("tol") / band <= max_chance)
    return (_meet(outs, ins.select("rid", bucket_b="bucket", fwd_b="fwd", share_b="share", tol_b="tol", tries_b="tries"),
                  ["rid"], ["bucket"])
            .filter(_AGREE, pl.col("tries") * pl.col("tries_b") * _WIDTH / band <= max_chance)
            .select("fwd", "fwd_b"))


def sibling_links(sides: pl.DataFrame, credits: pl.DataFrame, window_s: int, band: float,
                  max_chance: float) -> pl.DataFrame:
    """(fwd, fwd_b, payer): two forwards of two accounts fed by one payer within `window` of each other, at the
    same share (fwd < fwd_b). One payer's forwards within `window` of either could pair any two of them."""
    sides = _bucketed(sides, band, max_chance)
    fed = sides.filter(pl.col("side") == "in").join(credits.select("rid", "payer", "acct", "ts"), on="rid")
    window = pl.len().rolling(index_column="ts", period=f"{2 * window_s}i", offset=f"{-window_s}i", closed="both")
    shared = (fed.sort("payer", "ts", "fwd").with_columns(n=window.over("payer"),  # the payer's forwards within `window`
                                                          tb=pl.col("ts") // max(window_s, 1))
              .filter(pl.col("n") * (pl.col("n") - 1) * pl.col("tol") / band <= max_chance))
    n_pairs = pl.max_horizontal("n", "n_b") * (pl.max_horizontal("n", "n_b") - 1) / 2
    return (_meet(shared, shared.select("payer", bucket_b="bucket", tb_b="tb", fwd_b="fwd", share_b="share",
                                        tol_b="tol", acct_b="acct", ts_b="ts", n_b="n"), ["payer"], ["bucket", "tb"])
            .filter(pl.col("fwd") < pl.col("fwd_b"), pl.col("acct") != pl.col("acct_b"),
                    (pl.col("ts") - pl.col("ts_b")).abs() <= window_s, _AGREE, n_pairs * _WIDTH / band <= max_chance)
            .select("fwd", "fwd_b", "payer"))


def link_components(links: pl.DataFrame, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """(*by, fwd, comp): the connected components of the links (fwd, fwd_b), within each value of the `by` columns
    (a forward linked under two of them is a node of each)."""
    keys = list(by)
    nodes = (pl.concat([links.select(*keys, "fwd"), links.select(*keys, fwd="fwd_b")]).unique()
             .sort([*keys, "fwd"]).with_row_index("code"))
    coded = (links.join(nodes, on=[*keys, "fwd"])
             .join(nodes.select(*keys, fwd_b="fwd", code_b="code"), on=[*keys, "fwd_b"]))
    n = nodes.height
    graph = csr_matrix((np.ones(coded.height, dtype=np.int8), (coded["code"].to_numpy(), coded["code_b"].to_numpy())),
                       shape=(n, n))
    _, label = connected_components(graph, directed=False)
    return nodes.with_columns(comp=pl.Series(label).gather(nodes["code"])).drop("code")
