"""Output tables of the rules stage: the one place that names their columns (created by the engine if absent).

Reuses transforms.schema's Table/Column so the DDL is generated the same way as the canonical tables.
"""

from __future__ import annotations

import duckdb

from transforms.schema import Column, Table

RULE_HITS = Table(
    "rule_hits",
    "One row per subject that a rule measured inside one of its scored bands, per detect run.",
    (
        Column("run_id", "VARCHAR", "detect run that produced the hit"),
        Column("rule_id", "VARCHAR", "folder name under rules/catalog"),
        Column("rule_version", "VARCHAR", "version from rule.yml"),
        Column("param_hash", "VARCHAR", "sha256 (16 hex) of the resolved parameters and bands: reproduces the hit"),
        Column("typology", "VARCHAR", "typology the rule was written for (rule.yml); weights live in typologies/"),
        Column("subject_type", "VARCHAR", "account | party"),
        Column("subject_id", "VARCHAR", "account_id or party_id the measure is about"),
        Column("measured_value", "DOUBLE", "the rule's measure (count, share, hops, ...)"),
        Column("band", "INTEGER", "0-based index of the band the value fell in"),
        Column("score", "DOUBLE", "band score"),
        Column("reason", "VARCHAR", "band reason sentence, with {value} and parameters filled in"),
        Column("txn_ids", "VARCHAR[]", "evidence: transactions.txn_id of the transactions that make up the measure"),
        Column("member_ids", "VARCHAR[]", "other accounts in the pattern (senders, intermediaries, path, sharers)"),
        Column("window_start", "TIMESTAMPTZ", "first evidence time"),
        Column("window_end", "TIMESTAMPTZ", "last evidence time"),
        Column("evidence", "JSON", "the rule's declared evidence columns for this row"),
    ),
)

RULE_RUNS = Table(
    "rule_runs",
    "Run log per rule and detect run: what ran, with which parameters, what it found or why it was skipped.",
    (
        Column("run_id", "VARCHAR", "detect run"),
        Column("rule_id", "VARCHAR", "rule folder name"),
        Column("rule_version", "VARCHAR", "version from rule.yml"),
        Column("param_hash", "VARCHAR", "hash of resolved parameters and bands"),
        Column("parameters", "JSON", "resolved parameters (defaults + deployment overrides)"),
        Column("status", "VARCHAR", "ok | skipped | disabled | failed"),
        Column("note", "VARCHAR", "why skipped / failed; empty when ok"),
        Column("candidates", "BIGINT", "rows the rule returned"),
        Column("hits", "BIGINT", "rows that fell in a scored band (written to rule_hits)"),
        Column("seconds", "DOUBLE", "wall time of the rule"),
        Column("since", "TIMESTAMPTZ", "detection range start (inclusive)"),
        Column("until", "TIMESTAMPTZ", "detection range end (exclusive)"),
    ),
)

TYPOLOGY_SCORES = Table(
    "typology_scores",
    "Per detect run, typology and subject: weighted sum of rule outcomes and whether it reaches the alert threshold.",
    (
        Column("run_id", "VARCHAR", "detect run"),
        Column("typology_id", "VARCHAR", "typology id (rules/typologies/<id>.yml)"),
        Column("typology_version", "VARCHAR", "version from the typology file"),
        Column("subject_type", "VARCHAR", "account | party"),
        Column("subject_id", "VARCHAR", "account_id or party_id"),
        Column("score", "DOUBLE", "sum over the typology's rules of weight x best band score for this subject"),
        Column("threshold", "DOUBLE", "alert threshold in force (after deployment overrides)"),
        Column("is_alert", "BOOLEAN", "score >= threshold"),
        Column("rule_scores", "JSON", "rule_id -> best band score that contributed"),
        Column("reasons", "VARCHAR[]", "reason sentences of the contributing hits"),
        Column("txn_ids", "VARCHAR[]", "union of the contributing hits' evidence transactions"),
        Column("member_ids", "VARCHAR[]", "union of the contributing hits' member accounts"),
        Column("window_start", "TIMESTAMPTZ", "earliest evidence time"),
        Column("window_end", "TIMESTAMPTZ", "latest evidence time"),
        Column("config_hash", "VARCHAR", "hash of weights and threshold in force"),
    ),
)

LISTED_ADDRESSES = Table(
    "listed_addresses",
    "Wallets and accounts on a watch list: compounds registry plus sanctions lists the deployment names.",
    (
        Column("account_id", "VARCHAR", "canonical account id (chain:address, EVM lower-cased; bank ids as given)"),
        Column("list_name", "VARCHAR", "compounds | ofac_sdn | <file stem>"),
        Column("compound_id", "VARCHAR", "compound the entry belongs to, when from the compounds registry"),
        Column("source", "VARCHAR", "file path or 'compounds' table"),
        Column("confidence", "DOUBLE", "0..1 (compound confidence; 1.0 for official sanctions lists)"),
    ),
)

COMPOUND_EVENTS = Table(
    "compound_events",
    "Login, opening and binding events located inside a suspected compound (its IP ranges or its radius), each "
    "resolved to an account (a party's event reaches every account the party holds). Rebuilt at every detect run "
    "(rules/presence.py).",
    (
        Column("event_id", "VARCHAR", "events.event_id"),
        Column("account_id", "VARCHAR", "account the event concerns, or an account of the party it concerns"),
        Column("holder_id", "VARCHAR", "the account's holder (accounts.holder_id), else the event's party"),
        Column("occurred_at", "TIMESTAMPTZ", "UTC"),
        Column("kind", "VARCHAR", "events.kind"),
        Column("ip", "VARCHAR", "events.ip"),
        Column("device_id", "VARCHAR", "events.device_id"),
        Column("compound_id", "VARCHAR", "the compound whose area the event lies in"),
        Column("located_by", "VARCHAR", "ip_cidr | geo_radius"),
    ),
)

RELOCATIONS = Table(
    "relocations",
    "Accounts whose events moved into a compound: used from elsewhere first (at home), then from inside the "
    "compound. One row per (account, compound); rebuilt at every detect run (rules/presence.py).",
    (
        Column("account_id", "VARCHAR", "the account"),
        Column("holder_id", "VARCHAR", "its holder"),
        Column("compound_id", "VARCHAR", "the compound it was next used from"),
        Column("arrived_at", "TIMESTAMPTZ", "first event inside the compound"),
        Column("first_outside_at", "TIMESTAMPTZ", "first event outside the compound (the account's life before the move)"),
        Column("last_outside_at", "TIMESTAMPTZ", "last event outside the compound before arrived_at"),
        Column("outside_events", "BIGINT", "events outside the compound before arrived_at"),
        Column("inside_events", "BIGINT", "events inside the compound from arrived_at on"),
        Column("devices_inside", "VARCHAR[]", "devices used inside the compound"),
    ),
)

ALL = (RULE_HITS, RULE_RUNS, TYPOLOGY_SCORES, LISTED_ADDRESSES, COMPOUND_EVENTS, RELOCATIONS)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in ALL:
        con.execute(table.ddl())
