"""scamtrace's own CSV layouts (docs/layouts.md): KYC parties and accounts, events, FX rates.

Each layout is detected by its required columns in the header; extra columns are tolerated.
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import Iterator

import polars as pl

from transforms import ids
from transforms.sources.base import (
    CsvLayout,
    ReadContext,
    Reader,
    cell as c,
    collect_errors,
    csv_chunks,
    first_line_fields,
    if_well_formed as valid,
    invalid_row_error,
    parse_error,
    raw_json,
    required_error,
)
from transforms.sources.fields import decimal_problem, decimal_text, timestamp_utc, upper_code

ISO_TIMES = [
    "%Y-%m-%dT%H:%M:%S%.f%:z",
    "%Y-%m-%d %H:%M:%S%.f%:z",
    "%Y-%m-%dT%H:%M:%S%:z",
    "%Y-%m-%d %H:%M:%S%:z",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
]


def iso_time(value: pl.Expr) -> pl.Expr:
    return timestamp_utc(value, ISO_TIMES, "UTC")


def iso_date(value: pl.Expr) -> pl.Expr:
    return value.str.strip_chars().str.strptime(pl.Date, "%Y-%m-%d", strict=False)


class OwnCsvReader(Reader):
    required: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()  # columns that mark another layout

    def detect(self, path: Path, head: str, ctx: ReadContext) -> bool:
        fields = {f.lower() for f in first_line_fields(head)}
        return set(self.required) <= fields and not (set(self.forbidden) & fields)

    def read(self, path: Path, ctx: ReadContext) -> Iterator[pl.DataFrame]:
        for header, frame in csv_chunks(path, CsvLayout()):
            lower = {h: h.lower() for h in header}
            frame = frame.rename(lower)
            header_l = [lower[h] for h in header]
            missing = [c for c in self.optional if c not in header_l]
            if missing:
                frame = frame.with_columns([pl.lit(None, dtype=pl.Utf8).alias(c) for c in missing])
            yield self.convert(frame, header_l)

    optional: tuple[str, ...] = ()

    @abstractmethod
    def convert(self, frame: pl.DataFrame, header: list[str]) -> pl.DataFrame:
        """Canonical rows of this layout from the string-typed chunk."""



class FxRatesReader(OwnCsvReader):
    name = "fx_rates"
    table = "fx_rates"
    priority = 10
    required = ("date", "currency", "usd_per_unit")

    def convert(self, frame, header):
        rate = decimal_text(c("usd_per_unit"))
        day = iso_date(c("date"))
        return frame.select(
            "row_no",
            raw_json(frame, header).alias("raw"),
            collect_errors(
                invalid_row_error(len(header)),
                valid(parse_error(c("date"), day, "date: not YYYY-MM-DD")),
                valid(decimal_problem(c("usd_per_unit"), rate, "usd_per_unit")),
            ),
            day.alias("rate_date"),
            upper_code(c("currency")).alias("currency"),
            rate.alias("usd_per_unit"),
        )


class PartiesReader(OwnCsvReader):
    name = "kyc_parties"
    table = "parties"
    priority = 20
    required = ("party_id", "party_type", "name")
    optional = ("birth_date", "nationality", "id_number", "registration_no", "phone", "email", "address", "country")

    def convert(self, frame, header):
        born = iso_date(c("birth_date"))
        return frame.select(
            "row_no",
            raw_json(frame, header).alias("raw"),
            collect_errors(
                invalid_row_error(len(header)),
                valid(parse_error(c("birth_date"), born, "birth_date: not YYYY-MM-DD")),
            ),
            c("party_id").alias("party_id"),
            c("party_type").str.to_lowercase().alias("party_type"),
            c("name").alias("name"),
            born.alias("birth_date"),
            upper_code(c("nationality")).alias("nationality"),
            c("id_number").alias("id_number"),
            c("registration_no").alias("registration_no"),
            c("phone").str.replace_all(r"[\s\-()]", "").alias("phone"),
            c("email").str.to_lowercase().alias("email"),
            c("address").alias("address"),
            upper_code(c("country")).alias("country"),
        )


def account_id_expr(rail: pl.Expr) -> pl.Expr:
    """Bank: INSTITUTION:NUMBER (or IBAN); crypto: chain:address (EVM lower-cased)."""
    chain = c("chain").str.to_lowercase()
    evm = chain.is_in(list(ids.EVM_CHAINS))
    address = pl.when(evm).then(c("account").str.to_lowercase()).otherwise(c("account"))
    return (
        pl.when(rail == "crypto")
        .then(pl.when(chain.is_not_null() & address.is_not_null()).then(chain + pl.lit(":") + address))
        .otherwise(ids.bank_account_id(c("account"), c("institution")))
    )


class AccountsReader(OwnCsvReader):
    name = "kyc_accounts"
    table = "accounts"
    priority = 20
    required = ("rail", "account")
    optional = ("institution", "chain", "holder_id", "opened_at", "country", "kind", "label")

    def convert(self, frame, header):
        rail = c("rail").str.to_lowercase()
        opened = iso_time(c("opened_at"))
        return frame.select(
            "row_no",
            raw_json(frame, header).alias("raw"),
            collect_errors(
                invalid_row_error(len(header)),
                valid(required_error(c("account"), "account")),
                valid(pl.when((rail == "crypto") & c("chain").is_null()).then(pl.lit("chain: required for a crypto account"))),
                valid(parse_error(c("opened_at"), opened, "opened_at: not an ISO 8601 time")),
            ),
            account_id_expr(rail).alias("account_id"),
            rail.alias("rail"),
            pl.coalesce([upper_code(c("institution")), c("label")]).alias("institution"),
            c("holder_id").alias("holder_id"),
            opened.alias("opened_at"),
            upper_code(c("country")).alias("country"),
            c("kind").str.to_lowercase().alias("kind"),
            c("label").alias("label"),
        )


class EventsReader(OwnCsvReader):
    name = "events"
    table = "events"
    priority = 70
    required = ("event_id", "occurred_at", "kind")
    optional = ("institution", "account", "party_id", "ip", "device_id", "phone", "lat", "lon")

    def convert(self, frame, header):
        when = iso_time(c("occurred_at"))
        lat = c("lat").cast(pl.Float64, strict=False)
        lon = c("lon").cast(pl.Float64, strict=False)
        return frame.select(
            "row_no",
            raw_json(frame, header).alias("raw"),
            collect_errors(
                invalid_row_error(len(header)),
                valid(parse_error(c("occurred_at"), when, "occurred_at: not an ISO 8601 time")),
                valid(parse_error(c("lat"), lat, "lat: not a number")),
                valid(parse_error(c("lon"), lon, "lon: not a number")),
            ),
            c("event_id").alias("event_id"),
            ids.bank_account_id(c("account"), c("institution")).alias("account_id"),
            c("party_id").alias("party_id"),
            when.alias("occurred_at"),
            c("kind").str.to_lowercase().alias("kind"),
            c("ip").alias("ip"),
            c("device_id").alias("device_id"),
            c("phone").str.replace_all(r"[\s\-()]", "").alias("phone"),
            lat.alias("lat"),
            lon.alias("lon"),
        )


class DispositionsReader(OwnCsvReader):
    """Analysts' decisions: subject_id,disposition,decided_at,analyst,note (docs/layouts.md)."""

    name = "dispositions"
    table = "dispositions"
    priority = 80
    required = ("subject_id", "disposition", "decided_at")
    optional = ("analyst", "note")

    def convert(self, frame, header):
        when = iso_time(c("decided_at"))
        return frame.select(
            "row_no",
            raw_json(frame, header).alias("raw"),
            collect_errors(
                invalid_row_error(len(header)),
                valid(parse_error(c("decided_at"), when, "decided_at: not an ISO 8601 time")),
            ),
            c("subject_id").str.strip_chars().alias("subject_id"),
            c("disposition").str.strip_chars().str.to_lowercase().str.replace_all(r"[\s-]+", "_").alias("disposition"),
            when.alias("decided_at"),
            c("analyst").alias("analyst"),
            c("note").alias("note"),
        )


READERS = [FxRatesReader(), PartiesReader(), AccountsReader(), EventsReader(), DispositionsReader()]
