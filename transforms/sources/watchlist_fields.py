"""What the watch-list readers share: one entity row of watchlist_entities and the cleaning of its fields.

Every list format (OFAC SDN XML / CSV, UN consolidated XML, UK lists, FollowTheMoney JSON lines) comes down to
the same row (transforms/schema.py WATCHLIST_ENTITIES): a name, its aliases and the identifiers that confirm or rule
out a name match. Countries are ISO alpha-2 in lower case (FollowTheMoney's form), identifiers keep letters and
digits only, wallets become account ids, dates stay as precise as the list gives them (1970, 1970-05, 1970-05-12).
A messy value (a "circa 1962" birth date) never refuses an entity: it stays in the remarks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from transforms.ids import OFAC_CODES, account_ids
from transforms.sources.base import json_dumps

LIST_COLUMNS = ("aliases", "birth_dates", "countries", "id_numbers", "registration_nos", "wallets", "phones", "emails",
                "addresses", "programs")
SCHEMA: dict[str, Any] = {
    "row_no": pl.Int64, "raw": pl.Utf8, "errors": pl.List(pl.Utf8),
    "entity_id": pl.Utf8, "list_name": pl.Utf8, "list_version": pl.Utf8, "native_id": pl.Utf8, "schema": pl.Utf8,
    "name": pl.Utf8, **{c: pl.List(pl.Utf8) for c in LIST_COLUMNS},
    "authority": pl.Utf8, "listed_at": pl.Date, "remarks": pl.Utf8,
}
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_DIGITS = re.compile(r"\D+")
_SPACE = re.compile(r"\s+")
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_WALLET_CODE = re.compile(r"Digital Currency Address - ([A-Z0-9]+)", re.IGNORECASE)


@dataclass
class Listed:
    """One designated entity while a reader collects its fields (sets keep each value once, in order)."""

    list_name: str
    native_id: str
    schema: str
    row_no: int
    raw: Any
    name: str | None = None
    aliases: list[str] = field(default_factory=list)
    birth_dates: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    id_numbers: list[str] = field(default_factory=list)
    registration_nos: list[str] = field(default_factory=list)
    wallets: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    programs: list[str] = field(default_factory=list)
    authority: str | None = None
    listed_at: Any = None
    remarks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, column: str, value: Any) -> None:
        """Add a cleaned value to a list column (None and repeats are dropped)."""
        values = value if isinstance(value, (list, tuple)) else [value]
        target: list[str] = getattr(self, column)
        for v in values:
            if v is not None and v != "" and v not in target:
                target.append(v)

    def add_name(self, name: str | None) -> None:
        name = text(name)
        if not name:
            return
        if self.name is None:
            self.name = name
        elif name != self.name:
            self.add("aliases", name)

    def add_address(self, parts: list[str | None], country: str | None) -> None:
        """A listed address from its parts (country last) and its country among the entity's countries."""
        self.add("addresses", ", ".join(p for p in parts if p) or None)
        self.add("countries", country_code(country))

    def add_identifier(self, kind: str, value: str | None, country: str | None = None) -> None:
        """Route a listed identifier by its kind: wallet, phone, e-mail, registration or personal id number."""
        value = text(value)
        if not value:
            return
        k = kind.lower()
        wallet = _WALLET_CODE.search(kind)
        if wallet or "wallet" in k or "crypto" in k:
            code = wallet.group(1).upper() if wallet else None
            self.add("wallets", account_ids(value, OFAC_CODES.get(code) if code else None))
        elif "phone" in k or "telephone" in k:
            self.add("phones", phone(value))
        elif "email" in k or "e-mail" in k:
            self.add("emails", value.strip().lower())
        elif any(w in k for w in ("registration", "tax", "company number", "business", "licen", "inn", "ogrn", "lei",
                                  "d-u-n-s", "swift", "vat")):
            self.add("registration_nos", ident(value))
        elif any(w in k for w in ("passport", "national", "identi", "cedula", "id no", "id card", "ssn", "citizen",
                                  "personal", "residen", "driver", "voter", "document")):
            self.add("id_numbers", ident(value))
        if country:
            self.add("countries", country_code(country))

    @property
    def entity_id(self) -> str:
        return f"{self.list_name}:{self.native_id}"

    def row(self, list_version: str | None) -> dict:
        errors = list(self.errors)
        if not self.name:
            errors.append("name: the entry has no name")
        if not self.native_id:
            errors.append("id: the entry has no id in its list")
        return {
            "row_no": self.row_no, "raw": self.raw if isinstance(self.raw, str) else json_dumps(self.raw),
            "errors": errors, "entity_id": self.entity_id, "list_name": self.list_name, "list_version": list_version,
            "native_id": self.native_id, "schema": self.schema, "name": self.name,
            **{c: getattr(self, c) for c in LIST_COLUMNS},
            "authority": self.authority, "listed_at": self.listed_at,
            "remarks": "; ".join(self.remarks) or None,
        }


def frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMA)


def text(value: Any) -> str | None:
    """A trimmed text with single spaces, or None (OFAC's '-0-' placeholder counts as empty)."""
    if value is None:
        return None
    s = _SPACE.sub(" ", str(value)).strip()
    return None if s in ("", "-0-", "-0") else s


def ident(value: str | None) -> str | None:
    """An identifier's comparable form: letters and digits only, upper case."""
    s = _NOT_ALNUM.sub("", value or "").upper()
    return s or None


def phone(value: str | None) -> str | None:
    digits = _DIGITS.sub("", value or "")
    return digits if len(digits) >= 6 else None


def country_code(value: str | None) -> str | None:
    """ISO alpha-2 (lower case) of a country name or code, or None when unknown."""
    from followthemoney.types import registry

    v = text(value)
    return registry.country.clean(v) if v else None


def partial_date(value: str | None) -> str | None:
    """An ISO date as precise as given: '12 Jan 1970' -> 1970-01-12, 'Jan 1970' -> 1970-01, '1970' -> 1970;
    '00/00/1970' (UK: unknown day and month) -> 1970. None when the text is not a date."""
    v = text(value)
    if not v:
        return None
    v = v.strip().rstrip(".")
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:T.*)?", v)
    if m:
        return _iso(m.group(1), m.group(2), m.group(3))
    m = re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", v)  # dd/mm/yyyy (UK, UN)
    if m:
        return _iso(m.group(3), m.group(2), m.group(1))
    m = re.fullmatch(r"(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?\s+(\d{4})", v)  # 12 Jan 1970
    if m and m.group(2).lower() in _MONTHS:
        return _iso(m.group(3), str(_MONTHS[m.group(2).lower()]), m.group(1))
    m = re.fullmatch(r"([A-Za-z]{3})[a-z]*\.?\s+(\d{4})", v)  # Jan 1970
    if m and m.group(1).lower() in _MONTHS:
        return _iso(m.group(2), str(_MONTHS[m.group(1).lower()]), None)
    return None


def _iso(year: str, month: str | None, day: str | None) -> str | None:
    y = int(year)
    if not 1800 <= y <= 2100:
        return None
    mo = int(month) if month else 0
    d = int(day) if day else 0
    if mo == 0:
        return f"{y:04d}"
    if not 1 <= mo <= 12:
        return None
    if d == 0:
        return f"{y:04d}-{mo:02d}"
    try:
        datetime(y, mo, d)
    except ValueError:
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def listing_date(value: str | None):
    """A full designation date (DATE column), or None when the list gives less than a day."""
    iso = partial_date(value)
    if iso and len(iso) == 10:
        return datetime.strptime(iso, "%Y-%m-%d").date()
    return None
