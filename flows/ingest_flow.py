"""Prefect flow: ingest files and folders into the store, publish the per-file reconciliation."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_table_artifact

from flows import progress
from transforms.ingest import ingest_paths


@task(name="ingest-files")
def ingest_files(paths: list[str], mapping_files: list[str], db: str) -> list[dict]:
    reports = ingest_paths(
        Path(db),
        [Path(p) for p in paths],
        [Path(m) for m in mapping_files],
        on_file=lambda r: progress.emit("file_done", report=r),
        on_rows=lambda path, n: progress.emit("rows", path=path, n=n),
    )
    return [r.as_dict() for r in reports]


@flow(name="scamtrace-ingest", log_prints=False)
def ingest_flow(paths: list[str], mapping_files: list[str] | None = None, db: str = "scamtrace.duckdb") -> list[dict]:
    reports = ingest_files(paths, mapping_files or [], db)
    create_table_artifact(
        key="ingest-reconciliation",
        table=[{k: r[k] for k in ("path", "status", "rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate", "message")} for r in reports],
        description="Per-file reconciliation: read = loaded + quarantined + duplicate",
    )
    return reports
