"""The one seam for SQL-engine differences (as splink's internals/dialects.py).

Rule SQL is written in a portable subset plus a handful of `st_*` functions defined here. On DuckDB they are
temporary macros created on the connection before rules run (macros expand at bind time, so the aggregate ones
work inside GROUP BY). On Spark, rules/spark_dialect.py replaces each call by its Spark body (SPARK_BODIES).
Everything else DuckDB-specific that the engine itself emits (JSON building, Arrow hand-over) is a method here.
Rule SQL may mark a CTE `AS NOT MATERIALIZED` or `AS MATERIALIZED` (PostgreSQL 12+ syntax, also DuckDB's and
SQLite's): a dialect whose engine lacks them (Spark) drops those words before running the query.

Beyond the `st_*` functions, rule SQL uses the DuckDB syntax listed in SECOND_ENGINE_SYNTAX: that is what a second
engine must translate (tests/rules/test_dialect_syntax.py fails when a rule uses DuckDB-only syntax not listed
there). Casework (rules/casework) runs on DuckDB only: it reads the rule hits in the store and hands polars / Arrow
frames to DuckDB directly (`register`), so an engine that runs the rules brings the hits back to DuckDB first
(rules/spark_engine.py does).
"""

from __future__ import annotations

import duckdb

# DuckDB syntax in rule SQL that is not in the portable subset -> what a second engine (Spark SQL) does instead.
SECOND_ENGINE_SYNTAX: dict[str, str] = {
    "SEMI JOIN": "LEFT SEMI JOIN (Spark has it)",
    "ANTI JOIN": "LEFT ANTI JOIN (Spark has it)",
    "GROUP BY ALL": "GROUP BY ALL (Spark 3.4+), or the listed non-aggregate columns",
    "rowid": "xxhash64(txn_id): rowid is used on transactions only, as a stable row key (rules/spark_dialect.py)",
    "AS NOT MATERIALIZED": "dropped (a plain CTE)",
    "AS MATERIALIZED": "dropped, or the CTE cached as a temporary view",
    "EXCLUDE (": "SELECT * EXCEPT (...) or the columns listed",
    "count(DISTINCT) OVER": "size(collect_set(x) OVER (...))",
    "WITH RECURSIVE": "Spark 4 recursive CTEs, or the walk unrolled to max_length joins",
}

# name(args) -> DuckDB body. Keep the list short and each function obvious.
DUCKDB_MACROS: dict[str, tuple[str, str]] = {
    # aggregates
    "st_ids": ("x", "list_sort(list_distinct(list(x)))"),  # sorted distinct non-null ids (evidence lists)
    "st_collect": ("x", "list(x)"),  # list of values, unordered
    # lists
    "st_json_pairs": ("k, v", "to_json(map(list(k ORDER BY k), list(v ORDER BY k)))::VARCHAR"),  # key/value aggregate -> JSON object, keys sorted (reproducible)
    "st_list": ("x", "[x]"),  # one-element list
    "st_empty_ids": ("", "CAST([] AS VARCHAR[])"),
    "st_unnest": ("l", "unnest(l)"),  # one row per list element (Spark: explode)
    "st_list_has": ("l, x", "list_contains(l, x)"),
    "st_list_append": ("l, x", "list_append(l, x)"),
    "st_list_concat": ("a, b", "list_concat(a, b)"),
    "st_list_len": ("l", "len(l)"),
    "st_last": ("l", "l[-1]"),  # the last element (list indexes start at 1 here and at 0 on Spark: no [] in rules)
    "st_union_ids": ("a, b", "list_sort(list_distinct(list_concat(a, b)))"),  # sorted distinct union of two lists
    "st_flatten_ids": ("ll", "list_sort(list_distinct(flatten(ll)))"),  # list of lists -> sorted distinct list
    # time
    "st_hours_between": ("a, b", "date_diff('second', a, b) / 3600.0"),
    "st_bucket": ("t, w", "CAST(floor(epoch(t) / epoch(w)) AS BIGINT)"),  # index of the w-long time bucket holding t
    "st_days_between": ("a, b", "date_diff('second', a, b) / 86400.0"),
    # strings
    # a real account: not cash and not a placeholder for an unknown counterparty ('unknown:<what>')
    "st_is_account": ("x", "(x <> 'cash' AND x NOT LIKE 'unknown:%')"),
    "st_hash": ("x", "hash(x)"),  # 64-bit hash (compact grouping keys for pre-filters; Spark: xxhash64)
    # one BIGINT key for (x, bucket b) whose next bucket is the key + 1 (a collision only merges pre-filter counts)
    "st_slot": ("x, b", "CAST(hash(x) >> 2 AS BIGINT) + b"),
    "st_address_part": ("account_id", "split_part(account_id, ':', 2)"),
    # the words of a name, lower-cased, of 4 characters or more (a surname shared by payers; short particles such
    # as van, thi, bin and de are left out)
    "st_name_tokens": ("x", "list_filter(string_split(lower(trim(x)), ' '), lambda t: length(t) >= 4)"),
    # An IP address that identifies nobody: IPv4 in a range many unrelated people share (carrier-grade NAT
    # 100.64/10, RFC 1918 private, loopback), IPv6 loopback, unspecified, link-local (fe80::/10), unique local
    # (fc00::/7) or IPv4-mapped into those, and any text that is not an IP address. Rules and casework both use it.
    "st_shared_ip": (
        "ip",
        "CASE WHEN regexp_full_match(trim(ip), '(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}') "
        "THEN regexp_matches(trim(ip), '^(10\\.|127\\.|192\\.168\\.|172\\.(1[6-9]|2[0-9]|3[01])\\.|"
        "100\\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\\.)') "
        "WHEN contains(trim(ip), ':') AND regexp_full_match(lower(trim(ip)), '[0-9a-f:.]{2,45}') "
        "THEN regexp_matches(lower(trim(ip)), '^(::1?$|fe[89ab][0-9a-f]?:|f[cd][0-9a-f]{0,2}:|::ffff:(10\\.|127\\.|"
        "192\\.168\\.|172\\.(1[6-9]|2[0-9]|3[01])\\.|100\\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\\.))') "
        "ELSE true END",
    ),
}


class DuckDBDialect:
    name = "duckdb"

    def install(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute("SET enable_progress_bar = false")  # rules run in batch jobs and flows: no terminal noise
        for name, (args, body) in DUCKDB_MACROS.items():
            con.execute(f"CREATE OR REPLACE TEMP MACRO {name}({args}) AS {body}")

    def json_object(self, columns: list[str], alias: str) -> str:
        """SQL expression building a JSON object text from the named (validated) columns of `alias`."""
        if not columns:
            return "NULL"
        return "to_json(struct_pack(" + ", ".join(f"{c} := {alias}.{c}" for c in columns) + "))::VARCHAR"

    def varchar_list_type(self) -> str:
        return "VARCHAR[]"

    # A Python rule on Spark gets a rules.spark_engine.SparkConnection: these three defer to it.
    def fetch_polars(self, con, sql: str, params: dict | None = None):
        """Run a query and hand the whole result to polars (drained, so the connection is free again)."""
        if not isinstance(con, duckdb.DuckDBPyConnection):
            return con.fetch_polars(sql, params)
        return con.sql(sql, params=params or {}).pl()

    def register(self, con, name: str, frame) -> None:
        con.register(name, frame)

    def unregister(self, con, name: str) -> None:
        con.unregister(name)


DIALECT = DuckDBDialect()
