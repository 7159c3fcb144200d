"""Worker processes for the export's CPU-bound writers: goAML reports (goaml_files.py) and large XLSX
workbooks (table_writers.xlsx_from_spool).

Building XML and spreadsheet cells is Python work that holds the GIL, so on a large export these jobs go to
worker processes while this process streams the other formats from DuckDB. The workers come from loky
(joblib's process executor): they start without re-running the caller's script, unlike multiprocessing's
spawn, so a script that calls export() needs no `if __name__ == "__main__"` guard, and they never inherit
DuckDB's threads (no fork of this process). Workers never open the store: each job carries its rows.

How many: one per core (at most MAX_WORKERS), or $SCAMTRACE_EXPORT_WORKERS (1 = write everything in this
process). A small export is written here: starting a worker costs about a second.
"""

from __future__ import annotations

import os

MAX_WORKERS = 8


def wanted(large: bool) -> int:
    """Worker processes for an export (1 = none); large: whether it has enough work to pay for them."""
    env = os.environ.get("SCAMTRACE_EXPORT_WORKERS", "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ValueError(f"SCAMTRACE_EXPORT_WORKERS={env!r}: give a whole number of worker processes (1 = none)")
    if not large:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def executor(workers: int):
    """A process pool of `workers` (None for 1: the caller writes in process). Reused between exports of
    one process; idle workers exit after a few minutes."""
    if workers <= 1:
        return None
    from loky import get_reusable_executor

    # A goAML batch legitimately takes a few hundred MB that Python keeps after it: loky's leak guard (300 MB)
    # would restart the worker after nearly every batch. Idle workers stay a minute, not loky's 10 s, so a
    # pause while this process streams a large table does not cost their start-up again.
    return get_reusable_executor(max_workers=workers, timeout=60, env={"LOKY_MAX_MEMORY_LEAK_SIZE": str(4 * 2**30)})
