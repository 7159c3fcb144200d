"""Casework: turn rule outputs into what investigators work with -- alerts, networks, compound links.

    summary = rules.casework.build(con, run_id)   # right after rules.engine.detect(con, ...) returned run_id

Reads rule outputs (typology_scores, rule_hits, listed_addresses) and canonical tables; writes only the tables
of rules/alert_tables.py. First rules.screening screens parties, counterparty names and wallets against the
watch lists (watchlist_matches, its own transaction). Then, in one transaction:
  1. parties.resolve   -> party_clusters (splink on DuckDB)
  2. compounds.build_links -> compound_links (every link with its evidence and confidence)
  3. alerts.stage      -> alerts of the run with evidence roles (staged); dispositions.hold_back drops the
                          false positives whose evidence is not materially new
  4. networks.compute  -> connected alerts, members, stable network ids
  5. alerts.write, networks.write -> alerts / alert_evidence / networks / network_members / network_edges;
     dispositions.annotate copies the latest decision onto every alert
See docs/casework.md.
"""

from __future__ import annotations

import gc
import time
from contextlib import contextmanager

import duckdb

from rules import alert_tables, tables
from rules.casework import alerts, compounds, dispositions, networks, parties
from rules.casework.common import install_macros
from rules.casework.staging import STAGED
from rules.screening import screen as screening
from transforms import store


def build(con: duckdb.DuckDBPyConnection, run_id: str, screening_settings: dict | None = None) -> dict:
    """Build alerts, networks, compound links and party clusters for one detect run. Returns a summary dict.
    screening_settings: the deployment's `screening:` config (rules/screening/screen.py settings())."""
    t0 = time.perf_counter()
    tables.ensure_tables(con)
    alert_tables.ensure_tables(con)
    install_macros(con)
    timings: dict[str, float] = {}

    def step(name, fn, *args, **kw):
        t = time.perf_counter()
        out = fn(*args, **kw)
        timings[name] = round(time.perf_counter() - t, 3)
        return out

    summary: dict = {"run_id": run_id}
    _steps(con, run_id, step, summary, screening.settings(screening_settings))
    summary["timings"] = timings
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    return summary


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off for a step: the networks hold hundreds of thousands of small objects
    (members, roles, rows) that live until the step ends and form no cycles, and the collector would walk all of
    them again and again (about a third of the networks' time at 10M). Reference counting still frees memory."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _steps(con: duckdb.DuckDBPyConnection, run_id: str, step, summary: dict, screen_with: dict) -> None:
    summary["screening"] = step("screening", screening.screen, con, run_id, **screen_with)  # commits on its own
    with store.transaction(con):
        summary["parties"] = step("parties", parties.resolve, con, run_id)
        summary["compound_links"] = step("compound_links", compounds.build_links, con, run_id)
        n = step("alerts_stage", alerts.stage, con, run_id)
        summary["alerts_held_back"] = held = step("dispositions", dispositions.hold_back, con)
        n -= held
        with _collector_paused():
            state = step("networks_compute", networks.compute, con, run_id) if n else None
        if not n:
            con.execute("CREATE OR REPLACE TEMP TABLE _cw_alert_network (alert_id VARCHAR, network_id VARCHAR)")
        summary.update(step("alerts_write", alerts.write, con, run_id))
        summary.update(dispositions.annotate(con))
        if state is not None:
            with _collector_paused():
                summary.update(step("networks_write", networks.write, con, run_id, state))
        else:
            summary.update({"networks": 0, "network_members": 0})
            con.execute("UPDATE networks SET is_current = false")
        for t in STAGED:  # rules/casework/staging.py: the tables that carried the build between modules
            con.execute(f"DROP TABLE IF EXISTS {t}")


__all__ = ["build"]
