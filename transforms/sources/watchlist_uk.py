"""The UK Sanctions List (FCDO) as XML: <Designations><DateGenerated>dd/mm/yyyy</DateGenerated><Designation>...

One <Designation> per person, entity or ship: UniqueID (the id used here, e.g. AFG0006), OFSIGroupID,
UNReferenceNumber, Names/Name (Name1..Name6, Name6 the family or entity name; NameType Primary Name / Alias),
NonLatinNames, RegimeName, IndividualEntityShip, DateDesignated, DOBs/DOB, Nationalities, Passport /
national-id numbers, Addresses, PhoneNumbers, EmailAddresses. Dates are dd/mm/yyyy with 00 for an unknown part.
The CSV and ODS forms of the same list, and OFSI's retired ConList, are not read yet (docs/screening.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import polars as pl

from transforms.sources import xml_safety
from transforms.sources.base import ReadContext, Reader
from transforms.sources.watchlist_fields import Listed, country_code, frame, listing_date, partial_date, phone, text

LIST_NAME = "uk_fcdo"
AUTHORITY = "UK FCDO / HM Treasury OFSI"
SCHEMAS = {"individual": "Person", "entity": "Organization", "ship": "Vessel"}


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
                version = partial_date(el.text) or text(el.text)
                continue
            rows.append(_entry(el, len(rows) + 1))
            el.clear()
        for r in rows:
            r["list_version"] = version
        yield frame(rows)


def _all(el, name: str) -> list[str]:
    return [v for v in (text(c.text) for c in el.iter() if xml_safety.local(c.tag) == name) if v]


def _first(el, name: str) -> str | None:
    found = _all(el, name)
    return found[0] if found else None


def _entry(el, n: int) -> dict:
    uid = _first(el, "UniqueID") or ""
    kind = (_first(el, "IndividualEntityShip") or "").lower()
    e = Listed(LIST_NAME, uid, SCHEMAS.get(kind, "LegalEntity"), n,
               {"UniqueID": uid, "OFSIGroupID": _first(el, "OFSIGroupID"), "UNReferenceNumber": _first(el, "UNReferenceNumber")})
    e.authority = AUTHORITY
    names = [c for c in el.iter() if xml_safety.local(c.tag) == "Name"]
    names.sort(key=lambda c: _first(c, "NameType") != "Primary Name")  # the primary name first
    for name in names:
        parts = [_first(name, f"Name{i}") for i in range(1, 7)]
        e.add_name(" ".join(p for p in parts if p))
    for name in _all(el, "NameNonLatinScript"):
        e.add_name(name)
    e.add("programs", _all(el, "RegimeName"))
    e.listed_at = listing_date(_first(el, "DateDesignated"))
    e.add("birth_dates", [partial_date(d) for d in _all(el, "DOB")])
    e.add("countries", [country_code(c) for c in _all(el, "Nationality")])
    for number in _all(el, "PassportNumber"):
        e.add_identifier("passport", number)
    for number in _all(el, "NationalIdentifierNumber") + _all(el, "NationalIdNumber"):
        e.add_identifier("national id", number)
    for number in _all(el, "BusinessRegistrationNumber") + _all(el, "RegistrationNumber"):
        e.add_identifier("registration", number)
    e.add("phones", [phone(x) for x in _all(el, "PhoneNumber")])
    e.add("emails", [x.lower() for x in _all(el, "EmailAddress")])
    for addr in (c for c in el.iter() if xml_safety.local(c.tag) == "Address"):
        e.add_address([_first(addr, f"AddressLine{i}") for i in range(1, 7)] + [_first(addr, "AddressCountry")],
                      _first(addr, "AddressCountry"))
    info = _first(el, "OtherInformation")
    if info:
        e.remarks.append(info)
    return e.row(None)


READERS = [UkSanctionsListReader()]
