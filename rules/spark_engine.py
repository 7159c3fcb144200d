"""The rule pack on Apache Spark: a runner for rules.engine.detect whose rules read a Parquet lake on a cluster.

    runner = SparkRunner(lake="/data/lake", master="spark://10.0.0.5:7077")   # or local[*]
    detect(con, runner=runner)        # con: the DuckDB store that receives hits, scores and runs

The lake (transforms/lake.py) holds the canonical tables. Each SQL rule is translated by rules/spark_dialect.py and
runs on Spark; its output rows (small: hits, not transactions) come back as Arrow into the store's `_st_out`, and
from there banding, typology scores, casework, the workbench and exports are the same code as on DuckDB.
Python rules (rule.py) run unchanged: the connection they get is a SparkConnection, which runs their statements
on Spark.

pyspark is an optional dependency (`pip install -e '.[spark]'`, Java 17).
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from pathlib import Path

import duckdb
import pyarrow as pa

from rules.engine import frame_to_out, load_py_rule
from rules.spark_dialect import literal, staged_spark, to_spark
from rules.spec import sql_param_names

LOCAL_DRIVER_MEMORY = os.environ.get("SCAMTRACE_SPARK_DRIVER_MEMORY", "4g")
DERIVED_TABLES = ("listed_addresses", "compound_events", "relocations")  # built in the store by rules/engine.py
LAKE_TABLES = ("transactions", "accounts", "parties", "events", "compounds", "fx_rates", "dispositions")
# Spark settings that make the translated SQL mean what it means on DuckDB
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parser.escapedStringLiterals": "true",  # string literals as written, like DuckDB's
    "spark.sql.legacy.sizeOfNull": "false",  # size(NULL) is NULL, as len(NULL)
    "spark.sql.ansi.enabled": "false",  # a bad cast is NULL, as TRY_CAST / DuckDB's lenient paths
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
}


def spark_session(master: str = "local[*]", app: str = "scamtrace-detect", conf: dict | None = None):
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # the optional extra
        from transforms.errors import ConfigError

        raise ConfigError("the Spark engine needs pyspark: pip install -e '.[spark]' (and Java 17)") from None
    warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark")  # its pandas-version notice
    builder = SparkSession.builder.master(master).appName(app)
    # on one machine: not 200 shuffle partitions, and a driver (which is the executor too) bigger than 1 GB
    local = {"spark.sql.shuffle.partitions": "8", "spark.driver.memory": LOCAL_DRIVER_MEMORY} if master.startswith("local") else {}
    # the driver's JVM starts before any session setting applies: its logging is set on the command that starts it
    log4j = Path(__file__).with_name("spark_log4j2.properties")
    os.environ.setdefault("PYSPARK_SUBMIT_ARGS", f"--driver-java-options -Dlog4j.configurationFile=file:{log4j} pyspark-shell")
    for k, v in {**SESSION_CONF, **local, **(conf or {})}.items():
        builder = builder.config(k, v)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    for name in ("py4j", "pyspark", "SQLQueryContextLogger"):  # a failed rule is reported once, in rule_runs
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return session


class SparkRunner:
    """rules.engine's runner interface (present, scalar_rows, derive, drop_derived, produce) on a Spark session over
    a lake."""

    name = "spark"

    def __init__(self, lake: Path | str, master: str = "local[*]", session=None):
        from py4j.protocol import Py4JJavaError
        from pyspark.errors import PySparkException

        # a rule that fails on Spark is recorded as failed, as on DuckDB, and the others still run
        from sqlglot.errors import SqlglotError

        # (and a query the translation cannot read)
        self.errors: tuple[type[BaseException], ...] = (PySparkException, Py4JJavaError, SqlglotError)
        self.lake = str(lake)
        self._derived: dict = {}  # shared tables kept for the run (derive / drop_derived)
        self.spark = session or spark_session(master)
        for table in LAKE_TABLES:
            path = Path(self.lake) / table
            if path.exists() or "://" in self.lake:
                self.spark.read.parquet(f"{self.lake}/{table}").createOrReplaceTempView(table)

    def prepare(self, con: duckdb.DuckDBPyConnection) -> None:
        """Tables the store derives at detect time (listed wallets and accounts, where accounts were used from) go
        to Spark as small views."""
        for name in DERIVED_TABLES:
            frame = con.sql(f"SELECT * FROM {name}").arrow()
            table = frame.read_all() if hasattr(frame, "read_all") else frame
            if table.num_rows == 0:  # columns with no chunk at all: pyspark fails on their timestamps; give one
                table = pa.table([pa.array([], type=f.type) for f in table.schema], schema=table.schema)
            self.spark.createDataFrame(table).createOrReplaceTempView(name)  # an empty one too

    def derive(self, con, name: str, sql: str, params: dict) -> None:
        """A table the rules of one run share (rules/transfers.py), computed on Spark from the lake once and kept
        until drop_derived (a local checkpoint: the rules' plans read it, not its lineage; a rule whose plan kept
        the lineage of a persisted frame ran several times slower in the Spark test)."""
        self._derived[name] = _kept_view(self.spark, name, to_spark(sql, {k: params[k] for k in sql_param_names(sql)}))

    def drop_derived(self, con, name: str) -> None:
        _drop_view(self.spark, name, self._derived.pop(name, None))

    def present(self, con, sql: str) -> bool:
        return bool(self.spark.sql(sql).take(1))

    def scalar_rows(self, con, sql: str, params: list | None = None) -> list[tuple]:
        for p in params or []:  # positional ? parameters, as literals
            sql = sql.replace("?", literal(p), 1)
        return [tuple(r) for r in self.spark.sql(sql).collect()]

    def produce(self, con: duckdb.DuckDBPyConnection, spec, values: dict) -> str:
        if spec.kind != "sql":  # its SQL statements go to Spark through a connection of the same shape
            frame_to_out(con, load_py_rule(spec.py_path).run(SparkConnection(self.spark), dict(values)))
            return ""
        sql = spec.sql().strip().rstrip(";")
        frame_to_out(con, run_staged(self.spark, sql, {k: values[k] for k in sql_param_names(sql)}, lambda f: f.toArrow()))
        return ""


def run_staged(spark, sql: str, values: dict, consume):
    """consume(frame) of one DuckDB query on Spark, its `AS MATERIALIZED` steps computed first and kept (local
    checkpoints) until consume returns (rules/spark_dialect.staged_spark says why)."""
    steps, final = staged_spark(sql, values)
    kept = []
    try:
        for view, query in steps:
            kept.append((view, _kept_view(spark, view, query)))
        return consume(spark.sql(final))
    finally:
        for view, frame in kept:
            try:  # each one, and never in place of the rule's own error
                _drop_view(spark, view, frame)
            except Exception:  # noqa: BLE001  # a view left over is dropped with the session
                logging.getLogger(__name__).debug("step view %s not dropped", view, exc_info=True)


def _kept_view(spark, view: str, query: str):
    """The query's rows as a local checkpoint under a view: later plans read the rows, not the query's lineage."""
    frame = spark.sql(query).localCheckpoint()
    frame.createOrReplaceTempView(view)
    return frame


def _drop_view(spark, view: str, frame) -> None:
    spark.catalog.dropTempView(view)
    if frame is not None:
        frame.unpersist()


_CREATE = re.compile(r"^CREATE\s+OR\s+REPLACE\s+TEMP(?:ORARY)?\s+TABLE\s+(\w+)\s+AS\s+(.*)$", re.I | re.S)
_INSERT = re.compile(r"^INSERT\s+INTO\s+(\w+)\s+(.*)$", re.I | re.S)
_DROP = re.compile(r"^DROP\s+TABLE\s+IF\s+EXISTS\s+(\w+)$", re.I | re.S)


class SparkConnection:
    """What a Python rule asks of its connection, on Spark: `execute` of the rule's DuckDB statements (temporary
    tables become checkpointed views; INSERT INTO one appends to it), and through rules.dialect.DIALECT
    `fetch_polars`, `register` and `unregister`. The rule's code is the same on both engines."""

    def __init__(self, spark):
        self.spark = spark

    def execute(self, sql: str, params: dict | None = None) -> "SparkConnection":
        text = re.sub(r"--[^\n]*", "", sql).strip().rstrip(";")
        if m := _CREATE.match(text):
            frame = run_staged(self.spark, m.group(2), params or {}, lambda f: f.localCheckpoint())
            frame.createOrReplaceTempView(m.group(1))
        elif m := _INSERT.match(text):
            table = self.spark.table(m.group(1))
            grown = run_staged(self.spark, m.group(2), params or {}, lambda f: table.union(f).localCheckpoint())
            grown.createOrReplaceTempView(m.group(1))
        elif m := _DROP.match(text):
            self.spark.catalog.dropTempView(m.group(1))
        else:
            run_staged(self.spark, text, params or {}, lambda f: f.collect())
        return self

    def fetch_polars(self, sql: str, params: dict | None = None):
        import polars as pl

        return pl.from_arrow(run_staged(self.spark, sql, params or {}, lambda f: f.toArrow()))

    def register(self, name: str, frame) -> None:
        table = frame.to_arrow() if hasattr(frame, "to_arrow") else frame
        self.spark.createDataFrame(table).createOrReplaceTempView(name)

    def unregister(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)
