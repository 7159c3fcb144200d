"""The UK Sanctions List (FCDO) as XML: <Designations><DateGenerated>dd/mm/yyyy</DateGenerated><Designation>...

One <Designation> per person, entity or ship: UniqueID (the id used here, e.g. AFG0006), OFSIGroupID,
UNReferenceNumber, Names/Name (Name1..Name6, Name6 the family or entity name; NameType Primary Name / Alias),
NonLatinNames, RegimeName, IndividualEntityShip, DateDesignated, DOBs/DOB, Nationalities, Passport /
national-id numbers, Addresses, PhoneNumbers, EmailAddresses. Dates are dd/mm/yyyy with 00 or the letters dd / mm
for an unknown part. The CSV and ODS forms of the same list are read by watchlist_uk_csv.py into the same entities
(`Designation` below is what both forms come down to); OFSI's retired ConList by watchlist_ofsi.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import polars as pl

from transforms.sources import xml_safety
from transforms.sources.base import ReadContext, Reader
from transforms.sources.watchlist_fields import Listed, country_code, frame, listing_date, partial_date, phone, text

LIST_NAME = "uk_fcdo"
AUTHORITY = "UK FCDO / HM Treasury OFSI"
SCHEMAS = {"individual": "Person", "entity": "Organization", "ship": "Vessel"}
_UNKNOWN_DAY = re.compile(r"^(?:dd|DD)(?=[/.])")
_UNKNOWN_MONTH = re.compile(r"(?<=[/.])(?:mm|MM)(?=[/.])")


class UkSanctionsListReader(Reader):
    name = "uk_sanctions_list_xml"
    table = "watchlist_entities"
    priority = 8

    def detect(self, path: Path, head: str, ctx: ReadContext) -> bool:
        return path.suffix.lower() == ".xml" and "<Designations" in head and "<Designation>" in head

    def read(self, path: Path, ctx: ReadContext) -> Iterator[pl.DataFrame]:
        version: str | None = None
        rows: list[dict] = []
        for _event, el in xml_safety.iterparse(path, ("{*}DateGenerated", "{*}Designation")):
            if xml_safety.local(el.tag) == "DateGenerated":
                version = uk_date(el.text) or text(el.text)
                continue
            rows.append(designation_row(_designation(el), len(rows) + 1))
            el.clear()
        for r in rows:
            r["list_version"] = version
        yield frame(rows)


def uk_date(value: str | None) -> str | None:
    """A UK list date: dd/mm/yyyy with 00 or the letters dd / mm for an unknown day or month ('dd/mm/1945' ->
    1945), or yyyy alone."""
    v = text(value)
    if v:
        v = _UNKNOWN_MONTH.sub("00", _UNKNOWN_DAY.sub("00", v))
    return partial_date(v)


@dataclass
class Designation:
    """One designation's fields as the XML and the CSV / ODS forms both give them, in the list's order."""

    uid: str
    kind: str
    raw: Any
    names: list[str] = field(default_factory=list)  # full names (Name1 .. Name6), the primary name first
    non_latin: list[str] = field(default_factory=list)
    regimes: list[str] = field(default_factory=list)
    designated: list[str] = field(default_factory=list)
    dobs: list[str] = field(default_factory=list)
    nationalities: list[str] = field(default_factory=list)
    passports: list[str] = field(default_factory=list)
    national_ids: list[str] = field(default_factory=list)
    registrations: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    addresses: list[tuple[tuple[str | None, ...], str | None]] = field(default_factory=list)  # (lines 1..6, country)
    other_info: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


# Designation fields that are plain lists of values: (attribute, the XML's element names, the CSV's column names)
LIST_FIELDS = (
    ("non_latin", ("NameNonLatinScript",), ("name non-latin script",)),
    ("regimes", ("RegimeName",), ("regime name",)),
    ("designated", ("DateDesignated",), ("date designated",)),
    ("dobs", ("DOB",), ("d.o.b",)),
    ("nationalities", ("Nationality",), ("nationality(/ies)",)),
    ("passports", ("PassportNumber",), ("passport number",)),
    ("national_ids", ("NationalIdentifierNumber", "NationalIdNumber"), ("national identifier number",)),
    ("registrations", ("BusinessRegistrationNumber", "RegistrationNumber"), ("business registration number (s)",)),
    ("phones", ("PhoneNumber",), ("phone number",)),
    ("emails", ("EmailAddress",), ("email address",)),
    ("other_info", ("OtherInformation",), ("other information",)),
)


def full_name(parts: list[str | None]) -> str:
    """Name1 .. Name6 in that order (Name6, the family or entity name, last)."""
    return " ".join(p for p in (text(x) for x in parts) if p)


def designation_row(d: Designation, n: int) -> dict:
    e = Listed(LIST_NAME, d.uid, SCHEMAS.get(d.kind.lower(), "LegalEntity"), n, d.raw)
    e.authority = AUTHORITY
    e.errors.extend(d.errors)
    for name in d.names + d.non_latin:
        e.add_name(name)
    e.add("programs", d.regimes)
    e.listed_at = listing_date(d.designated[0]) if d.designated else None
    e.add("birth_dates", [uk_date(x) for x in d.dobs])
    e.add("countries", [country_code(c) for c in d.nationalities])
    for number in d.passports:
        e.add_identifier("passport", number)
    for number in d.national_ids:
        e.add_identifier("national id", number)
    for number in d.registrations:
        e.add_identifier("registration", number)
    e.add("phones", [phone(x) for x in d.phones])
    e.add("emails", [x.lower() for x in d.emails])
    for lines, country in d.addresses:
        e.add_address([*lines, country], country)
    if d.other_info:
        e.remarks.append(d.other_info[0])
    return e.row(None)


def _all(el, name: str) -> list[str]:
    return [v for v in (text(c.text) for c in el.iter() if xml_safety.local(c.tag) == name) if v]


def _first(el, name: str) -> str | None:
    found = _all(el, name)
    return found[0] if found else None


def _designation(el) -> Designation:
    uid = _first(el, "UniqueID") or ""
    d = Designation(uid, _first(el, "IndividualEntityShip") or "",
                    {"UniqueID": uid, "OFSIGroupID": _first(el, "OFSIGroupID"),
                     "UNReferenceNumber": _first(el, "UNReferenceNumber")})
    names = [c for c in el.iter() if xml_safety.local(c.tag) == "Name"]
    names.sort(key=lambda c: _first(c, "NameType") != "Primary Name")  # the primary name first
    d.names = [full_name([_first(name, f"Name{i}") for i in range(1, 7)]) for name in names]
    for attribute, tags, _columns in LIST_FIELDS:
        setattr(d, attribute, [v for tag in tags for v in _all(el, tag)])
    d.addresses = [(tuple(_first(addr, f"AddressLine{i}") for i in range(1, 7)), _first(addr, "AddressCountry"))
                   for addr in (c for c in el.iter() if xml_safety.local(c.tag) == "Address")]
    return d


READERS = [UkSanctionsListReader()]
