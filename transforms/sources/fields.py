"""Vectorised field parsers shared by readers: decimals, timestamps, codes. Each returns null on failure so
that the caller can name the field in the row's error list."""

from __future__ import annotations

import re

import polars as pl

MAX_INTEGER_DIGITS = 20  # DECIMAL(38,18) holds 20 integer digits
MAX_DECIMALS = 18  # and 18 decimals: more would be rounded silently by the cast, so they are refused


def decimal_text(value: pl.Expr, decimal: str = ".", thousands: str | None = None) -> pl.Expr:
    """Normalise '1.234,56', '(12.00)', '12.00-', '+5', '¥12.00' to a plain signed decimal string; null if not a number.

    Scientific notation is refused on purpose: spreadsheets write it when they have already rounded the value.
    Each step reads the one before once: polars evaluates a shared sub-expression again at every use, and this
    runs on every amount of every file.
    """
    # currency signs go ('¥12.00', '1.234,56 €'): the currency itself comes from the mapping
    v = value.str.strip_chars().str.replace_all(r"[\s\u00a0'\p{Sc}]", "")
    negative = v.str.contains(r"^-|-$|^\(.*\)$")
    # one sign at most, in one of the three places banks put it: '+5' / '-5', '5-', '(5)'; '+-5' or '(5' is no number
    one_sign = v.str.contains(r"^([+-]?[^+\-()]+|[^+\-()]+-|\([^+\-()]+\))$")
    body = v.str.strip_chars("+-()")
    # The separators must sit where they belong ('1,234.56' in a comma-decimal file is not 1.23456): digits,
    # optionally grouped by threes with the thousands separator, then one decimal separator; at most
    # MAX_INTEGER_DIGITS integer digits and MAX_DECIMALS decimals (what DECIMAL(38,18) holds without rounding).
    d = re.escape(decimal)
    integer = rf"[0-9]{{1,{MAX_INTEGER_DIGITS}}}"
    if thousands and thousands not in (" ", "'"):  # spaces and apostrophes were stripped above
        t = re.escape(thousands)
        groups = (MAX_INTEGER_DIGITS - 1) // 3  # a first group of 1-3 digits, then groups of three
        integer = (rf"({integer}|[0-9]{{1,3}}({t}[0-9]{{3}}){{1,{groups - 1}}}"
                   rf"|[0-9]{{1,{MAX_INTEGER_DIGITS - 3 * groups}}}({t}[0-9]{{3}}){{{groups}}})")
    ok = one_sign & body.str.contains(rf"^{integer}({d}[0-9]{{1,{MAX_DECIMALS}}})?$")
    plain = body
    if thousands:
        plain = plain.str.replace_all(thousands, "", literal=True)
    if decimal != ".":
        plain = plain.str.replace_all(decimal, ".", literal=True)
    return pl.when(ok).then(pl.concat_str([pl.when(negative).then(pl.lit("-")).otherwise(pl.lit("")), plain]))


def decimal_problem(raw: pl.Expr, parsed: pl.Expr, field_name: str) -> pl.Expr:
    """Explain why a non-empty amount did not parse."""
    v = raw.str.strip_chars()
    return (
        pl.when(v.is_not_null() & (v != "") & parsed.is_null())
        .then(
            pl.when(v.str.contains(r"(?i)^[+-]?[0-9.,]+e[+-]?[0-9]+$"))
            .then(pl.lit(f"{field_name}: scientific notation '") + v.str.slice(0, 40) + pl.lit("' loses precision; export plain numbers"))
            .when(v.str.contains(rf"^[+-]?[0-9]*[.,][0-9]{{{MAX_DECIMALS + 1},}}-?$"))
            .then(pl.lit(f"{field_name}: '") + v.str.slice(0, 60) + pl.lit(f"' has more than {MAX_DECIMALS} decimals; it would be rounded"))
            .when(v.str.replace_all(r"[^0-9]", "").str.len_chars() > MAX_INTEGER_DIGITS)
            .then(pl.lit(f"{field_name}: '") + v.str.slice(0, 40) + pl.lit("' is too large"))
            .otherwise(pl.lit(f"{field_name}: not a number: '") + v.str.slice(0, 40) + pl.lit("'"))
        )
    )


def timestamp_utc(value: pl.Expr, formats: list[str], timezone: str) -> pl.Expr:
    """Parse with the first matching format; naive times are in `timezone`; result is UTC."""
    v = value.str.strip_chars()
    parsed = []
    for fmt in formats:
        if "%z" in fmt or "%:z" in fmt:
            parsed.append(
                v.str.strptime(pl.Datetime("us", "UTC"), fmt, strict=False, exact=True)
            )
        else:
            parsed.append(
                v.str.strptime(pl.Datetime("us"), fmt, strict=False, exact=True)
                .dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
                .dt.convert_time_zone("UTC")
            )
    return pl.coalesce(parsed) if len(parsed) > 1 else parsed[0]


def in_dst_gap(value: pl.Expr, formats: list[str], timezone: str) -> pl.Expr:
    """True where a time without offset parses but does not exist in `timezone` (skipped by a DST change)."""
    v = value.str.strip_chars()
    naive = [f for f in formats if "%z" not in f and "%:z" not in f]
    if not naive or timezone == "UTC":
        return pl.lit(False)
    parsed = pl.coalesce([v.str.strptime(pl.Datetime("us"), f, strict=False, exact=True) for f in naive])
    local = parsed.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
    return parsed.is_not_null() & local.is_null()


def upper_code(value: pl.Expr) -> pl.Expr:
    v = value.str.strip_chars().str.to_uppercase()
    return pl.when(v == "").then(None).otherwise(v)


def canonical_amount(text: pl.Expr) -> pl.Expr:
    """'100.50' -> '100.5', '100.00' -> '100': one spelling per value, for natural keys."""
    return pl.when(text.str.contains(r"\.")).then(text.str.replace(r"0+$", "").str.replace(r"\.$", "")).otherwise(text)
