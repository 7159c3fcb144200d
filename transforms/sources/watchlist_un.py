"""The UN Security Council consolidated sanctions list (XML): <CONSOLIDATED_LIST dateGenerated="...">.

Persons are <INDIVIDUAL>s (FIRST_NAME .. FOURTH_NAME, NAME_ORIGINAL_SCRIPT, INDIVIDUAL_ALIAS, INDIVIDUAL_DATE_OF_BIRTH,
INDIVIDUAL_DOCUMENT, NATIONALITY, INDIVIDUAL_ADDRESS), organisations <ENTITY>s (FIRST_NAME, ENTITY_ALIAS,
ENTITY_ADDRESS). Both carry DATAID, REFERENCE_NUMBER (e.g. QDi.001, the id used here), UN_LIST_TYPE (the regime)
and LISTED_ON. The list's version is the root's dateGenerated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import polars as pl

from transforms.sources import xml_safety
from transforms.sources.base import ReadContext, Reader
from transforms.sources.watchlist_fields import Listed, country_code, frame, listing_date, partial_date, text

LIST_NAME = "un_sc"
AUTHORITY = "UN Security Council"


class UnConsolidatedReader(Reader):
    name = "un_consolidated_xml"
    table = "watchlist_entities"
    priority = 8

    def detect(self, path: Path, head: str, ctx: ReadContext) -> bool:
        return path.suffix.lower() == ".xml" and "<CONSOLIDATED_LIST" in head

    def read(self, path: Path, ctx: ReadContext) -> Iterator[pl.DataFrame]:
        version: str | None = None
        rows: list[dict] = []
        for event, el in xml_safety.iterparse(path, ("{*}CONSOLIDATED_LIST", "{*}INDIVIDUAL", "{*}ENTITY"),
                                              events=("start", "end")):
            tag = xml_safety.local(el.tag)
            if tag == "CONSOLIDATED_LIST":
                if event == "start":
                    version = partial_date(el.get("dateGenerated")) or text(el.get("dateGenerated"))
                continue
            if event != "end":
                continue
            rows.append(_entry(el, tag, len(rows) + 1))
            el.clear()
        for r in rows:
            r["list_version"] = version
        yield frame(rows)


def _child(el, name: str) -> str | None:
    return text(xml_safety.child_text(el, name))  # text(): OFAC's '-0-' placeholder is empty too


def _children(el, name: str) -> list:
    return [c for c in el if xml_safety.local(c.tag) == name]


def _entry(el, tag: str, n: int) -> dict:
    ref = _child(el, "REFERENCE_NUMBER") or _child(el, "DATAID") or ""
    person = tag == "INDIVIDUAL"
    name = " ".join(p for p in (_child(el, f) for f in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")) if p)
    e = Listed(LIST_NAME, ref, "Person" if person else "Organization", n,
               {"DATAID": _child(el, "DATAID"), "REFERENCE_NUMBER": ref, "name": name})
    e.authority = AUTHORITY
    e.add_name(name)
    e.add_name(_child(el, "NAME_ORIGINAL_SCRIPT"))
    for alias in _children(el, f"{tag}_ALIAS"):
        e.add_name(_child(alias, "ALIAS_NAME"))
    e.add("programs", _child(el, "UN_LIST_TYPE"))
    e.listed_at = listing_date(_child(el, "LISTED_ON"))
    for nat in _children(el, "NATIONALITY"):
        e.add("countries", [country_code(v.text) for v in _children(nat, "VALUE")])
    for dob in _children(el, "INDIVIDUAL_DATE_OF_BIRTH"):
        for f in ("DATE", "YEAR"):
            iso = partial_date(_child(dob, f))
            if iso:
                e.add("birth_dates", iso)
        span = (_child(dob, "FROM_YEAR"), _child(dob, "TO_YEAR"))
        if any(span):
            e.remarks.append(f"born between {span[0] or '?'} and {span[1] or '?'}")
    for doc in _children(el, "INDIVIDUAL_DOCUMENT"):
        e.add_identifier(_child(doc, "TYPE_OF_DOCUMENT") or "document", _child(doc, "NUMBER"),
                         _child(doc, "ISSUING_COUNTRY") or _child(doc, "COUNTRY_OF_ISSUE"))
    for addr in _children(el, f"{tag}_ADDRESS"):
        e.add_address([_child(addr, f) for f in ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE", "COUNTRY")],
                      _child(addr, "COUNTRY"))
    comments = _child(el, "COMMENTS1")
    if comments:
        e.remarks.insert(0, comments)
    return e.row(None)


READERS = [UnConsolidatedReader()]
