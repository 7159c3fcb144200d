"""Off-rhythm payments: an account that pays on a cycle, paying several payees off it.

Step 1 (DuckDB): per paying account, its payments per day of the `period` (the phase); rhythm days are the phases
that hold more than their even share (and more than max_off_share); the rhythmic accounts (enough payments, few
off their rhythm days) and their strays: payments off the rhythm days, but for a running standing order paid
off its day instead of on it.
Step 2 (Python, scipy): the population's off-rhythm rate, pooled over the rhythmic accounts, and each account's
binomial tail at that rate; the bar is max_chance_hits over the number of rhythmic accounts.
Step 3 (DuckDB): the strays of the hits, read back as the evidence from the hits' own payments.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl
from scipy.stats import binom

from rules.dialect import DIALECT

PAYMENTS = """
WITH t AS NOT MATERIALIZED (  -- payments between known accounts in the read range (OFF_SQL: of the hits only), with
                            -- their day number; row ids and hashed accounts (rules/transfers.py)
    SELECT rid, hs AS src, hd AS dst, booked_at, st_bucket(booked_at, $day) AS day_no
    FROM transfers
    WHERE booked_at >= $window_start AND booked_at < $until AND NOT is_fee{only}
),
per_phase AS MATERIALIZED ( -- payments per account and day of the period (once: the total below reads it again)
    SELECT src, day_no % $period_days AS phase, count(*) AS c FROM t GROUP BY src, day_no % $period_days
),
phases AS MATERIALIZED (    -- rhythm days hold more than their even share and more than the share allowed off
    SELECT src, phase, c, n, -- rhythm (else strays on one day make one)
           c * $period_days > n AND c > $max_off_share * n AS rhythm
    FROM (SELECT src, phase, c, sum(c) OVER (PARTITION BY src) AS n FROM per_phase) y
),
rhythmic AS (               -- accounts that keep a rhythm: enough payments, few off their rhythm days
    SELECT src, max(n) AS n_payments, sum(CASE WHEN rhythm THEN c ELSE 0 END) AS n_rhythm
    FROM phases
    WHERE src NOT IN (SELECT st_hash(account_id) FROM accounts WHERE st_list_has($service_kinds, kind))
    GROUP BY src
    HAVING max(n) >= $min_payments AND sum(CASE WHEN rhythm THEN 0 ELSE c END) <= $max_off_share * max(n)
),
off_phases AS (             -- the rhythmic accounts' days off their rhythm (few: a small side to join on)
    SELECT p.src, p.phase FROM phases p JOIN rhythmic r ON r.src = p.src WHERE NOT p.rhythm
),
off_pairs AS (              -- their payees paid off their rhythm days at least once
    SELECT DISTINCT t.src, t.dst
    FROM t JOIN off_phases o ON o.src = t.src AND o.phase = t.day_no % $period_days
),
marked AS (                 -- every payment to those payees: on a rhythm day or not
    SELECT t.*, p.rhythm
    FROM t JOIN off_pairs o ON o.src = t.src AND o.dst = t.dst
    JOIN phases p ON p.src = t.src AND p.phase = t.day_no % $period_days
),
regular AS (                -- of those, the payees the account also pays on its rhythm days, and (one of) their days
    SELECT src, dst, min(day_no % $period_days) AS phase FROM marked WHERE rhythm GROUP BY src, dst
),
cycles AS (                 -- their payments, each in its cycle: the period centred on the payee's day
    SELECT m.rid, m.src, m.dst, m.rhythm,
           CAST(floor((m.day_no - r.phase + $period_days / 2.0) / $period_days) AS BIGINT) AS cycle
    FROM marked m JOIN regular r ON r.src = m.src AND r.dst = m.dst
),
on_day AS (                 -- the cycles in which the payee was paid on its day
    SELECT DISTINCT src, dst, cycle FROM cycles WHERE rhythm
),
shifted AS (                -- a running standing order paid off its day instead (a bank holiday): no payment on
    SELECT c.rid            -- its day in this cycle, one in the cycle before
    FROM cycles c
    JOIN on_day prev ON prev.src = c.src AND prev.dst = c.dst AND prev.cycle = c.cycle - 1
    LEFT JOIN on_day same ON same.src = c.src AND same.dst = c.dst AND same.cycle = c.cycle
    WHERE NOT c.rhythm AND same.cycle IS NULL
),
strays AS (                 -- payments off the rhythm days, but for shifted standing orders
    SELECT m.* FROM marked m
    WHERE NOT m.rhythm AND m.rid NOT IN (SELECT rid FROM shifted)
)
"""

RHYTHMIC_SQL = PAYMENTS.replace("{only}", "") + """
SELECT r.src AS account_key, r.n_payments, r.n_rhythm,
       coalesce(s.n_off, 0) AS n_off   -- the strays: what is judged
FROM rhythmic r LEFT JOIN (SELECT src, count(*) AS n_off FROM strays GROUP BY src) s ON s.src = r.src
"""

# every step above is per paying account: the hits' strays are found again from their own payments only
OFF_SQL = PAYMENTS.replace("{only}", "\n      AND hs IN (SELECT account_key FROM _st_off_rhythm)") + """
SELECT txn_id, from_account_id AS account_id, st_hash(from_account_id) AS account_key, to_account_id AS dst,
       booked_at, CAST(amount_usd AS DOUBLE) AS usd
FROM transactions
WHERE rowid IN (SELECT rid FROM strays)   -- read back with their ids
"""

OUTPUT_SCHEMA: dict[str, Any] = {
    "subject_id": pl.Utf8, "value": pl.Int64, "txn_ids": pl.List(pl.Utf8), "member_ids": pl.List(pl.Utf8),
    "window_start": pl.Datetime("us", "UTC"), "window_end": pl.Datetime("us", "UTC"),
    "n_payments": pl.Int64, "rhythm_pct": pl.Float64, "n_off_payees": pl.Int64, "one_in": pl.Int64,
    "total_usd": pl.Float64,
}


def run(con, params: dict) -> pl.DataFrame:
    period = params["period"]
    period = period if isinstance(period, timedelta) else timedelta(seconds=float(period))
    if period < timedelta(days=2) or period % timedelta(days=1):
        raise ValueError(f"off_rhythm_payments: period must be a whole number of days, at least 2 (got {period})")
    bind = {"window_start": params["window_start"], "until": params["until"], "day": timedelta(days=1),
            "period_days": period.days, **{k: params[k] for k in ("max_off_share", "service_kinds", "min_payments")}}
    rhythmic = DIALECT.fetch_polars(con, RHYTHMIC_SQL, bind)
    if rhythmic.is_empty():
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    n = rhythmic["n_payments"].cast(pl.Float64)
    off = rhythmic["n_off"].cast(pl.Float64)
    rate = float(off.sum()) / float(n.sum())
    if rate <= 0:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)  # no rhythmic account ever strays: no rate to judge by
    bar = float(params["max_chance_hits"]) / rhythmic.height
    chance = binom.sf(off.to_numpy() - 1, n.to_numpy(), rate)  # P(X >= n_off), X ~ Binomial(n_payments, rate)
    judged = rhythmic.with_columns(chance=pl.Series(chance)).filter(
        (pl.col("chance") < bar) & (pl.col("n_off") >= 2))
    if judged.is_empty():
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    DIALECT.register(con, "_st_off_rhythm", judged.select("account_key"))
    try:
        payments = DIALECT.fetch_polars(con, OFF_SQL, bind)
    finally:
        DIALECT.unregister(con, "_st_off_rhythm")
    hits = (payments.group_by("account_id", "account_key")
            .agg(pl.col("txn_id").sort().alias("txn_ids"), pl.col("dst").unique().sort().alias("member_ids"),
                 pl.col("booked_at").min().alias("window_start"), pl.col("booked_at").max().alias("window_end"),
                 pl.len().alias("value"), pl.col("dst").n_unique().alias("n_off_payees"),
                 pl.when(pl.col("usd").is_null().any()).then(None).otherwise(pl.col("usd").sum().round(2))
                 .alias("total_usd"))
            .filter(pl.col("n_off_payees") >= int(params["min_payees"]))
            .join(judged, on="account_key"))
    return hits.select(
        pl.col("account_id").alias("subject_id"), pl.col("value").cast(pl.Int64), "txn_ids", "member_ids",
        pl.col("window_start").dt.convert_time_zone("UTC"), pl.col("window_end").dt.convert_time_zone("UTC"),
        pl.col("n_payments").cast(pl.Int64),
        (100 * pl.col("n_rhythm").cast(pl.Float64) / pl.col("n_payments").cast(pl.Float64)).round(1).alias("rhythm_pct"),
        pl.col("n_off_payees").cast(pl.Int64),
        pl.col("chance").map_elements(lambda c: int(min(1e18, 1 / max(c, 1e-18))), return_dtype=pl.Int64).alias("one_in"),
        "total_usd",
    ).sort("subject_id")
