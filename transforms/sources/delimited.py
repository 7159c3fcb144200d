"""Delimited bank extracts (CSV, TSV, semicolon...) described by a mapping file (transforms/sources/mapping.py).

Each row is one entry of the statement account; the mapping says which column holds the counterparty and
how the direction is expressed, and the reader turns it into a from/to transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, NamedTuple

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
    csv_raw_records,
    first_line_fields,
    invalid_row_error,
    numbered_columns,
    parse_error,
    raw_where_refused,
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
            fields = first_line_fields(lines[m.header_row - 1], m.delimiter) if len(lines) >= m.header_row else []
            if fields and m.fits_header(numbered_columns(fields) if m.rename_duplicate_columns else fields):
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
        for header, frame in csv_chunks(path, layout_of(m)):
            missing = [f"{k} -> '{v}'" for k, v in m.mapped_columns().items() if v not in header]
            if missing:
                raise InputError(
                    f"column(s) {', '.join(missing)} of mapping '{m.name}' not in the header "
                    f"(header has: {', '.join(header[:20])}); fix the mapping or the export",
                    path=path,
                )
            yield raw_where_refused(to_transactions(frame, header, m), frame, header)

    def raw_records(self, path: Path, ctx: ReadContext, row_nos: set[int]) -> dict[int, str]:
        m = self.mapping_for(path, ctx)
        return csv_raw_records(path, layout_of(m), row_nos) if m else {}


def layout_of(m: Mapping) -> CsvLayout:
    return CsvLayout(delimiter=m.delimiter, encoding=m.encoding, header_row=m.header_row, quote_char=m.quote_char,
                     number_duplicates=m.rename_duplicate_columns)


def _col(name: str | None) -> pl.Expr:
    """A mapped column (to_transactions has stripped it and made blanks NULL), or NULL when the mapping names none."""
    return pl.col(name) if name else pl.lit(None, dtype=pl.Utf8)


class _Amount(NamedTuple):
    """The amount's expressions. The others refer to the columns of `parsed` (_amount_txt, or _debit_txt and
    _credit_txt), so the frame gets `parsed` first (with_columns) and the rest after."""

    parsed: dict[str, pl.Expr]  # the expensive parses, computed once as columns before the rest refers to them
    is_out: pl.Expr  # True: the statement's account paid; NULL: undecidable (an error says why)
    amount: pl.Expr  # unsigned decimal text
    amount_err: pl.Expr
    dir_err: pl.Expr


def _amount_and_direction(m: Mapping) -> _Amount:
    """One signed amount column (with an optional direction marker column), or a debit and a credit column."""
    c, thousands = m.columns, m.thousands or None
    if c.amount:
        amount_raw = _col(c.amount)
        parsed = {"_amount_txt": decimal_text(amount_raw, m.decimal, thousands)}
        amount_txt = pl.col("_amount_txt")
        amount_err = decimal_problem(amount_raw, amount_txt, "amount")
        if c.direction:
            d = _col(c.direction).str.to_uppercase()
            is_out = (
                pl.when(d.is_in([v.upper() for v in m.direction_values.debit]))
                .then(True)
                .when(d.is_in([v.upper() for v in m.direction_values.credit]))
                .then(False)
            )
            dir_err = pl.when(is_out.is_null()).then(
                pl.lit("direction: unknown marker '") + d.fill_null("") + pl.lit("'; list it in direction_values")
            )
            return _Amount(parsed, is_out, amount_txt.str.strip_chars_start("-"), amount_err, dir_err)
        return _Amount(parsed, amount_txt.str.starts_with("-"), amount_txt.str.strip_chars_start("-"), amount_err,
                       pl.lit(None, dtype=pl.Utf8))
    debit_raw, credit_raw = _col(c.debit), _col(c.credit)
    parsed = {"_debit_txt": decimal_text(debit_raw, m.decimal, thousands).str.strip_chars_start("-"),
              "_credit_txt": decimal_text(credit_raw, m.decimal, thousands).str.strip_chars_start("-")}
    debit_txt, credit_txt = pl.col("_debit_txt"), pl.col("_credit_txt")
    has_debit = debit_txt.is_not_null() & debit_txt.str.contains(r"[1-9]")
    has_credit = credit_txt.is_not_null() & credit_txt.str.contains(r"[1-9]")
    amount_err = pl.coalesce(
        [
            decimal_problem(debit_raw, debit_txt, "debit"),
            decimal_problem(credit_raw, credit_txt, "credit"),
            pl.when(has_debit & has_credit).then(pl.lit("debit/credit: both columns hold an amount")),
            pl.when(~has_debit & ~has_credit).then(pl.lit("amount: no non-zero debit or credit amount")),
        ]
    )
    return _Amount(
        parsed,
        pl.when(has_debit & ~has_credit).then(True).when(has_credit & ~has_debit).then(False),
        pl.when(has_debit & ~has_credit).then(debit_txt).when(has_credit & ~has_debit).then(credit_txt),
        amount_err, pl.lit(None, dtype=pl.Utf8))


def _channel(m: Mapping) -> pl.Expr:
    """The bank's channel code mapped by channel_values, or already one of CHANNELS, else the constant or 'other'."""
    c, const = m.columns, m.constants
    if not c.channel:
        return pl.lit(const.channel or "transfer")
    raw_channel = _col(c.channel).str.to_uppercase()
    mapped = (raw_channel.replace_strict(m.channel_values, default=None, return_dtype=pl.Utf8) if m.channel_values
              else pl.lit(None, dtype=pl.Utf8))
    own = pl.when(raw_channel.str.to_lowercase().is_in(list(CHANNELS))).then(raw_channel.str.to_lowercase())
    return pl.coalesce([mapped, own, pl.lit(const.channel, dtype=pl.Utf8), pl.lit("other")])


def _times(m: Mapping) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """The booking time as written (date and optional time column), parsed to UTC, and the value date."""
    c = m.columns
    when_raw = _col(c.booked_at)
    if c.booked_time:
        when_raw = pl.concat_str([when_raw, _col(c.booked_time)], separator=" ")
    booked_at = timestamp_utc(when_raw, m.datetime_formats, m.timezone)
    value_date = (timestamp_utc(_col(c.value_date), m.datetime_formats, m.timezone).dt.date() if c.value_date
                  else pl.lit(None, dtype=pl.Date))
    return when_raw, booked_at, value_date


def _row_errors(header: list[str], m: Mapping, stmt_raw: pl.Expr, when_raw: pl.Expr, booked_at: pl.Expr,
                amount: _Amount) -> pl.Expr:
    """Why a row cannot load (only for rows whose fields split correctly)."""
    c = m.columns
    fine = pl.col("_invalid").is_null()
    return collect_errors(
        invalid_row_error(len(header)),
        pl.when(fine).then(pl.coalesce([required_error(stmt_raw, "account"), required_error(_col(c.booked_at), "booked_at")])),
        pl.when(fine).then(
            pl.when(in_dst_gap(when_raw, m.datetime_formats, m.timezone))
            .then(pl.lit("booked_at: '") + when_raw.str.slice(0, 40)
                  + pl.lit(f"' does not exist in {m.timezone} (skipped by a daylight-saving change); check the mapping's timezone"))
            .otherwise(parse_error(when_raw, booked_at, f"booked_at: does not match {m.datetime_formats}"))
        ),
        pl.when(fine).then(amount.amount_err),
        pl.when(fine).then(amount.dir_err),
    )


def _needs_natural_key(frame: pl.DataFrame, m: Mapping) -> bool:
    """Whether some row lacks every id the bank gives (UETR, end-to-end id, its own id): only then is the natural key
    (time, parties, amount) spelled out, which costs more than the rest of the row."""
    c = m.columns
    if not (c.uetr or c.end_to_end_id or c.txn_id):
        return True
    return frame.select((~ids.has_bank_id(_col(c.uetr), _col(c.end_to_end_id), _col(c.txn_id))).any()).item()


def to_transactions(frame: pl.DataFrame, header: list[str], m: Mapping) -> pl.DataFrame:
    """Canonical transactions from a statement extract read with its mapping: the statement's account on one side,
    the counterparty (or cash) on the other, by the row's direction."""
    c, const = m.columns, m.constants
    # the mapped columns stripped, blanks as NULL, once: every expression below reads them, some several times, and
    # polars would strip again at every use
    frame = frame.with_columns([blank_to_null(pl.col(n)).alias(n) for n in dict.fromkeys(m.mapped_columns().values())])
    institution = pl.lit(const.institution.upper() if const.institution else None, dtype=pl.Utf8)
    stmt_raw = pl.coalesce([_col(c.account), pl.lit(const.account, dtype=pl.Utf8)])
    stmt_id = ids.bank_account_id(stmt_raw, institution)
    cp_inst = pl.coalesce([upper_code(_col(c.counterparty_institution)), institution])
    cp_id = ids.bank_account_id(_col(c.counterparty_account), cp_inst)
    amount = _amount_and_direction(m)
    channel = _channel(m)
    cp_side = pl.when(cp_id.is_null() & channel.is_in(list(CASH_CHANNELS))).then(pl.lit(CASH_ACCOUNT)).otherwise(cp_id)
    when_raw, booked_at, value_date = _times(m)
    currency = pl.coalesce([upper_code(_col(c.currency)),
                            pl.lit(const.currency.upper() if const.currency else None, dtype=pl.Utf8)])
    country = pl.lit(const.country.upper() if const.country else None, dtype=pl.Utf8)
    cp_country = upper_code(_col(c.counterparty_country))

    # the parses every later column refers to, once each (time, amount), then the row's sides
    out = (frame.lazy()
           .with_columns(_when_raw=when_raw, _booked=booked_at, **amount.parsed)
           .with_columns(_out=amount.is_out, _amount=amount.amount, _stmt=stmt_id, _cp=cp_side, _currency=currency,
                         _channel=channel))
    o = pl.col("_out")
    payer = pl.when(o).then(pl.col("_stmt")).otherwise(pl.col("_cp"))
    payee = pl.when(o).then(pl.col("_cp")).otherwise(pl.col("_stmt"))
    natural = (ids.txn_key_natural(pl.col("_booked"), payer, payee, pl.col("_amount"), pl.col("_currency"))
               if _needs_natural_key(frame, m) else pl.lit(None, dtype=pl.Utf8))
    stmt_name, cp_name = _col(c.account_name), _col(c.counterparty_name)
    cp_bank = pl.when(pl.col("_cp") != CASH_ACCOUNT).then(cp_inst)  # cash has no institution
    return out.select(
        pl.col("row_no"),
        pl.lit(None, dtype=pl.Utf8).alias("raw"),  # raw_where_refused fills it where needed
        _row_errors(header, m, stmt_raw, pl.col("_when_raw"), pl.col("_booked"), amount),
        ids.txn_key_bank(_col(c.uetr), _col(c.end_to_end_id), (const.institution or m.name).upper(), _col(c.txn_id),
                         natural).alias("txn_key"),
        _col(c.txn_id).alias("source_txn_id"),
        pl.lit("bank").alias("rail"),
        pl.col("_booked").alias("booked_at"),
        value_date.alias("value_date"),
        payer.alias("from_account_id"),
        payee.alias("to_account_id"),
        pl.col("_amount").alias("amount"),
        pl.col("_currency").alias("currency"),
        pl.col("_channel").alias("channel"),
        _col(c.reference).alias("reference"),
        pl.when(o).then(stmt_name).otherwise(cp_name).alias("from_name"),
        pl.when(o).then(cp_name).otherwise(stmt_name).alias("to_name"),
        pl.when(o).then(institution).otherwise(cp_bank).alias("from_institution"),
        pl.when(o).then(cp_bank).otherwise(institution).alias("to_institution"),
        pl.when(o).then(country).otherwise(cp_country).alias("from_country"),
        pl.when(o).then(cp_country).otherwise(country).alias("to_country"),
        _col(c.end_to_end_id).alias("end_to_end_id"),
        _col(c.uetr).str.to_lowercase().alias("uetr"),
        _col(c.bank_tx_code).alias("bank_tx_code"),
    ).collect()


READERS = [DelimitedReader()]
