"""Mapping files: how one bank's delimited extract maps onto canonical transactions (docs/mapping.md).

A new core-banking layout needs a new mapping file and nothing else. The model is strict: an unknown key is
an error with a suggestion, so a typo never silently drops a column.
"""

from __future__ import annotations

import difflib
import fnmatch
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from transforms.errors import ConfigError
from transforms.schema import CHANNELS



class Columns(BaseModel):
    """Extract column names for each canonical field (all optional but `booked_at` and the account)."""

    model_config = ConfigDict(extra="forbid")

    txn_id: str | None = Field(None, description="the bank's own transaction reference")
    booked_at: str | None = Field(None, description="booking date or date+time")
    booked_time: str | None = Field(None, description="time, when the date and time are in separate columns")
    value_date: str | None = None
    account: str | None = Field(None, description="the statement account (whose extract this is)")
    account_name: str | None = None
    counterparty_account: str | None = None
    counterparty_institution: str | None = None
    counterparty_name: str | None = None
    counterparty_country: str | None = None
    amount: str | None = Field(None, description="signed amount: negative = money leaving `account`")
    direction: str | None = Field(None, description="debit/credit marker for an unsigned `amount`")
    debit: str | None = Field(None, description="money out, when debit and credit are separate columns")
    credit: str | None = Field(None, description="money in")
    currency: str | None = None
    channel: str | None = None
    reference: str | None = None
    end_to_end_id: str | None = None
    uetr: str | None = None
    bank_tx_code: str | None = None


class Constants(BaseModel):
    """Values the whole file shares and so does not carry in a column."""

    model_config = ConfigDict(extra="forbid")

    currency: str | None = None
    institution: str | None = None
    country: str | None = None
    channel: str | None = None
    account: str | None = None


class DirectionValues(BaseModel):
    model_config = ConfigDict(extra="forbid")

    debit: list[str] = ["D", "DR", "DEBIT", "OUT", "-"]
    credit: list[str] = ["C", "CR", "CREDIT", "IN", "+"]


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9_]+$", description="short name; provenance source is delimited:<name>")
    description: str | None = None
    files: list[str] = Field(default_factory=list, description="file-name patterns this mapping claims")
    delimiter: str = ","
    quote_char: str = '"'
    encoding: str = "utf-8"
    header_row: int = Field(1, ge=1)
    rename_duplicate_columns: bool = Field(False, description="a repeated column name gets a suffix: 'Währung', 'Währung_2'")
    decimal: Literal[".", ","] = "."
    thousands: Literal[",", ".", " ", "'", ""] | None = None
    timezone: str = "UTC"
    datetime_formats: list[str] = Field(default_factory=lambda: ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"])
    constants: Constants = Field(default_factory=Constants)
    columns: Columns
    direction_values: DirectionValues = Field(default_factory=DirectionValues)
    channel_values: dict[str, str] = Field(default_factory=dict, description="extract value -> canonical channel")

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, v: str) -> str:
        v = "\t" if v in ("\\t", "tab") else v
        if len(v) != 1:
            raise ValueError("must be one character (use '\\t' for tab)")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{v}' (use an IANA name such as Asia/Bangkok)") from None
        return v

    @field_validator("channel_values")
    @classmethod
    def _channels(cls, v: dict[str, str]) -> dict[str, str]:
        bad = sorted({c for c in v.values() if c not in CHANNELS})
        if bad:
            raise ValueError(f"unknown channel(s) {bad}; use one of {list(CHANNELS)}")
        return {k.strip().upper(): c for k, c in v.items()}

    @model_validator(mode="after")
    def _amount_layout(self) -> "Mapping":
        c = self.columns
        if not c.booked_at:
            raise ValueError("columns.booked_at is required")
        if not (c.account or self.constants.account):
            raise ValueError("columns.account (or constants.account) is required: whose statement is this?")
        if c.amount and (c.debit or c.credit):
            raise ValueError("give either columns.amount (signed, or with columns.direction) or columns.debit/credit, not both")
        if not c.amount and not (c.debit and c.credit):
            raise ValueError("give columns.amount, or both columns.debit and columns.credit")
        if not (c.currency or self.constants.currency):
            raise ValueError("columns.currency or constants.currency is required")
        if self.constants.channel and self.constants.channel not in CHANNELS:
            raise ValueError(f"constants.channel must be one of {list(CHANNELS)}")
        if self.thousands and self.thousands == self.decimal:
            raise ValueError("thousands and decimal separators must differ")
        return self

    def mapped_columns(self) -> dict[str, str]:
        return {k: v for k, v in self.columns.model_dump().items() if v}

    def claims(self, path: Path) -> bool:
        return any(fnmatch.fnmatch(path.name, pat) for pat in self.files)

    def fits_header(self, header: list[str]) -> bool:
        return set(self.mapped_columns().values()) <= set(header)


def load_mapping(path: Path) -> Mapping:
    try:
        return load_mapping_text(Path(path).read_text(encoding="utf-8"), path)
    except FileNotFoundError:
        raise ConfigError("mapping file not found", path=path) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not valid YAML ({str(exc).splitlines()[0]})", path=path) from None


def load_mapping_text(text: str, path: Path) -> Mapping:
    """A mapping from its YAML text; `path` names it in errors."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML ({str(exc).splitlines()[0]})", path=path) from None
    if not isinstance(data, dict):
        raise ConfigError("a mapping file is a YAML mapping with name, columns, ...; see docs/mapping.md", path=path)
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            known = _known_keys(err["loc"])
            guess = difflib.get_close_matches(str(err["loc"][-1]), known, n=1)
            msg = "unknown key" + (f"; did you mean '{guess[0]}'?" if guess else f"; known keys: {', '.join(known)}")
        raise ConfigError(f"{msg}; see docs/mapping.md", path=path, field=loc) from None


def _known_keys(loc: tuple) -> list[str]:
    model: type[BaseModel] = Mapping
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        ann = getattr(field, "annotation", None) if field else None
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
    return list(model.model_fields)
