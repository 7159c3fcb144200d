"""The UK Sanctions List (FCDO) as CSV (UK-Sanctions-List.csv) and as ODS: the same list as watchlist_uk.py's XML.

Line 1 is a metadata row ('Report Date: 10-Sep-2026', the list's version), line 2 the header, then one row per
name: the rows sharing `Unique ID` (e.g. AFG0006) are one designation, and the designation's other facts (regime,
dates, addresses, documents) repeat on them or sit on rows of their own. Columns are looked up by their header
names (58 in the 2025-26 files: Last Updated, Unique ID, OFSI Group ID, UN Reference Number, Name 6, Name 1 ..
Name 5, Name type (Primary Name / Primary Name Variation / Alias), Name non-latin script, Regime Name,
Designation Type (Individual / Entity / Ship), Other Information, Address Line 1 .. 6, Address Country, Phone
number, Email address, Date Designated, D.O.B, Nationality(/ies), National Identifier number, Passport number,
Business registration number (s), IMO number, ...). The rows of a designation are gathered into watchlist_uk's
`Designation`, so the CSV, the ODS and the XML of one list give the same entities (uk_fcdo:<Unique ID>).

The ODS holds the same rows in its first sheet; it is read with fastexcel (calamine), imported only then.
A row with the wrong number of fields or without a Unique ID is quarantined with that reason.
"""

from __future__ import annotations

import csv
import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import polars as pl

from transforms.errors import InputError
from transforms.sources.base import ReadContext, Reader, first_line_fields, json_dumps
from transforms.sources.watchlist_fields import frame, partial_date, text
from transforms.sources.watchlist_uk import LIST_FIELDS, Designation, designation_row, full_name, uk_date

HEADER_WORDS = {"unique id", "name 6", "regime name", "designation type"}
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_REPORT_DATE = re.compile(r"(\d{1,2})[-\s/]([A-Za-z]{3,9})[-\s/](\d{4})")


def norm(column: str) -> str:
    """A header name's comparable form: 'Business registration number (s)' -> 'business registration number (s)'."""
    return " ".join(column.split()).lower()


def header_row(lines: list[list[str]], words: set[str]) -> int | None:
    """1-based number of the header line among the first two (line 1 may be a metadata row), or None."""
    for i, fields in enumerate(lines[:2]):
        if words <= {norm(f) for f in fields}:
            return i + 1
    return None


def file_version(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc).date().isoformat()


def csv_records(path: Path) -> Iterator[list[str]]:
    """The file's records as lists of fields (UTF-8, with or without a BOM)."""
    with open(path, encoding="utf-8-sig", errors="strict", newline="") as fh:
        try:
            yield from csv.reader(fh)
        except UnicodeDecodeError:
            raise InputError("not UTF-8 text; re-download the list as CSV", path=path) from None
        except csv.Error as exc:
            raise InputError(f"cannot parse as CSV ({exc})", path=path) from None


def ods_records(path: Path) -> Iterator[list[str]]:
    """The first sheet's rows as lists of text (empty cells as '')."""
    try:
        import fastexcel
    except ImportError:
        raise InputError("reading ODS needs the fastexcel package (pip install fastexcel); or ingest the list's "
                         "CSV or XML form", path=path) from None
    try:
        sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, dtypes="string")
    except Exception as exc:  # calamine's errors have no common base class
        raise InputError(f"cannot read the spreadsheet ({str(exc).splitlines()[0] if str(exc) else 'unreadable'})",
                         path=path) from None
    for row in sheet.to_polars().iter_rows():
        yield ["" if v is None else str(v) for v in row]


def ods_head(path: Path) -> str:
    """The start of an ODS spreadsheet's cell text (its content.xml), '' for other files: enough for detection."""
    try:
        with zipfile.ZipFile(path) as z:
            if z.read("mimetype").strip() != ODS_MIME:
                return ""
            with z.open("content.xml") as fh:
                return fh.read(256 * 1024).decode("utf-8", errors="ignore")
    except (zipfile.BadZipFile, KeyError, OSError):
        return ""


def grouped_rows(path: Path, records: Iterator[list[str]], words: set[str], key: str, metadata: list[str]):
    """Split a list file into (header, rows by group key in first-seen order, bad rows): each row is
    (row_no, {column: value}); a bad row is a quarantine record. `metadata` receives line 1 when it precedes the
    header."""
    head: list[list[str]] = []
    for rec in records:
        head.append(rec)
        if len(head) == 2 or header_row(head, words):
            break
    at = header_row(head, words)
    if at is None:
        raise InputError(f"no header with the columns {sorted(words)} in the first two lines", path=path)
    if at == 2:
        metadata.extend(head[0])
    header = [h.strip() for h in head[at - 1]]
    names = [norm(h) for h in header]
    key_name = header[names.index(key)] if key in names else key
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    bad: list[dict] = []
    n = 0
    for rec in records:
        if not any(f.strip() for f in rec):
            continue
        n += 1
        if len(rec) != len(header) and (len(rec) < len(header) or any(f.strip() for f in rec[len(header):])):
            bad.append({"row_no": n, "raw": json_dumps({"record": rec}),
                        "errors": [f"record: {len(rec)} fields, the header has {len(header)}; check quoting"]})
            continue
        row = dict(zip(names, (f.strip() for f in rec)))
        gid = row.get(key, "")
        if not gid:
            bad.append({"row_no": n, "raw": json_dumps(dict(zip(header, rec))), "errors": [f"{key_name}: missing value"]})
            continue
        groups.setdefault(gid, []).append((n, row))
    return header, groups, bad


def read_grouped(path: Path, ctx: ReadContext, records: Iterator[list[str]], words: set[str], key: str,
                 entity: Callable[[str, list], dict], version_of: Callable[[list[str]], str | None],
                 version_label: str) -> pl.DataFrame:
    """A list file of one row per name: its groups (rows sharing `key`) as entities, its bad rows quarantined,
    each row tagged with the list's version (from the metadata line above the header, else the file's date)."""
    metadata: list[str] = []
    _, groups, rows = grouped_rows(path, records, words, key, metadata)
    rows += [entity(group_key, group) for group_key, group in groups.items()]
    version = version_of(metadata)
    if version is None:
        ctx.notes.append(f"no '{version_label}' line: the list version is the file's date")
        version = file_version(path)
    for r in rows:
        r["list_version"] = version
    return frame(sorted(rows, key=lambda r: r["row_no"]))


def values(rows: list[tuple[int, dict[str, str]]], *columns: str) -> list[str]:
    """The distinct non-empty values of the columns over a group's rows, in order."""
    out: list[str] = []
    for _, row in rows:
        for c in columns:
            v = text(row.get(c))
            if v and v not in out:
                out.append(v)
    return out


def report_date(metadata: list[str]) -> str | None:
    """'Report Date: 10-Sep-2026' (or a dd/mm/yyyy after the label) -> 2026-09-10."""
    line = " ".join(metadata)
    m = _REPORT_DATE.search(line)
    if m:
        return partial_date(f"{m.group(1)} {m.group(2)} {m.group(3)}")
    m = re.search(r"\d{1,2}/\d{1,2}/\d{4}", line)
    return uk_date(m.group(0)) if m else None


class UkSanctionsListCsvReader(Reader):
    name = "uk_sanctions_list_csv"
    table = "watchlist_entities"
    priority = 8

    def detect(self, path: Path, head: str, ctx: ReadContext) -> bool:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            lines = head.lstrip("\ufeff").splitlines()[:2]
            return header_row([first_line_fields(line) for line in lines], HEADER_WORDS) is not None
        if suffix == ".ods":
            content = ods_head(path)
            return all(w in content.lower() for w in HEADER_WORDS)
        return False

    def read(self, path: Path, ctx: ReadContext) -> Iterator[pl.DataFrame]:
        records = ods_records(path) if path.suffix.lower() == ".ods" else csv_records(path)
        yield read_grouped(path, ctx, records, HEADER_WORDS, "unique id",
                           lambda uid, group: designation_row(_designation(uid, group), group[0][0]),
                           report_date, "Report Date")


def _designation(uid: str, rows: list[tuple[int, dict[str, str]]]) -> Designation:
    first = rows[0][1]
    d = Designation(uid, (values(rows, "designation type") or [""])[0],
                    {"Unique ID": uid, "OFSI Group ID": first.get("ofsi group id"),
                     "UN Reference Number": first.get("un reference number"), "rows": [n for n, _ in rows]})
    kinds = values(rows, "designation type")
    if len(kinds) > 1:
        d.errors.append(f"Designation Type: the rows of {uid} disagree ({', '.join(kinds)})")
    named = sorted(rows, key=lambda r: norm(r[1].get("name type", "")) != "primary name")  # the primary name first
    for _, row in named:
        name = full_name([row.get(f"name {i}") for i in range(1, 7)])
        if name and name not in d.names:
            d.names.append(name)
    for attribute, _tags, columns in LIST_FIELDS:
        setattr(d, attribute, values(rows, *columns))
    for _, row in rows:
        lines = tuple(text(row.get(f"address line {i}")) for i in range(1, 7))
        address = (lines, text(row.get("address country")))
        if any(lines) or address[1]:
            if address not in d.addresses:
                d.addresses.append(address)
    return d


READERS = [UkSanctionsListCsvReader()]
