"""Casework: turn rule outputs into what investigators work with -- alerts, networks, compound links.

    summary = rules.casework.build(con, run_id)   # right after rules.engine.detect(con, ...) returned run_id

Reads rule outputs (typology_scores, rule_hits, listed_addresses) and canonical tables; writes only the tables
of rules/alert_tables.py. Steps, in one transaction:
  1. parties.resolve   -> party_clusters (splink on DuckDB)
  2. compounds.build_links -> compound_links (every link with its evidence and confidence)
  3. alerts.stage      -> alerts of the run with evidence roles (staged)
  4. networks.compute  -> connected alerts, members, stable network ids
  5. alerts.write, networks.write -> alerts / alert_evidence / networks / network_members / network_edges
See docs/casework.md.
"""

from rules.casework.stages import build

__all__ = ["build"]
