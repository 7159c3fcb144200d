"""Load one file into the store: stage its chunks, derive ids and USD amounts, validate with Great Expectations,
then commit loaded rows, quarantine and the reconciliation in one transaction (all of the file or none).

Invariant, checked for every file: rows_read = rows_loaded + rows_quarantined + rows_duplicate.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import duckdb
import polars as pl

from transforms import schema, store
from transforms.errors import InputError
from transforms.fx_defaults import PEGGED, ecb_rates
from transforms.sources.base import ReadContext, Reader, sha256_file
from transforms.validate import BatchValidator, iso_currencies, suite_for

FX_LOOKBACK_DAYS = 7  # a rate from the last week covers weekends and holidays


@dataclass
class FileReport:
    path: str
    source: str = ""
    table: str = ""
    file_id: str = ""
    status: str = "loaded"  # loaded | skipped (already ingested) | refused (unreadable) | failed
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    message: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # per stage: read, derive, validate, commit

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_quarantined + self.rows_duplicate

    def as_dict(self) -> dict:
        return asdict(self)


class _Clock:
    def __init__(self, into: dict[str, float]):
        self.into, self.t = into, time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.into[name] = round(now - self.t, 3)
        self.t = now


BOOKKEEPING = {"row_no": "BIGINT", "raw": "VARCHAR", "errors": "VARCHAR[]"}


# Staging lives in an in-memory database attached to the store's instance (it spills to the temp directory beyond
# the memory limit): writing a file's rows to the store file twice before the commit (stage, derive) cost more than
# the rest of the load. The store's `stg` schema holds a view of each staging table, through which Great
# Expectations (its own connection on the same database instance) reads it.
STAGING_DB = "scamtrace_staging"


def _attach_staging(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {STAGING_DB}")


def _staging_ddl(table: schema.Table, name: str) -> str:
    cols = [c for c in table.columns if c.name not in ("source", "file_id", "row_no")]
    parts = [f"{c.name} {c.type}" for c in cols] + [f"{k} {v}" for k, v in BOOKKEEPING.items()]
    if table.name == "transactions":
        parts.append("txn_key VARCHAR")
    return f"CREATE OR REPLACE TABLE {STAGING_DB}.{store.ident(name)} ({', '.join(parts)})"


def staging_frame(table: schema.Table, chunk: pl.DataFrame) -> pl.DataFrame:
    """A reader's chunk with the staging table's columns, in its order (missing ones null)."""
    wanted = [c.name for c in table.columns if c.name not in ("source", "file_id", "row_no")]
    extra = ["txn_key"] if table.name == "transactions" else []
    missing = [m for m in wanted + extra if m not in chunk.columns]
    if missing:
        chunk = chunk.with_columns([pl.lit(None).alias(m) for m in missing])
    if "errors" not in chunk.columns:
        chunk = chunk.with_columns(pl.lit([], dtype=pl.List(pl.Utf8)).alias("errors"))
    return chunk.select(wanted + list(BOOKKEEPING) + extra)


def stage_frame(con: duckdb.DuckDBPyConnection, table: schema.Table, into: str, frame: pl.DataFrame,
                part: bool = False) -> None:
    """INSERT a staging frame (staging_frame; with a leading `_part` column when `part`) into a staging table,
    each column cast to its type (a value that does not cast stays NULL: the checks then name it)."""
    wanted = [c for c in table.columns if c.name not in ("source", "file_id", "row_no")]
    extra = ["txn_key"] if table.name == "transactions" else []
    # Arrow string views, polars' own layout: no copy into large strings, and DuckDB reads them faster
    con.register("_chunk", frame.to_arrow(compat_level=pl.CompatLevel.newest()))
    try:
        casts = ["_part"] if part else []
        casts += [f"TRY_CAST({c.name} AS {c.type}) AS {c.name}" for c in wanted]
        casts += ["row_no", "raw", "CAST(errors AS VARCHAR[]) AS errors"] + extra
        con.execute(f"INSERT INTO {STAGING_DB}.{into} BY NAME SELECT {', '.join(casts)} FROM _chunk")
    finally:
        con.unregister("_chunk")


def _stage_chunk(con: duckdb.DuckDBPyConnection, table: schema.Table, stg: str, chunk: pl.DataFrame) -> None:
    stage_frame(con, table, stg, staging_frame(table, chunk))


def _derive_transactions(con: duckdb.DuckDBPyConnection, stg: str, part: str = "") -> None:
    """txn_id from the key, pseudo-accounts for unknown counterparties, USD amounts: one pass over the staging
    table (a rewrite is much cheaper in DuckDB than several UPDATEs of every row). `part`: the column that tells
    the files of a merged staging table apart (load_group.py); natural keys are numbered within each file."""
    s = f"{STAGING_DB}.{stg}"
    has_natural = con.execute(f"SELECT count(*) FROM {s} WHERE txn_key LIKE 'nat|%'").fetchall()[0][0] > 0
    # Natural keys get an occurrence number: two identical-looking rows in one file stay two transactions,
    # while the same rows in an overlapping file still meet them.
    keyed = (
        f"SELECT * REPLACE (CASE WHEN txn_key LIKE 'nat|%' THEN txn_key || '#' || "
        f"row_number() OVER (PARTITION BY {part + ', ' if part else ''}txn_key ORDER BY row_no) ELSE txn_key END AS txn_key) FROM {s}"
        if has_natural
        else f"SELECT * FROM {s}"
    )
    _day_rates(con, s)
    pegged = ", ".join(f"'{c}'" for c in PEGGED)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {s}_derived AS
        WITH keyed AS ({keyed}),
        ided AS (
            SELECT * REPLACE (coalesce(txn_id, 't' || left(sha256(txn_key), 32)) AS txn_id) FROM keyed
        ),
        filled AS (  -- an entry without a counterparty gets a pseudo-account of its own, never a shared hub
            SELECT * REPLACE (
                CASE WHEN from_account_id IS NULL AND to_account_id IS NOT NULL THEN 'unknown:' || txn_id
                     ELSE from_account_id END AS from_account_id,
                CASE WHEN to_account_id IS NULL AND from_account_id IS NOT NULL THEN 'unknown:' || txn_id
                     ELSE to_account_id END AS to_account_id)
            FROM ided
        ),
        -- the latest rate on or before the booking day, at most FX_LOOKBACK_DAYS old (_st_day_rates); USD needs none
        rated AS (  -- a user's rate first, then the ECB's, then a stablecoin's peg (fx_defaults.py)
            SELECT f.* REPLACE (
                CASE WHEN f.currency = 'USD' THEN 'usd' WHEN r.usd_per_unit IS NOT NULL THEN r.fx_source
                     WHEN f.currency IN ({pegged}) THEN 'peg' END AS fx_source),
                CASE WHEN f.currency = 'USD' THEN 1 WHEN r.usd_per_unit IS NOT NULL THEN r.usd_per_unit
                     WHEN f.currency IN ({pegged}) THEN 1 END AS _rate
            FROM filled f
            LEFT JOIN _st_day_rates r ON r.currency = f.currency AND r.day = CAST(f.booked_at AS DATE)
        ),
        -- exact product where DECIMAL(38) holds it (up to ~1.7e8 USD), else the amount at 6 decimals; a USD
        -- value beyond DECIMAL(18,2) stays NULL and the row is quarantined (never an overflow error)
        converted AS (
            SELECT * REPLACE (CASE
                WHEN _rate = 1 AND amount < 100000000 THEN TRY_CAST(round(amount, 2) AS DECIMAL(18,2))  -- same value, cheaper
                ELSE {usd_sql("amount", "_rate")} END AS amount_usd)
            FROM rated
        )
        SELECT * EXCLUDE (_rate) REPLACE (
            CASE WHEN _rate IS NOT NULL AND amount IS NOT NULL AND amount_usd IS NULL
                 THEN list_append(errors, 'amount_usd: the USD value is too large for DECIMAL(18,2); check the amount')
                 ELSE errors END AS errors,
            CASE WHEN _rate IS NULL THEN 'no_rate' ELSE 'ok' END AS fx_status)
        FROM converted
        """
    )
    con.execute(f"DROP TABLE {s}")
    con.execute(f"ALTER TABLE {s}_derived RENAME TO {stg}")
    con.execute("DROP TABLE IF EXISTS _st_day_rates")


def usd_sql(amount: str, rate: str) -> str:
    """amount x rate as DECIMAL(18,2): the exact product where DECIMAL(38) holds it, else the amount at 6
    decimals; NULL (never an overflow error) when the USD value is beyond DECIMAL(18,2)."""
    return (f"TRY_CAST(round(coalesce(TRY({amount} * {rate}), TRY(CAST({amount} AS DECIMAL(38,6)) * {rate})), 2)"
            " AS DECIMAL(18,2))")


def fill_missing_usd(con: duckdb.DuckDBPyConnection, file_id: str) -> int:
    """Convert the transactions loaded without a rate (fx_status no_rate) whose currency and day now have one
    (the rates file file_id brought it); their span goes to fx_fills for the next incremental detect.
    Returns how many were filled."""
    con.execute("CREATE OR REPLACE TEMP TABLE _st_fill AS SELECT txn_id, booked_at, currency, amount "
                "FROM transactions WHERE fx_status = 'no_rate'")
    try:
        if not con.execute("SELECT count(*) FROM _st_fill").fetchone()[0]:  # type: ignore[index]
            return 0
        _day_rates(con, "_st_fill")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _st_filled AS
                       SELECT * FROM (
                           SELECT f.txn_id, f.booked_at, r.fx_source, {usd_sql("f.amount", "r.usd_per_unit")} AS amount_usd
                           FROM _st_fill f JOIN _st_day_rates r ON r.currency = f.currency AND r.day = CAST(f.booked_at AS DATE)
                       ) WHERE amount_usd IS NOT NULL""")
        n, lo, hi = con.execute("SELECT count(*), min(booked_at), max(booked_at) FROM _st_filled").fetchone()  # type: ignore[misc]
        if n:
            with store.transaction(con):
                con.execute("""UPDATE transactions t SET amount_usd = f.amount_usd, fx_source = f.fx_source, fx_status = 'ok'
                               FROM _st_filled f WHERE t.txn_id = f.txn_id AND t.fx_status = 'no_rate'""")
                con.execute("INSERT INTO fx_fills VALUES (?, ?, ?, ?)", [file_id, n, lo, hi])
        con.execute("DROP TABLE IF EXISTS _st_filled")
        return int(n)
    finally:
        con.execute("DROP TABLE IF EXISTS _st_fill")
        con.execute("DROP TABLE IF EXISTS _st_day_rates")


RAW_SCHEMA = {"row_no": pl.Int64, "raw": pl.Utf8}


def _raw_records(con: duckdb.DuckDBPyConnection, staged: str, staged_file: StagedFile) -> pl.DataFrame:
    """(row_no, raw) of the rows being quarantined whose reader left `raw` null to be fast (camt): it gives them now."""
    nos = {r[0] for r in con.execute(f"""SELECT s.row_no FROM {staged} s JOIN _classified c USING (row_no)
                                        WHERE c.outcome = 'quarantined' AND s.raw IS NULL""").fetchall()}
    return raw_records_of(staged_file, nos)


def raw_records_of(staged_file: StagedFile, nos: set[int]) -> pl.DataFrame:
    """(row_no, raw) of the given rows, read again from the file by its reader (checked unchanged first)."""
    empty = pl.DataFrame(schema=RAW_SCHEMA)
    if not nos or staged_file.reader is None or staged_file.ctx is None:
        return empty
    path = Path(staged_file.report.path)
    try:
        same = sha256_file(path) == staged_file.report.file_id
        raws = staged_file.reader.raw_records(path, staged_file.ctx, nos) if same else {}
    except OSError:
        same, raws = False, {}
    if not same:  # changed or gone since it was read: the loaded values stand in for the source record
        staged_file.report.notes.append(f"the file changed or went away after it was read: {len(nos)} quarantined "
                                        "row(s) keep their read values as the record, not the file's text")
    if not raws:
        return empty
    return pl.DataFrame({"row_no": list(raws), "raw": list(raws.values())}, schema=empty.schema)


FX_NOTE_ROWS = "currency, fx_status, fx_source, count(*)"
FX_NOTE_WHERE = "WHERE fx_source IS NULL OR fx_source IN ('ecb', 'peg')"


def _fx_notes(con: duckdb.DuckDBPyConnection, picked: str) -> list[str]:
    """What the file's loaded rows were converted with, when it was not the user's rates: per currency."""
    return fx_notes_of(con.execute(f"SELECT {FX_NOTE_ROWS} FROM {picked} {FX_NOTE_WHERE} GROUP BY ALL ORDER BY 1").fetchall())


def fx_notes_of(rows: list[tuple]) -> list[str]:
    """The notes for (currency, fx_status, fx_source, rows) of converted rows."""
    notes = []
    for ccy, status, source, n in rows:
        if status == "no_rate":
            notes.append(f"{n} row(s) in {ccy} loaded without amount_usd: no {ccy} rate within {FX_LOOKBACK_DAYS} days "
                         f"up to the booking day; ingest a rates file with {ccy} and they are filled in")
        elif source == "ecb":
            notes.append(f"{n} row(s) in {ccy} converted with the ECB reference rate (no {ccy} rate in your rates file)")
        else:
            notes.append(f"{n} row(s) in {ccy} taken at 1 USD per token (a stablecoin peg assumption)")
    return notes


def _day_rates(con: duckdb.DuckDBPyConnection, s: str) -> None:
    """_st_day_rates(currency, day, usd_per_unit, fx_source): for each currency and booking day of the staged rows,
    the latest rate on or before that day if at most FX_LOOKBACK_DAYS old, from the user's fx_rates, else from the
    ECB reference rates. A hash join with this small table gives what an ASOF join of every row with the rates
    gives, several times faster."""
    ecb = ecb_rates()
    staged_ccy = [r[0] for r in con.execute(f"SELECT DISTINCT currency FROM {s} WHERE currency IS NOT NULL").fetchall()]
    con.register("_st_ecb_all", ecb.filter(pl.col("currency").is_in(staged_ccy)).to_arrow())
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _st_day_rates AS
            WITH rates AS (
                SELECT currency, rate_date, usd_per_unit, 'user' AS fx_source FROM fx_rates
                UNION ALL SELECT currency, rate_date, usd_per_unit, 'ecb' FROM _st_ecb_all
            ),
            span AS (SELECT CAST(min(booked_at) AS DATE) AS lo, CAST(max(booked_at) AS DATE) AS hi FROM {s}),
            days AS (
                SELECT c.currency, c.fx_source, CAST(g.range AS DATE) AS day
                FROM (SELECT currency, fx_source, min(rate_date) AS first_rate FROM rates GROUP BY ALL) c, span,
                     range(CAST(greatest(c.first_rate, span.lo) AS TIMESTAMP), CAST(span.hi AS TIMESTAMP) + INTERVAL 1 DAY,
                           INTERVAL 1 DAY) g
            ),
            found AS (
                SELECT d.currency, d.day, r.usd_per_unit, d.fx_source
                FROM days d
                ASOF JOIN rates r ON r.currency = d.currency AND r.fx_source = d.fx_source AND r.rate_date <= d.day
                WHERE r.rate_date >= d.day - INTERVAL {FX_LOOKBACK_DAYS} DAY
            )
            SELECT currency, day, usd_per_unit, fx_source FROM found
            QUALIFY row_number() OVER (PARTITION BY currency, day ORDER BY fx_source = 'user' DESC) = 1
            """
        )
    finally:
        con.unregister("_st_ecb_all")


TOKEN_SYMBOL = "[A-Z0-9.]{2,12}"


def _known_currencies(con: duckdb.DuckDBPyConnection, tokens: Iterable[str] = ()) -> list[str]:
    """ISO 4217 codes, the rates table's currencies, the pegged stablecoins, and the given token symbols."""
    rates = [r[0] for r in con.execute("SELECT DISTINCT currency FROM fx_rates").fetchall()]
    return sorted(set(iso_currencies()) | set(rates) | set(PEGGED) | set(tokens))


def staged_tokens(con: duckdb.DuckDBPyConnection, staged: StagedFile) -> set[str]:
    """The token symbols on the crypto rail of a staged file: known currencies for its own rows (a token without a
    rate loads without amount_usd; a typo on a bank row is quarantined)."""
    if staged.table.name != "transactions":
        return set()
    if staged.frame is not None:
        f = staged.frame.select(pl.col("rail").cast(pl.Utf8), pl.col("currency").cast(pl.Utf8))
        return set(f.filter((pl.col("rail") == "crypto") & pl.col("currency").str.contains(f"^{TOKEN_SYMBOL}$"))["currency"])
    return {r[0] for r in con.execute(f"SELECT DISTINCT currency FROM {STAGING_DB}.{staged.stg} "
                                      f"WHERE rail = 'crypto' AND regexp_full_match(currency, '{TOKEN_SYMBOL}')").fetchall()}


_STAGING_SEQ = itertools.count(1)


@dataclass
class StagedFile:
    """A file read into its staging table, waiting for finish_file (derive, validate, commit)."""

    report: FileReport
    table: schema.Table
    stg: str
    reader: Reader | None = None
    ctx: ReadContext | None = None
    # The rows of a file of a fact table read in one chunk, kept in memory (staging_frame) until its group is loaded
    # as one (load_group.py) or its staging table is needed (staged_table): a table per small file cost more than
    # its rows. A large file is alone in its group, and prepare_file stages it at once.
    frame: pl.DataFrame | None = None


def staged_table(con: duckdb.DuckDBPyConnection, staged: StagedFile) -> None:
    """The file's staging table, written from its frame if it has none yet."""
    if staged.frame is not None:
        con.execute(_staging_ddl(staged.table, staged.stg))
        stage_frame(con, staged.table, staged.stg, staged.frame)
        staged.frame = None


def stage_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    reader: Reader,
    ctx: ReadContext,
    on_rows: Callable[[str, int], None] | None = None,
) -> StagedFile | FileReport:
    """Read a file into its staging table; a FileReport instead when it was ingested before. Needs nothing from
    earlier files, so the next file can be read while the previous one waits for its validation."""
    table = schema.LOADED_TABLES[reader.table]
    report = FileReport(path=str(path), source=reader.source_name(path, ctx), table=table.name)
    report.file_id = sha256_file(path)
    # a file read ahead was found not stored a moment ago (ingest._read_ahead); the commit checks again anyway
    if (str(path), report.file_id) not in ctx.ahead and store.file_already_ingested(con, report.file_id):
        _skipped(report)
        return report
    if reader.companion_of:  # its records are read with another file (OFAC's alt.csv with sdn.csv)
        report.status = "skipped"
        report.message = f"read together with {reader.companion_of} in the same folder, not on its own"
        return report
    stg = f"{table.name}_{report.file_id[:12]}_{next(_STAGING_SEQ)}"  # the same content twice in a run: two tables
    _attach_staging(con)
    clock = _Clock(report.seconds)
    held: pl.DataFrame | None = None  # the first chunk: the whole file when it is small
    try:
        ctx.notes = []
        for chunk in reader.read(path, ctx):
            if not chunk.height:
                continue
            if held is None and report.rows_read == 0:
                held = staging_frame(table, chunk)
            else:
                if held is not None:
                    con.execute(_staging_ddl(table, stg))
                    stage_frame(con, table, stg, held)
                    held = None
                _stage_chunk(con, table, stg, chunk)
            report.rows_read += chunk.height
            if on_rows:
                on_rows(str(path), chunk.height)
        report.notes = list(ctx.notes)
        if report.rows_read == 0:
            raise InputError("no data rows (empty file or header only)", path=path)
        staged = StagedFile(report, table, stg, reader, ctx, frame=held)
        if table.keys_table is None:  # only fact tables are loaded together (load_group.py)
            staged_table(con, staged)
        clock.lap("read")
        # a file read ahead with others (ingest._read_ahead): its share of that read
        report.seconds["read"] = round(report.seconds["read"] + ctx.ahead_seconds.pop(str(path), 0.0), 3)
    except BaseException:
        drop_staged(con, StagedFile(report, table, stg))
        raise
    return staged


def prepare_file(con: duckdb.DuckDBPyConnection, staged: StagedFile) -> bool:
    """Derive ids and USD amounts (after the files before it are committed: their rates count). False, with the
    report saying skipped, when the same content was committed since the file was read."""
    report = staged.report
    clock = _Clock(report.seconds)
    if store.file_already_ingested(con, report.file_id):
        _skipped(report)
        return False
    staged_table(con, staged)
    if staged.table.name == "transactions":
        _derive_transactions(con, staged.stg)
        clock.lap("derive")
    return True


def _skipped(report: FileReport) -> None:
    """A file whose content is already in the store (committed before, or since it was read): nothing of its read
    counts (rows, notes)."""
    report.status, report.message = "skipped", "already ingested (same content)"
    report.rows_read = 0
    report.notes = []


def validate_files(con: duckdb.DuckDBPyConnection, group: list[StagedFile], validator: BatchValidator) -> list[list[tuple[str, str]]]:
    """Great Expectations' failed checks, (sql, reason) selecting row_no, for each of a group of prepared files of
    one table. GX costs about 0.3 s per run whatever the rows, most of a small file's load, so the files share a run
    over a view of all of them; files share it only when their checks are the same (the known currencies include
    each file's own tokens). The failing rows are kept per file (`_gx_<staging table>`, dropped with it), so that
    each file commits on its own."""
    if not group:
        return []
    table = group[0].table.name
    by_checks: dict[frozenset[str], list[int]] = {}
    for i, staged in enumerate(group):
        by_checks.setdefault(frozenset(staged_tokens(con, staged)), []).append(i)
    out: list[list[tuple[str, str]]] = [[] for _ in group]
    for tokens, members in by_checks.items():
        known = _known_currencies(con, tokens)
        view = f"{table}_group_{next(_STAGING_SEQ)}"
        parts = [f"SELECT {k} AS _part, * FROM {STAGING_DB}.{group[i].stg}" for k, i in enumerate(members)]
        con.execute(f"CREATE OR REPLACE VIEW stg.{view} AS " + " UNION ALL ".join(parts))
        t0 = time.perf_counter()
        every = f"{STAGING_DB}._gx_{view}"
        try:
            failed = validator.failures(view, suite_for(table, list(known)), index=("_part", "row_no"))
            # each failed check's query runs once for the group, then the rows are split by file
            rows = [f"SELECT {j} AS check_no, _part, row_no FROM ({sql}) _c" for j, (sql, _) in enumerate(failed)]
            con.execute(f"CREATE OR REPLACE TABLE {every} AS "
                        + (" UNION ALL ".join(rows) if rows else "SELECT 0 AS check_no, 0 AS _part, CAST(NULL AS BIGINT) AS row_no LIMIT 0"))
            for k, i in enumerate(members):
                kept = f"{STAGING_DB}._gx_{group[i].stg}"
                con.execute(f"CREATE OR REPLACE TABLE {kept} AS SELECT check_no, row_no FROM {every} WHERE _part = {k}")
                out[i] = [(f"SELECT row_no FROM {kept} WHERE check_no = {j}", reason) for j, (_, reason) in enumerate(failed)]
        finally:
            con.execute(f"DROP VIEW IF EXISTS stg.{view}")
            con.execute(f"DROP TABLE IF EXISTS {every}")
        share = round((time.perf_counter() - t0) / len(members), 3)
        for i in members:
            group[i].report.seconds["validate"] = share
    return out


def commit_file(con: duckdb.DuckDBPyConnection, staged: StagedFile, failures: list[tuple[str, str]], run_id: str) -> FileReport:
    """Commit a prepared, validated file: its rows, quarantine and bookkeeping in one transaction."""
    report = staged.report
    clock = _Clock(report.seconds)
    if store.file_already_ingested(con, report.file_id):  # the same content, committed by a file of its group
        _skipped(report)
        return report
    _commit(con, staged, failures, run_id)
    if staged.table.name == "fx_rates" and report.rows_loaded:
        filled = fill_missing_usd(con, report.file_id)
        if filled:
            report.notes.append(f"filled in amount_usd of {filled} transaction(s) that had no rate; "
                                "the next detect uses them")
    clock.lap("commit")
    if not report.reconciles:  # a bug, not bad input: stop loudly
        raise RuntimeError(f"reconciliation broken for {report.path}: {report.as_dict()}")
    return report


def drop_staged(con: duckdb.DuckDBPyConnection, staged: StagedFile) -> None:
    """Drop a file's staging table and its failing rows (validate_files). A file whose rows are still held in
    memory has neither (staged_table writes the table and lets go of the rows)."""
    if staged.frame is not None:
        staged.frame = None
        return
    con.execute(f"DROP TABLE IF EXISTS {STAGING_DB}._gx_{staged.stg}")
    con.execute(f"DROP TABLE IF EXISTS {STAGING_DB}.{staged.stg}")


def _commit(con, staged_file: StagedFile, failures: list[tuple[str, str]], run_id: str) -> None:
    table, stg, report = staged_file.table, staged_file.stg, staged_file.report
    # each failed check's own query (validate.py) selects its rows inside the store: nothing goes through Python
    parts = [f"SELECT row_no, ? AS reason FROM ({sql}) _f{i}" for i, (sql, _) in enumerate(failures)]
    con.execute("CREATE OR REPLACE TEMP TABLE _gx_fail AS "
                + (" UNION ALL ".join(parts) if parts else "SELECT CAST(NULL AS BIGINT) AS row_no, CAST(NULL AS VARCHAR) AS reason LIMIT 0"),
                [reason for _, reason in failures])
    staged = f"{STAGING_DB}.{stg}"
    cols = [c.name for c in table.columns if c.name not in ("source", "file_id", "row_no")]
    with store.transaction(con):
        if table.keys_table is None:
            _classify_generic(con, table, staged, cols)
        else:
            _classify_facts(con, table, staged)
        counts = dict(con.execute("SELECT outcome, count(*) FROM _classified GROUP BY outcome").fetchall())
        if table.replaceable and counts.get("changed"):
            key_match = " AND ".join(f"t.{k} = s.{k}" for k in table.key)
            con.execute(
                f"DELETE FROM {table.name} t WHERE EXISTS (SELECT 1 FROM _classified s WHERE s.outcome = 'changed' AND {key_match})"
            )
        col_list = ", ".join(cols)
        picked = f"{staged} s SEMI JOIN (SELECT row_no FROM _classified WHERE outcome IN ('new', 'changed')) c USING (row_no)"
        con.execute(
            f"""INSERT INTO {table.name} ({col_list}, source, file_id, row_no)
                SELECT {col_list}, ?, ?, row_no FROM {picked} ORDER BY row_no""",
            [report.source, report.file_id],
        )
        if table.keys_table is not None:  # in the same transaction: the keys table never misses a stored row
            con.execute(f"INSERT INTO {table.keys_table} SELECT h, ? FROM _classified WHERE outcome IN ('new', 'changed')",
                        [report.file_id])
        record = record_json(cols)
        con.register("_raws", _raw_records(con, staged, staged_file).to_arrow())
        try:
            con.execute(
                f"""INSERT INTO quarantine SELECT ?, ?, ?, ?, s.row_no, coalesce(s.raw, r.raw, {record}), c.all_errors, ?
                    FROM {staged} s JOIN _classified c USING (row_no) LEFT JOIN _raws r ON r.row_no = s.row_no
                    WHERE c.outcome = 'quarantined' ORDER BY s.row_no""",
                [report.file_id, report.path, report.source, table.name, run_id],
            )
        finally:
            con.unregister("_raws")
        if table.name == "transactions":
            report.notes += _fx_notes(con, picked)
        report.rows_loaded = counts.get("new", 0) + counts.get("changed", 0)
        report.rows_quarantined = counts.get("quarantined", 0)
        report.rows_duplicate = counts.get("duplicate", 0)
        con.execute("INSERT INTO ingested_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ingested_row(report, run_id))
    con.execute("DROP TABLE IF EXISTS _classified")
    con.execute("DROP TABLE IF EXISTS _fact_known")


def record_json(cols: list[str]) -> str:
    """The source record of a quarantined row whose reader left `raw` empty (bulk Parquet): its canonical values."""
    return "CAST(to_json(struct_pack(" + ", ".join(f"s.{c}" for c in cols) + ")) AS VARCHAR)"


def ingested_row(report: FileReport, run_id: str) -> list:
    """The file's row of ingested_files, its bookkeeping (written in the transaction that commits its rows)."""
    return [report.file_id, report.path, report.source, report.table, report.rows_read, report.rows_loaded,
            report.rows_quarantined, report.rows_duplicate, "; ".join(report.notes) or None, run_id, store.now_utc()]


_ERRORS = """CASE WHEN len(s.errors) > 0 THEN s.errors ELSE coalesce(f.reasons, []) END"""  # the first stage that failed explains
_FAILS = "(SELECT row_no, list(DISTINCT reason ORDER BY reason) AS reasons FROM _gx_fail GROUP BY row_no)"


def _classify_generic(con, table: schema.Table, staged: str, cols: list[str]) -> None:
    """_classified(row_no, all_errors, key, outcome) for reference tables (replaceable rows, compound keys): small."""
    key = ", ".join(table.key)
    content = " || '|' || ".join(f"coalesce(CAST({c} AS VARCHAR), '')" for c in cols)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _classified AS
        WITH checked AS (
            SELECT s.*, {_ERRORS} AS all_errors
            FROM {staged} s
            LEFT JOIN {_FAILS} f USING (row_no)
        ),
        ranked AS (
            SELECT *, CASE WHEN len(all_errors) = 0
                           THEN row_number() OVER (PARTITION BY {key}, len(all_errors) = 0 ORDER BY row_no)
                      END AS occurrence,
                   {f"md5({content})" if table.replaceable else "NULL"} AS content_hash
            FROM checked
        )
        SELECT r.row_no, r.all_errors, {", ".join(f"r.{k}" for k in table.key)},
               CASE WHEN len(r.all_errors) > 0 THEN 'quarantined'
                    WHEN r.occurrence > 1 THEN 'duplicate'
                    WHEN e.{table.key[0]} IS NULL THEN 'new'
                    WHEN {'e.content_hash = r.content_hash' if table.replaceable else 'TRUE'} THEN 'duplicate'
                    ELSE 'changed'
               END AS outcome
        FROM ranked r
        LEFT JOIN (SELECT {key}, {f"md5({content})" if table.replaceable else "NULL"} AS content_hash FROM {table.name}) e
          USING ({key})
        """
    )


CONFIRM_MAX_FILES = 1000  # beyond, a confirmation scans the whole key column (a literal IN list gets long)


def _classify_facts(con, table: schema.Table, staged: str, ids: tuple[str, ...] = ("row_no",),
                    failed: str = "_gx_fail") -> None:
    """_classified(row_no, all_errors, outcome, h) for immutable facts with one key column (transactions, events),
    computed on narrow columns so that it stays cheap next to a table of hundreds of millions of rows:
    - a key repeated inside the file: the first error-free row is new, the later ones are duplicates (the window
      runs only over keys that do repeat, found by a hash aggregate);
    - a key already in the store is a duplicate. The file's key hashes are probed against the table's keys table
      (store.fact_keys: 8-byte hashes and the file_id of each stored row; checked, and if need be rebuilt, first).
      Nothing found (the normal case): the stored key strings are never read. Hashes found (a file delivered
      again, overlapping extracts, or a 64-bit collision): the file's keys are looked up in the key column itself,
      in the rows of the files those hashes came from only (row groups of other files are skipped by their
      file_id statistics), or in the whole table when a matching row has no file_id or too many files match.
    `ids`: what identifies a row and orders it (files loaded together, load_group.py: its file's part number, then
    its row number); `failed`: the table of (ids, reason) that Great Expectations failed."""
    k = table.key[0]
    keys = store.fact_keys(con, table)
    # every key of the file, quarantined rows' too: a stored key among them changes nothing (quarantine comes first)
    file_keys = f"SELECT {k} AS k, {store.key_hash(k)} AS h FROM {staged} WHERE {k} IS NOT NULL"
    probe = f"SELECT DISTINCT s.file_id FROM {keys} s SEMI JOIN ({file_keys}) g ON s.h = g.h"
    files = [r[0] for r in con.execute(probe).fetchall()]  # the files holding a stored key of the same hash
    if not files:
        known = "SELECT CAST(NULL AS VARCHAR) AS k LIMIT 0"
    else:
        where = ""
        if None not in files and len(files) <= CONFIRM_MAX_FILES:
            where = "WHERE t.file_id IN (" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + ")"
        known = f"SELECT DISTINCT t.{k} AS k FROM {table.name} t SEMI JOIN ({file_keys}) g ON t.{k} = g.k {where}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _fact_known AS {known}")
    using = ", ".join(ids)  # a row's identity (files loaded together: its part, then its row number)

    def of(alias: str) -> str:
        return ", ".join(f"{alias}.{i}" for i in ids)

    fails = f"(SELECT {using}, list(DISTINCT reason ORDER BY reason) AS reasons FROM {failed} GROUP BY ALL)"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _classified AS
        WITH base AS (
            SELECT {of("s")}, s.{k} AS k, {store.key_hash(f"s.{k}")} AS h, {_ERRORS} AS all_errors
            FROM {staged} s
            LEFT JOIN {fails} f USING ({using})
        ),
        good AS (SELECT {using}, k FROM base WHERE len(all_errors) = 0),
        repeated AS (SELECT k FROM good GROUP BY k HAVING count(*) > 1),
        later AS (
            SELECT {using} FROM (
                SELECT {of("g")}, row_number() OVER (PARTITION BY g.k ORDER BY {of("g")}) AS occurrence
                FROM good g SEMI JOIN repeated r ON g.k IS NOT DISTINCT FROM r.k
            ) WHERE occurrence > 1
        )
        SELECT {of("b")},
               CASE WHEN len(b.all_errors) > 0 THEN b.all_errors END AS all_errors,
               CASE WHEN len(b.all_errors) > 0 THEN 'quarantined'
                    WHEN l.row_no IS NOT NULL THEN 'duplicate'
                    WHEN n.k IS NOT NULL THEN 'duplicate'
                    ELSE 'new'
               END AS outcome,
               b.h
        FROM base b
        LEFT JOIN later l ON {" AND ".join(f"l.{i} = b.{i}" for i in ids)}
        LEFT JOIN _fact_known n ON n.k = b.k
        """
    )


SKIPPED_IN_FOLDERS = (".md", ".json", ".duckdb", ".wal", ".tmp", ".lock", ".html", ".png", ".xsd")
KEPT_IN_FOLDERS = (".ftm.json",)  # FollowTheMoney entities (OpenSanctions' entities.ftm.json): a watch list, not a manifest


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Files to ingest and mapping files found beside them (*.mapping.yml), from files and folders."""
    files: list[Path] = []
    mappings: list[Path] = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise InputError("no such file or folder", path=p)
        candidates = sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p]
        for f in candidates:
            if f.name.startswith(".") or any(part.startswith(".") for part in f.relative_to(p).parts[:-1] if p.is_dir()):
                continue
            if f.name.endswith((".mapping.yml", ".mapping.yaml")):
                mappings.append(f)
            elif p.is_dir() and f.suffix.lower() in SKIPPED_IN_FOLDERS and not f.name.lower().endswith(KEPT_IN_FOLDERS):
                continue  # documentation, databases and outputs beside the extracts
            elif p.is_dir() and "truth" in f.relative_to(p).parts[:-1]:
                continue
            else:
                files.append(f)
    return files, mappings
