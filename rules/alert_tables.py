"""Casework tables: alerts, their evidence, networks, members, edges, compound links and resolved parties.

Built by rules.casework.build(con, run_id) right after rules.engine.detect(); exports (goAML, GraphML, HTML,
CSV/XLSX) read only these tables plus the canonical ones. Same Table/Column style as rules/tables.py, so the DDL
is generated in one place. Column names are a contract with the exporters: add columns, never rename them.

State model: alerts / networks / network_members / network_edges / compound_links hold the *current* state,
one row per stable id (alert_id, network_id, ...). Each build compares with what is stored and sets `status`
(new | updated | unchanged) and `run_id` (the detect run that last raised or confirmed the row). Rows that the
current run did not raise are kept (an incremental batch run only sees the new period) with is_current = false.
"""

from __future__ import annotations

import duckdb

from transforms.schema import USD, Column, Table

ALERTS = Table(
    "alerts",
    "One alert per subject and typology (current state). alert_id = 'AL-' + sha256(subject_type|subject_id|typology_id)[:16].",
    (
        Column("alert_id", "VARCHAR", "stable id derived from subject_type, subject_id and typology_id (never the run)"),
        Column("subject_type", "VARCHAR", "account | party"),
        Column("subject_id", "VARCHAR", "account_id or party_id the alert is about"),
        Column("subject_name", "VARCHAR", "holder / party name from KYC (NULL when unknown)"),
        Column("typology_id", "VARCHAR", "typology that reached its threshold (rules/typologies/<id>.yml)"),
        Column("typology_version", "VARCHAR", "version of that typology file"),
        Column("typologies", "VARCHAR[]", "all typologies alerting on the same subject in the run (context; sorted)"),
        Column("rule_ids", "VARCHAR[]", "rules whose hits make up the typology score (sorted)"),
        Column("rule_scores", "JSON", "rule_id -> best band score (from typology_scores)"),
        Column("reasons", "VARCHAR[]", "reason sentences of the contributing rule hits"),
        Column("status", "VARCHAR", "new (first raised) | updated (score or evidence set changed since the stored state) | unchanged"
                                    " | suppressed (a decided false positive held back: no materially new evidence)"),
        Column("is_current", "BOOLEAN", "raised by the latest build; false = kept from an earlier run"),
        Column("score", "DOUBLE", "typology score (sum of weight x band score)"),
        Column("threshold", "DOUBLE", "alert threshold in force"),
        Column("previous_score", "DOUBLE", "score of the stored state before this build (NULL when new)"),
        Column("priority", "VARCHAR", "high | medium | low, from priority_score (see docs/casework.md)"),
        Column("priority_score", "DOUBLE", "0..1: score/threshold, USD amount, compound links and network rank combined"),
        Column("total_usd", USD, "sum of amount_usd over the evidence transactions"),
        Column("n_transactions", "BIGINT", "number of evidence transactions"),
        Column("first_activity_at", "TIMESTAMPTZ", "earliest booked_at among the evidence transactions"),
        Column("last_activity_at", "TIMESTAMPTZ", "latest booked_at among the evidence transactions"),
        Column("evidence_hash", "VARCHAR", "sha256 (16 hex) of the sorted evidence txn_ids: a change makes the alert 'updated'"),
        Column("member_ids", "VARCHAR[]", "other accounts in the pattern (senders, payees, off-ramps) from the rule hits"),
        Column("country", "VARCHAR", "country of the subject account / party"),
        Column("institution", "VARCHAR", "institution (bank / VASP) of the subject account"),
        Column("network_id", "VARCHAR", "network the alert belongs to (networks.network_id)"),
        Column("compound_ids", "VARCHAR[]", "compounds linked to the subject (compound_links), sorted"),
        Column("run_id", "VARCHAR", "detect run that last raised the alert"),
        Column("first_run_id", "VARCHAR", "detect run that first raised the alert"),
        Column("created_at", "TIMESTAMPTZ", "when the alert was first raised (UTC)"),
        Column("updated_at", "TIMESTAMPTZ", "when the alert's status was last set to new or updated (UTC)"),
        Column("model_score", "DOUBLE", "0..1 score of the subject by the model trained on dispositions (NULL: no model)"),
        Column("model_explanation", "VARCHAR", "the model's strongest reasons for its score, from its own feature contributions"),
        Column("disposition", "VARCHAR", "latest analyst decision on the subject: confirmed | false_positive | inconclusive"),
        Column("disposed_at", "TIMESTAMPTZ", "when that decision was made"),
        Column("disposed_by", "VARCHAR", "the analyst who made it"),
    ),
    key=("alert_id",),
)

ALERT_EVIDENCE = Table(
    "alert_evidence",
    "Evidence transactions of each alert, each with its role in the pattern. Join transactions on txn_id for source and source_txn_id.",
    (
        Column("alert_id", "VARCHAR", "alerts.alert_id"),
        Column("txn_id", "VARCHAR", "transactions.txn_id"),
        Column("role", "VARCHAR", "inbound_to_mule, cash_deposit, outbound_layer, off_ramp_transfer, cash_withdrawal, "
                                  "to_listed_address, intermediary_hop (transaction between two other pattern accounts)"),
        Column("direction", "VARCHAR", "in (credit to the subject) | out (debit from the subject) | other"),
        Column("counterparty_id", "VARCHAR", "the other account of the transaction, seen from the subject"),
        Column("amount_usd", USD, "transactions.amount_usd (copied for convenience)"),
        Column("booked_at", "TIMESTAMPTZ", "transactions.booked_at (copied for convenience)"),
        Column("rule_ids", "VARCHAR[]", "rules of this alert's typology that cite the transaction"),
    ),
    key=("alert_id", "txn_id"),
)

NETWORKS = Table(
    "networks",
    "Alerts connected through flows between flagged accounts and shared identifiers (current state).",
    (
        Column("network_id", "VARCHAR", "stable id: kept from the stored network with the largest overlap, else 'NW-' + sha256(sorted core subjects)[:16]"),
        Column("status", "VARCHAR", "new | updated (core, members or total changed) | unchanged"),
        Column("is_current", "BOOLEAN", "produced by the latest build"),
        Column("core_hash", "VARCHAR", "sha256 (16 hex) of the sorted alerted subjects: the network's core"),
        Column("alert_ids", "VARCHAR[]", "alerts in the network, sorted"),
        Column("n_alerts", "BIGINT", "number of alerts"),
        Column("n_accounts", "BIGINT", "member accounts"),
        Column("n_parties", "BIGINT", "member parties (holders, organisers, legal persons)"),
        Column("score", "DOUBLE", "max alert priority_score in the network"),
        Column("priority", "VARCHAR", "high | medium | low (the best of its alerts)"),
        Column("total_usd", USD, "sum of amount_usd over the distinct evidence transactions of its alerts"),
        Column("first_activity_at", "TIMESTAMPTZ", "earliest evidence transaction"),
        Column("last_activity_at", "TIMESTAMPTZ", "latest evidence transaction"),
        Column("top_member_type", "VARCHAR", "account | party of the highest-ranked member"),
        Column("top_member_id", "VARCHAR", "highest-ranked member (the upper level to aim at)"),
        Column("typologies", "VARCHAR[]", "typologies of its alerts"),
        Column("link_kinds", "VARCHAR[]", "what connects the alerts: flow, flow_2hop, holder, device, ip, phone, email, address"),
        Column("jurisdictions", "VARCHAR[]", "ISO countries of member accounts, their institutions, counterparties and parties (for MLA requests)"),
        Column("institutions", "VARCHAR[]", "banks and VASPs holding member accounts or named on evidence transactions"),
        Column("vasps", "VARCHAR[]", "VASPs / OTC desks / P2P merchants / casinos involved (label or institution)"),
        Column("compound_ids", "VARCHAR[]", "compounds linked to any member"),
        Column("legal_persons", "VARCHAR[]", "party_ids of legal persons among the members"),
        Column("run_id", "VARCHAR", "detect run of the latest build that produced it"),
        Column("first_run_id", "VARCHAR", "detect run that first produced it"),
        Column("created_at", "TIMESTAMPTZ", "first produced (UTC)"),
        Column("updated_at", "TIMESTAMPTZ", "last set to new or updated (UTC)"),
    ),
    key=("network_id",),
)

NETWORK_MEMBERS = Table(
    "network_members",
    "Accounts and parties of each network with their role and rank (1 = most central to the money's movement).",
    (
        Column("network_id", "VARCHAR", "networks.network_id"),
        Column("member_type", "VARCHAR", "account | party"),
        Column("member_id", "VARCHAR", "account_id or party_id"),
        Column("name", "VARCHAR", "holder / party name (accounts: holder's name, or label)"),
        Column("role", "VARCHAR", "primary role: organiser, beneficial_owner, legal_person, consolidator, compound_linked, "
                                  "off_ramp, mule, victim, possible_trafficking_victim, account_holder, counterparty (roles may add "
                                  "'designated')"),
        Column("roles", "VARCHAR[]", "every role that applies (sorted)"),
        Column("rank", "INTEGER", "1 = highest rank_score in the network"),
        Column("rank_score", "DOUBLE", "centrality weighted by role (see docs/casework.md); parties sum their accounts'"),
        Column("centrality", "DOUBLE", "USD-weighted PageRank on the flow graph (accounts); for parties the sum over held accounts"),
        Column("is_alerted", "BOOLEAN", "member is the subject of an alert"),
        Column("alert_ids", "VARCHAR[]", "alerts on this member"),
        Column("in_usd", USD, "USD received from other member accounts (accounts) / by held accounts (parties)"),
        Column("out_usd", USD, "USD sent to other member accounts / from held accounts"),
        Column("holder_id", "VARCHAR", "accounts: holder party_id; parties: resolved cluster_id"),
        Column("account_ids", "VARCHAR[]", "parties: member accounts held (through resolved clusters); accounts: NULL"),
        Column("n_accounts_held", "BIGINT", "parties: number of member accounts held; accounts: NULL"),
        Column("party_type", "VARCHAR", "person | legal (parties; accounts: the holder's)"),
        Column("kind", "VARCHAR", "accounts.kind (customer, vasp_deposit, otc_desk, ...)"),
        Column("institution", "VARCHAR", "bank / VASP of the account"),
        Column("country", "VARCHAR", "ISO country of the account / party"),
        Column("compound_ids", "VARCHAR[]", "compounds linked to this member"),
        Column("watchlist_ids", "VARCHAR[]", "watch-list entities this member (or its holder) matches: role 'designated',"
                                             " ranked first (watchlist_matches)"),
        Column("trafficking_facts", "VARCHAR[]", "facts that fit a trafficked worker rather than a paid mule (role "
                                                 "possible_trafficking_victim: ranked below every suspect, never an organiser)"),
    ),
    key=("network_id", "member_type", "member_id"),
)

NETWORK_EDGES = Table(
    "network_edges",
    "Edges of each network (for GraphML / pictures): aggregated flows, holdings and shared identifiers.",
    (
        Column("network_id", "VARCHAR", "networks.network_id"),
        Column("src_type", "VARCHAR", "account | party"),
        Column("src_id", "VARCHAR", "payer account / holder party / first sharer"),
        Column("dst_type", "VARCHAR", "account | party"),
        Column("dst_id", "VARCHAR", "payee account / held account / second sharer"),
        Column("kind", "VARCHAR", "flow | holder | device | ip | phone | email | address"),
        Column("usd", USD, "flow: total USD; otherwise NULL"),
        Column("n_txns", "BIGINT", "flow: number of transactions; otherwise NULL"),
        Column("first_at", "TIMESTAMPTZ", "flow: first transaction; shared identifier: first event"),
        Column("last_at", "TIMESTAMPTZ", "flow: last transaction; shared identifier: last event"),
        Column("evidence", "VARCHAR", "shared identifier value, or up to 20 txn_ids of the flow (comma separated)"),
    ),
)

COMPOUND_LINKS = Table(
    "compound_links",
    "Facts linking an account or party to a suspected compound. Never a link without its evidence.",
    (
        Column("link_id", "VARCHAR", "stable id: 'CL-' + sha256(compound_id|subject_type|subject_id|link_kind|evidence key)[:16]"),
        Column("compound_id", "VARCHAR", "compounds.compound_id; sanctions hits on non-registry addresses use 'list:<list_name>'"),
        Column("subject_type", "VARCHAR", "account | party"),
        Column("subject_id", "VARCHAR", "account_id or party_id"),
        Column("link_kind", "VARCHAR", "registry_account, ip_cidr, geo_radius, phone_prefix, wallet_hops, company_name, sanctions_list"),
        Column("evidence", "JSON", "the facts: event_id / ip / cidr / lat,lon,distance_km / phone,prefix / path of txn_ids / names and similarity / list"),
        Column("evidence_text", "VARCHAR", "one sentence naming the facts (for reports)"),
        Column("confidence", "DOUBLE", "0..1: link-kind base confidence x registry confidence x decay (docs/casework.md)"),
        Column("first_seen_at", "TIMESTAMPTZ", "earliest time of the facts (event time, first txn); NULL for static facts"),
        Column("last_seen_at", "TIMESTAMPTZ", "latest time of the facts"),
        Column("n_facts", "BIGINT", "number of events / transactions / records behind the link"),
        Column("status", "VARCHAR", "new | updated | unchanged (against the stored link)"),
        Column("is_current", "BOOLEAN", "found by the latest build"),
        Column("run_id", "VARCHAR", "detect run of the latest build that found it"),
    ),
    key=("link_id",),
)

PARTY_CLUSTERS = Table(
    "party_clusters",
    "Parties resolved across sources (splink on DuckDB): one row per party; a party alone is its own cluster.",
    (
        Column("party_id", "VARCHAR", "parties.party_id"),
        Column("cluster_id", "VARCHAR", "'PC-' + sha256(smallest party_id in the cluster)[:16]: stable while that party stays in it"),
        Column("match_probability", "DOUBLE", "highest splink match probability linking the party into its cluster (1.0 alone)"),
        Column("cluster_size", "BIGINT", "number of parties in the cluster"),
        Column("matched_on", "VARCHAR[]", "fields that agreed on the best pair (name, birth_date, id_number, phone, email, ...)"),
        Column("run_id", "VARCHAR", "detect run of the build"),
    ),
    key=("party_id",),
)

ALL = (ALERTS, ALERT_EVIDENCE, NETWORKS, NETWORK_MEMBERS, NETWORK_EDGES, COMPOUND_LINKS, PARTY_CLUSTERS)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in ALL:
        con.execute(table.ddl())
    for sql in ALERTS.upgrade() + NETWORK_MEMBERS.upgrade():  # stores made before later columns
        con.execute(sql)
