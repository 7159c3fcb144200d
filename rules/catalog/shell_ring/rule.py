"""Shell ring: a closed ring of transfers, at least half of whose accounts have no counterparty but the ring's.

Step 1 (DuckDB): over the history, each account's distinct payers and payees; shells (one payer and one payee)
with their two relationships' first and last transfer; hubs (more counterparties than the population's
hub_quantile) and services, which no ring passes through.
Step 2 (Python): shells joined end to end into chains; each chain runs from a busier account (a junction) to
another, or closes on itself.
Step 3 (DuckDB): the relationships of the read range between the chains' junctions and other junctions, the only
direct hops a ring may take (at most max_direct_hops, so a hop leaves or reaches a chain's junction).
Step 4 (Python): from each chain, a bounded search back to its start over chains and direct hops, keeping as many
shells as junctions and every hop in reach of the chain's own transfers; then the rings whose hops all have a
transfer within one `window`, read back in full.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

import polars as pl

from rules.dialect import DIALECT


def _transfers(start: str) -> str:
    """The CTE `t`: hashed accounts and time of the transfers from `start` (rules/transfers.py: narrow rows)."""
    return f"""
WITH t AS NOT MATERIALIZED (
    SELECT hs AS src, hd AS dst, booked_at
    FROM transfers
    WHERE booked_at >= {start} AND booked_at < $until
      AND coalesce(amount_usd >= $min_usd, true)   -- dust left out; a transfer without a rate still counts
)"""


ROLES_SQL = _transfers("$history_start") + """,  -- over the history: is an account a shell
pairs AS (
    SELECT src, dst, min(booked_at) AS first_at, max(booked_at) AS last_at FROM t GROUP BY src, dst
),
outs AS (SELECT src AS account, count(*) AS n_out, min(dst) AS payee, min(first_at) AS out_first, max(last_at) AS out_last
         FROM pairs GROUP BY src),
ins AS (SELECT dst AS account, count(*) AS n_in, min(src) AS payer, min(first_at) AS in_first, max(last_at) AS in_last
        FROM pairs GROUP BY dst),
degree AS (
    SELECT coalesce(o.account, i.account) AS account, coalesce(o.n_out, 0) + coalesce(i.n_in, 0) AS n_cp,
           o.n_out, i.n_in, o.payee, i.payer, o.out_first, o.out_last, i.in_first, i.in_last
    FROM outs o FULL JOIN ins i ON o.account = i.account
),
hub_floor AS (SELECT quantile_cont(n_cp, $hub_quantile) AS q FROM degree),
services AS (SELECT st_hash(account_id) AS account FROM accounts WHERE st_list_has($service_kinds, kind))
SELECT d.account,
       CASE WHEN d.n_cp > h.q OR d.account IN (SELECT account FROM services) THEN 'closed'
            ELSE 'shell' END AS role,
       d.payer, d.payee, d.in_first, d.in_last, d.out_first, d.out_last
FROM degree d, hub_floor h
WHERE d.n_cp > h.q
   OR d.account IN (SELECT account FROM services)
   OR (d.n_in = 1 AND d.n_out = 1)
"""

DIRECT_SQL = _transfers("$window_start") + """  -- over the read range: the direct hops
SELECT src, dst, min(booked_at) AS first_at, max(booked_at) AS last_at
FROM t
WHERE src IN (SELECT account FROM _st_shell_ends) OR dst IN (SELECT account FROM _st_shell_ends)
GROUP BY src, dst
"""

HOPS_SQL = """
SELECT txn_id, from_account_id AS src_id, to_account_id AS dst_id, st_hash(from_account_id) AS src,
       st_hash(to_account_id) AS dst, booked_at, CAST(amount_usd AS DOUBLE) AS usd
FROM transactions
WHERE rowid IN (SELECT rid FROM transfers                            -- the transfers of the rings' hops only
                WHERE booked_at >= $window_start AND booked_at < $until
                  AND coalesce(amount_usd >= $min_usd, true)
                  AND hs IN (SELECT src FROM _st_ring_hops)
                  AND hd IN (SELECT dst FROM _st_ring_hops))
"""

OUTPUT_SCHEMA: dict[str, Any] = {
    "subject_id": pl.Utf8, "value": pl.Int64, "txn_ids": pl.List(pl.Utf8), "member_ids": pl.List(pl.Utf8),
    "window_start": pl.Datetime("us", "UTC"), "window_end": pl.Datetime("us", "UTC"),
    "origin_id": pl.Utf8, "n_shells": pl.Int64, "first_usd": pl.Float64, "total_usd": pl.Float64,
}


def _chains(shells: dict[int, tuple]) -> tuple[dict[int, list[tuple[list[int], int]]], list[list[int]]]:
    """Shells joined end to end: {start junction: [(shells in order, end junction)]}, and the rings made of shells
    only. `shells` maps a shell to (payer, payee, in_first, in_last, out_first, out_last)."""
    chains: dict[int, list[tuple[list[int], int]]] = defaultdict(list)
    seen: set[int] = set()
    for shell, (payer, _, *_times) in shells.items():
        if payer in shells:
            continue  # inside a chain: its start is reached from the first shell
        chain = [shell]
        while shells[chain[-1]][1] in shells:
            chain.append(shells[chain[-1]][1])
        seen.update(chain)
        chains[payer].append((chain, shells[chain[-1]][1]))
    closed = []
    for shell in shells:
        if shell in seen:
            continue
        chain = [shell]
        while shells[chain[-1]][1] != shell:
            chain.append(shells[chain[-1]][1])
        seen.update(chain)
        closed.append(chain)
    return chains, closed


def _reach(chain: list[int], shells: dict) -> tuple[Any, Any]:
    """(latest first transfer, earliest last transfer) over the chain's relationships: a stretch of time that
    holds a transfer of each of them must end after the first and start before the second."""
    firsts = [shells[s][2] for s in chain] + [shells[chain[-1]][4]]
    lasts = [shells[s][3] for s in chain] + [shells[chain[-1]][5]]
    return max(firsts), min(lasts)


def _rings(chains, direct, shells: dict, params: dict) -> list[list[int]]:
    """Every ring through a chain: depth-first from the chain's end back to its start, over chains and at most
    max_direct_hops direct hops, never with fewer shells than junctions less one (the closing check asks as many),
    and only over relationships with a transfer within `window` of the chain's own."""
    min_len, max_len = int(params["min_length"]), int(params["max_length"])
    max_direct, span = int(params["max_direct_hops"]), params["window"]
    found: dict[tuple, list[int]] = {}
    for start, outgoing in chains.items():
        for chain, end in outgoing:
            latest_first, earliest_last = _reach(chain, shells)
            if latest_first - earliest_last > span:
                continue  # the chain alone is longer than a ring may be
            lo, hi = latest_first - span, earliest_last + span
            stack = [(end, [start, *chain] + ([end] if end != start else []), len(chain), 1 + (end != start), 0)]
            while stack:
                here, path, n_shells, n_junctions, n_direct = stack.pop()
                if here == start:
                    if min_len <= len(path) <= max_len and n_shells >= n_junctions:
                        low = path.index(min(path))
                        found.setdefault(tuple(path[low:] + path[:low]), path)
                    continue
                for chain2, end2 in chains.get(here, ()):
                    closing = end2 == start
                    first2, last2 = _reach(chain2, shells)
                    if (len(path) + len(chain2) + (not closing) > max_len or (not closing and end2 in path)
                            or first2 > hi or last2 < lo):
                        continue
                    stack.append((end2, path + chain2 + ([] if closing else [end2]), n_shells + len(chain2),
                                  n_junctions + (not closing), n_direct))
                if n_direct >= max_direct:
                    continue
                for nxt, first_at, last_at in direct.get(here, ()):
                    if last_at < lo or first_at > hi:
                        continue
                    if nxt == start:
                        stack.append((start, path, n_shells, n_junctions, n_direct + 1))
                    elif nxt not in path and len(path) < max_len and n_shells >= n_junctions:
                        stack.append((nxt, path + [nxt], n_shells, n_junctions + 1, n_direct + 1))
    return list(found.values())


def _covering(hops: list[tuple[int, int]], transfers: dict[tuple[int, int], list[tuple]], span: timedelta) -> list[tuple] | None:
    """The transfers of the ring's hops in the latest tightest stretch of at most `span` that holds one of every hop
    (the latest: a ring run again inside the detection range is reported there), or None."""
    events = sorted((t[3], i, t) for i, hop in enumerate(hops) for t in transfers.get(hop, ()))
    held: Counter = Counter()
    lo, best = 0, None
    for hi, (at, hop, _) in enumerate(events):
        held[hop] += 1
        while at - events[lo][0] > span or held[events[lo][1]] > 1:  # drop what the stretch does not need
            held[events[lo][1]] -= 1
            if not held[events[lo][1]]:
                del held[events[lo][1]]
            lo += 1
        if len(held) == len(hops):
            best = (lo, hi)
    return None if best is None else [e[2] for e in events[best[0]:best[1] + 1]]


def _hits(ring: list[int], cited: list[tuple], shells: dict) -> list[dict]:
    """One hit per account on the ring; `cited` holds (txn_id, payer id, payee id, booked_at, usd) per transfer."""
    first = min(cited, key=lambda t: (t[3], t[0]))
    usd = [t[4] for t in cited]
    total = None if any(u is None for u in usd) else round(sum(usd), 2)
    accounts = sorted({t[1] for t in cited})
    return [{"subject_id": acct, "value": len(ring), "txn_ids": sorted(t[0] for t in cited),
             "member_ids": [a for a in accounts if a != acct], "window_start": first[3],
             "window_end": max(t[3] for t in cited), "origin_id": first[1],
             "n_shells": sum(1 for a in ring if a in shells), "first_usd": first[4], "total_usd": total}
            for acct in accounts]


def run(con, params: dict) -> pl.DataFrame:
    span = params["window"]
    params = {**params, "window": span if isinstance(span, timedelta) else timedelta(seconds=float(span))}
    if params["window"] > params["since"] - params["window_start"]:
        raise ValueError("shell_ring: `window` is longer than the rule's lookback (30d): a ring's first hops would not be read")
    if not 0 <= int(params["max_direct_hops"]) <= 2:
        raise ValueError("shell_ring: max_direct_hops must be 0, 1 or 2 (direct hops are read next to chains only)")
    bind = {k: params[k] for k in ("history_start", "until", "min_usd", "hub_quantile", "service_kinds")}
    roles = DIALECT.fetch_polars(con, ROLES_SQL, bind)
    closed = set(roles.filter(pl.col("role") == "closed")["account"].to_list())
    shells = {r[0]: r[1:] for r in roles.filter(pl.col("role") == "shell")
              .select("account", "payer", "payee", "in_first", "in_last", "out_first", "out_last").iter_rows()}
    chains, rings = _chains(shells)
    chains = {start: [(c, end) for c, end in lst if end not in closed] for start, lst in chains.items() if start not in closed}
    ends = {a for start, lst in chains.items() for _, end in lst for a in (start, end)}
    direct: dict[int, list[tuple]] = defaultdict(list)
    if ends:
        DIALECT.register(con, "_st_shell_ends", pl.DataFrame({"account": sorted(ends)}, schema={"account": roles.schema["account"]}))
        try:
            pairs = DIALECT.fetch_polars(con, DIRECT_SQL, {k: params[k] for k in ("window_start", "until", "min_usd")})
        finally:
            DIALECT.unregister(con, "_st_shell_ends")
        for src, dst, first_at, last_at in pairs.iter_rows():
            if src not in shells and dst not in shells and src not in closed and dst not in closed:
                direct[src].append((dst, first_at, last_at))
    rings += _rings(chains, direct, shells, params)
    rings = [r for r in rings if int(params["min_length"]) <= len(r) <= int(params["max_length"])]
    if not rings:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    hops = {(r[i], r[(i + 1) % len(r)]) for r in rings for i in range(len(r))}
    DIALECT.register(con, "_st_ring_hops", pl.DataFrame(sorted(hops), schema={"src": roles.schema["account"], "dst": roles.schema["account"]}, orient="row"))
    try:
        read = DIALECT.fetch_polars(con, HOPS_SQL, {k: params[k] for k in ("window_start", "until", "min_usd")})
    finally:
        DIALECT.unregister(con, "_st_ring_hops")
    transfers: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    for row in read.select("txn_id", "src_id", "dst_id", "booked_at", "usd", "src", "dst").iter_rows():
        transfers[(row[5], row[6])].append(row[:5])
    out = []
    for ring in rings:
        cited = _covering([(ring[i], ring[(i + 1) % len(ring)]) for i in range(len(ring))], transfers, params["window"])
        if cited is None:
            continue
        out.extend(_hits(ring, cited, shells))
    return pl.DataFrame(out, schema=OUTPUT_SCHEMA).sort("subject_id", "window_start")
