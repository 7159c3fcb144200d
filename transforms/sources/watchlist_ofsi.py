"""HM Treasury / OFSI Consolidated List of Financial Sanctions Targets as CSV (ConList.csv), frozen by OFSI on
28 January 2026 in favour of the FCDO UK Sanctions List (watchlist_uk.py) but still held in case files.

Line 1 is `Last Updated,dd/mm/yyyy` (the list's version), line 2 the header, then one row per name variant: the
rows sharing `Group ID` are one target (the id used here, uk_hmt:<Group ID>). The 2022 format has 36 columns:
Name 6 (family or entity name), Name 1 .. Name 5, Title, Name Non-Latin Script, Non-Latin Script Type / Language,
DOB (dd/mm/yyyy, dd/mm/1969 when only the year is known), Town / Country of Birth, Nationality, Passport Number /
Details, National Identification Number / Details, Position, Address 1 .. 6, Post/Zip Code, Country, Other
Information (with '(UK Sanctions List Ref):AFG0006'), Group Type (Individual / Entity / Ship), Alias Type (Primary
name / Primary name variation / AKA / FKA), Alias Quality, Regime, Listed On, UK Sanctions List Date Designated,
Last Updated, Group ID. Columns are looked up by their header names, so older and newer layouts read the same.
Numbered lists in one cell ('(1) Syria (2) Lebanon') are split. A row with the wrong number of fields or without
a Group ID is quarantined with that reason.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import polars as pl

from transforms.sources.base import ReadContext, Reader, first_line_fields
from transforms.sources.watchlist_fields import Listed, country_code, listing_date, text
from transforms.sources.watchlist_uk import SCHEMAS, full_name, uk_date
from transforms.sources.watchlist_uk_csv import csv_records, header_row, norm, read_grouped, values

LIST_NAME = "uk_hmt"
AUTHORITY = "HM Treasury OFSI"
HEADER_WORDS = {"name 6", "group id", "group type"}
_NUMBERED = re.compile(r"\(\d{1,2}\)")


class OfsiConListReader(Reader):
    name = "ofsi_conlist_csv"
    table = "watchlist_entities"
    priority = 8

    def detect(self, path: Path, head: str, ctx: ReadContext) -> bool:
        if path.suffix.lower() != ".csv":
            return False
        lines = head.lstrip("\ufeff").splitlines()[:2]
        return header_row([first_line_fields(line) for line in lines], HEADER_WORDS) is not None

    def read(self, path: Path, ctx: ReadContext) -> Iterator[pl.DataFrame]:
        yield read_grouped(path, ctx, csv_records(path), HEADER_WORDS, "group id", _target, _last_updated,
                           "Last Updated")


def _last_updated(metadata: list[str]) -> str | None:
    """'Last Updated,13/05/2022' -> 2022-05-13."""
    for field in metadata:
        iso = uk_date(field)
        if iso:
            return iso
    return None


def numbered(items: list[str]) -> list[str]:
    """'(1) Syria (2) Lebanon' -> ['Syria', 'Lebanon']; other values as they are."""
    out: list[str] = []
    for item in items:
        for part in _NUMBERED.split(item) if _NUMBERED.search(item) else [item]:
            part = text(part.strip(" ,;"))
            if part and part not in out:
                out.append(part)
    return out


def _target(gid: str, rows: list[tuple[int, dict[str, str]]]) -> dict:
    kinds = values(rows, "group type")
    e = Listed(LIST_NAME, gid, SCHEMAS.get((kinds or [""])[0].lower(), "LegalEntity"), rows[0][0],
               {"Group ID": gid, "rows": [n for n, _ in rows], **rows[0][1]})
    e.authority = AUTHORITY
    if len(kinds) > 1:
        e.errors.append(f"Group Type: the rows of group {gid} disagree ({', '.join(kinds)})")
    named = sorted(rows, key=lambda r: norm(r[1].get("alias type", "")) != "primary name")  # the primary name first
    for _, row in named:
        e.add_name(full_name([row.get(f"name {i}") for i in range(1, 7)]))
    for name in values(rows, "name non-latin script"):
        e.add_name(name)
    e.add("programs", values(rows, "regime"))
    listed = values(rows, "listed on")
    e.listed_at = listing_date(listed[0]) if listed else None
    e.add("birth_dates", [uk_date(d) for d in values(rows, "dob")])
    e.add("countries", [country_code(c) for c in numbered(values(rows, "nationality"))])
    for number in numbered(values(rows, "passport number")):
        e.add_identifier("passport", number)
    for number in numbered(values(rows, "national identification number", "ni number")):
        e.add_identifier("national id", number)
    seen: list[tuple] = []
    for _, row in rows:
        parts = tuple(text(row.get(c)) for c in ("address 1", "address 2", "address 3", "address 4", "address 5",
                                                 "address 6", "post/zip code", "country"))
        if any(parts) and parts not in seen:
            seen.append(parts)
            e.add_address(list(parts), parts[-1])
    info = values(rows, "other information")
    if info:
        e.remarks.append(info[0])
    return e.row(None)


READERS = [OfsiConListReader()]
