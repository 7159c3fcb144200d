"""The temp tables that carry one casework build from one module to the next: the contract in one place.

Each entry names the module that creates the table, the columns that later steps rely on, and what it holds.
tests/casework/test_staging.py checks that every _cw_* table used by more than one module is declared here and
that a build leaves these columns. Tables that one module creates and reads alone are its own business.
"""

from __future__ import annotations

from typing import NamedTuple


class Staged(NamedTuple):
    producer: str  # module (rules/casework/<producer>.py) that creates it
    columns: tuple[str, ...]  # the columns other steps read (the table may have more)
    holds: str


STAGED: dict[str, Staged] = {
    "_cw_alerts": Staged("alerts", (
        "alert_id", "subject_type", "subject_id", "typology_id", "typology_version", "typologies", "rule_ids",
        "rule_scores", "reasons", "score", "threshold", "txn_ids", "member_ids"),
        "one row per alert of the detect run (typology_scores.is_alert), before networks and priority"),
    "_cw_subject_accounts": Staged("alerts", ("alert_id", "account_id"),
                                   "the accounts of each alert's subject (the account, or a party's accounts)"),
    "_cw_evidence": Staged("alerts", (
        "alert_id", "txn_id", "role", "direction", "counterparty_id", "amount_usd", "booked_at", "rule_ids",
        "from_account_id", "to_account_id", "from_country", "to_country", "from_institution", "to_institution"),
        "each alert's evidence transactions with their role seen from the subject"),
    "_cw_alert_facts": Staged("alerts", (
        "alert_id", "total_usd", "n_transactions", "first_activity_at", "last_activity_at", "evidence_hash"),
        "per alert: USD, count and span of its evidence, and a hash of the evidence set"),
    "_cw_alert_rows": Staged("alerts", ("alert_id", "status", "network_id", "priority_score"),
                             "the alerts rows as they will be stored (stages.py writes them)"),
    "_cw_suppressed": Staged("dispositions", ("alert_id",),
                             "alerts of the run held back: false positives without materially new evidence"),
    "_cw_alert_network": Staged("networks", ("alert_id", "network_id"), "the network of each alert"),
    "_cw_members": Staged("networks", ("account_id",), "every member account of this build's networks"),
    "_cw_net_flows": Staged("networks", (
        "network_id", "from_account_id", "to_account_id", "usd", "n_txns", "first_at", "last_at", "evidence"),
        "each network's flows aggregated per payer and payee (network_store writes them as flow edges)"),
    "_cw_member_parties": Staged("members", ("party_id", "cluster_id"),
                                 "holders of member accounts, and the representative party of each resolved cluster"),
    "_cw_reg": Staged("compounds", ("account_id", "compound_id", "conf", "entry"),
                      "accounts and wallets of the compound registry, with the entry's confidence"),
}
