"""The goAML report of one alert or one network: the reason text, the transactions and who is who in them,
handed to the GoamlWriter (exports/goaml.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rules.casework import trafficking
from exports.goaml_values import sql_date

if TYPE_CHECKING:
    from exports.goaml import GoamlWriter


def _compound_sentences(writer: GoamlWriter, subjects: list[tuple[str, str]]) -> list[str]:
    """One sentence per current compound link of the subjects (held by the writer's scope), the most
    confident first."""
    found = [(sid, *link) for st, sid in dict.fromkeys(subjects) for link in writer.links.get((st, sid), ())]
    found.sort(key=lambda r: (r[4] is None, -(r[4] or 0), r[5]))
    return [f"compound {c} ({k}, confidence {conf:.2f}) via {s}: {txt}" if conf is not None else
            f"compound {c} ({k}) via {s}: {txt}" for s, c, k, txt, conf, _ in found]


def _listing_sentences(writer: GoamlWriter, subjects: list[tuple[str, str]]) -> list[str]:
    """One sentence per watch-list match of the subjects (rules/screening): a designation is the strongest single
    fact about a party."""
    found = [m for st, sid in dict.fromkeys(subjects) for m in writer.listed.get((st, sid), ())]
    return [f"Watch list {lst} (entity {eid}, score {score:.2f}): {txt}" for lst, eid, _name, score, txt in found]


def _trafficking_sentences(writer: GoamlWriter, subjects: list[tuple[str, str]]) -> list[str]:
    """For each subject that casework found to be a possible trafficking victim: why, and the non-punishment
    caution (rules/casework/trafficking.py)."""
    return [trafficking.sentence(st, sid, name, facts) for st, sid in dict.fromkeys(subjects)
            for name, facts in writer.trafficked.get((st, sid), ())]


def _model_and_decision(alert: dict, reasons: list[str]) -> list[str]:
    """The model's explanation beside the rule reasons, and the analyst's decision, when there are any."""
    out = []
    if alert.get("model_explanation") and alert["model_explanation"] not in reasons:
        out.append(f"- {alert['model_explanation']}")
    if alert.get("disposition"):
        out.append(f"Analyst decision: {alert['disposition']} on {sql_date(alert.get('disposed_at'))}"
                   + (f" by {alert['disposed_by']}." if alert.get("disposed_by") else "."))
    return out


def alert_document(writer: GoamlWriter, alert: dict, evidence: list[dict], facts: dict | None = None):
    """facts: for evidence cut to the largest transactions, what the whole evidence holds (tables.capped_evidence)."""
    reasons = alert.get("reasons") or []
    lines = [
        f"Alert {alert['alert_id']}: typology {alert.get('typology_id')} on {alert.get('subject_type')} "
        f"{alert.get('subject_id')} ({alert.get('subject_name') or 'name unknown'}), score {alert.get('score')} "
        f"(threshold {alert.get('threshold')}), priority {alert.get('priority')}, status {alert.get('status')}.",
        f"Evidence: {facts['n_rows'] if facts else len(evidence)} transactions, USD {alert.get('total_usd')}, "
        f"{sql_date(alert.get('first_activity_at'))} to {sql_date(alert.get('last_activity_at'))}.",
        *[f"- {r}" for r in reasons],
        *_model_and_decision(alert, reasons),
        *_compound_sentences(writer, [(alert.get("subject_type"), alert.get("subject_id"))]),
        *_listing_sentences(writer, [(alert.get("subject_type"), alert.get("subject_id"))]),
        *_trafficking_sentences(writer, [(alert.get("subject_type"), alert.get("subject_id"))]
                                + [("account", m) for m in alert.get("member_ids") or []]),
    ]
    if alert.get("network_id"):
        lines.append(f"Part of network {alert['network_id']}.")
    roles = {}
    if facts:
        roles = {cp: f"counterparty ({role})" for cp, role in facts["roles"].items()}
    for e in evidence:
        if e.get("counterparty_id") and e.get("role"):
            roles.setdefault(e["counterparty_id"], f"counterparty ({e['role']})")
    if alert.get("subject_type") == "account":
        roles[alert["subject_id"]] = "alert subject"
    suspects = ({alert["subject_id"]} | set(alert.get("member_ids") or [])) - {  # a possible victim is no suspect
        sid for (_st, sid) in writer.trafficked}
    txns = _distinct_txns(evidence)
    return writer.document(reference=str(alert["alert_id"]), reason="\n".join(lines), transactions=txns,
                         whole=(facts["n_txns"], facts["total_usd"]) if facts else None,
                         typologies=[alert.get("typology_id"), *(alert.get("typologies") or [])],
                         suspects=suspects, roles=roles,
                         activity_subjects=[(alert["subject_type"], alert["subject_id"], "; ".join(reasons) or "alert subject")],
                         extra_info=[("scamtrace alert", f"alert_id={alert['alert_id']}; rules={', '.join(alert.get('rule_ids') or [])}; "
                                                         f"run_id={alert.get('run_id')}")])


def network_document(writer: GoamlWriter, network: dict, members: list[dict], evidence: list[dict]):
    top = [m for m in members if m.get("rank") is not None][:10]
    lines = [
        f"Network {network['network_id']}: {network.get('n_alerts')} alerts, {network.get('n_accounts')} accounts, "
        f"{network.get('n_parties')} parties, USD {network.get('total_usd')}, priority {network.get('priority')}, "
        f"status {network.get('status')}.",
        f"Typologies: {', '.join(network.get('typologies') or [])}. Jurisdictions: {', '.join(network.get('jurisdictions') or [])}.",
        f"Activity {sql_date(network.get('first_activity_at'))} to {sql_date(network.get('last_activity_at'))}.",
        "Highest-ranked members:",
        *[f"{m['rank']}. {m.get('role')}{' (designated)' if m.get('watchlist_ids') else ''}: {m.get('member_type')} "
          f"{m.get('member_id')} ({m.get('name') or '-'})" for m in top],
        *_compound_sentences(writer, [(m["member_type"], m["member_id"]) for m in members]),
        *_listing_sentences(writer, [(m["member_type"], m["member_id"]) for m in members]),
        *trafficking.member_sentences(members),
    ]
    roles = {m["member_id"]: f"network role: {m.get('role')} (rank {m.get('rank')})" for m in members}
    def suspect(m: dict) -> bool:
        return m.get("role") not in ("victim", "counterparty") and not trafficking.is_trafficked(m)

    suspects = {m["member_id"] for m in members if suspect(m)}
    return writer.document(reference=str(network["network_id"]), reason="\n".join(lines),
                         transactions=_distinct_txns(evidence), typologies=network.get("typologies") or [],
                         suspects=suspects, roles=roles,
                         activity_subjects=[(m["member_type"], m["member_id"], f"network role: {m.get('role')} (rank {m.get('rank')})")
                                            for m in members if suspect(m)][:50],
                         extra_info=[("scamtrace network", f"network_id={network['network_id']}; alerts={', '.join(network.get('alert_ids') or [])}")])


def _distinct_txns(evidence: list[dict]) -> list[dict]:
    seen: dict[str, dict] = {}
    for e in evidence:
        if e.get("txn_id") and e["txn_id"] not in seen and e.get("booked_at") is not None:
            seen[e["txn_id"]] = e
    return sorted(seen.values(), key=lambda r: (r["booked_at"], r["txn_id"]))
