"""Writing a table as CSV, XLSX, Parquet and JSON lines, batch by batch (exports/tables.py selects and streams it).

CSV: UTF-8 with BOM and CRLF; XLSX: text cells neutralised, rows continued on further sheets past a sheet's
limit, big workbooks spooled for a worker process; Parquet in row groups; JSON lines. Every file is written to a
temporary name and renamed when complete.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.ipc  # noqa: F401  (pa.ipc)
import pyarrow.parquet as pq

from exports import text_cells
from exports.safe import atomic_path, ensure_dir, neutralise
from exports.tables import Frame, Stream, frame_stream

# Rows per Parquet row group (a group is gathered in memory before it is written).
PARQUET_ROW_GROUP = 131_072
# Rows an XLSX sheet can hold, header included (Excel's limit); more continue on further sheets.
XLSX_MAX_ROWS = 1_048_576


def _columns(batch: pa.RecordBatch) -> dict[str, pa.Array]:
    """Columns by name; a repeated name means its last column, as batch.to_pylist() rows have it."""
    return dict(zip(batch.schema.names, batch.columns))


class CsvWriter:
    """UTF-8 with BOM (Excel opens UTF-8 CSV with Thai, Chinese, Khmer names correctly only with it), CRLF."""

    def __init__(self, path: Path, columns: list[str], json_cols: frozenset[str]):
        self.path, self.columns = path, columns
        self._ctx = atomic_path(path)
        self._fh = open(self._ctx.__enter__(), "wb")
        self._fh.write(b"\xef\xbb\xbf" + text_cells.csv_header(columns).encode("utf-8"))

    def write(self, batch: pa.RecordBatch) -> None:
        cols = _columns(batch)
        self._fh.write(text_cells.csv_lines([cols[c] for c in self.columns], batch.num_rows))

    def close(self, error: BaseException | None = None) -> list[Path]:
        self._fh.close()
        self._ctx.__exit__(type(error) if error else None, error, None)
        return [self.path]


class XlsxWriter:
    """One workbook per table. Every text cell is written as a string, never as a formula.

    constant_memory keeps one row in memory (rows are written in order). A sheet holds at most
    max_rows rows with its header (the XLSX limit, 1,048,576): the rows after that continue on
    "<name> (2)", "<name> (3)", ... each with the header again, and `sheets` says how many were used.
    """

    def __init__(self, path: Path, name: str, columns: list[str], json_cols: frozenset[str],
                 max_rows: int | None = None):
        import xlsxwriter

        self.path, self.name, self.columns = path, name, columns
        self.max_rows = max_rows or XLSX_MAX_ROWS
        self._ctx = atomic_path(path)
        self._wb = xlsxwriter.Workbook(str(self._ctx.__enter__()), {
            "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
            "constant_memory": True})
        self._bold = self._wb.add_format({"bold": True})
        self.sheets = 0
        self._new_sheet()

    def _new_sheet(self) -> None:
        self.sheets += 1
        suffix = "" if self.sheets == 1 else f" ({self.sheets})"
        self._ws = self._wb.add_worksheet(self.name[: 31 - len(suffix)] + suffix)
        for j, col in enumerate(self.columns):
            self._ws.write_string(0, j, neutralise(col), self._bold)
        self._ws.freeze_panes(1, 0)
        self._row = 1

    def write(self, batch: pa.RecordBatch) -> None:
        # Numbers and bools stay cells of their type; decimals stay text so no precision is lost
        # (18-decimal token amounts). None: nothing written.
        cols = _columns(batch)
        cells = [text_cells.xlsx_cells(cols[c]) for c in self.columns]
        writes = self._writes(cells)
        for i in range(batch.num_rows):
            if self._row >= self.max_rows:
                self._new_sheet()
                writes = self._writes(cells)
            r = self._row
            for j, (write, values) in enumerate(writes):
                value = values[i]
                if value is not None:
                    write(r, j, value)
            self._row += 1

    def _writes(self, cells: list[tuple[str | None, list]]) -> list[tuple[Any, list]]:
        """Each column's values with the current sheet's method that writes them."""
        return [(getattr(self._ws, method) if method else self._write_any, values) for method, values in cells]

    def _write_any(self, i: int, j: int, value: Any) -> None:
        if isinstance(value, bool):
            self._ws.write_boolean(i, j, value)
        elif isinstance(value, (int, float)):
            self._ws.write_number(i, j, value)
        else:
            self._ws.write_string(i, j, value)

    def close(self, error: BaseException | None = None) -> list[Path]:
        self._wb.close()
        self._ctx.__exit__(type(error) if error else None, error, None)
        return [self.path]


class ParquetWriter:
    """zstd Parquet with the DuckDB types. Batches are gathered into row groups of PARQUET_ROW_GROUP rows,
    so a table of up to that many rows is one row group, as pyarrow.parquet.write_table writes it."""

    def __init__(self, path: Path, schema: pa.Schema):
        self.path, self.schema = path, schema
        self._ctx = atomic_path(path)
        self._pq = pq.ParquetWriter(str(self._ctx.__enter__()), schema, compression="zstd")
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._flushed = False

    def write(self, batch: pa.RecordBatch) -> None:
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        while self._pending_rows >= PARQUET_ROW_GROUP:
            self._flush(PARQUET_ROW_GROUP)  # full groups only, so group boundaries do not follow batch sizes

    def _flush(self, rows: int | None = None) -> None:
        table = pa.Table.from_batches(self._pending, schema=self.schema)
        rows = table.num_rows if rows is None else rows
        self._pq.write_table(table.slice(0, rows), row_group_size=PARQUET_ROW_GROUP)
        rest = table.slice(rows)
        self._pending, self._pending_rows, self._flushed = rest.to_batches(), rest.num_rows, True

    def close(self, error: BaseException | None = None) -> list[Path]:
        if error is None and (self._pending or not self._flushed):
            self._flush()  # an empty table still gets its (empty) row group, as write_table writes it
        self._pq.close()
        self._ctx.__exit__(type(error) if error else None, error, None)
        return [self.path]


class SpoolWriter:
    """A table's batches into an Arrow IPC file beside the target, for a writer that runs later in a worker
    process (xlsx_from_spool). The file is a dot-named .tmp: an interrupted export's leftovers are removed
    by the next export into the folder."""

    def __init__(self, target: Path, schema: pa.Schema):
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".spool.tmp", dir=target.parent)
        os.close(fd)
        self.path = Path(tmp)
        self._w = pa.ipc.new_file(str(self.path), schema)

    def write(self, batch: pa.RecordBatch) -> None:
        self._w.write_batch(batch)

    def close(self, error: BaseException | None = None) -> list[Path]:
        self._w.close()
        if error is not None:
            self.path.unlink(missing_ok=True)
        return []  # the output is written by the job


def xlsx_from_spool(spool: Path, path: Path, name: str, json_cols: frozenset[str],
                    max_rows: int | None = None) -> tuple[list[Path], int]:
    """The workbook of a spooled table (run in a worker process): (paths written, sheets used). The spool
    is removed."""
    try:
        with pa.memory_map(str(spool)) as src:
            reader = pa.ipc.open_file(src)
            w = XlsxWriter(path, name, reader.schema.names, json_cols, max_rows)
            try:
                for i in range(reader.num_record_batches):
                    w.write(reader.get_batch(i))
            except BaseException as exc:
                w.close(exc)
                raise
            return w.close(), w.sheets
    finally:
        spool.unlink(missing_ok=True)


class JsonlWriter:
    """One JSON object per line; JSON columns as objects, decimals as strings."""

    def __init__(self, path: Path, columns: list[str], json_cols: frozenset[str]):
        self.path, self.columns, self.json_cols = path, columns, json_cols
        self._ctx = atomic_path(path)
        self._fh = open(self._ctx.__enter__(), "wb")

    def write(self, batch: pa.RecordBatch) -> None:
        cols = _columns(batch)
        names = list(dict.fromkeys(self.columns))  # a row is a dict: a repeated name is one key
        self._fh.write(text_cells.jsonl_lines(names, [cols[c] for c in names], self.json_cols, batch.num_rows))

    def close(self, error: BaseException | None = None) -> list[Path]:
        self._fh.close()
        self._ctx.__exit__(type(error) if error else None, error, None)
        return [self.path]


def _writer(fmt: str, folder: Path, name: str, src: Stream, xlsx_max_rows: int | None):
    columns = src.schema.names
    if fmt == "csv":
        return CsvWriter(folder / f"{name}.csv", columns, src.json_cols)
    if fmt == "xlsx":
        return XlsxWriter(folder / f"{name}.xlsx", name, columns, src.json_cols, xlsx_max_rows)
    if fmt == "parquet":
        return ParquetWriter(folder / f"{name}.parquet", src.schema)
    if fmt == "jsonl":
        return JsonlWriter(folder / f"{name}.jsonl", columns, src.json_cols)
    raise ValueError(f"unknown table format {fmt}")


def write_table(src: Stream | Frame, folder: Path, name: str, formats: Iterable[str], *,
                xlsx_max_rows: int | None = None, sheets: dict[str, int] | None = None,
                spooled: list[tuple] | None = None) -> list[Path]:
    """Write one table in each requested table format, batch by batch; returns the paths written.

    Every format is fed from the same pass over the batches, so a query runs once whatever the formats.
    sheets, when given, gets name -> number of XLSX sheets for a table that needed more than one.
    spooled, when given: the XLSX is not written here; the table goes to a spool file and
    (spool, path, name, json_cols, max_rows) is appended: the arguments of xlsx_from_spool.
    """
    if isinstance(src, Frame):
        src = frame_stream(src)
    fmts = list(dict.fromkeys(formats))
    if not fmts:
        return []
    ensure_dir(folder)
    writers = []
    try:
        for fmt in fmts:
            if fmt == "xlsx" and spooled is not None:
                writers.append(SpoolWriter(folder / f"{name}.xlsx", src.schema))
            else:
                writers.append(_writer(fmt, folder, name, src, xlsx_max_rows))
        for batch in src.batches:
            for w in writers:
                w.write(batch)
    except BaseException as exc:
        for w in writers:
            try:
                w.close(exc)
            except Exception:  # the first error is the one to report
                pass
        raise
    written = []
    for w in writers:
        written += w.close()
        if isinstance(w, SpoolWriter):
            spooled.append((w.path, folder / f"{name}.xlsx", name, src.json_cols, xlsx_max_rows))
        if isinstance(w, XlsxWriter) and w.sheets > 1 and sheets is not None:
            sheets[name] = w.sheets
    return written


def subset(frame: Frame, keep: list[bool]) -> Frame:
    """Rows of a frame where keep is true (same columns and types)."""
    mask = pa.array(keep, type=pa.bool_())
    return Frame(frame.table.filter(mask), frame.json_cols)
