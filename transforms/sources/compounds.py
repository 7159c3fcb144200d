"""The compound registry: a human-edited YAML file (docs/layouts.md) of suspected scam compounds."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import polars as pl
import yaml

from transforms.errors import InputError
from transforms.sources.base import ReadContext, Reader, json_dumps

MAX_VALUES = 1_000_000  # a registry is hand-edited: far below this; YAML aliases can expand without bound
LIST_FIELDS = ("aliases", "ip_cidrs", "phone_prefixes", "wallets", "accounts", "companies", "sources")
KNOWN = {"id", "name", "country", "lat", "lon", "radius_km", "confidence", *LIST_FIELDS}


class CompoundRegistryReader(Reader):
    name = "compound_registry"
    table = "compounds"
    priority = 5

    def detect(self, path: Path, head: str, ctx: ReadContext) -> bool:
        return path.suffix.lower() in (".yml", ".yaml") and any(
            line.strip() == "compounds:" for line in head.splitlines()[:50]
        )

    def read(self, path: Path, ctx: ReadContext) -> Iterator[pl.DataFrame]:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InputError(f"not valid YAML ({str(exc).splitlines()[0]}); fix the registry file", path=path) from None
        if _expanded_size(doc) > MAX_VALUES:
            raise InputError(f"the YAML expands to more than {MAX_VALUES:,} values (nested aliases or a self-reference); "
                             "refused; write the registry out plainly", path=path)
        entries = (doc or {}).get("compounds") if isinstance(doc, dict) else None
        if not isinstance(entries, list):
            raise InputError("expected a top-level 'compounds:' list (docs/layouts.md)", path=path)
        rows = []
        for i, entry in enumerate(entries, start=1):
            rows.append(_row(i, entry))
        yield pl.DataFrame(rows, schema=_SCHEMA)


_SCHEMA: dict[str, Any] = {
    "row_no": pl.Int64,
    "raw": pl.Utf8,
    "errors": pl.List(pl.Utf8),
    "compound_id": pl.Utf8,
    "name": pl.Utf8,
    "country": pl.Utf8,
    "lat": pl.Float64,
    "lon": pl.Float64,
    "radius_km": pl.Float64,
    "confidence": pl.Float64,
    **{f: pl.List(pl.Utf8) for f in LIST_FIELDS},
}


def _row(i: int, entry) -> dict:
    errors: list[str] = []
    if not isinstance(entry, dict):
        return {"row_no": i, "raw": json_dumps(entry), "errors": ["entry: not a mapping of fields"]}
    unknown = sorted(set(entry) - KNOWN)
    if unknown:
        errors.append(f"fields: unknown {unknown}; known: {sorted(KNOWN)}")
    row = {"row_no": i, "raw": json_dumps(entry), "compound_id": _text(entry.get("id")), "name": _text(entry.get("name")),
           "country": (_text(entry.get("country")) or "").upper() or None}
    for f in ("lat", "lon", "radius_km", "confidence"):
        v = entry.get(f)
        try:
            row[f] = float(v) if v is not None else None
        except (TypeError, ValueError):
            errors.append(f"{f}: not a number: {v!r}")
            row[f] = None
    for f in LIST_FIELDS:
        v = entry.get(f) or []
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list):
            errors.append(f"{f}: must be a list")
            v = []
        if any(isinstance(x, (dict, list)) for x in v):
            errors.append(f"{f}: must be a list of texts")
            v = []
        row[f] = [str(x).strip() for x in v if x is not None]
    row["errors"] = errors
    return row


def _expanded_size(doc, limit: int = MAX_VALUES) -> int:
    """Number of values the document has once its aliases are expanded (as JSON would); stops past `limit`."""
    seen, stack = 0, [doc]
    while stack and seen <= limit:
        node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return seen


def _text(v) -> str | None:
    return str(v).strip() if v is not None and str(v).strip() else None


READERS = [CompoundRegistryReader()]
