"""Prefect flow: write investigator outputs from the store."""

from __future__ import annotations

from prefect import flow, task

from flows.stages import open_store


@task(name="export", retries=2, retry_delay_seconds=5)
def export_task(db: str, out: str, options: dict) -> dict:
    from pathlib import Path

    from transforms.exports import export

    con = open_store(db)
    try:
        return export(con, Path(out), **options)
    finally:
        con.close()


@flow(name="scamtrace-export", log_prints=False)
def export_flow(db: str, out: str, options: dict | None = None) -> dict:
    return export_task(db, out, options or {})
