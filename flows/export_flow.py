"""Prefect flow: write investigator outputs from the store."""

from __future__ import annotations

from prefect import flow

from flows.tasks import export_task


@flow(name="scamtrace-export", log_prints=False)
def export_flow(db: str, out: str, options: dict | None = None) -> dict:
    return export_task(db, out, options or {})
