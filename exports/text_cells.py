"""Text of export cells, a whole Arrow column at a time (CSV, JSON lines and XLSX text).

Why: converting value by value in Python (`to_pylist`, then isinstance chains) was most of the time of a large
export. Here each column is converted with pyarrow.compute into exactly the text the per-value functions below
give (`cell_text` for CSV / XLSX, `json_text` for JSON lines); a type where that would not be exact (float,
struct, map, nested lists, JSON columns, ...) or a single value Arrow formats differently (tiny decimals,
far-off years) goes through the per-value functions instead. They stay the reference:
tests/exports/test_text_cells.py checks the column-wise output against them byte for byte.
"""

from __future__ import annotations

import csv
import decimal
import io
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable

import pyarrow as pa
import pyarrow.compute as pc

from exports.safe import _FORMULA_LEAD, neutralise

# --------------------------------------------------------------------------------- per value (the reference)


def _plain(value: Any) -> Any:
    """A value for the text formats: decimals without exponent or trailing zeros, ISO times."""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
            return value.strftime("%Y-%m-%dT%H:%M:%S") + ("." + f"{value.microsecond:06d}" if value.microsecond else "") + "Z"
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def cell_text(value: Any) -> str:
    """Text of one CSV / XLSX cell: lists joined with '; ', JSON kept as its text, formulas neutralised."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        text = "; ".join("" if v is None else str(_plain(v)) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(_plain(value))
    return neutralise(text)


def _json_value(value: Any, is_json: bool) -> Any:
    if is_json and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, (list, tuple)):
        return [_json_value(v, False) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v, False) for k, v in value.items()}
    return _plain(value)


def json_text(value: Any, is_json: bool) -> str:
    """One value as it appears in a JSON-lines row (json.dumps of a row writes each value like this)."""
    return json.dumps(_json_value(value, is_json), ensure_ascii=False, default=str)


# ------------------------------------------------------------------------------------------- helpers

# safe.neutralise as a regex over a column (same lead characters)
_NEUTRALISE = "^([" + "".join(f"\\x{ord(c):02x}" for c in _FORMULA_LEAD) + "])"
_EPOCH = datetime(1970, 1, 1)
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000}


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _is_list(t: pa.DataType) -> bool:
    return pa.types.is_list(t) or pa.types.is_large_list(t)


def _decoded(arr: pa.Array) -> pa.Array:
    return arr.dictionary_decode() if pa.types.is_dictionary(arr.type) else arr


def _patch(texts: pa.Array, source: pa.Array, mask: pa.Array, fn: Callable[[Any], str | None]) -> pa.Array:
    """texts with the rows where mask is true replaced by fn(value of source) computed in Python."""
    mask = mask.fill_null(False)
    if not pc.any(mask).as_py():
        return texts
    fixed = [fn(v) for v in source.filter(mask).to_pylist()]
    return pc.replace_with_mask(texts, mask, pa.array(fixed, pa.string()))


def _per_value(arr: pa.Array, fn: Callable[[Any], str | None]) -> pa.Array:
    return pa.array([fn(v) for v in arr.to_pylist()], pa.string())


def _lists(arr: pa.Array, items: pa.Array) -> pa.Array:
    """arr's lists holding items instead (items: one per value of _list_items(arr), in order)."""
    offsets = arr.offsets
    start = offsets[0]
    return pa.ListArray.from_arrays(pc.subtract(offsets, start).cast(pa.int32()), items, mask=arr.is_null())


def _list_items(arr: pa.Array) -> pa.Array:
    """The items arr's lists hold (arr.values is the whole child, also outside a slice)."""
    offsets = arr.offsets
    start, end = offsets[0].as_py(), offsets[-1].as_py()
    return arr.values.slice(start, end - start)


# --------------------------------------------------------------------------------------- plain texts


def _decimal_texts(arr: pa.Array) -> pa.Array:
    text = arr.cast(pa.string())
    if arr.type.scale > 0:  # normalize(): no trailing zeros, no dangling point
        text = pc.replace_substring_regex(text, r"\.0*$|(\.\d*[1-9])0+$", r"\1")
    # Arrow writes |x| < 1e-6 (zero too) with an exponent; normalize() rounds to the context's digits.
    text = pc.replace_substring_regex(text, r"^0E[-+]?\d+$", "0")
    odd = pc.match_substring(text, "E")
    prec = decimal.getcontext().prec
    if arr.type.precision > prec:
        digits = pc.utf8_trim(pc.replace_substring_regex(text, r"[-.]", ""), "0")
        odd = pc.or_(odd, pc.greater(pc.utf8_length(digits), prec))
    return _patch(text, arr, odd, _plain)


def _timestamp_texts(arr: pa.Array) -> pa.Array | None:
    unit, tz = arr.type.unit, arr.type.tz
    if unit not in _PER_SECOND:
        return None  # ns: to_pylist gives another type
    # Python's strftime writes years < 1000 unpadded; datetime ends at 9999 (and a zone may push it over).
    lo, hi = (datetime(1000, 1, 2), datetime(9999, 12, 30)) if tz else (datetime(1, 1, 1), datetime(9999, 12, 31))
    ticks = arr.cast(pa.int64())
    lo_t, hi_t = ((d - _EPOCH) // timedelta(seconds=1) * _PER_SECOND[unit] for d in (lo, hi))
    odd = pc.or_(pc.less(ticks, lo_t), pc.greater(ticks, hi_t))
    naive = pc.if_else(odd, pa.scalar(None, pa.int64()), ticks).cast(pa.timestamp(unit)).cast(pa.timestamp("us"))
    text = pc.strftime(naive, "%Y-%m-%dT%H:%M:%S")  # at us, %S carries ".ffffff"
    text = pc.replace_substring_regex(text, r"\.000000$", "")  # written only when not zero
    if tz:  # the ticks are UTC whatever the zone
        text = pc.binary_join_element_wise(text, "Z", "")
    return _patch(text, arr, odd, lambda v: str(_plain(v)))


def _date_texts(arr: pa.Array) -> pa.Array:
    days = arr.cast(pa.int32())
    odd = pc.or_(pc.less(days, (date.min - _EPOCH.date()).days), pc.greater(days, (date.max - _EPOCH.date()).days))
    return _patch(arr.cast(pa.string()), arr, odd, lambda v: str(_plain(v)))


def _plain_texts(arr: pa.Array) -> pa.Array | None:
    """str(_plain(v)) of each value, null where null; None when that type is not converted column-wise."""
    t = arr.type
    if _is_text(t):
        return arr.cast(pa.string())
    if pa.types.is_integer(t):
        return arr.cast(pa.string())
    if pa.types.is_decimal(t):
        return _decimal_texts(arr)
    if pa.types.is_timestamp(t):
        return _timestamp_texts(arr)
    if pa.types.is_date32(t):
        return _date_texts(arr)
    return None


# ------------------------------------------------------------------------------------- CSV / XLSX text


def _item_texts(arr: pa.Array) -> pa.Array | None:
    """Text of list items as cell_text joins them: str() of each, so bools are True / False."""
    arr = _decoded(arr)
    if pa.types.is_boolean(arr.type):
        return pc.if_else(arr, "True", "False")
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), pa.string())
    return _plain_texts(arr)


def cell_texts(arr: pa.Array) -> pa.Array:
    """cell_text of each value of a column, null where the value is null (XLSX writes nothing there)."""
    arr = _decoded(arr)
    t = arr.type
    if pa.types.is_null(t):
        return pa.nulls(len(arr), pa.string())
    text = None
    if pa.types.is_boolean(t):
        text = arr.cast(pa.string())
    elif _is_list(t):
        items = _item_texts(_list_items(arr))
        if items is not None:
            text = pc.binary_join(_lists(arr, items.fill_null("")), "; ")
    else:
        text = _plain_texts(arr)
    if text is None:  # float, struct, map, nested lists, time, binary, ...
        return _per_value(arr, lambda v: None if v is None else cell_text(v))
    return pc.replace_substring_regex(text, _NEUTRALISE, "'\\1", max_replacements=1)


def csv_lines(columns: list[pa.Array], rows: int) -> pa.Buffer | bytes:
    """The CSV lines (UTF-8, CRLF) of a batch given as its columns, quoted as csv.writer (QUOTE_MINIMAL) does."""
    if not columns:
        return b"\r\n" * rows
    fields = []
    for col in columns:
        text = cell_texts(col).fill_null("")
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
        fields.append(pc.if_else(pc.match_substring_regex(text, '[,"\r\n]'), quoted, text))
    if len(fields) == 1:  # csv.writer quotes a row that would otherwise be an empty line
        fields[0] = pc.if_else(pc.equal(fields[0], ""), '""', fields[0])
    return _joined(pc.binary_join_element_wise(*fields, ","), "\r\n")


def csv_header(columns: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([neutralise(c) for c in columns])
    return out.getvalue()


def _joined(lines: pa.Array, end: str) -> pa.Buffer | bytes:
    """All lines, each followed by end, as one buffer (the data buffer of the string array)."""
    lines = pc.binary_join_element_wise(lines, "", end).cast(pa.string())
    if len(lines) == 0:
        return b""
    _, offsets, data = lines.buffers()
    offsets = pa.Array.from_buffers(pa.int32(), len(lines) + 1, [None, offsets], offset=lines.offset)
    start, stop = offsets[0].as_py(), offsets[-1].as_py()
    return data.slice(start, stop - start)


# ------------------------------------------------------------------------------------------ JSON lines


def _quoted(text: pa.Array) -> pa.Array:
    """JSON strings of text as json.dumps(ensure_ascii=False) writes them."""
    escaped = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
    out = pc.binary_join_element_wise('"', escaped, '"', "")
    # control characters have short (\n) and \u00XX forms: rare, so json.dumps them
    ctrl = pc.match_substring_regex(text, r"[\x00-\x1f]")
    return _patch(out, text, ctrl, lambda s: json.dumps(s, ensure_ascii=False))


def _json_scalars(arr: pa.Array) -> pa.Array | None:
    """JSON of each scalar value ("null" for null); None when that type is not converted column-wise."""
    arr = _decoded(arr)
    t = arr.type
    if pa.types.is_null(t):
        text = pa.nulls(len(arr), pa.string())
    elif pa.types.is_boolean(t) or pa.types.is_integer(t):
        text = arr.cast(pa.string())
    else:
        plain = _plain_texts(arr)
        if plain is None:
            return None
        text = _quoted(plain)
    return text.fill_null("null")


def json_texts(arr: pa.Array, is_json: bool = False) -> pa.Array:
    """json_text of each value of a column ("null" for null)."""
    arr = _decoded(arr)
    text = None
    if is_json and _is_text(arr.type):
        pass  # parsed and re-written by json: done per value
    elif _is_list(arr.type):
        items = _json_scalars(_list_items(arr))
        if items is not None:
            joined = pc.binary_join(_lists(arr, items), ", ")
            text = pc.binary_join_element_wise("[", joined, "]", "").fill_null("null")
    else:
        text = _json_scalars(arr)
    return _per_value(arr, lambda v: json_text(v, is_json)) if text is None else text


def jsonl_lines(names: list[str], columns: list[pa.Array], json_cols: frozenset[str], rows: int) -> pa.Buffer | bytes:
    """The JSON lines of a batch: one object per row, keys in column order, as json.dumps writes it."""
    if not names:
        return b"{}\n" * rows
    parts = [pc.binary_join_element_wise(json.dumps(name, ensure_ascii=False) + ": ", json_texts(col, name in json_cols), "")
             for name, col in zip(names, columns)]
    body = pc.binary_join_element_wise(*parts, ", ")
    return _joined(pc.binary_join_element_wise("{", body, "}", ""), "\n")


# ------------------------------------------------------------------------------------------------ XLSX


def xlsx_cells(arr: pa.Array) -> tuple[str | None, list]:
    """(xlsxwriter method, values) of a column, None among the values where nothing is written: numbers and
    bools as themselves, the rest as cell text. Method None (extension types): each value picks, as before."""
    arr = _decoded(arr)
    t = arr.type
    if pa.types.is_boolean(t):
        return "write_boolean", arr.to_pylist()
    if pa.types.is_integer(t) or pa.types.is_float32(t) or pa.types.is_float64(t):
        return "write_number", arr.to_pylist()
    if isinstance(t, pa.ExtensionType):  # its Python values may be numbers
        return None, [v if v is None or isinstance(v, (bool, int, float)) else cell_text(v) for v in arr.to_pylist()]
    return "write_string", cell_texts(arr).to_pylist()
