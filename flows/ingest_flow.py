"""Prefect flow: ingest files and folders into the store, publish the per-file reconciliation."""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_table_artifact

from flows.tasks import ingest_task

RECONCILIATION_COLUMNS = ("path", "status", "rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate", "message")


@flow(name="scamtrace-ingest", log_prints=False)
def ingest_flow(paths: list[str], mapping_files: list[str] | None = None, db: str = "scamtrace.duckdb") -> list[dict]:
    reports = ingest_task(paths, mapping_files or [], db)
    create_table_artifact(
        key="ingest-reconciliation",
        table=[{k: r[k] for k in RECONCILIATION_COLUMNS} for r in reports],
        description="Per-file reconciliation: read = loaded + quarantined + duplicate",
    )
    return reports
