"""OFAC's SDN list in the "advanced" format of its Sanctions List Service (SDN_ADVANCED.XML, cons_advanced.xml).

<Sanctions xmlns=".../exports/ADVANCED_XML"> (older files: xmlns="http://www.un.org/sanctions/1.0") holds, in order:
  DateOfIssue         Year / Month / Day: the list's version;
  ReferenceValueSets  the code tables every other part points into by ID: AliasType (Name, A.K.A., F.K.A.),
                      NamePartType (Last Name, First Name, Entity Name, ...), PartySubType / PartyType (Individual,
                      Entity, Vessel, Aircraft), FeatureType (Birthdate, Nationality Country, Location, Phone
                      Number, Email Address, Digital Currency Address - XBT / ETH / USDT / TRX ...), IDRegDocType
                      (Passport, National ID No., ...), Country, LocPartType, List, SanctionsType, DetailReference;
  Locations           Location ID= with LocationPart (ADDRESS1, CITY, STATE/PROVINCE, ...) and LocationCountry;
  IDRegDocuments      IDRegDocument IdentityID= with IDRegDocTypeID, IDRegistrationNo, IssuedBy-CountryID;
  DistinctParties     DistinctParty FixedRef= (the uid of the classic sdn.xml, so both forms give the same entity
                      ids) / Profile / Identity / Alias / DocumentedName / DocumentedNamePart / NamePartValue,
                      and the Profile's Features (FeatureVersion with a DatePeriod, a VersionDetail text or
                      DetailReferenceID, or a VersionLocation);
  ProfileRelationships (not read);
  SanctionsEntries    SanctionsEntry ProfileID= with SanctionsMeasure (type Program: the programme in Comment) and
                      EntryEvent Date (the listing date).
The file (about 100 MB) is streamed: the reference values, locations and documents come before the parties and
are kept as small lookups; each party becomes an entity as it ends, and its element is freed. Identifiers and
wallets are routed like the classic XML's idList (watchlist_fields.Listed.add_identifier), so wallets become
account ids. A party without an id or a name, or a sanctions entry whose party is not in the file, is quarantined
with that reason.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from pathlib import Path
from typing import Iterator

import polars as pl

from transforms.sources import xml_safety
from transforms.sources.base import ReadContext, Reader, json_dumps
from transforms.sources.watchlist_fields import Listed, country_code, frame, listing_date, partial_date, text
from transforms.sources.watchlist_ofac import _SKIP_ID_TYPES, AUTHORITY, LIST_NAME, SCHEMAS, _file_version

TAGS = ("{*}DateOfIssue", "{*}ReferenceValueSets", "{*}Location", "{*}IDRegDocument", "{*}DistinctParty",
        "{*}ProfileRelationship", "{*}SanctionsEntry")
# name parts in the order the classic list writes a person's name (first names, then the family name)
_PART_ORDER = {"first name": 0, "middle name": 1, "patronymic": 2, "matronymic": 3, "maiden name": 4, "last name": 5}
# location parts in the classic address order (address1, address2, address3, city, stateOrProvince, postalCode)
_LOC_ORDER = ("ADDRESS1", "ADDRESS2", "ADDRESS3", "CITY", "STATE/PROVINCE", "POSTAL CODE", "REGION")
_COUNTRY_FEATURES = ("nationality country", "citizenship country")


class OfacAdvancedXmlReader(Reader):
    name = "ofac_sdn_advanced_xml"
    table = "watchlist_entities"
    priority = 8

    def detect(self, path: Path, head: str, ctx: ReadContext) -> bool:
        return path.suffix.lower() == ".xml" and "<Sanctions" in head and "<ReferenceValueSets" in head

    def read(self, path: Path, ctx: ReadContext) -> Iterator[pl.DataFrame]:
        version: str | None = None
        refs: dict[str, dict[str, tuple[str | None, dict]]] = defaultdict(dict)
        locations: dict[str, tuple[str | None, str | None]] = {}
        documents: dict[str, list[tuple[str, str | None, str | None]]] = defaultdict(list)
        parties: dict[str, Listed] = {}  # by profile id
        order: list[Listed] = []
        orphans: list[dict] = []
        for _event, el in xml_safety.iterparse(path, TAGS):
            tag = xml_safety.local(el.tag)
            if tag == "DateOfIssue":
                version = _date(el)
            elif tag == "ReferenceValueSets":
                for values in el:
                    for v in values:
                        refs[xml_safety.local(v.tag)][v.get("ID") or ""] = (text(v.text), dict(v.attrib))
            elif tag == "Location":
                locations[el.get("ID") or ""] = _location(el, refs)
            elif tag == "IDRegDocument":
                kind = _ref(refs, "IDRegDocType", el.get("IDRegDocTypeID")) or "document"
                documents[el.get("IdentityID") or ""].append(
                    (kind, _child(el, "IDRegistrationNo"), _ref(refs, "Country", el.get("IssuedBy-CountryID"))))
            elif tag == "DistinctParty":
                e = _party(el, len(order) + 1, refs, locations, documents)
                order.append(e)
                parties.setdefault(str(e.raw.get("ProfileID") or e.native_id), e)
            elif tag == "SanctionsEntry":
                _entry(el, refs, parties, orphans)
            _free(el)
        rows = [e.row(None) for e in order]
        for k, orphan in enumerate(orphans, start=len(rows) + 1):
            rows.append({**orphan, "row_no": k})
        version = version or _file_version(path)
        if not rows:
            ctx.notes.append("no DistinctParty in the file")
        for r in rows:
            r["list_version"] = version
        yield frame(rows)


def _free(el) -> None:
    """Drop a handled element and the emptied ones before it, so memory stays bounded by one party."""
    el.clear()
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


def _kids(el, name: str) -> list:
    return [c for c in el if xml_safety.local(c.tag) == name]


def _child(el, name: str) -> str | None:
    return text(xml_safety.child_text(el, name))


def _ref(refs: dict, table: str, ref_id: str | None) -> str | None:
    found = refs.get(table, {}).get(ref_id or "")
    return found[0] if found else None


def _ymd(el) -> tuple[int, int, int] | None:
    """(year, month, day) of an element with Year / Month / Day children (0 for a missing part)."""
    if el is None:
        return None
    parts = []
    for name in ("Year", "Month", "Day"):
        v = _child(el, name)
        parts.append(int(v) if v and v.isdigit() else 0)
    return (parts[0], parts[1], parts[2]) if parts[0] else None


def _iso(d: tuple[int, int, int] | None) -> str | None:
    if d is None:
        return None
    y, m, day = d
    return partial_date(f"{y:04d}-{m:02d}-{day:02d}" if m and day else f"{y:04d}-{m:02d}" if m else f"{y:04d}")


def _date(el) -> str | None:
    return _iso(_ymd(el))


def _period(dp) -> tuple[list[str], str | None]:
    """A DatePeriod as the dates it stands for: one day, a whole month or year as yyyy-mm / yyyy, else its two
    ends with a remark."""
    start_el = next(iter(_kids(dp, "Start")), None)
    end_el = next(iter(_kids(dp, "End")), None)
    s = _ymd(next(iter(_kids(start_el, "From") + _kids(start_el, "To")), None)) if start_el is not None else None
    t = _ymd(next(iter(_kids(end_el, "To") + _kids(end_el, "From")), None)) if end_el is not None else None
    s, t = s or t, t or s
    if s is None or t is None:
        return [], None
    approx = any((x is not None and x.get("Approximate") == "true") for x in (start_el, end_el))
    if s == t:
        dates = [_iso(s)]
    elif s[0] == t[0] and s[1:] == (1, 1) and t[1:] == (12, 31):
        dates = [f"{s[0]:04d}"]
    elif s[:2] == t[:2] and s[2] == 1 and s[1] and 1 <= t[1] <= 12 and t[2] == calendar.monthrange(t[0], t[1])[1]:
        dates = [f"{s[0]:04d}-{s[1]:02d}"]
    else:
        a, b = _iso(s), _iso(t)
        return [d for d in (a, b) if d], f"born between {a} and {b}"
    remark = f"born circa {dates[0]}" if approx and dates[0] else None
    return [d for d in dates if d], remark


def _location(el, refs: dict) -> tuple[str | None, str | None]:
    """(address text in the classic order with the country last, country name) of a Location."""
    parts: dict[str, str] = {}
    for part in _kids(el, "LocationPart"):
        kind = (_ref(refs, "LocPartType", part.get("LocPartTypeID")) or "").upper()
        value = next((text(v.text) for pv in _kids(part, "LocationPartValue") for v in _kids(pv, "Value")), None)
        if value and kind not in parts:
            parts[kind] = value
    country = next((c for c in (_ref(refs, "Country", lc.get("CountryID")) for lc in _kids(el, "LocationCountry")) if c),
                   None)
    if country is None:
        area = next((refs.get("AreaCode", {}).get(a.get("AreaCodeID") or "") for a in _kids(el, "LocationAreaCode")),
                    None)
        country = text(area[1].get("Description")) if area else None
    lines = [parts[k] for k in _LOC_ORDER if k in parts] + [v for k, v in parts.items() if k not in _LOC_ORDER]
    if country is None and country_code(parts.get("UNKNOWN")):
        country = parts.get("UNKNOWN")
    return ", ".join([*(line for line in lines if line != country), *([country] if country else [])]) or None, country


def _name(dn, groups: dict[str, str], refs: dict) -> str | None:
    parts = []
    for k, part in enumerate(_kids(dn, "DocumentedNamePart")):
        for value in _kids(part, "NamePartValue"):
            kind = (_ref(refs, "NamePartType", groups.get(value.get("NamePartGroupID") or "")) or "").lower()
            value_text = text(value.text)
            if value_text:
                parts.append((_PART_ORDER.get(kind, 2.5), k, value_text))
    return " ".join(p[2] for p in sorted(parts)) or None


def _party(el, n: int, refs: dict, locations: dict, documents: dict) -> Listed:
    fixed = text(el.get("FixedRef")) or ""
    profile = next(iter(_kids(el, "Profile")), None)
    profile_id = profile.get("ID") if profile is not None else None
    sub = refs.get("PartySubType", {}).get(profile.get("PartySubTypeID") or "") if profile is not None else None
    kind = sub[0] if sub else None
    if sub and (kind or "").lower() == "unknown":
        kind = _ref(refs, "PartyType", sub[1].get("PartyTypeID"))
    e = Listed(LIST_NAME, fixed, SCHEMAS.get((kind or "").lower(), "LegalEntity"), n,
               {"FixedRef": fixed, "ProfileID": profile_id, "PartyType": kind})
    e.authority = AUTHORITY
    if profile is None:
        e.errors.append("Profile: the DistinctParty has no Profile")
        return e
    if sub is None:
        e.remarks.append(f"party type {profile.get('PartySubTypeID')} is not in the reference values")
    identities = sorted(_kids(profile, "Identity"), key=lambda i: i.get("Primary") != "true")
    for identity in identities:
        groups = {g.get("ID") or "": g.get("NamePartTypeID") or ""
                  for g in identity.iter() if xml_safety.local(g.tag) == "NamePartGroup"}
        aliases = sorted(_kids(identity, "Alias"), key=lambda a: a.get("Primary") != "true")  # the primary name first
        for alias in aliases:
            for dn in _kids(alias, "DocumentedName"):
                e.add_name(_name(dn, groups, refs))
        for kind_, number, country in documents.get(identity.get("ID") or "", []):
            if not any(s in kind_.lower() for s in _SKIP_ID_TYPES):
                e.add_identifier(kind_, number, country)
    for feature in _kids(profile, "Feature"):
        _feature(e, feature, refs, locations)
    comment = _child(el, "Comment")
    if comment:
        e.remarks.insert(0, comment)
    return e


def _feature(e: Listed, feature, refs: dict, locations: dict) -> None:
    ftype = _ref(refs, "FeatureType", feature.get("FeatureTypeID"))
    if ftype is None:
        e.remarks.append(f"feature type {feature.get('FeatureTypeID')} is not in the reference values")
        return
    low = ftype.lower()
    for version in _kids(feature, "FeatureVersion"):
        if low == "birthdate":
            for dp in _kids(version, "DatePeriod"):
                dates, remark = _period(dp)
                e.add("birth_dates", dates)
                if remark:
                    e.remarks.append(remark)
            continue
        places = [locations.get(v.get("LocationID") or "") for v in _kids(version, "VersionLocation")]
        if places:  # a location feature: an address, or a nationality / citizenship country
            for address, country in (p for p in places if p):
                if low == "location":
                    e.add_address([address], country)
                elif low in _COUNTRY_FEATURES:
                    e.add("countries", country_code(country))
            continue
        if any(s in low for s in _SKIP_ID_TYPES):
            continue
        for detail in _kids(version, "VersionDetail"):
            value = text(detail.text) or _ref(refs, "DetailReference", detail.get("DetailReferenceID"))
            if low in _COUNTRY_FEATURES:
                e.add("countries", country_code(value))
            else:
                e.add_identifier(ftype, value)


def _entry(el, refs: dict, parties: dict[str, Listed], orphans: list[dict]) -> None:
    """A SanctionsEntry: its programmes and listing date go to its party."""
    pid = el.get("ProfileID") or ""
    programs = [text(m.findtext("{*}Comment")) for m in _kids(el, "SanctionsMeasure")
                if (_ref(refs, "SanctionsType", m.get("SanctionsTypeID")) or "").lower() == "program"]
    dates = sorted(d for d in (_date(x) for ev in _kids(el, "EntryEvent") for x in _kids(ev, "Date")) if d)
    party = parties.get(pid)
    if party is None:
        orphans.append({"raw": json_dumps({"SanctionsEntry": el.get("ID"), "ProfileID": pid, "programs": programs}),
                        "errors": [f"ProfileID: sanctions entry {el.get('ID')} points at profile {pid!r}, "
                                   "which is not among the file's DistinctParties"]})
        return
    party.add("programs", programs)
    listed = listing_date(dates[0]) if dates else None
    if listed and (party.listed_at is None or listed < party.listed_at):
        party.listed_at = listed


READERS = [OfacAdvancedXmlReader()]
