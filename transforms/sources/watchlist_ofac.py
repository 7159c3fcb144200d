"""OFAC's Specially Designated Nationals list: the classic XML (sdn.xml, consolidated.xml) and the CSV set.

XML: one <sdnEntry> per designated person, entity, vessel or aircraft, with its names (akaList), identity documents
and digital currency addresses (idList), addresses, dates of birth, nationalities and programmes. The list's
version is <publshInformation><Publish_Date> (MM/DD/YYYY).

CSV: sdn.csv has no header: ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT,
Vess_flag, Vess_owner, Remarks, with '-0-' for empty. Identifiers sit in the remarks ('DOB 12 Jan 1970;
nationality China; Passport E1234567 (China); Digital Currency Address - TRX T...'). Aliases (alt.csv) and
addresses (add.csv) are separate files keyed by ent_num; the sdn.csv reader takes them from the same folder.
Read alone, alt.csv and add.csv load nothing and say so: their rows belong to sdn.csv's entities.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import polars as pl

from transforms.errors import InputError
from transforms.sources import xml_safety
from transforms.sources.base import ReadContext, Reader
from transforms.sources.watchlist_fields import Listed, country_code, frame, partial_date, text

LIST_NAME = "ofac_sdn"
AUTHORITY = "US Treasury OFAC"
SCHEMAS = {"individual": "Person", "entity": "Organization", "vessel": "Vessel", "aircraft": "Airplane"}
_SKIP_ID_TYPES = ("gender", "website", "secondary sanctions", "additional sanctions", "organization established",
                  "organization type", "target type", "executive order", "transactions prohibited", "ifca determination",
                  "caatsa", "effective date", "listing date")


def _file_version(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc).date().isoformat()


# ------------------------------------------------------------------------------------------------------------ XML


class OfacSdnXmlReader(Reader):
    name = "ofac_sdn_xml"
    table = "watchlist_entities"
    priority = 8

    def detect(self, path: Path, head: str, ctx: ReadContext) -> bool:
        return path.suffix.lower() == ".xml" and "<sdnList" in head and "sdnEntry" in head

    def read(self, path: Path, ctx: ReadContext) -> Iterator[pl.DataFrame]:
        version: str | None = None
        rows: list[dict] = []
        n = 0
        for _event, el in xml_safety.iterparse(path, ("{*}Publish_Date", "{*}sdnEntry")):
            if xml_safety.local(el.tag) == "Publish_Date":
                version = _us_date(el.text)
                continue
            n += 1
            rows.append(_xml_entry(el, n))
            el.clear()
        version = version or _file_version(path)
        yield frame([_versioned(r, version) for r in rows])


def _us_date(value: str | None) -> str | None:
    """OFAC's Publish_Date is MM/DD/YYYY."""
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", (value or "").strip())
    return partial_date(f"{m.group(3)}-{m.group(1)}-{m.group(2)}") if m else (partial_date(value) or text(value))


def _versioned(row: dict, version: str) -> dict:
    row["list_version"] = version
    return row


def _kids(el, name: str) -> list:
    return [c for c in el.iter() if xml_safety.local(c.tag) == name]


def _child(el, name: str) -> str | None:
    return text(xml_safety.child_text(el, name))  # text(): OFAC's '-0-' placeholder is empty too


def _xml_entry(el, n: int) -> dict:
    uid = _child(el, "uid") or ""
    kind = (_child(el, "sdnType") or "").lower()
    e = Listed(LIST_NAME, uid, SCHEMAS.get(kind, "LegalEntity"), n, {"uid": uid, "name": _name_of(el), "sdnType": kind})
    e.authority = AUTHORITY
    e.add_name(_name_of(el))
    for aka in _kids(el, "aka"):
        e.add_name(_name_of(aka))
    e.add("programs", [text(p.text) for p in _kids(el, "program")])
    for item in _kids(el, "id"):
        id_type = _child(item, "idType") or ""
        if any(s in id_type.lower() for s in _SKIP_ID_TYPES):
            continue
        e.add_identifier(id_type, _child(item, "idNumber"), _child(item, "idCountry"))
    for dob in _kids(el, "dateOfBirth"):
        iso = partial_date(dob.text)
        e.add("birth_dates", iso) if iso else e.remarks.append(f"date of birth {text(dob.text)}")
    for tag in ("nationality", "citizenship"):
        for item in _kids(el, tag):
            e.add("countries", country_code(_child(item, "country")))
    for addr in _kids(el, "address"):
        e.add_address([_child(addr, f) for f in ("address1", "address2", "address3", "city", "stateOrProvince",
                                                 "postalCode", "country")], _child(addr, "country"))
    remarks = _child(el, "remarks")
    if remarks:
        e.remarks.insert(0, remarks)
    return e.row(None)


def _name_of(el) -> str | None:
    first, last = _child(el, "firstName"), _child(el, "lastName")
    return " ".join(p for p in (first, last) if p) or None


# ------------------------------------------------------------------------------------------------------------ CSV

_SDN_COLUMNS = ("ent_num", "SDN_Name", "SDN_Type", "Program", "Title", "Call_Sign", "Vess_type", "Tonnage", "GRT",
                "Vess_flag", "Vess_owner", "Remarks")
_REMARK_IDS = re.compile(
    r"(?:alt\.\s+)?(Digital Currency Address - [A-Z0-9]+|Passport|National ID No\.|Cedula No\.|Identification Number"
    r"|Tax ID No\.|Registration (?:Number|ID)|Business Registration Number|Company Number|Phone Number|Email Address"
    r"|Residency Number|Personal ID Card|Driver's License No\.)\s+([^;()]+?)\s*(?:\(([^)]*)\))?\s*(?:;|$)")
_REMARK_DOB = re.compile(r"DOB\s+([^;]+?)\s*(?:;|$)")
_REMARK_COUNTRY = re.compile(r"(?:nationality|citizen)\s+([^;]+?)\s*(?:;|$)")
_REMARK_AKA = re.compile(r"a\.k\.a\.\s+'([^']+)'")


def _sdn_csv_head(head: str, width: int) -> bool:
    line = head.lstrip("\ufeff").splitlines()[0] if head.strip() else ""
    try:
        fields = next(csv.reader([line]))
    except (StopIteration, csv.Error):
        return False
    return len(fields) == width and fields[0].strip().isdigit() and "-0-" in line


def _first_field_is_number(head: str) -> bool:
    line = head.lstrip("\ufeff").split("\n", 1)[0]
    return line.split(",", 1)[0].strip().isdigit()


class OfacSdnCsvReader(Reader):
    name = "ofac_sdn_csv"
    table = "watchlist_entities"
    priority = 8

    def detect(self, path: Path, head: str, ctx: ReadContext) -> bool:
        return path.suffix.lower() == ".csv" and _sdn_csv_head(head, 12)

    def read(self, path: Path, ctx: ReadContext) -> Iterator[pl.DataFrame]:
        aliases = _companion(path, ("alt.csv", "ofac_alt.csv", path.name.replace("sdn", "alt")), 5)
        addresses = _companion(path, ("add.csv", "ofac_add.csv", path.name.replace("sdn", "add")), 6)
        # remarks longer than sdn.csv's field continue in sdn_comments.csv
        overflow = _companion(path, ("sdn_comments.csv", path.name.replace(".csv", "_comments.csv")), 2)
        if not aliases:
            ctx.notes.append("no alt.csv beside it: aliases not read")
        rows: list[dict] = []
        for n, rec in enumerate(_records(path), start=1):
            if len(rec) != 12:
                rows.append({"row_no": n, "raw": ",".join(rec), "errors": [f"record: {len(rec)} fields, sdn.csv has 12"]})
                continue
            record = dict(zip(_SDN_COLUMNS, rec))
            extra = "".join(r[1] for r in overflow.get(rec[0].strip(), []))
            if extra:
                record["Remarks"] = (text(record["Remarks"]) or "") + extra
            rows.append(_csv_entry(record, n, aliases, addresses))
        version = _file_version(path)
        yield frame([_versioned(r, version) for r in rows if r.get("entity_id") or r.get("errors")])


def _records(path: Path) -> Iterator[list[str]]:
    with open(path, encoding="utf-8-sig", errors="strict", newline="") as fh:
        try:
            for rec in csv.reader(fh):
                if rec and not (len(rec) == 1 and rec[0].strip() in ("", "\x1a")):  # OFAC ends files with Ctrl-Z
                    yield rec
        except UnicodeDecodeError:
            raise InputError("not UTF-8 text; re-download the SDN CSV", path=path) from None


def _companion(path: Path, names: tuple[str, ...], width: int) -> dict[str, list[list[str]]]:
    for name in names:
        other = path.with_name(name)
        if other != path and other.exists():
            out: dict[str, list[list[str]]] = defaultdict(list)
            for rec in _records(other):
                if len(rec) == width:
                    out[rec[0].strip()].append(rec)
            return out
    return {}


def _csv_entry(rec: dict, n: int, aliases: dict, addresses: dict) -> dict:
    ent = rec["ent_num"].strip()
    kind = (text(rec["SDN_Type"]) or "entity").lower()
    e = Listed(LIST_NAME, ent, SCHEMAS.get(kind, "LegalEntity"), n, rec)
    e.authority = AUTHORITY
    e.add_name(_display(text(rec["SDN_Name"]), kind))
    for alt in aliases.get(ent, []):
        e.add_name(_display(text(alt[3]), kind))
    e.add("programs", [text(p) for p in re.split(r"\]\s*\[", (rec["Program"] or "").strip("[] "))])
    remarks = text(rec["Remarks"]) or ""
    for kind_, value, country in _REMARK_IDS.findall(remarks):
        e.add_identifier(kind_, value, country or None)
    for dob in _REMARK_DOB.findall(remarks):
        for part in re.split(r"\s*;\s*|\s+to\s+", dob):
            iso = partial_date(re.sub(r"^(circa|alt\.)\s+", "", part))
            if iso:
                e.add("birth_dates", iso)
    for country in _REMARK_COUNTRY.findall(remarks):
        e.add("countries", country_code(country))
    for aka in _REMARK_AKA.findall(remarks):
        e.add_name(_display(aka, kind))
    for addr in addresses.get(ent, []):
        e.add_address([text(p) for p in addr[2:5]], addr[4])
    if remarks:
        e.remarks.append(remarks)
    return e.row(None)


def _display(name: str | None, kind: str) -> str | None:
    """'ZHAO, Wei' -> 'Wei ZHAO' for persons (the list writes the family name first, before a comma)."""
    if name and kind == "individual" and name.count(",") == 1:
        last, first = (p.strip() for p in name.split(","))
        return f"{first} {last}".strip()
    return name


class OfacCompanionReader(Reader):
    """alt.csv / add.csv (and the remarks overflow sdn_comments.csv): their rows are read with sdn.csv of the same
    folder, so ingesting them alone skips them with that message."""

    name = "ofac_sdn_companion"
    table = "watchlist_entities"
    priority = 9
    companion_of = "sdn.csv"

    def detect(self, path: Path, head: str, ctx: ReadContext) -> bool:
        return path.suffix.lower() == ".csv" and (_sdn_csv_head(head, 5) or _sdn_csv_head(head, 6)
                                                  or "comments" in path.name.lower() and _first_field_is_number(head))

    def read(self, path: Path, ctx: ReadContext) -> Iterator[pl.DataFrame]:
        raise InputError("OFAC aliases / addresses are read with sdn.csv of the same folder; ingest that file", path=path)


READERS = [OfacSdnXmlReader(), OfacSdnCsvReader(), OfacCompanionReader()]
