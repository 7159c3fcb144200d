"""Small helpers for ingest tests: run an ingest and read back what it stored."""

from __future__ import annotations

from pathlib import Path

from transforms import store
from transforms.ingest import ingest_paths

FX = "date,currency,usd_per_unit\n" + "".join(
    f"2026-03-{d:02d},{c},{r}\n" for d in range(1, 11) for c, r in (("THB", "0.028"), ("USDT", "1"), ("EUR", "1.08"), ("CNY", "0.14"), ("ETH", "3000"), ("TRX", "0.25"))
)


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
