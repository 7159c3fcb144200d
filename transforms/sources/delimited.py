"""Delimited bank extracts (CSV, TSV, semicolon...) described by a mapping file (transforms/sources/mapping.py).

Each row is one entry of the statement account; the mapping says which column holds the counterparty and
how the direction is expressed, and the reader turns it into a from/to transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import polars as pl

from transforms import ids
from transforms.errors import InputError
from transforms.sources.base import (
    CsvLayout,
    ReadContext,
    Reader,
    blank_to_null,
    collect_errors,
    csv_chunks,
    first_line_fields,
    invalid_row_error,
    parse_error,
    raw_json,
    read_head,
    required_error,
)
from transforms.sources.fields import decimal_problem, decimal_text, in_dst_gap, timestamp_utc, upper_code
from transforms.schema import CASH_CHANNELS, CHANNELS
from transforms.sources.mapping import Mapping, load_mapping

CASH_ACCOUNT = "cash"  # the other side of a cash deposit or withdrawal


class DelimitedReader(Reader):
    name = "delimited"
    table = "transactions"
    priority = 60
    detect_order = 90  # only after the readers that recognise a fixed header

    def _mappings(self, ctx: ReadContext) -> list[Mapping]:
        cache = getattr(ctx, "_mapping_cache", None)
        if cache is None:
            cache = [load_mapping(p) for p in ctx.mapping_files]
            ctx._mapping_cache = cache  # type: ignore[attr-defined]
        return cache

    def claims(self, path: Path, ctx: ReadContext) -> bool:
        return any(m.claims(path) for m in self._mappings(ctx))

    def detect(self, path: Path, head: str, ctx: ReadContext) -> bool:
        return self.mapping_for(path, ctx, head) is not None

    def mapping_for(self, path: Path, ctx: ReadContext, head: str | None = None) -> Mapping | None:
        mappings = self._mappings(ctx)
        for m in mappings:
            if m.claims(path):
                return m
        for m in mappings:
            text = read_head(path, m.encoding) if head is None or m.encoding.lower() not in ("utf-8", "utf8") else head
            lines = text.lstrip("\ufeff").splitlines()
            if len(lines) >= m.header_row and m.fits_header(first_line_fields(lines[m.header_row - 1], m.delimiter)):
                return m
        if len(mappings) == 1 and path.suffix.lower() in (".csv", ".tsv", ".txt"):
            return mappings[0]  # one mapping given explicitly for these files: use it and report missing columns
        return None

    def source_name(self, path: Path, ctx: ReadContext) -> str:
        m = self.mapping_for(path, ctx)
        return f"delimited:{m.name}" if m else self.name

    def read(self, path: Path, ctx: ReadContext) -> Iterator[pl.DataFrame]:
        m = self.mapping_for(path, ctx)
        if m is None:
            raise InputError("no mapping fits this file; pass --mapping FILE.yml (see docs/mapping.md)", path=path)
        layout = CsvLayout(delimiter=m.delimiter, encoding=m.encoding, header_row=m.header_row, quote_char=m.quote_char)
        for header, frame in csv_chunks(path, layout):
            missing = [f"{k} -> '{v}'" for k, v in m.mapped_columns().items() if v not in header]
            if missing:
                raise InputError(
                    f"column(s) {', '.join(missing)} of mapping '{m.name}' not in the header "
                    f"(header has: {', '.join(header[:20])}); fix the mapping or the export",
                    path=path,
                )
            yield to_transactions(frame, header, m)


def to_transactions(frame: pl.DataFrame, header: list[str], m: Mapping) -> pl.DataFrame:
    c = m.columns
    const = m.constants

    def col(name: str | None) -> pl.Expr:
        return blank_to_null(pl.col(name)) if name else pl.lit(None, dtype=pl.Utf8)

    def const_or(colname: str | None, value: str | None) -> pl.Expr:
        return pl.coalesce([col(colname), pl.lit(value, dtype=pl.Utf8)])

    institution = pl.lit(const.institution.upper() if const.institution else None, dtype=pl.Utf8)
    stmt_raw = const_or(c.account, const.account)
    stmt_id = ids.bank_account_id(stmt_raw, institution)
    cp_inst = pl.coalesce([upper_code(col(c.counterparty_institution)), institution])
    cp_id = ids.bank_account_id(col(c.counterparty_account), cp_inst)

    # --- amount and direction ---
    thousands = m.thousands or None
    is_out: pl.Expr
    dir_err: pl.Expr
    amount_abs: pl.Expr
    if c.amount:
        amount_raw = col(c.amount)
        amount_txt = decimal_text(amount_raw, m.decimal, thousands)
        amount_err = decimal_problem(amount_raw, amount_txt, "amount")
        if c.direction:
            d = col(c.direction).str.to_uppercase()
            is_out = (
                pl.when(d.is_in([v.upper() for v in m.direction_values.debit]))
                .then(True)
                .when(d.is_in([v.upper() for v in m.direction_values.credit]))
                .then(False)
            )
            dir_err = pl.when(is_out.is_null()).then(
                pl.lit("direction: unknown marker '") + d.fill_null("") + pl.lit("'; list it in direction_values")
            )
        else:
            is_out = amount_txt.str.starts_with("-")
            dir_err = pl.lit(None, dtype=pl.Utf8)
        amount_abs = amount_txt.str.strip_chars_start("-")
    else:
        debit_raw, credit_raw = col(c.debit), col(c.credit)
        debit_txt = decimal_text(debit_raw, m.decimal, thousands).str.strip_chars_start("-")
        credit_txt = decimal_text(credit_raw, m.decimal, thousands).str.strip_chars_start("-")
        has_debit = debit_txt.is_not_null() & debit_txt.str.contains(r"[1-9]")
        has_credit = credit_txt.is_not_null() & credit_txt.str.contains(r"[1-9]")
        is_out = pl.when(has_debit & ~has_credit).then(True).when(has_credit & ~has_debit).then(False)
        amount_abs = pl.when(has_debit & ~has_credit).then(debit_txt).when(has_credit & ~has_debit).then(credit_txt)
        amount_err = pl.coalesce(
            [
                decimal_problem(debit_raw, debit_txt, "debit"),
                decimal_problem(credit_raw, credit_txt, "credit"),
                pl.when(has_debit & has_credit).then(pl.lit("debit/credit: both columns hold an amount")),
                pl.when(~has_debit & ~has_credit).then(pl.lit("amount: no non-zero debit or credit amount")),
            ]
        )
        dir_err = pl.lit(None, dtype=pl.Utf8)

    # --- channel ---
    if c.channel:
        raw_channel = col(c.channel).str.to_uppercase()
        mapped = raw_channel.replace_strict(m.channel_values, default=None, return_dtype=pl.Utf8) if m.channel_values else pl.lit(None, dtype=pl.Utf8)
        own = pl.when(raw_channel.str.to_lowercase().is_in(list(CHANNELS))).then(raw_channel.str.to_lowercase())
        channel = pl.coalesce([mapped, own, pl.lit(const.channel, dtype=pl.Utf8), pl.lit("other")])
    else:
        channel = pl.lit(const.channel or "transfer")
    is_cash = channel.is_in(list(CASH_CHANNELS))
    cp_side = pl.when(cp_id.is_null() & is_cash).then(pl.lit(CASH_ACCOUNT)).otherwise(cp_id)

    # --- time ---
    when_raw = col(c.booked_at)
    if c.booked_time:
        when_raw = pl.concat_str([when_raw, col(c.booked_time)], separator=" ")
    booked_at = timestamp_utc(when_raw, m.datetime_formats, m.timezone)
    value_date = (
        timestamp_utc(col(c.value_date), m.datetime_formats, m.timezone).dt.date() if c.value_date else pl.lit(None, dtype=pl.Date)
    )

    currency = pl.coalesce([upper_code(col(c.currency)), pl.lit(const.currency.upper() if const.currency else None, dtype=pl.Utf8)])
    country = pl.lit(const.country.upper() if const.country else None, dtype=pl.Utf8)
    cp_country = upper_code(col(c.counterparty_country))

    out = frame.with_columns(
        _out=is_out,
        _amount=amount_abs,
        _stmt=stmt_id,
        _cp=cp_side,
        _booked=booked_at,
        _currency=currency,
        _channel=channel,
    )
    o = pl.col("_out")
    natural = ids.txn_key_natural(pl.col("_booked"), pl.when(o).then(pl.col("_stmt")).otherwise(pl.col("_cp")),
                                  pl.when(o).then(pl.col("_cp")).otherwise(pl.col("_stmt")), pl.col("_amount"), pl.col("_currency"))
    stmt_name, cp_name = col(c.account_name), col(c.counterparty_name)
    result = out.select(
        pl.col("row_no"),
        raw_json(out, header).alias("raw"),
        collect_errors(
            invalid_row_error(len(header)),
            pl.when(pl.col("_invalid").is_null()).then(
                pl.coalesce(
                    [
                        required_error(stmt_raw, "account"),
                        required_error(col(c.booked_at), "booked_at"),
                    ]
                )
            ),
            pl.when(pl.col("_invalid").is_null()).then(
                pl.when(in_dst_gap(when_raw, m.datetime_formats, m.timezone))
                .then(pl.lit("booked_at: '") + when_raw.str.slice(0, 40)
                      + pl.lit(f"' does not exist in {m.timezone} (skipped by a daylight-saving change); check the mapping's timezone"))
                .otherwise(parse_error(when_raw, booked_at, f"booked_at: does not match {m.datetime_formats}"))
            ),
            pl.when(pl.col("_invalid").is_null()).then(amount_err),
            pl.when(pl.col("_invalid").is_null()).then(dir_err),
        ),
        ids.txn_key_bank(col(c.uetr), col(c.end_to_end_id), (const.institution or m.name).upper(), col(c.txn_id), natural).alias("txn_key"),
        col(c.txn_id).alias("source_txn_id"),
        pl.lit("bank").alias("rail"),
        pl.col("_booked").alias("booked_at"),
        value_date.alias("value_date"),
        pl.when(o).then(pl.col("_stmt")).otherwise(pl.col("_cp")).alias("from_account_id"),
        pl.when(o).then(pl.col("_cp")).otherwise(pl.col("_stmt")).alias("to_account_id"),
        pl.col("_amount").alias("amount"),
        pl.col("_currency").alias("currency"),
        pl.col("_channel").alias("channel"),
        col(c.reference).alias("reference"),
        pl.when(o).then(stmt_name).otherwise(cp_name).alias("from_name"),
        pl.when(o).then(cp_name).otherwise(stmt_name).alias("to_name"),
        pl.when(o).then(institution).otherwise(pl.when(pl.col("_cp") != CASH_ACCOUNT).then(cp_inst)).alias("from_institution"),
        pl.when(o).then(pl.when(pl.col("_cp") != CASH_ACCOUNT).then(cp_inst)).otherwise(institution).alias("to_institution"),
        pl.when(o).then(country).otherwise(cp_country).alias("from_country"),
        pl.when(o).then(cp_country).otherwise(country).alias("to_country"),
        col(c.end_to_end_id).alias("end_to_end_id"),
        col(c.uetr).str.to_lowercase().alias("uetr"),
        col(c.bank_tx_code).alias("bank_tx_code"),
    )
    return result


READERS = [DelimitedReader()]
