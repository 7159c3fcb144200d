"""Small files of a fact table (transactions, events) loaded together.

A year of explorer exports is thousands of files of a few rows each, and a file's own derive, Great Expectations run
and commit cost 20-40 ms whatever its rows (statements planned and run per file, a probe of every stored key
hash). Consecutive small files of one table are merged into one staging table with a part number, derived, checked
(one Great Expectations run per set of token symbols) and committed in one transaction. Every row gets the outcome it would get if the
files were committed one by one in the order read (the first error-free occurrence of a key, in file then row
order, is new; a key already stored is a duplicate), and every file keeps its own report, ingested_files row,
quarantine rows and raw records. A group fails or commits whole; a file not committed is read again next run.
"""

from __future__ import annotations

import time

import duckdb
import polars as pl

from transforms import schema, store
from transforms.load import (_STAGING_SEQ, FX_NOTE_ROWS, FX_NOTE_WHERE, RAW_SCHEMA, STAGING_DB, StagedFile,
                             _classify_facts, _derive_transactions, _known_currencies, _skipped, _staging_ddl,
                             fx_notes_of, ingested_row, raw_records_of, record_json, stage_frame, staged_tokens)
from transforms.validate import BatchValidator, suite_for


def applies(group: list[StagedFile]) -> bool:
    """Several files of a fact table (one key column, a keys table)."""
    return len(group) > 1 and group[0].table.keys_table is not None


def load(con: duckdb.DuckDBPyConnection, files: list[StagedFile], validator: BatchValidator, run_id: str) -> None:
    """Merge, derive, validate and commit a group of files; their reports are filled in (each file's seconds are
    its share of the group's)."""
    parts: list[StagedFile] = []
    stored = store.already_ingested(con, [s.report.file_id for s in files])
    for staged in files:  # committed since it was read, or the same content earlier in the run: skipped
        if any(p.report.file_id == staged.report.file_id for p in parts) or staged.report.file_id in stored:
            _skipped(staged.report)
        else:
            parts.append(staged)
    if not parts:
        return
    table = parts[0].table
    merged = f"{table.name}_run_{next(_STAGING_SEQ)}"
    m = f"{STAGING_DB}.{merged}"
    laps: dict[str, float] = {}
    t = time.perf_counter()
    try:
        con.execute(_staging_ddl(table, merged))
        con.execute(f"ALTER TABLE {m} ADD COLUMN _part INTEGER")
        _stage_frames(con, table, merged, [(k, p.frame) for k, p in enumerate(parts) if p.frame is not None])
        for k, p in enumerate(parts):
            if p.frame is None:
                con.execute(f"INSERT INTO {m} BY NAME SELECT {k} AS _part, * FROM {STAGING_DB}.{p.stg}")
        if table.name == "transactions":
            _derive_transactions(con, merged, part="_part")
        laps["derive"], t = time.perf_counter() - t, time.perf_counter()
        _validate(con, validator, table, merged, parts)
        laps["validate"], t = time.perf_counter() - t, time.perf_counter()
        _commit_parts(con, parts, m, run_id)
        laps["commit"] = time.perf_counter() - t
    finally:
        con.execute(f"DROP TABLE IF EXISTS {m}")
        con.execute("DROP TABLE IF EXISTS _run_fail")
        con.execute("DROP TABLE IF EXISTS _classified")
        con.execute("DROP TABLE IF EXISTS _fact_known")
    for p in parts:
        p.report.seconds.update({k: round(v / len(parts), 4) for k, v in laps.items()})
        if not p.report.reconciles:  # a bug, not bad input: stop loudly
            raise RuntimeError(f"reconciliation broken for {p.report.path}: {p.report.as_dict()}")


def _stage_frames(con: duckdb.DuckDBPyConnection, table: schema.Table, merged: str,
                  frames: list[tuple[int, pl.DataFrame]]) -> None:
    """The small files read in one chunk wait in memory: one insert per column types (usually one for all of
    them). Frames are combined only when their types are the same: a relaxed concatenation would convert values
    (a Decimal or a text amount to a float) before DuckDB casts them."""
    by_schema: dict[tuple, list[tuple[int, pl.DataFrame]]] = {}
    for k, f in frames:
        by_schema.setdefault(_schema_key(f), []).append((k, f))
    for batch in by_schema.values():
        together = pl.concat([f for _, f in batch], how="vertical")
        part = pl.Series("_part", [k for k, f in batch for _ in range(f.height)], dtype=pl.Int32)
        stage_frame(con, table, merged, together.with_columns(part), part=True)


def _schema_key(frame: pl.DataFrame) -> tuple:
    return tuple(frame.schema.items())


def _validate(con: duckdb.DuckDBPyConnection, validator: BatchValidator, table: schema.Table, merged: str,
              parts: list[StagedFile]) -> None:
    """_run_fail(_part, row_no, reason): Great Expectations' failing rows, one run per set of checks (the known
    currencies include each file's own token symbols) over the files that have it."""
    by_tokens: dict[frozenset[str], list[int]] = {}
    for k, p in enumerate(parts):
        by_tokens.setdefault(frozenset(staged_tokens(con, p)), []).append(k)
    con.execute("CREATE OR REPLACE TEMP TABLE _run_fail (_part INTEGER, row_no BIGINT, reason VARCHAR)")
    for i, (tokens, ks) in enumerate(by_tokens.items()):
        view = f"{merged}_v{i}"  # GX reads the store's stg schema (load.py: staging lives in an attached database)
        where = "" if len(by_tokens) == 1 else f" WHERE _part IN ({', '.join(map(str, ks))})"
        con.execute(f"CREATE OR REPLACE VIEW stg.{view} AS SELECT * FROM {STAGING_DB}.{merged}{where}")
        try:
            failed = validator.failures(view, suite_for(table.name, _known_currencies(con, tokens)), index=("_part", "row_no"))
            for sql, reason in failed:
                con.execute(f"INSERT INTO _run_fail SELECT _part, row_no, ? FROM ({sql}) _f", [reason])
        finally:
            con.execute(f"DROP VIEW IF EXISTS stg.{view}")


def _commit_parts(con: duckdb.DuckDBPyConnection, parts: list[StagedFile], m: str, run_id: str) -> None:
    table = parts[0].table
    cols = [c.name for c in table.columns if c.name not in ("source", "file_id", "row_no")]
    con.register("_parts", pl.DataFrame({"_part": list(range(len(parts))),
                                         "p_file_id": [p.report.file_id for p in parts],
                                         "p_path": [p.report.path for p in parts],
                                         "p_source": [p.report.source for p in parts]},
                                        schema={"_part": pl.Int32, "p_file_id": pl.Utf8, "p_path": pl.Utf8,
                                                "p_source": pl.Utf8}).to_arrow())
    try:
        with store.transaction(con):
            _classify_facts(con, table, m, ids=("_part", "row_no"), failed="_run_fail")
            counts = con.execute("SELECT _part, outcome, count(*) FROM _classified GROUP BY ALL").fetchall()
            new = f"{m} s SEMI JOIN (SELECT _part, row_no FROM _classified WHERE outcome = 'new') c USING (_part, row_no)"
            col_list = ", ".join(cols)
            con.execute(f"""INSERT INTO {table.name} ({col_list}, source, file_id, row_no)
                            SELECT {", ".join(f"s.{c}" for c in cols)}, p.p_source, p.p_file_id, s.row_no
                            FROM {new} JOIN _parts p USING (_part) ORDER BY s._part, s.row_no""")
            con.execute(f"""INSERT INTO {table.keys_table} SELECT c.h, p.p_file_id FROM _classified c JOIN _parts p USING (_part)
                            WHERE c.outcome = 'new'""")
            con.register("_raws", _raw_records(con, parts, m).to_arrow())
            try:
                con.execute(f"""INSERT INTO quarantine
                                SELECT p.p_file_id, p.p_path, p.p_source, ?, s.row_no, coalesce(s.raw, r.raw, {record_json(cols)}),
                                       c.all_errors, ?
                                FROM {m} s JOIN _classified c USING (_part, row_no) JOIN _parts p USING (_part)
                                LEFT JOIN _raws r ON r._part = s._part AND r.row_no = s.row_no
                                WHERE c.outcome = 'quarantined' ORDER BY s._part, s.row_no""", [table.name, run_id])
            finally:
                con.unregister("_raws")
            for part, outcome, n in counts:
                report = parts[part].report
                if outcome == "new":
                    report.rows_loaded = n
                elif outcome == "quarantined":
                    report.rows_quarantined = n
                else:
                    report.rows_duplicate = n
            if table.name == "transactions":
                notes: dict[int, list[tuple]] = {}
                for part, *row in con.execute(f"SELECT _part, {FX_NOTE_ROWS} FROM {new} {FX_NOTE_WHERE} GROUP BY ALL ORDER BY 1, 2").fetchall():
                    notes.setdefault(part, []).append(tuple(row))
                for part, rows in notes.items():
                    parts[part].report.notes += fx_notes_of(rows)
            con.executemany("INSERT INTO ingested_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [ingested_row(p.report, run_id) for p in parts])
    finally:
        con.unregister("_parts")


def _raw_records(con: duckdb.DuckDBPyConnection, parts: list[StagedFile], m: str) -> pl.DataFrame:
    """(_part, row_no, raw) of the quarantined rows whose reader left `raw` null, read again file by file."""
    by_part: dict[int, set[int]] = {}
    for part, row_no in con.execute(f"""SELECT s._part, s.row_no FROM {m} s JOIN _classified c USING (_part, row_no)
                                       WHERE c.outcome = 'quarantined' AND s.raw IS NULL""").fetchall():
        by_part.setdefault(part, set()).add(row_no)
    frames = [raw_records_of(parts[part], nos).select(pl.lit(part, pl.Int32).alias("_part"), pl.all())
              for part, nos in by_part.items()]
    return pl.concat(frames) if frames else pl.DataFrame(schema={"_part": pl.Int32, **RAW_SCHEMA})
