"""Ingest a set of files: detect each one's format, load them in dependency order, report per file.

A file that cannot be read is refused with a one-line reason while the others go on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, TypeVar

from transforms import load_group, store
from transforms.errors import ScamtraceError
from transforms.load import FileReport, StagedFile, commit_file, drop_staged, expand_paths, prepare_file, stage_file, validate_files
from transforms.sources.base import ReadContext, Reader, sha256_file
from transforms.sources.registry import detect
from transforms.validate import BatchValidator

T = TypeVar("T")


@dataclass
class PlannedFile:
    path: Path
    reader: Reader | None
    problem: str = ""


def plan(paths: Iterable[Path], mapping_files: Iterable[Path] = ()) -> tuple[list[PlannedFile], ReadContext]:
    files, found_mappings = expand_paths(paths)
    ctx = ReadContext(mapping_files=[*map(Path, mapping_files), *found_mappings])
    # Load mappings now so that a broken mapping stops the run before anything is written.
    from transforms.sources.registry import by_name

    by_name("delimited")._mappings(ctx)  # type: ignore[attr-defined]
    planned: list[PlannedFile] = []
    for f in files:
        try:
            reader = detect(f, ctx)
        except ScamtraceError as exc:
            planned.append(PlannedFile(f, None, str(exc)))
            continue
        if reader is None:
            planned.append(
                PlannedFile(f, None, f"{f}: unknown layout; pass --mapping FILE.yml for a bank extract (docs/mapping.md) "
                               "or see docs/layouts.md for the formats scamtrace detects")
            )
        else:
            planned.append(PlannedFile(f, reader))
    planned.sort(key=lambda p: (p.reader.priority if p.reader else 0, str(p.path)))
    return planned, ctx


def ingest_paths(
    db_path: Path,
    paths: Iterable[Path],
    mapping_files: Iterable[Path] = (),
    on_file: Callable[[FileReport], None] | None = None,
    on_rows: Callable[[str, int], None] | None = None,
    run_id: str | None = None,
    wait_seconds: float = 0,
) -> list[FileReport]:
    planned, ctx = plan(paths, mapping_files)
    con = store.connect(db_path, wait_seconds=wait_seconds)
    reports: list[FileReport] = []
    own_run = run_id is None
    try:
        if run_id is None:
            run_id = store.start_run(con, "ingest", {"paths": [str(p) for p in paths]})
        validator = BatchValidator(Path(db_path))
        unfinished: list[StagedFile] = []  # read into staging, not yet committed (dropped if the run fails)
        # Read, not yet finished, in the order read: groups of staged files, and reports of files refused or
        # skipped at their read (kept here so that reports keep that order). Finishing waits while Great
        # Expectations is still importing (seconds, in a thread) and the next files are read meanwhile, so that a
        # rates file read first does not hold up the extracts behind it where cores are free for both.
        waiting: list[list[StagedFile] | FileReport] = []
        group: list[StagedFile] = []  # the group being read (consecutive files of one table, load_group.py)

        def done(report: FileReport) -> None:
            reports.append(report)
            if on_file:
                on_file(report)

        def close(staged: StagedFile, report: FileReport) -> None:
            drop_staged(con, staged)
            unfinished.remove(staged)
            done(report)

        def finish_group(files: list[StagedFile]) -> None:
            """Small files of a fact table: loaded together (load_group.py). Others: derived, validated together,
            committed one by one, in the order read (each outcome a FileReport)."""
            if load_group.applies(files):
                refused = _guarded(files[0].report.path, files[0].report.source, files[0].report.table,
                                   partial(load_group.load, con, files, validator, run_id))
                for staged in files:
                    close(staged, _refused_with(staged.report, refused, len(files)) if isinstance(refused, FileReport)
                          else staged.report)
                return
            prepared = []
            for staged in files:
                outcome = _guarded(staged.report.path, staged.report.source, staged.report.table,
                                   partial(prepare_file, con, staged))
                if outcome is True:
                    prepared.append(staged)
                else:
                    close(staged, outcome if isinstance(outcome, FileReport) else staged.report)
            for staged, failed in zip(prepared, validate_files(con, prepared, validator)):
                close(staged, _guarded(staged.report.path, staged.report.source, staged.report.table,
                                       partial(commit_file, con, staged, failed, run_id)))

        def finish_waiting(force: bool) -> None:
            if not (force or validator.ready()):
                return
            while waiting:
                item = waiting.pop(0)
                if isinstance(item, FileReport):
                    done(item)
                else:
                    finish_group(item)

        def end_group() -> None:
            if group:
                waiting.append(list(group))
                group.clear()
            finish_waiting(force=False)

        try:
            for k in range(len(planned)):
                try:
                    outcome = _read(con, planned, k, ctx, on_rows)
                except Exception:  # not bad input (a bug, memory): what was read before is stored, as it always was
                    finish_waiting(force=True)
                    raise
                if group and not _joins_group(group, outcome):
                    end_group()
                if isinstance(outcome, FileReport):
                    waiting.append(outcome)
                    finish_waiting(force=False)
                    continue
                unfinished.append(outcome)
                group.append(outcome)
                if not _groups_with_later(outcome):
                    end_group()
            end_group()
            finish_waiting(force=True)
        finally:
            for staged in unfinished:
                drop_staged(con, staged)
            validator.close()
        if own_run:
            store.finish_run(con, run_id, "ok" if all(r.status != "refused" for r in reports) else "partial",
                             {"files": [r.as_dict() for r in reports]})
    finally:
        con.close()
    return reports


def _read(con, planned: list[PlannedFile], k: int, ctx: ReadContext,
          on_rows: Callable[[str, int], None] | None) -> StagedFile | FileReport:
    """Read planned[k] into staging, or the report of a file refused (unknown layout, bad input) or skipped."""
    item = planned[k]
    reader = item.reader
    if reader is None:
        return FileReport(path=str(item.path), status="refused", message=item.problem)
    if reader.reads_ahead:
        _read_ahead(con, planned, k, ctx)
    return _guarded(str(item.path), reader.name, reader.table, lambda: stage_file(con, item.path, reader, ctx, on_rows))


# Consecutive small files of one table are validated in one Great Expectations run (load.validate_files).
GROUP_FILES = 200
GROUP_ROWS = 200_000
READ_AHEAD_BYTES = 1 << 20  # a file this small costs its reader more per file than per row


def _read_ahead(con, planned: list[PlannedFile], k: int, ctx: ReadContext) -> None:
    """Let the reader of planned[k] read the run of small files it is about to read in one go (Reader.read_ahead).
    Each file is looked at by one read-ahead at most; files whose content is stored already are left out (the
    ingest skips them). The time it takes is the read time of the files it read (ctx.ahead_seconds)."""
    reader = planned[k].reader
    if str(planned[k].path) in ctx.ahead_tried or reader is None:
        return
    t = time.perf_counter()
    run: dict[str, Path] = {}
    try:
        for item in planned[k:k + GROUP_FILES]:
            if item.reader is not reader or str(item.path) in ctx.ahead_tried or item.path.stat().st_size > READ_AHEAD_BYTES:
                break
            ctx.ahead_tried.add(str(item.path))
            run.setdefault(sha256_file(item.path), item.path)
    except OSError:  # a file gone or unreadable: each is read alone, and its own read says so
        return
    stored = store.already_ingested(con, list(run))
    paths = [p for sha, p in run.items() if sha not in stored]
    before = set(ctx.ahead)
    if len(paths) > 1:
        reader.read_ahead(paths, ctx)
    read = [path for path, _ in set(ctx.ahead) - before] or [str(planned[k].path)]
    share = (time.perf_counter() - t) / len(read)
    for path in read:
        ctx.ahead_seconds[path] = ctx.ahead_seconds.get(path, 0.0) + share


def _groups_with_later(staged: StagedFile) -> bool:
    """A rates file is committed at once: the files after it derive their USD amounts from it. A large file is
    alone: one validation run costs little beside its rows."""
    return staged.table.name != "fx_rates" and staged.report.rows_read < GROUP_ROWS


def _joins_group(group: list[StagedFile], outcome: StagedFile | FileReport) -> bool:
    """Whether a file just read waits with the group (reports keep the order files were read in)."""
    return (isinstance(outcome, StagedFile) and outcome.table.name == group[0].table.name
            and _groups_with_later(outcome) and len(group) < GROUP_FILES
            and sum(s.report.rows_read for s in group) + outcome.report.rows_read <= GROUP_ROWS)


def _refused_with(report: FileReport, failure: FileReport, n_files: int) -> FileReport:
    """A file of a group whose load failed: refused with the group's reason, nothing of its read kept (nothing of
    it was stored; the next ingest reads it again)."""
    report.status = failure.status
    report.message = (f"not stored: loaded together with {n_files - 1} other small file(s), and the load failed "
                      f"(nothing of them was stored; ingest again): {failure.message}")
    report.rows_read = report.rows_loaded = report.rows_quarantined = report.rows_duplicate = 0
    report.notes = []
    return report


def _guarded(path: str, source: str, table: str, step: Callable[[], T]) -> T | FileReport:
    """A file's step; bad input or an unreadable file refuses this file only, and the others go on."""
    try:
        return step()
    except ScamtraceError as exc:
        return FileReport(path=path, source=source, table=table, status="refused", message=str(exc))
    except OSError as exc:  # vanished, unreadable
        return FileReport(path=path, source=source, table=table, status="refused",
                          message=f"{path}: cannot read ({exc.strerror or exc})")


def new_data_period(db_path: Path, file_ids: list[str]) -> tuple[str | None, str | None]:
    """Time span of the transactions and events that the given files loaded: what an incremental detect covers
    (each rule adds its own lookback before it). (None, None) when they loaded nothing dated."""
    if not file_ids:
        return None, None
    con = store.connect(db_path)
    try:
        # a rates file counts by the transactions it filled in (load.fill_missing_usd records them in fx_fills)
        lo, hi = con.execute(
            """SELECT min(t), max(t) FROM (
                 SELECT booked_at AS t FROM transactions WHERE file_id IN (SELECT unnest($ids))
                 UNION ALL SELECT occurred_at FROM events WHERE file_id IN (SELECT unnest($ids))
                 UNION ALL SELECT first_booked_at FROM fx_fills WHERE file_id IN (SELECT unnest($ids))
                 UNION ALL SELECT last_booked_at FROM fx_fills WHERE file_id IN (SELECT unnest($ids)))""",
            {"ids": file_ids},
        ).fetchall()[0]
    finally:
        con.close()
    # `until` is exclusive: end just after the last new row
    return (lo.isoformat() if lo else None, (hi + timedelta(microseconds=1)).isoformat() if hi else None)
