"""Rule SQL on Spark: the same rule.sql files, translated once here (the Spark side of rules/dialect.py).

A rule's SQL is parsed as DuckDB SQL with sqlglot and written out as Spark SQL, with:
- each `st_*` function replaced by its Spark body (SPARK_BODIES, the counterpart of DUCKDB_MACROS);
- the named parameters ($since, $window, ...) replaced by literals of their values (timestamps in UTC, durations
  as day-time intervals, lists as arrays);
- what Spark lacks rewritten: `count(DISTINCT x) OVER w` as `size(collect_set(x) OVER w)`, `AS [NOT] MATERIALIZED`
  dropped, `EXCLUDE (...)` as Spark's `EXCEPT (...)` (sqlglot), DuckDB's `rowid` of a transaction as
  `xxhash64(txn_id)` (a 64-bit key of a unique id: the same on every read, which is all the rules ask of it).
The session runs with UTC time and raw string literals (spark.sql.parser.escapedStringLiterals), so literals and
regular expressions mean what they mean on DuckDB.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import sqlglot
from sqlglot import exp

from rules.dialect import DUCKDB_MACROS

# name -> Spark SQL body over ARG0, ARG1 (the arguments as Spark SQL). Same meaning as DUCKDB_MACROS.
SPARK_BODIES: dict[str, str] = {
    "st_ids": "array_sort(array_distinct(collect_list(ARG0)))",
    "st_collect": "collect_list(ARG0)",
    "st_json_pairs": "to_json(map_from_entries(array_sort(collect_list(struct(ARG0, ARG1)))))",
    "st_list": "array(ARG0)",
    "st_empty_ids": "CAST(array() AS ARRAY<STRING>)",
    "st_unnest": "explode(ARG0)",
    "st_list_has": "array_contains(ARG0, ARG1)",
    "st_list_append": "concat(ARG0, array(ARG1))",
    "st_list_concat": "concat(ARG0, ARG1)",
    "st_list_len": "size(ARG0)",
    "st_last": "element_at(ARG0, -1)",
    "st_union_ids": "array_sort(array_distinct(filter(concat(ARG0, ARG1), x -> x IS NOT NULL)))",
    "st_flatten_ids": "array_sort(array_distinct(filter(flatten(ARG0), x -> x IS NOT NULL)))",
    # DOUBLE as on DuckDB (Spark divides by a decimal literal in decimals: 6.0000000 in the evidence JSON)
    "st_hours_between": "CAST((unix_seconds(ARG1) - unix_seconds(ARG0)) / 3600.0 AS DOUBLE)",
    "st_days_between": "CAST((unix_seconds(ARG1) - unix_seconds(ARG0)) / 86400.0 AS DOUBLE)",
    "st_bucket": "CAST(floor(unix_micros(ARG0) / ARG1) AS BIGINT)",  # ARG1: the window in microseconds
    "st_is_account": "(ARG0 <> 'cash' AND ARG0 NOT LIKE 'unknown:%')",
    "st_hash": "xxhash64(ARG0)",
    "st_slot": "(shiftright(xxhash64(ARG0), 2) + ARG1)",
    "st_address_part": "split_part(ARG0, ':', 2)",
    "st_name_tokens": "filter(split(lower(trim(ARG0)), ' '), t -> length(t) >= 4)",
}
# st_shared_ip: DuckDB's body with its regex functions spelled the Spark way (full match = anchored RLIKE)
_IP = DUCKDB_MACROS["st_shared_ip"][1]
SPARK_BODIES["st_shared_ip"] = (
    re.sub(r"regexp_full_match\((.+?), '(.+?)'\) THEN", r"\1 RLIKE '^(?:\2)$' THEN", _IP)
    .replace("regexp_matches(", "regexp(").replace("contains(trim(ip), ':')", "instr(trim(ip), ':') > 0")
    .replace("ip", "ARG0")
)

_MATERIALIZED = re.compile(r"\bAS\s+(NOT\s+)?MATERIALIZED\s*\(", re.IGNORECASE)


def literal(value) -> str:
    """A parameter value as a Spark SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime):
        value = value.astimezone(timezone.utc) if value.tzinfo else value
        return f"TIMESTAMP '{value.strftime('%Y-%m-%d %H:%M:%S.%f')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, timedelta):
        return f"INTERVAL '{_micros(value)}' MICROSECOND"
    if isinstance(value, (list, tuple)):
        return "array(" + ", ".join(literal(v) for v in value) + ")" if value else "CAST(array() AS ARRAY<STRING>)"
    return "'" + str(value).replace("'", "''") + "'"


def _micros(td: timedelta) -> int:
    return (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds


def to_spark(sql: str, values: dict) -> str:
    """One rule's DuckDB SQL with its parameter values, as Spark SQL."""
    sql = _MATERIALIZED.sub("AS (", sql)
    tree = sqlglot.parse_one(sql, read="duckdb")

    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Anonymous) and node.name.lower().startswith("st_"):
            name = node.name.lower()
            if name not in SPARK_BODIES:
                raise ValueError(f"{name} has no Spark body (rules/spark_dialect.py)")
            args = [str(_window_micros(a, values)) if name == "st_bucket" and i == 1 else expand(a).sql(dialect="spark")
                    for i, a in enumerate(node.expressions)]
            body = SPARK_BODIES[name]
            for i, a in enumerate(args):
                body = body.replace(f"ARG{i}", f"({a})")
            return sqlglot.parse_one(body, read="spark")
        if isinstance(node, exp.Placeholder):
            if node.name not in values:
                raise ValueError(f"parameter ${node.name} has no value")
            return sqlglot.parse_one(literal(values[node.name]), read="spark")
        if isinstance(node, exp.PercentileCont) and node.args.get("expression") is not None:
            # DuckDB's quantile_cont(x, q): Spark's exact percentile with the same linear interpolation
            return exp.Anonymous(this="percentile", expressions=[node.this.copy(), node.expression.copy()])
        if isinstance(node, exp.Column) and node.name.lower() == "rowid":  # only transactions' rows are named by it
            return exp.func("xxhash64", exp.column("txn_id", table=node.table or None))
        if isinstance(node, exp.Window) and isinstance(node.this, exp.Count) and isinstance(node.this.this, exp.Distinct):
            inner = node.this.this.expressions[0]
            node = node.copy()
            node.set("this", exp.func("collect_set", inner.copy()))
            return exp.func("size", node)  # size(collect_set(x) OVER w): the window belongs to the aggregate
        return node

    def expand(node: exp.Expr) -> exp.Expr:  # st_* bodies, inner calls first
        return node.transform(lambda n: rewrite(n) if isinstance(n, exp.Anonymous) else n)

    # one kind of node per pass: a node a pass replaces is not walked again by that pass
    tree = expand(tree)
    tree = tree.transform(lambda n: rewrite(n) if isinstance(n, exp.Placeholder) else n)  # parameter values
    tree = tree.transform(lambda n: rewrite(n) if isinstance(n, (exp.Window, exp.Column, exp.PercentileCont)) else n)
    return tree.sql(dialect="spark", comments=False)


def _window_micros(node: exp.Expr, values: dict) -> int:
    """The length of a bucket in microseconds, from a duration parameter or a sum of them ($window + $slack)."""
    if isinstance(node, exp.Placeholder) and isinstance(values.get(node.name), timedelta):
        return _micros(values[node.name])
    if isinstance(node, exp.Paren):
        return _window_micros(node.this, values)
    if isinstance(node, exp.Add):
        return _window_micros(node.this, values) + _window_micros(node.expression, values)
    raise ValueError(f"st_bucket needs a duration parameter as its width, not {node.sql()}")


def staged_spark(sql: str, values: dict) -> tuple[list[tuple[str, str]], str]:
    """One query as Spark steps: each `AS MATERIALIZED` step of its top-level WITH as a query of its own, to be kept
    as a view (named in the result), then the query over those views. Spark inlines a CTE at every use, so a step
    that a rule reads from several places would be computed again, with all it reads, at each of them (bipartite
    read its steps sixteen times over: 221 s on the samples instead of a few). The steps and the query come back
    as Spark SQL, in order. A query where a nested WITH reuses a step's name is left whole (renaming by name alone
    could then read the wrong one)."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    with_ = tree.args.get("with_")
    staged = [c.alias_or_name for c in (with_.expressions if with_ else []) if c.args.get("materialized")]
    nested = {c.alias_or_name for c in tree.find_all(exp.CTE) if c.parent is not with_}
    if with_ is None or not staged or nested & set(staged):
        return [], to_spark(sql, values)
    steps: list[tuple[str, str]] = []
    ctes = list(with_.expressions)
    for i, cte in enumerate(ctes):
        if not cte.args.get("materialized"):
            continue
        view = f"_st_step_{len(steps)}_{cte.alias_or_name}"
        # the step: its body, with the CTEs before it that stay inline (column lists and RECURSIVE kept)
        earlier = [c.copy() for c in ctes[:i] if not c.args.get("materialized")]
        alias = cte.args["alias"].copy()
        alias.set("this", exp.to_identifier("s"))
        step = exp.select("*").from_(exp.Subquery(this=cte.this.copy(), alias=alias))
        if earlier:
            step.set("with_", exp.With(expressions=earlier, recursive=with_.args.get("recursive")))
        steps.append((view, step.sql(dialect="duckdb")))
        # what comes after it reads the view: the later CTEs and the query itself, not the CTEs before it (a name
        # they use is not this step)
        for table in list(tree.find_all(exp.Table)):
            if table.name == cte.alias_or_name and not table.args.get("db") and not _inside(table, ctes[: i + 1]):
                table.set("alias", exp.TableAlias(this=exp.to_identifier(table.alias or table.name)))
                table.set("this", exp.to_identifier(view))
    with_.set("expressions", [c for c in with_.expressions if not c.args.get("materialized")])
    if not with_.expressions:
        tree.set("with_", None)
    return [(v, to_spark(q, values)) for v, q in steps], to_spark(tree.sql(dialect="duckdb"), values)


def _inside(node: exp.Expr, ctes: list[exp.CTE]) -> bool:
    """node lies within one of these CTEs."""
    parent = node.parent
    while parent is not None:
        if any(parent is c for c in ctes):
            return True
        parent = parent.parent
    return False
