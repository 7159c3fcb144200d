"""Small helpers for ingest tests: run an ingest and read back what it stored."""

from __future__ import annotations

from pathlib import Path

from transforms import store
from transforms.errors import InputError
from transforms.ingest import ingest_paths
from transforms.sources.base import ReadContext
from transforms.sources.registry import detect

FX = "date,currency,usd_per_unit\n" + "".join(
    f"2026-03-{d:02d},{c},{r}\n" for d in range(1, 11) for c, r in (("THB", "0.028"), ("USDT", "1"), ("EUR", "1.08"), ("CNY", "0.14"), ("ETH", "3000"), ("TRX", "0.25"))
)


def reference_dir(name: str) -> Path:
    """A third-party reference folder: ../shared/reference/<name> when present, else the copy in tests/fixtures."""
    shared = Path(__file__).resolve().parents[2] / "shared" / "reference" / name
    return shared if shared.is_dir() else Path(__file__).resolve().parent / "fixtures" / "reference" / name


def ingest(db: Path, *paths: Path, mappings: tuple[Path, ...] = ()):
    reports = ingest_paths(db, list(paths), list(mappings))
    for r in reports:
        assert r.reconciles, r
    return {Path(r.path).name: r for r in reports}


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = store.connect(db, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def quarantine_reasons(db: Path) -> dict[int, list[str]]:
    return {r[0]: r[1] for r in rows(db, "SELECT row_no, reasons FROM quarantine ORDER BY row_no")}


def write_fx_for(files: list[Path], out: Path, rate: str) -> Path:
    """A rates file covering every (booking day, currency) the given statements hold, read with their own readers."""
    pairs = set()
    for f in files:
        reader = detect(f, ReadContext())
        if reader is None:
            continue
        try:
            for chunk in reader.read(f, ReadContext()):
                pairs |= set(chunk.select(chunk["booked_at"].dt.date(), "currency").drop_nulls().iter_rows())
        except InputError:
            continue
    out.write_text("date,currency,usd_per_unit\n" + "".join(f"{d},{c},{rate}\n" for d, c in sorted(pairs)))
    return out


def watchlist_entity(db: Path, entity_id: str) -> dict:
    """One watchlist_entities row as a dict (the store opened read-only)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        cur = con.execute("SELECT * FROM watchlist_entities WHERE entity_id = ?", [entity_id])
        row = cur.fetchone()
        assert row is not None, entity_id
        return dict(zip([d[0] for d in cur.description], row))
    finally:
        con.close()
