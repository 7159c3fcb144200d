"""The dialect seam tells the truth: every DuckDB-only construct in the rule catalogue's SQL is listed in
rules/dialect.py SECOND_ENGINE_SYNTAX, with what a second engine does instead."""

from __future__ import annotations

import re
from pathlib import Path

from rules.dialect import SECOND_ENGINE_SYNTAX

CATALOG = Path(__file__).resolve().parents[2] / "rules" / "catalog"

# construct -> how to find it in SQL text (comments stripped)
PATTERNS = {
    "SEMI JOIN": r"\bSEMI\s+JOIN\b",
    "ANTI JOIN": r"\bANTI\s+JOIN\b",
    "GROUP BY ALL": r"\bGROUP\s+BY\s+ALL\b",
    "rowid": r"\browid\b",
    "AS NOT MATERIALIZED": r"\bAS\s+NOT\s+MATERIALIZED\b",
    "AS MATERIALIZED": r"\bAS\s+MATERIALIZED\b",
    "EXCLUDE (": r"\bEXCLUDE\s*\(",
    "count(DISTINCT) OVER": r"count\(\s*DISTINCT[^)]*\)\s*OVER\b",
    "WITH RECURSIVE": r"\bWITH\s+RECURSIVE\b",
    # DuckDB-only spellings that must go through an st_* function or be listed before use
    "list aggregate": r"(?<![\w.])list\s*\(",
    "cast shorthand": r"::\s*[A-Za-z]",
    "QUALIFY": r"\bQUALIFY\b",
    "PIVOT": r"\bPIVOT\b",
    "ASOF JOIN": r"\bASOF\b",
    "list index": r"[\w)]\s*\[",  # 1-based here, 0-based on Spark: an st_* function instead (st_last)
}


def _sql_texts():
    for path in sorted(CATALOG.glob("*/rule.sql")):
        yield path, path.read_text()
    for path in sorted(CATALOG.glob("*/rule.py")):  # the SQL strings of Python rules
        yield path, "\n".join(m.group(1) for m in re.finditer(r'"""(.*?)"""', path.read_text(), re.S)
                              if re.search(r"\bSELECT\b", m.group(1)))


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def test_every_duckdb_only_construct_in_rule_sql_is_listed():
    found: dict[str, set[str]] = {}
    for path, text in _sql_texts():
        sql = _strip_comments(text)
        for name, pattern in PATTERNS.items():
            if re.search(pattern, sql, re.I):
                found.setdefault(name, set()).add(f"{path.parent.name}/{path.name}")
    unlisted = {k: sorted(v) for k, v in found.items() if k not in SECOND_ENGINE_SYNTAX}
    assert not unlisted, f"DuckDB-only syntax in rule SQL, not in rules/dialect.py SECOND_ENGINE_SYNTAX: {unlisted}"
    assert {"SEMI JOIN", "GROUP BY ALL", "rowid"} <= set(found)  # the scan sees what the rules use


def test_the_scan_catches_an_unlisted_construct():
    sql = _strip_comments("SELECT a FROM t QUALIFY row_number() OVER () = 1 -- GROUP BY ALL in a comment")
    hits = {n for n, p in PATTERNS.items() if re.search(p, sql, re.I)}
    assert hits == {"QUALIFY"} and "QUALIFY" not in SECOND_ENGINE_SYNTAX


def test_one_check_of_an_ip_that_identifies_nobody():
    # rules (shared_device_ip) and casework (network joins) both call st_shared_ip
    import duckdb

    from rules.casework.common import install_macros

    con = duckdb.connect()
    install_macros(con)  # casework's connection gets the rules' st_* macros too
    shared = {"10.1.2.3", "100.64.0.1", "172.20.1.1", "192.168.0.9", "127.0.0.1", "fe80::1", "fd12:3456::1", "::1",
              "::ffff:10.0.0.1", "not an ip", "1.2.3", ""}
    specific = {"8.8.8.8", "203.0.113.7", "2001:db8::1", "2400:cb00:2048:1::c629:d7a2", "::ffff:8.8.8.8"}
    got = {ip: con.execute("SELECT st_shared_ip(?)", [ip]).fetchone()[0] for ip in shared | specific}
    assert {ip for ip, v in got.items() if v} == shared
    networks_sql = (CATALOG.parent / "casework" / "networks.py").read_text()
    assert "st_shared_ip(ip)" in networks_sql and "cw_weak_ip" not in networks_sql
