"""What every reader shares: the Reader contract, decoding, streaming CSV, and field parsers.

A reader turns one file into chunks (polars DataFrames) holding canonical columns of one table plus three
bookkeeping columns:
  row_no  -- 1-based record number in the file (header excluded), cited by evidence and quarantine
  raw     -- the record as a JSON object of field -> text, kept for quarantine (or null, with raw_records
             giving it for the rows that are quarantined)
  errors  -- list of 'field: what is wrong' found while parsing; a row with errors is quarantined
  txn_key -- (transactions only) the text whose hash becomes txn_id; see transforms/ids.py
Readers never drop a row: a record they cannot use is emitted with an error so that it is quarantined.
"""

from __future__ import annotations

import codecs
from abc import ABC, abstractmethod
import csv
from collections import Counter
import hashlib
import io
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv

from transforms.errors import InputError

CHUNK_ROWS = 200_000
CSV_BLOCK_BYTES = 1 << 22  # pyarrow CSV block; a record may span blocks
HEAD_BYTES = 64 * 1024
HEADER_FIELD_MAX = 131_072  # characters in one column name (the csv module's default field limit)


@dataclass
class ReadContext:
    """What a reader may use besides the file: options from the command line."""

    mapping_files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # reader notes for the reconciliation line
    # files a reader read together before read() asked for each (Reader.read_ahead), by (path, content hash)
    ahead: dict[tuple[str, str], pl.DataFrame] = field(default_factory=dict)
    ahead_seconds: dict[str, float] = field(default_factory=dict)  # each such file's share of that read, by path
    ahead_tried: set[str] = field(default_factory=set)  # paths a read-ahead has looked at (each looked at once)


class Reader(ABC):
    """Base class of all readers. Subclasses set name/table/priority and implement detect() and read()."""

    name: str = ""
    table: str = ""
    # Load order inside one ingest: rates and reference data before the transactions that need them.
    priority: int = 50
    # A file whose records belong to another file's rows and are read by that file's reader (e.g. "sdn.csv")
    companion_of: str | None = None

    @abstractmethod
    def detect(self, path: Path, head: str, ctx: ReadContext) -> bool:
        """True when this reader recognises the file (from its name and first bytes)."""

    @abstractmethod
    def read(self, path: Path, ctx: ReadContext) -> Iterator[pl.DataFrame]:
        """Chunks of canonical rows with row_no, raw and errors (see the module doc)."""

    # whether read_ahead does anything: the ingest then passes it the run of consecutive small files it will read
    reads_ahead: bool = False

    def read_ahead(self, paths: list[Path], ctx: ReadContext) -> None:
        """Read these files together before read() asks for each, leaving each file's rows in ctx.ahead under its
        path and content hash (read() takes them from there while the file's content is the same). For readers
        whose cost is per file rather than per row; a file it cannot read is left to read(), which says why."""

    def raw_records(self, path: Path, ctx: ReadContext, row_nos: set[int]) -> dict[int, str]:
        """The raw records of these rows, for a reader that left `raw` null in read() to be fast: called for the
        rows being quarantined. Readers that always fill `raw` need not implement it."""
        return {}

    def source_name(self, path: Path, ctx: ReadContext) -> str:
        """Provenance `source` written on each row (delimited readers add the mapping name)."""
        return self.name


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sniff_encoding(head: bytes, declared: str | None = None) -> str:
    """Encoding from a BOM, else the declared one, else UTF-8."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    return declared or "utf-8"


def read_head(path: Path, encoding: str | None = None) -> str:
    """First bytes of a file as text, for detection; undecodable heads give ''."""
    with open(path, "rb") as fh:
        raw = fh.read(HEAD_BYTES)
    enc = sniff_encoding(raw, encoding)
    try:
        return raw.decode(enc, errors="strict")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the head is fine
        if exc.start > len(raw) - 4:
            return raw[: exc.start].decode(enc, errors="strict")
        return ""
    except LookupError:
        return ""


def first_line_fields(head: str, delimiter: str = ",") -> list[str]:
    head = head.lstrip("\ufeff")
    line = head.splitlines()[0] if head else ""
    try:
        return [f.strip() for f in next(csv.reader([line], delimiter=delimiter))]
    except (StopIteration, csv.Error):
        return []


def utf8_copy(path: Path, encoding: str) -> Path | None:
    """Validate the file's encoding while streaming it; return a temporary UTF-8 copy when it is not UTF-8.

    Decoding is strict: bytes that are not valid in the encoding refuse the file with their byte offset,
    rather than being replaced and loaded wrong.
    """
    with open(path, "rb") as fh:
        head = fh.read(4)
    enc = sniff_encoding(head, encoding)
    try:
        codecs.lookup(enc)
    except LookupError:
        raise InputError(f"unknown encoding '{encoding}'; use e.g. utf-8, utf-16, cp874, tis-620, gb18030", path=path) from None
    plain_utf8 = codecs.lookup(enc).name == "utf-8" and enc != "utf-8-sig"
    decoder = codecs.getincrementaldecoder(enc)(errors="strict")
    out = None if plain_utf8 else tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False)
    offset = 0
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                try:
                    text = decoder.decode(block)
                except UnicodeDecodeError as exc:
                    raise InputError(
                        f"byte {offset + exc.start}: not valid {enc}; set the right `encoding:` in the mapping "
                        "or re-export the file",
                        path=path,
                    ) from None
                if "\x00" in text:
                    raise InputError(
                        f"byte {offset + text.index(chr(0))}: NUL character in a text file; the file is binary or "
                        "in another encoding (UTF-16?): set `encoding:` or re-export",
                        path=path,
                    )
                if out is not None:
                    out.write(text.encode("utf-8"))
                offset += len(block)
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise InputError(f"the file ends inside a character; it is truncated or not {enc}", path=path) from None
    except BaseException:
        if out is not None:
            out.close()
            Path(out.name).unlink(missing_ok=True)
        raise
    if out is None:
        return None
    out.close()
    return Path(out.name)


@dataclass
class CsvLayout:
    delimiter: str = ","
    encoding: str = "utf-8"
    header_row: int = 1  # 1-based line holding the column names; lines above it are skipped
    quote_char: str = '"'
    number_duplicates: bool = False  # a repeated column name gets a suffix (_2, _3) instead of refusing the file


def csv_chunks(path: Path, layout: CsvLayout, chunk_rows: int = CHUNK_ROWS) -> Iterator[tuple[list[str], pl.DataFrame]]:
    """Stream a delimited file as string-typed chunks with row_no and raw; malformed records come as rows too.

    Yields (header, frame). frame has one Utf8 column per header field, plus row_no and `_invalid`
    (text of a record with the wrong number of fields, else null).
    """
    utf8 = utf8_copy(path, layout.encoding)
    src = utf8 or path
    try:
        header = _read_header(src, layout, path)
        if not header:
            raise InputError("empty file or no header line", path=path)
        header = _fit_to_rows(header, src, layout)
        # unnamed columns (trailing delimiters of spreadsheet exports) get a name of their own
        header = [h if h else f"_column{i + 1}" for i, h in enumerate(header)]
        if layout.number_duplicates:
            header = numbered_columns(header)
        dupes = sorted({h for h in header if header.count(h) > 1})
        if dupes:
            raise InputError(f"duplicated column name(s) {dupes} in the header; rename them in the export", path=path)
        invalid: list[tuple[int | None, str]] = []

        def on_invalid(row: pacsv.InvalidRow) -> str:
            invalid.append((row.number, row.text))
            return "skip"

        names = [f"c{i}" for i in range(len(header))]
        try:
            reader = pacsv.open_csv(
                src,
                read_options=pacsv.ReadOptions(
                    use_threads=False,
                    block_size=CSV_BLOCK_BYTES,
                    skip_rows=layout.header_row,
                    column_names=names,
                    encoding="utf8",
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=layout.delimiter,
                    quote_char=layout.quote_char or False,
                    newlines_in_values=True,
                    invalid_row_handler=on_invalid,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in names},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid as exc:
            # pyarrow cannot skip the header: the file is the header alone without a line break, or the header
            # is longer than a block
            if src.stat().st_size > CSV_BLOCK_BYTES:
                raise InputError(f"the first {layout.header_row} line(s) are longer than {CSV_BLOCK_BYTES >> 20} MiB; "
                                 "not a delimited extract, or the delimiter is wrong", path=path) from None
            if "skip initial" in str(exc):
                return  # header only: the loader refuses the file as having no data rows
            raise InputError(f"cannot parse as delimited text ({str(exc).splitlines()[0]})", path=path) from None
        next_no = 1
        pending: list[pl.DataFrame] = []
        pending_rows = 0
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                batch = None
            except pa.ArrowInvalid as exc:
                raise InputError(f"cannot parse as delimited text ({str(exc).splitlines()[0]})", path=path) from None
            frames: list[pl.DataFrame] = []
            if invalid:
                # A record with the wrong field count: keep it, as one row with its text, to be quarantined.
                nos = []
                for number, text in invalid:
                    nos.append((number - layout.header_row) if number is not None else None)
                frames.append(
                    pl.DataFrame(
                        {"_pos": [n if n is not None else -1 for n in nos], "_invalid": [t for _, t in invalid]},
                        schema={"_pos": pl.Int64, "_invalid": pl.Utf8},
                    )
                )
                invalid.clear()
            good = pl.DataFrame(pl.from_arrow(batch)) if batch is not None and batch.num_rows else None
            if good is not None or frames:
                chunk, next_no = _number_rows(good, frames[0] if frames else None, names, next_no)
                chunk = _flag_swallowed_records(chunk, names, layout.delimiter)
                chunk = chunk.rename(dict(zip(names, header)))
                pending.append(chunk)
                pending_rows += chunk.height
            if pending and (pending_rows >= chunk_rows or batch is None):
                yield header, pl.concat(pending, how="vertical")
                pending, pending_rows = [], 0
            if batch is None:
                break
    finally:
        if utf8 is not None:
            utf8.unlink(missing_ok=True)


def numbered_columns(header: list[str]) -> list[str]:
    """A repeated column name gets a suffix: 'Währung', 'Währung_2' (mapping option rename_duplicate_columns)."""
    seen: dict[str, int] = {}
    out = []
    for h in header:
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h}_{seen[h]}")
    return out


def _flag_swallowed_records(chunk: pl.DataFrame, names: list[str], delimiter: str) -> pl.DataFrame:
    """An unbalanced quote makes one field run on over the following lines, swallowing whole records into it.
    A field holding a line break followed by a line with (nearly) a record's worth of delimiters is taken for
    that: the record is marked malformed (kept whole in quarantine) instead of loading with the others inside."""
    if len(names) < 3:
        return chunk
    k = min(len(names) - 1, 20)
    d = re.escape(delimiter)
    pattern = rf"[\r\n][^\r\n]*(?:{d}[^\r\n]*){{{k}}}"
    swallowed = pl.any_horizontal([pl.col(n).str.contains(pattern).fill_null(False) for n in names])
    if not chunk.select(swallowed.any()).item():
        return chunk
    text = pl.concat_str([pl.col(n).fill_null("") for n in names], separator=delimiter)
    return chunk.with_columns(
        pl.when(pl.col("_invalid").is_null() & swallowed).then(text).otherwise(pl.col("_invalid")).alias("_invalid")
    )


def _fit_to_rows(header: list[str], src: Path, layout: CsvLayout, rows: int = 50) -> list[str]:
    """Exports whose header and rows differ only by a trailing delimiter still line up: a header ending in empty
    names loses them when the first records are shorter ('Balance,' over rows ending in the balance); records
    with extra trailing fields that are all empty get unnamed columns for them. Any other difference is left
    to the reader, which quarantines the records whose field count is wrong."""
    with open(src, encoding="utf-8-sig", newline="") as fh:
        for _ in range(layout.header_row):
            fh.readline()
        text = fh.read(1 << 16)
    records: list[list[str]] = []
    try:
        for record in csv.reader(io.StringIO(text), delimiter=layout.delimiter, quotechar=layout.quote_char or '"'):
            if any(f.strip() for f in record):
                records.append(record)
            if len(records) >= rows:
                break
    except csv.Error:
        return header  # the reader itself reports what is wrong with the records
    if not records:
        return header
    width = Counter(len(r) for r in records).most_common(1)[0][0]
    if width < len(header) and not any(h.strip() for h in header[width:]):
        return header[:width]
    if width > len(header) and not any(f.strip() for r in records for f in r[len(header):]):
        return header + [""] * (width - len(header))
    return header


def _read_header(src: Path, layout: CsvLayout, path: Path | None = None) -> list[str]:
    with open(src, encoding="utf-8-sig", newline="") as fh:
        for _ in range(layout.header_row - 1):
            fh.readline()
        line = fh.readline()
    if not line.strip():
        return []
    if len(line) > CSV_BLOCK_BYTES:
        raise InputError(f"the header line is longer than {CSV_BLOCK_BYTES >> 20} MiB; not a delimited extract, or the "
                         "delimiter is wrong", path=path or src)
    try:
        fields = next(csv.reader(io.StringIO(line), delimiter=layout.delimiter, quotechar=layout.quote_char or '"'))
    except csv.Error as exc:
        raise InputError(f"the header line cannot be read ({exc}); check the delimiter and quoting", path=path or src) from None
    # A column name this long is a broken quote or a wrong delimiter. Checked here, not left to the csv module's
    # field limit: libraries raise that limit for the whole process (followthemoney does on import).
    longest = max((len(f) for f in fields), default=0)
    if longest > HEADER_FIELD_MAX:
        raise InputError(f"the header line cannot be read (a column name of {longest} characters, over "
                         f"{HEADER_FIELD_MAX}); check the delimiter and quoting", path=path or src)
    return [f.strip() for f in fields]


def _number_rows(good: pl.DataFrame | None, bad: pl.DataFrame | None, names: list[str], next_no: int):
    """Give each record its ordinal: malformed records keep theirs, good ones fill the gaps in order."""
    n_good = good.height if good is not None else 0
    n_bad = bad.height if bad is not None else 0
    total = n_good + n_bad
    taken = set()
    if bad is not None:
        pos = [p if p >= next_no else None for p in bad["_pos"].to_list()]
        # unknown positions take the next free ordinal after the good rows
        fixed = []
        for p in pos:
            if p is None or p in taken or p >= next_no + total:
                p = None
            fixed.append(p)
            if p is not None:
                taken.add(p)
        free = [n for n in range(next_no, next_no + total) if n not in taken]
        good_nos = free[:n_good]
        spare = iter(free[n_good:])
        bad_nos = [p if p is not None else next(spare) for p in fixed]
        bad = bad.with_columns(pl.Series("row_no", bad_nos, dtype=pl.Int64)).drop("_pos")
        bad = bad.with_columns([pl.lit(None, dtype=pl.Utf8).alias(n) for n in names])
    else:
        good_nos = list(range(next_no, next_no + n_good))
    parts = []
    if good is not None:
        parts.append(
            good.with_columns(
                pl.Series("row_no", good_nos, dtype=pl.Int64), pl.lit(None, dtype=pl.Utf8).alias("_invalid")
            )
        )
    if bad is not None:
        parts.append(bad.select([*names, "row_no", "_invalid"]))
    out = pl.concat([p.select([*names, "row_no", "_invalid"]) for p in parts]).sort("row_no")
    return out, next_no + total


def raw_json(frame: pl.DataFrame, columns: list[str]) -> pl.Expr:
    """Expression giving the raw record as JSON: the source fields, or the malformed record's text."""
    present = [c for c in columns if c in frame.columns]
    as_struct = pl.struct([pl.col(c) for c in present]).struct.json_encode() if present else pl.lit("{}")
    return (
        pl.when(pl.col("_invalid").is_not_null())
        .then(pl.struct(pl.col("_invalid").alias("record")).struct.json_encode())
        .otherwise(as_struct)
    )


def raw_where_refused(out: pl.DataFrame, frame: pl.DataFrame, header: list[str]) -> pl.DataFrame:
    """`raw` (raw_json, into out's null `raw`) for the rows the reader already refuses, which are quarantined; null
    for the others. The JSON of every row cost a quarter of a delimited read (338 MB for 2M rows); the few rows
    refused later (validation, keys) get theirs from the reader's raw_records (csv_raw_records). `out` has one row
    per row of `frame`, in its order."""
    refused = out["errors"].list.len() > 0
    if not refused.any():
        return out
    bad = frame.filter(refused)
    return out.with_columns(out["raw"].scatter(refused.arg_true(), bad.select(raw_json(bad, header)).to_series()))


def csv_raw_records(path: Path, layout: CsvLayout, row_nos: set[int]) -> dict[int, str]:
    """The raw records (raw_json) of the given rows of a delimited file, read again: for rows refused after the
    read, whose reader left `raw` null (raw_where_refused)."""
    out: dict[int, str] = {}
    wanted = pl.Series(sorted(row_nos), dtype=pl.Int64)
    for header, frame in csv_chunks(path, layout):
        hit = frame.filter(pl.col("row_no").is_in(wanted.implode()))
        if hit.height:
            out.update(zip(hit["row_no"].to_list(), hit.select(raw_json(hit, header)).to_series().to_list()))
        if len(out) == len(row_nos):
            break
    return out


def invalid_row_error(expected: int) -> pl.Expr:
    return pl.when(pl.col("_invalid").is_not_null()).then(
        pl.lit(f"record: wrong number of fields (expected {expected}); check quoting and delimiter")
    )


def collect_errors(*exprs: pl.Expr) -> pl.Expr:
    """Combine per-field error expressions (null when fine) into the `errors` list column."""
    return pl.concat_list([e.cast(pl.Utf8) for e in exprs]).list.drop_nulls().alias("errors")


def parse_error(value: pl.Expr, parsed: pl.Expr, message: str) -> pl.Expr:
    """Error text when a non-empty source value failed to parse."""
    return (
        pl.when(value.is_not_null() & (value.str.strip_chars() != "") & parsed.is_null())
        .then(pl.lit(message + ": '") + value.str.slice(0, 60) + pl.lit("'"))
    )


def required_error(value: pl.Expr, field_name: str) -> pl.Expr:
    return pl.when(value.is_null() | (value.cast(pl.Utf8).str.strip_chars() == "")).then(
        pl.lit(f"{field_name}: missing value")
    )


def cell(name: str) -> pl.Expr:
    """A source column with blanks as null."""
    return blank_to_null(pl.col(name))


def if_well_formed(expr: pl.Expr) -> pl.Expr:
    """Only check fields of records that were split correctly (a malformed record already has its error)."""
    return pl.when(pl.col("_invalid").is_null()).then(expr)


def blank_to_null(expr: pl.Expr) -> pl.Expr:
    stripped = expr.str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped)


def json_dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)
