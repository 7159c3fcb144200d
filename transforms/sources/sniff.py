"""Sniffing a delimited file of unknown layout: encoding, line endings, delimiter and quote, header row, a sample.

Used by `scamtrace mapping suggest`. Encodings come from the BOM, else strict UTF-8, else charset-normalizer's
best guess; the dialect from CleverCSV's consistency measure on the lines below the header; the header row is the
first line that has the data rows' field count and reads as names rather than values.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from transforms.errors import InputError
from transforms.sources.base import numbered_columns

SNIFF_BYTES = 1 << 20  # enough for a preamble and a few thousand rows
SAMPLE_ROWS = 2000
DELIMITERS = [",", ";", "\t", "|"]
_VALUE = re.compile(r"^[\s\-+()]*[\d.,:/ ]*\d[\d.,:/ ]*[\s\-+()]*$")  # numbers, dates, times: data, not names


@dataclass
class Sniffed:
    encoding: str
    encoding_sure: bool
    line_ending: str  # "\r\n", "\n" or "\r"
    delimiter: str
    quote_char: str
    header_row: int  # 1-based
    header: list[str]
    rows: list[list[str]]  # sample data rows, as text
    preamble: list[str] = field(default_factory=list)  # lines above the header (account numbers, periods...)
    short_rows: int = 0  # sample rows with another field count (footers, totals)
    renamed_duplicates: bool = False  # the header repeats a name: numbered as the reader does with the option


def _encoding(raw: bytes, path: Path) -> tuple[str, bool]:
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", True
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", True
    even, odd = raw[0:2000:2], raw[1:2000:2]
    if raw and odd.count(0) > len(odd) * 0.3 > even.count(0):  # ASCII text in UTF-16 without a BOM
        return "utf-16-le", False
    if raw and even.count(0) > len(even) * 0.3 > odd.count(0):
        return "utf-16-be", False
    try:
        raw.decode("utf-8")
        return "utf-8", True
    except UnicodeDecodeError as exc:
        if exc.start > len(raw) - 4 and len(raw) == SNIFF_BYTES:  # a character cut at the end of the sample
            return "utf-8", True
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise InputError("cannot tell the text encoding (binary file?); pass a file exported as text", path=path)
    name = codecs.lookup(best.encoding).name
    # the usual single-byte guesses for Chinese text are wrong more often than GB18030, its superset
    if name in ("gbk", "gb2312", "hz"):
        name = "gb18030"
    return name, False


def _decode(raw: bytes, encoding: str) -> str:
    text = raw.decode(encoding, errors="ignore" if len(raw) == SNIFF_BYTES else "strict")
    return text.lstrip("\ufeff")


def _line_ending(text: str) -> str:
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    return max((crlf, "\r\n"), (lf, "\n"), (cr, "\r"))[1]


def _fields(line: str, delimiter: str, quote: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter, quotechar=quote))
    except (StopIteration, csv.Error):
        return []


def _dialect(lines: list[str]) -> tuple[str, str]:
    """Delimiter and quote of the data lines (the tail of the sample, below any preamble)."""
    import clevercsv

    tail = "\n".join(lines[len(lines) // 3:][:400])
    found = clevercsv.Detector().detect(tail, delimiters=DELIMITERS)
    if found is not None and found.delimiter in DELIMITERS:
        return found.delimiter, found.quotechar or '"'
    # CleverCSV found nothing it trusts: the delimiter that splits the most lines into the same number of fields

    def regular(d: str) -> int:
        width, lines_of_width = Counter(len(_fields(x, d, '"')) for x in lines if x).most_common(1)[0]
        return lines_of_width if width > 1 else 0

    return max(DELIMITERS, key=regular), '"'


def _width(fields: list[str]) -> int:
    """Field count without trailing empty fields: a header or rows ending in a delimiter still line up."""
    n = len(fields)
    while n and not fields[n - 1].strip():
        n -= 1
    return n


def _fits(fields: list[str], width: int) -> bool:
    """A record of the table: `width` fields, give or take trailing empty ones or one trailing delimiter."""
    return _width(fields) <= width <= len(fields) + 1


def _header_row(lines: list[str], delimiter: str, quote: str) -> int:
    """0-based index of the header: the first line with the data's field count, followed by a line with that
    count, whose cells are mostly filled and read as names (not numbers or dates). Preamble lines padded with
    delimiters to the table's width are passed over: most of their cells are empty."""
    parsed = [_fields(x, delimiter, quote) for x in lines]
    counts = [len(f) for f in parsed]
    width = Counter(c for c in counts if c > 1).most_common(1)[0][0] if any(c > 1 for c in counts) else 1
    for i in range(len(parsed) - 1):
        if not (_fits(parsed[i], width) and _fits(parsed[i + 1], width)):
            continue
        cells = [f.strip() for f in _fields(lines[i], delimiter, quote)][:width]
        filled = [x for x in cells if x]
        named = [x for x in filled if not _VALUE.match(x)]
        if len(filled) >= width * 0.6 and len(named) >= len(filled) * 0.6:
            return i
    return 0


def sniff(path: Path) -> Sniffed:
    with open(path, "rb") as fh:
        raw = fh.read(SNIFF_BYTES)
    if not raw.strip():
        raise InputError("empty file", path=path)
    encoding, sure = _encoding(raw, path)
    try:
        text = _decode(raw, encoding)
    except UnicodeDecodeError as exc:
        raise InputError(f"byte {exc.start}: not valid {encoding}; the file mixes encodings", path=path) from None
    ending = _line_ending(text)
    lines = text.split(ending)
    if len(raw) == SNIFF_BYTES:
        lines = lines[:-1]  # the last line of a cut sample is partial
    lines = [x for x in lines[: SAMPLE_ROWS + 200]]
    nonblank = [x for x in lines if x.strip()]
    if len(nonblank) < 2:
        raise InputError("fewer than two lines: no header and data rows to learn a layout from", path=path)
    delimiter, quote = _dialect(nonblank)
    h = _header_row(lines, delimiter, quote)
    header = [f.strip() for f in _fields(lines[h], delimiter, quote)]
    header = [x or f"_column{i + 1}" for i, x in enumerate(header[:_width(header)])]  # as the reader names them
    renamed = len(set(header)) < len(header)
    if renamed:
        header = numbered_columns(header)
    body = "\n".join(lines[h + 1:])
    rows, short = [], 0
    for r in csv.reader(io.StringIO(body), delimiter=delimiter, quotechar=quote):
        if not any(x.strip() for x in r):
            continue
        if not _fits(r, len(header)):
            short += 1
            continue
        rows.append([x.strip() for x in (r + [""])[: len(header)]])
        if len(rows) >= SAMPLE_ROWS:
            break
    return Sniffed(encoding, sure, ending, delimiter, quote, h + 1, header, rows,
                   [x for x in lines[:h] if x.strip()], short, renamed)
