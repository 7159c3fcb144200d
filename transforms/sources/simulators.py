"""Transaction logs of the public AML simulators, so that detection can be measured on worlds we did not build.

- IBM AMLSim: the Java `tx_log.csv` (step, type, amount, nameOrig, ..., isSAR, alertID).
- AI Sweden AMLGentex: `tx_log` rows as CSV (step, ..., nameOrig, nameDest, bankOrig, bankDest, ..., patternID,
  modelType), or the packaged `transfers.csv` with its own tx_id and day columns.
- IBM AMLworld (Altman et al., NeurIPS 2023): `*_Trans.csv` (Timestamp, From Bank, Account, To Bank, Account, ...).

The simulators have no time of day (AMLSim and AMLGentex count days in `step` from their configured base date; the
upstream defaults are used) and no currency (AMLSim and AMLGentex amounts are unit-less, loaded as USD so that the
USD rules read them as they are). The truth columns (isSAR, alertID, patternID, Is Laundering) are kept only in the
raw record: rules never see them. worlds/truth_formats.py reads the truth and names the same accounts and
transactions through account_id() and txn_key() below.
"""

from __future__ import annotations

from abc import abstractmethod
from datetime import date
from pathlib import Path
from typing import Any, Iterator

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
from transforms.sources.fields import decimal_problem, decimal_text, timestamp_utc

# Upstream defaults of `base_date` (AMLSim conf.json, AMLGentex data.yaml): step 0 is this day.
BASE_DATE = {"amlsim": date(2017, 1, 1), "amlgentex": date(2023, 1, 1)}
SIM_CURRENCY = "USD"  # the simulators' amounts carry no currency
# AMLworld names currencies in words; the ISO 4217 code (XBT-like crypto keeps its ticker).
AMLWORLD_CURRENCIES = {
    "US Dollar": "USD", "Euro": "EUR", "UK Pound": "GBP", "Yuan": "CNY", "Yen": "JPY", "Rupee": "INR",
    "Ruble": "RUB", "Canadian Dollar": "CAD", "Australian Dollar": "AUD", "Swiss Franc": "CHF",
    "Mexican Peso": "MXN", "Brazil Real": "BRL", "Shekel": "ILS", "Saudi Riyal": "SAR", "Bitcoin": "BTC",
}
AMLWORLD_CHANNELS = {"Cash": "cash_deposit", "Credit Card": "card", "Wire": "wire", "Bitcoin": "onchain"}


def account_id(institution: pl.Expr | str, number: pl.Expr) -> pl.Expr:
    """The canonical id of a simulator account: INSTITUTION:NUMBER, as for any bank account without IBAN."""
    inst = pl.lit(institution) if isinstance(institution, str) else institution
    return ids.bank_account_id(number.cast(pl.Utf8), inst)


def txn_key(simulator: str, native_id: pl.Expr) -> pl.Expr:
    """Key of a simulator transfer: the simulator and the row's own id (AMLSim's tran_id is the tx_log row number)."""
    return ids.txn_key_native(simulator, native_id.cast(pl.Utf8))


def step_day(simulator: str, step: pl.Expr) -> pl.Expr:
    """Booking time of a step: midnight UTC of base date + step days (the simulators have dates only)."""
    base = pl.lit(BASE_DATE[simulator]).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    return base + pl.duration(days=step)


class SimulatorReader(Reader):
    table = "transactions"
    priority = 60
    signature: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    layout = CsvLayout()

    def detect(self, path: Path, head: str, ctx: ReadContext) -> bool:
        fields = set(first_line_fields(head))
        return set(self.signature) <= fields and not (set(self.absent) & fields)

    def read(self, path: Path, ctx: ReadContext) -> Iterator[pl.DataFrame]:
        for header, frame in csv_chunks(path, self.layout):
            yield self.convert(frame, header)

    @abstractmethod
    def fields(self, header: list[str]) -> dict[str, Any]:
        """Expressions (pl.Expr) and field names (str) for the transfer: see _steps() for the keys."""

    def convert(self, frame: pl.DataFrame, header: list[str]) -> pl.DataFrame:
        f = self.fields(header)
        amount = decimal_text(f["amount"])
        return frame.select(
            "row_no",
            raw_json(frame, header).alias("raw"),
            collect_errors(
                invalid_row_error(len(header)),
                valid(required_error(f["from"], f["from_field"])),
                valid(required_error(f["to"], f["to_field"])),
                valid(parse_error(f["time_raw"], f["time"], f"{f['time_field']}: not a {f['time_hint']}")),
                valid(decimal_problem(f["amount"], amount, f["amount_field"])),
                valid(pl.when(amount.str.starts_with("-")).then(pl.lit(f"{f['amount_field']}: negative"))),
                valid(pl.when(f["currency"].is_null()).then(pl.lit("currency: not one the simulator names"))),
            ),
            f["key"].alias("txn_key"),
            f["native_id"].alias("source_txn_id"),
            pl.lit("bank").alias("rail"),
            f["time"].alias("booked_at"),
            f["from_id"].alias("from_account_id"),
            f["to_id"].alias("to_account_id"),
            amount.alias("amount"),
            f["currency"].alias("currency"),
            f["channel"].alias("channel"),
            f["from_inst"].alias("from_institution"),
            f["to_inst"].alias("to_institution"),
        )

    def _steps(self, simulator: str, step_col: str, orig: str, dest: str, from_inst: pl.Expr | str,
               to_inst: pl.Expr | str, native_id: pl.Expr) -> dict[str, Any]:
        step = c(step_col).cast(pl.Int32, strict=False)
        fi = pl.lit(from_inst) if isinstance(from_inst, str) else from_inst
        ti = pl.lit(to_inst) if isinstance(to_inst, str) else to_inst
        return {
            "time_raw": c(step_col), "time": step_day(simulator, step), "time_field": step_col,
            "time_hint": "day number", "from": c(orig), "to": c(dest), "from_field": orig, "to_field": dest,
            "from_id": account_id(fi, c(orig)), "to_id": account_id(ti, c(dest)),
            "from_inst": fi.str.to_uppercase(), "to_inst": ti.str.to_uppercase(),
            "amount": c("amount"), "amount_field": "amount", "currency": pl.lit(SIM_CURRENCY),
            "channel": pl.lit("transfer"), "native_id": native_id, "key": txn_key(simulator, native_id),
        }


class AmlsimTxLog(SimulatorReader):
    """AMLSim's `tx_log.csv`; the transaction's id is its 1-based data-row number (upstream's tran_id)."""

    name = "amlsim_tx_log"
    signature = ("step", "type", "amount", "nameOrig", "nameDest", "isSAR", "alertID")
    absent = ("patternID",)

    def fields(self, header):
        return self._steps("amlsim", "step", "nameOrig", "nameDest", "AMLSIM", "AMLSIM", pl.col("row_no").cast(pl.Utf8))


class AmlgentexTxLog(SimulatorReader):
    """AMLGentex `tx_log` rows (account-to-account); source and sink rows (ids < 0) have no account and are refused
    with their reason. The id is the data-row number of the file."""

    name = "amlgentex_tx_log"
    signature = ("step", "amount", "nameOrig", "nameDest", "bankOrig", "bankDest", "patternID", "modelType")
    absent = ("tx_id",)

    def fields(self, header):
        f = self._steps("amlgentex", "step", "nameOrig", "nameDest", c("bankOrig"), c("bankDest"),
                        pl.col("row_no").cast(pl.Utf8))
        return _external_is_null(f, "nameOrig", "nameDest")


class AmlgentexTransfers(SimulatorReader):
    """AMLGentex transfers packaged with their own `tx_id` and `day` (date) columns."""

    name = "amlgentex_transfers"
    signature = ("tx_id", "day", "src", "dst", "amount", "bankOrig", "bankDest", "patternID")

    def fields(self, header):
        f = self._steps("amlgentex", "step", "src", "dst", c("bankOrig"), c("bankDest"), c("tx_id"))
        f.update(time_raw=c("day"), time=timestamp_utc(c("day"), ["%Y-%m-%d"], "UTC"), time_field="day", time_hint="date (YYYY-MM-DD)")
        return _external_is_null(f, "src", "dst")


def _external_is_null(f: dict, orig: str, dest: str) -> dict:
    """Negative ids are the simulator's external source (-2) and sink (-1): not accounts."""
    for end, col in (("from", orig), ("to", dest)):
        external = c(col).str.starts_with("-")
        f[end] = pl.when(external).then(None).otherwise(f[end])
        f[f"{end}_id"] = pl.when(external).then(None).otherwise(f[f"{end}_id"])
        f[f"{end}_field"] = f"{col} (an account, not the simulator's external source or sink)"
    return f


class AmlworldTransactions(SimulatorReader):
    """IBM AMLworld `*_Trans.csv`: the payment as its payer sent it (Amount Paid, Payment Currency). The file has
    no id: the key is the whole record, which the truth in Patterns.txt repeats verbatim."""

    name = "amlworld"
    signature = ("Timestamp", "From Bank", "Account", "To Bank", "Amount Paid", "Payment Currency", "Payment Format")
    layout = CsvLayout(number_duplicates=True)  # the header names two columns 'Account'

    def fields(self, header):
        from_acct, to_acct = "Account", "Account_2"
        time = timestamp_utc(c("Timestamp"), ["%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S"], "UTC")
        currency = c("Payment Currency").replace_strict(AMLWORLD_CURRENCIES, default=None)
        native = amlworld_record_key([pl.col(h).fill_null("") for h in header])
        return {
            "time_raw": c("Timestamp"), "time": time, "time_field": "Timestamp", "time_hint": "YYYY/MM/DD HH:MM time",
            "from": c(from_acct), "to": c(to_acct), "from_field": "Account (payer)", "to_field": "Account (payee)",
            "from_id": account_id(c("From Bank"), c(from_acct)), "to_id": account_id(c("To Bank"), c(to_acct)),
            "from_inst": c("From Bank"), "to_inst": c("To Bank"),
            "amount": c("Amount Paid"), "amount_field": "Amount Paid", "currency": currency,
            "channel": c("Payment Format").replace_strict(AMLWORLD_CHANNELS, default="transfer"),
            "native_id": pl.lit(None, pl.Utf8), "key": txn_key("amlworld", native),
        }


def amlworld_record_key(fields: list[pl.Expr]) -> pl.Expr:
    """The record's fields joined: the same text for a row of *_Trans.csv and its copy in Patterns.txt."""
    return pl.concat_str([f.str.strip_chars() for f in fields], separator=",")


READERS = [AmlsimTxLog(), AmlgentexTxLog(), AmlgentexTransfers(), AmlworldTransactions()]
