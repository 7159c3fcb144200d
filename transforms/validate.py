"""Great Expectations suites for each canonical batch, run as SQL inside the store before the batch is committed.

All GX-with-DuckDB mechanics live here (tests/test_validate.py guards them):
- GX 1.24 has no DuckDB dialect; its SQL datasource closes the connection before reading rows, so on a
  file database results come back empty. Registering "duckdb" among GX's persisted-connection dialects
  (as GX does for sqlite) keeps one connection open and fixes it.
- GX reaches the store through duckdb-engine, whose connection must share the store's configuration
  (transforms.store.connection_config) to open the same file inside this process.
- Failing rows are not fetched into Python (COMPLETE results cost ~3.5 s per million failing rows): GX returns,
  per failed expectation, its own SQL selecting them (BOOLEAN_ONLY with `return_unexpected_index_query`), and
  the load runs that SQL inside the store.
"""

from __future__ import annotations

import logging
import threading
import warnings
import weakref
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import pycountry  # noqa: E402

from transforms.schema import ACCOUNT_KINDS, CHANNELS, DISPOSITIONS  # noqa: E402


@dataclass(frozen=True)
class Check:
    """One expectation and the sentence a quarantined row carries when it fails it."""

    name: str
    kind: str  # not_null | in_set | between
    column: str
    reason: str
    args: tuple = ()


def _not_null(table_cols: list[str], *cols: str) -> list[Check]:
    return [Check(f"{c}_present", "not_null", c, f"{c}: missing value") for c in cols if c in table_cols]


def suite_for(table: str, known_currencies: list[str]) -> list[Check]:
    """The checks for one canonical table. The clock and currency list are inputs, so a run is reproducible."""
    from transforms.schema import LOADED_TABLES

    cols = LOADED_TABLES[table].names
    now = datetime.now(timezone.utc)
    tomorrow = (now + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    if table == "transactions":
        return [
            *_not_null(cols, "txn_id", "rail", "booked_at", "from_account_id", "to_account_id", "amount", "currency"),
            Check("amount_positive", "between", "amount", "amount: must be greater than zero", (0, None, True)),
            Check("currency_known", "in_set", "currency", "currency: not an ISO 4217 code nor a currency in the rates table", (tuple(known_currencies),)),
            Check("rail_known", "in_set", "rail", "rail: must be bank or crypto", (("bank", "crypto"),)),
            Check("channel_known", "in_set", "channel", f"channel: must be one of {', '.join(CHANNELS)}", (CHANNELS,)),
            Check("booked_at_not_future", "between", "booked_at", "booked_at: in the future (clock or time zone of the extract wrong?)", (None, tomorrow, False)),
            Check("booked_at_not_ancient", "between", "booked_at", "booked_at: before 1970-01-02 (a placeholder or epoch-zero date?)", ("1970-01-02 00:00:00", None, False)),
        ]
    if table == "accounts":
        return [
            *_not_null(cols, "account_id", "rail"),
            Check("rail_known", "in_set", "rail", "rail: must be bank or crypto", (("bank", "crypto"),)),
            Check("kind_known", "in_set", "kind",
                  f"kind: not an account kind; use one of {', '.join(ACCOUNT_KINDS)}, or leave it empty", (ACCOUNT_KINDS,)),
            Check("opened_at_not_future", "between", "opened_at", "opened_at: in the future", (None, tomorrow, False)),
            Check("opened_at_not_ancient", "between", "opened_at", "opened_at: before 1900", ("1900-01-01 00:00:00", None, False)),
        ]
    if table == "parties":
        return [
            *_not_null(cols, "party_id", "name", "party_type"),
            Check("party_type_known", "in_set", "party_type", "party_type: must be person or legal", (("person", "legal"),)),
        ]
    if table == "events":
        return [
            *_not_null(cols, "event_id", "occurred_at", "kind"),
            Check("occurred_at_not_future", "between", "occurred_at", "occurred_at: in the future", (None, tomorrow, False)),
            Check("occurred_at_not_ancient", "between", "occurred_at", "occurred_at: before 1970-01-02 (a placeholder or epoch-zero date?)", ("1970-01-02 00:00:00", None, False)),
            Check("lat_range", "between", "lat", "lat: must be within -90..90", (-90, 90, False)),
            Check("lon_range", "between", "lon", "lon: must be within -180..180", (-180, 180, False)),
        ]
    if table == "compounds":
        return [
            *_not_null(cols, "compound_id", "name"),
            Check("lat_range", "between", "lat", "lat: must be within -90..90", (-90, 90, False)),
            Check("lon_range", "between", "lon", "lon: must be within -180..180", (-180, 180, False)),
            Check("confidence_range", "between", "confidence", "confidence: must be within 0..1", (0, 1, False)),
        ]
    if table == "fx_rates":
        return [
            *_not_null(cols, "rate_date", "currency", "usd_per_unit"),
            Check("rate_positive", "between", "usd_per_unit", "usd_per_unit: must be greater than zero", (0, None, True)),
        ]
    if table == "dispositions":
        return [
            *_not_null(cols, "subject_id", "disposition", "decided_at"),
            Check("disposition_known", "in_set", "disposition",
                  f"disposition: must be one of {', '.join(DISPOSITIONS)}", (DISPOSITIONS,)),
            Check("decided_at_not_future", "between", "decided_at", "decided_at: in the future", (None, tomorrow, False)),
        ]
    if table == "watchlist_entities":
        return [*_not_null(cols, "entity_id", "list_name", "name")]
    raise KeyError(table)


@lru_cache(maxsize=1)
def iso_currencies() -> tuple[str, ...]:
    return tuple(sorted(c.alpha_3 for c in pycountry.currencies))


def _register_duckdb_dialect() -> None:
    import great_expectations.execution_engine.sqlalchemy_execution_engine as engine_mod

    class _DuckDBDialect:
        value = "duckdb"

        def __eq__(self, other: object) -> bool:
            return str(getattr(other, "value", other)).lower() == "duckdb"

        def __hash__(self) -> int:
            return hash("duckdb")

    if not any(getattr(d, "value", None) == "duckdb" for d in engine_mod._PERSISTED_CONNECTION_DIALECTS):
        engine_mod._PERSISTED_CONNECTION_DIALECTS = (*engine_mod._PERSISTED_CONNECTION_DIALECTS, _DuckDBDialect())  # type: ignore[assignment]  # GX types the tuple by its length


def _expectation(check: Check):
    import great_expectations as gx

    E = gx.expectations
    if check.kind == "not_null":
        return E.ExpectColumnValuesToNotBeNull(column=check.column)
    if check.kind == "in_set":
        return E.ExpectColumnValuesToBeInSet(column=check.column, value_set=list(check.args[0]))
    if check.kind == "between":
        lo, hi, strict = check.args
        return E.ExpectColumnValuesToBeBetween(column=check.column, min_value=lo, max_value=hi, strict_min=strict)
    raise ValueError(check.kind)


class BatchValidator:
    """Validates staging tables of one store file with GX; one instance per ingest run."""

    def __init__(self, db_path: Path):
        self.db_path = Path(db_path).resolve()
        self._n = 0
        self._gx: Any = None  # the great_expectations module, once imported
        # Importing GX takes seconds; it runs beside the first files' reads (native polars / pyarrow code that
        # releases the GIL) and is waited for at the first validation.
        self._import_error: BaseException | None = None
        self._importing = threading.Thread(target=self._import_gx, name="import-great-expectations", daemon=True)
        self._importing.start()

    def _import_gx(self) -> None:
        try:
            import great_expectations  # noqa: F401
            from great_expectations.data_context.types import base  # noqa: F401
        except BaseException as exc:  # re-raised where the validator is first used
            self._import_error = exc

    def ready(self) -> bool:
        """Whether a validation would start now (the import is done), rather than wait for it."""
        return not self._importing.is_alive()

    def _set_up(self) -> None:
        if self._gx is not None:
            return
        self._importing.join()
        if self._import_error is not None:
            raise self._import_error
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        # GX pins some module loggers at INFO and duckdb-engine warns about list columns it cannot map to
        # SQLAlchemy types (GX never needs them); neither is news for the user.
        for name in ("great_expectations", "great_expectations.data_context.types.base"):
            logging.getLogger(name).setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", message="Did not recognize type")

        _register_duckdb_dialect()
        _record_connections()
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.datasource = self.context.data_sources.add_sql(name="store", connection_string=f"duckdb:///{self.db_path}")
        self._gx = gx

    def failures(self, staging_table: str, checks: list[Check], index: tuple[str, ...] = ("row_no",)) -> list[tuple[str, str]]:
        """(sql, reason) per failed check: GX's query for the rows that fail it (a SELECT of the `index` columns),
        to run inside the store. Nothing for checks that pass."""
        self._set_up()
        gx = self._gx
        self._n += 1
        asset = self.datasource.add_table_asset(name=f"a{self._n}", table_name=staging_table, schema_name="stg")
        batch_def = asset.add_batch_definition_whole_table(f"b{self._n}")
        suite = gx.ExpectationSuite(name=f"s{self._n}")
        by_name = {c.name: c for c in checks}
        for check in checks:
            exp = _expectation(check)
            exp.meta = {"check": check.name}
            suite.add_expectation(exp)
        result = batch_def.get_batch().validate(
            suite,
            result_format={
                "result_format": "BOOLEAN_ONLY",
                "unexpected_index_column_names": list(index),
                "return_unexpected_index_query": True,
            },
        )
        out: list[tuple[str, str]] = []
        for res in result.results:
            check = by_name[res.expectation_config.meta["check"]]
            if res.success:
                continue
            query = (res.result or {}).get("unexpected_index_query")
            raised = res.exception_info and any(v.get("raised_exception") for v in _exc_infos(res.exception_info))
            if raised or not isinstance(query, str):
                raise RuntimeError(f"validation check {check.name} could not run: {res.exception_info}")
            out.append((query.strip().rstrip(";"), check.reason))
        self.datasource.delete_asset(asset.name)
        return out

    def close(self) -> None:
        """Release every connection GX opened on the store, so the file can be reopened with other settings
        (read-only, another process). GX keeps engines it made for its connection test where we cannot reach
        them (found by their URL among live objects) and its execution engine holds a connection open (recorded
        as it connected, _GX_CONNECTIONS): that one is closed, then every engine disposed. A full garbage
        collection did the same at 0.33 s per ingest, more in a large process."""
        import gc

        import sqlalchemy

        self._importing.join()  # an import still running would hold module locks at exit
        target = str(self.db_path)
        for conn in [c for c in list(_GX_CONNECTIONS) if c.engine.url.database == target]:
            conn.close()
        for obj in gc.get_objects():
            if isinstance(obj, sqlalchemy.engine.Engine) and obj.url.database == target:
                obj.dispose()


_GX_CONNECTIONS: "weakref.WeakSet" = weakref.WeakSet()  # SQLAlchemy connections opened while GX validates


def _record_connections() -> None:
    """Record each SQLAlchemy connection as it opens (GX's engines and connections are otherwise out of reach)."""
    import sqlalchemy

    if not sqlalchemy.event.contains(sqlalchemy.engine.Engine, "engine_connect", _on_connect):
        sqlalchemy.event.listen(sqlalchemy.engine.Engine, "engine_connect", _on_connect)


def _on_connect(conn) -> None:
    _GX_CONNECTIONS.add(conn)


def _exc_infos(info) -> list[dict]:
    if isinstance(info, dict) and "raised_exception" in info:
        return [info]
    if isinstance(info, dict):
        return [v for v in info.values() if isinstance(v, dict)]
    return []
