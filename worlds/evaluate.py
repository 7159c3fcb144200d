"""Score a detect run against truth labels: our generator's (DIR/truth/) or a public simulator's native truth.

worlds/truth_formats.py reads the truth as patterns (pattern_id, typology as the world names it, detected_by: the
scamtrace typology whose alerts should find it, compound_id, difficulty), pattern_accounts (pattern_id,
account_id, role) and pattern_transactions (pattern_id, txn_id).

Measures (on alerts: typology_scores rows with is_alert in the run):
  - a pattern's *targets* are the accounts an alert should name: its suspects (every role other than victim:
    mules, consolidators, layers, organisers, legal persons, compound wallets, ...). Victims are not targets: no
    rule should alert on them, except the victim typologies (`victim_typologies`, default victim_escalation) whose
    subject is the victim, where the victims are the targets. A pattern with no suspect falls back to all members.
  - pattern recall per typology: a pattern counts as found when the alerts of its typology cover at least
    `coverage` (default 0.5: "most") of its targets; covered = alert subjects + their member accounts.
    `found_any` counts a pattern found by alerts of any typology.
  - account precision / recall: alert subjects vs the targets of all patterns (overall and per typology;
    per-typology precision counts a subject right if it is a target of any pattern). A victim raised by a
    victim typology is right; a victim raised by any other typology is a false positive.
  - victims: victims (of any pattern) raised by the victim typologies, over all victims (victim identification).
  - transaction precision / recall / F1: alerts' evidence txn_ids vs pattern_transactions.
  - networks and compounds (`networks` key; needs a casework build of the run, see network_scores()): a
    compound's *planted network* is the set of suspects of all truth patterns with that compound_id. Each current
    detected network is matched to the compound whose suspects it holds most (member accounts; off-ramp services,
    which several compounds and ordinary customers use, do not count), else it is
    compound-less (suspects of compound-less patterns only) or legitimate (no truth suspect). Per compound: its
    matched networks, how many are linked to it (networks.compound_ids), the share (target >= 0.9), and the best
    rank of each planted organiser (role organiser: the party holding the organiser account, or any account that
    party's resolved cluster holds) in its networks (target <= 3). Legitimate networks linked to a compound:
    target 0. Organisers come from operations.csv (the cast of every operation, organiser role) when the truth
    has it, so that every operation's organiser is checked, not only those a pattern (a cycle) names; and an
    alert on a cast account (organiser, legal person, consolidator, the operation's OTC desk and wallets) is
    right for account precision even when no pattern lists it (recall still counts pattern targets only).
Returned as a dict; print_table() renders it with rich, json_path= writes it as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

import json
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from rich.console import Console
from rich.table import Table as RichTable


VICTIM_TYPOLOGIES = ("victim_escalation",)  # typologies whose subject is the victim


def _prf(flagged: set, truth: set) -> dict[str, Any]:
    tp = len(flagged & truth)
    p = tp / len(flagged) if flagged else 0.0
    r = tp / len(truth) if truth else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"flagged": len(flagged), "truth": len(truth), "true_positive": tp,
            "precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4)}


def latest_run(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = con.execute(
        "SELECT r.run_id FROM rule_runs r LEFT JOIN runs u ON u.run_id = r.run_id"
        " GROUP BY r.run_id ORDER BY max(u.started_at) DESC NULLS LAST LIMIT 1"
    ).fetchall()
    return rows[0][0] if rows else None


@dataclass
class _Targets:
    """What a run is scored against: each pattern's typology (as the world names it), the scamtrace typology
    expected to find it, its target accounts (suspects, or victims for victim typologies and victim-only patterns),
    its transactions, and which accounts an alert may rightly name."""

    typ_of: dict[str, str]
    finder_of: dict[str, str]
    members_of: dict[str, set[str]]
    victims_of: dict[str, set[str]]
    txns_of: dict[str, set[str]]
    difficulty_of: dict[str, object]
    typologies: list[str]
    covered_by: dict[str, set[str]]
    covered_any: set[str]
    row_finder: dict[str, str]
    all_truth_accounts: set[str]
    all_victims: set[str]
    victim_alerts: set[str]
    right_accounts: set[str]
    right_suspects: set[str]
    all_truth_txns: set[str]
    find_of: dict[str, set[str]]

    @classmethod
    def of(cls, patterns, p_accounts, p_txns, operations, alerts: pl.DataFrame, victim_typologies,
           active: dict[str, set[str]] | None = None) -> "_Targets":
        # typologies as the world names them (reporting), and the scamtrace typology expected to find each pattern
        typ_of = dict(zip(patterns["pattern_id"].to_list(), patterns["typology"].to_list()))
        finder_of = dict(zip(patterns["pattern_id"].to_list(), patterns["detected_by"].to_list()))
        alert_typologies = set(alerts["typology_id"].to_list())
        typologies = sorted(set(typ_of.values())) + sorted(alert_typologies - set(typ_of.values()))
        members_of: dict[str, set[str]] = {}
        victims_of: dict[str, set[str]] = {}
        for pid, acc, role in p_accounts.select("pattern_id", "account_id", "role").iter_rows():
            (victims_of if role == "victim" else members_of).setdefault(pid, set()).add(acc)
        for pid, vs in victims_of.items():  # targets: suspects, or the victims for victim typologies / victim-only patterns
            if finder_of.get(pid) in victim_typologies or not members_of.get(pid):
                members_of[pid] = vs
        txns_of = {pid: set(g["txn_id"].to_list()) for (pid,), g in p_txns.group_by("pattern_id")}
        difficulty_of = (dict(zip(patterns["pattern_id"].to_list(), patterns["difficulty"].to_list()))
                         if "difficulty" in patterns.columns else {})
        covered_by = {t: _covered(alerts.filter(pl.col("typology_id") == t))
                      for t in alert_typologies | set(finder_of.values()) if t}
        # a row of the report reads the alerts of the typology that finds its patterns (a world's 'fan_in' row reads
        # mule_fan_in alerts); a typology with alerts and no pattern reads its own
        row_finder = {t: t for t in typologies}
        row_finder.update({t: f for p, t in typ_of.items() if (f := finder_of.get(p))})
        all_truth_accounts = set().union(*members_of.values()) if members_of else set()  # every pattern's targets
        all_victims = set().union(*victims_of.values()) if victims_of else set()
        victim_alerts = set(alerts.filter(pl.col("typology_id").is_in(list(victim_typologies)))["subject_id"].to_list())
        # a victim named by a victim typology is right even when it is not the target of its own pattern
        right_accounts = all_truth_accounts | (victim_alerts & all_victims)
        cast = set(operations["account_id"].to_list()) if operations is not None else set()
        right_suspects = all_truth_accounts | cast  # an alert on an operation's organiser or wallet is right
        right_accounts |= cast
        # a pattern is found through the targets that take part in its transfers (at least two of them): a member
        # that neither sends nor receives any of the pattern's money cannot be seen in it
        find_of = {}
        for pid, m in members_of.items():
            seen = m & (active or {}).get(str(pid), set())
            find_of[pid] = seen if len(seen) >= 2 else m
        return cls(typ_of, finder_of, members_of, victims_of, txns_of, difficulty_of, typologies, covered_by,
                   _covered(alerts), row_finder, all_truth_accounts, all_victims, victim_alerts, right_accounts,
                   right_suspects, set(p_txns["txn_id"].to_list()), find_of)

    def found_with(self, coverage: float):
        def found(pid: str, cov: set[str]) -> bool:
            m = self.find_of.get(pid, set())
            return bool(m) and len(m & cov) / len(m) >= coverage
        return found


def _active_accounts(con: duckdb.DuckDBPyConnection, p_txns: pl.DataFrame) -> dict[str, set[str]]:
    """Per pattern, the accounts at either end of its transactions in the store."""
    if p_txns.is_empty():
        return {}
    pt = p_txns.select(pl.col("pattern_id").cast(pl.Utf8), pl.col("txn_id").cast(pl.Utf8))  # noqa: F841 (read by DuckDB)
    rows = con.execute(
        "SELECT pt.pattern_id, t.from_account_id, t.to_account_id FROM pt JOIN transactions t USING (txn_id)").fetchall()
    out: dict[str, set[str]] = {}
    for pid, a, b in rows:
        out.setdefault(pid, set()).update(x for x in (a, b) if x)
    return out


def _covered(rows: pl.DataFrame) -> set[str]:
    """Accounts the alerts name: their subjects and members."""
    out = set(rows["subject_id"].to_list())
    for m in rows["member_ids"].to_list():
        out |= set(m or [])
    return out


def _per_typology(t: _Targets, alerts: pl.DataFrame, coverage: float, victim_typologies) -> tuple[dict, list]:
    """One row per typology: patterns found (by their finder, and by any typology), accounts and transactions."""
    found = t.found_with(coverage)
    subjects_by = {ty: set(alerts.filter(pl.col("typology_id") == t.row_finder[ty])["subject_id"].to_list())
                   for ty in t.typologies}
    txns_by = {ty: {x for lst in alerts.filter(pl.col("typology_id") == t.row_finder[ty])["txn_ids"].to_list()
                    for x in (lst or [])} for ty in t.typologies}
    per_typology: dict[str, dict] = {}
    missed: list[dict] = []
    for ty in t.typologies:
        pids = [p for p, pt in t.typ_of.items() if pt == ty]
        n_found = sum(found(p, t.covered_by.get(t.finder_of[p], set())) for p in pids)
        n_found_any = sum(found(p, t.covered_any) for p in pids)
        missed += [{"pattern_id": p, "typology": ty, "difficulty": t.difficulty_of.get(p)} for p in pids
                   if not found(p, t.covered_any)]
        t_accounts = set().union(*(t.members_of.get(p, set()) for p in pids)) if pids else set()
        t_txns = set().union(*(t.txns_of.get(p, set()) for p in pids)) if pids else set()
        acc = _prf(subjects_by[ty], t_accounts)
        right = t.right_accounts if t.row_finder[ty] in victim_typologies else t.right_suspects
        acc["precision"] = round(len(subjects_by[ty] & right) / len(subjects_by[ty]), 4) if subjects_by[ty] else 0.0
        # strict: right only when the subject is a target of this typology's own patterns (a mule alerted as a
        # trafficked worker is right for `precision`, since it is a suspect, and wrong here)
        acc["precision_own"] = (round(len(subjects_by[ty] & t_accounts) / len(subjects_by[ty]), 4)
                                if subjects_by[ty] and pids else None)  # no pattern of its own: not measured
        txn = _prf(txns_by[ty], t_txns)
        txn["precision"] = round(len(txns_by[ty] & t.all_truth_txns) / len(txns_by[ty]), 4) if txns_by[ty] else 0.0
        per_typology[ty] = {
            "patterns": len(pids),
            "found": n_found,
            "pattern_recall": round(n_found / len(pids), 4) if pids else None,
            "found_any": n_found_any,
            "alerts": len(subjects_by[ty]),
            "accounts": acc,
            "transactions": txn,
        }
    return per_typology, missed


def evaluate(
    con: duckdb.DuckDBPyConnection,
    truth_dir: Path,
    *,
    run_id: str | None = None,
    coverage: float = 0.5,
    victim_typologies: tuple[str, ...] = VICTIM_TYPOLOGIES,
    json_path: Path | None = None,
    show: bool = False,
    console: Console | None = None,
) -> dict:
    """Score the latest detect run (or `run_id`) against truth_dir and return the scores as a dict.

    truth_dir may be the folder holding the CSVs or its parent (DIR with DIR/truth/). With `json_path` the dict
    is also written there as JSON; with `show` (or a console) it is printed as a rich table (print_table does
    the same for callers such as the CLI, which prints and writes itself).
    """
    from worlds.truth_formats import load_truth

    truth = load_truth(Path(truth_dir))
    patterns, p_accounts, p_txns, operations = (truth.patterns, truth.pattern_accounts, truth.pattern_transactions,
                                                truth.operations)

    from rules.tables import ensure_tables

    ensure_tables(con)
    run_id = run_id or latest_run(con)
    alerts = pl.DataFrame(
        con.execute(
            "SELECT typology_id, subject_id, txn_ids, member_ids FROM typology_scores WHERE run_id = ? AND is_alert",
            [run_id],
        ).fetchall(),
        schema={"typology_id": pl.Utf8, "subject_id": pl.Utf8, "txn_ids": pl.List(pl.Utf8), "member_ids": pl.List(pl.Utf8)},
        orient="row",
    )

    t = _Targets.of(patterns, p_accounts, p_txns, operations, alerts, victim_typologies, _active_accounts(con, p_txns))
    per_typology, missed = _per_typology(t, alerts, coverage, victim_typologies)
    typ_of = t.typ_of
    covered_any, found = t.covered_any, t.found_with(coverage)
    all_truth_accounts, all_victims, victim_alerts = t.all_truth_accounts, t.all_victims, t.victim_alerts
    right_accounts, all_truth_txns = t.right_accounts, t.all_truth_txns

    flagged_accounts = set(alerts["subject_id"].to_list())
    acc_all = _prf(flagged_accounts, all_truth_accounts)
    acc_all["true_positive"] = len(flagged_accounts & right_accounts)
    acc_all["precision"] = round(acc_all["true_positive"] / len(flagged_accounts), 4) if flagged_accounts else 0.0
    p_, r_ = acc_all["precision"], acc_all["recall"]
    acc_all["f1"] = round(2 * p_ * r_ / (p_ + r_), 4) if p_ + r_ else 0.0
    flagged_txns = {x for l in alerts["txn_ids"].to_list() for x in (l or [])}
    n_patterns = patterns.height
    n_found_any = sum(found(p, covered_any) for p in typ_of)
    n_found = sum(m["found"] for m in per_typology.values())
    result = {
        "run_id": run_id,
        "truth_dir": str(truth_dir),
        "truth_format": truth.format,
        "coverage": coverage,
        "patterns": {"total": n_patterns, "found": n_found, "recall": round(n_found / n_patterns, 4) if n_patterns else None,
                     "found_any": n_found_any,
                     "recall_any": round(n_found_any / n_patterns, 4) if n_patterns else None},
        "accounts": acc_all,
        "victims": _prf(victim_alerts, all_victims),
        "victims_alerted_by_other_typologies": len((flagged_accounts - victim_alerts) & (all_victims - all_truth_accounts)),
        "transactions": _prf(flagged_txns, all_truth_txns),
        "per_typology": per_typology,
        "missed_patterns": missed,
        "networks": network_scores(con, patterns, p_accounts, operations),
    }
    if json_path is not None:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(result, indent=2, default=str))
    if show or console is not None:
        print_table(result, console)
    return result


NOT_OPERATION_ROLES = ("victim", "off_ramp")  # off-ramps are third-party services (P2P merchants, OTC desks, exchanges)
# used by several compounds and by ordinary customers: holding one does not make a network part of an operation
LINK_SHARE_TARGET = 0.9  # each compound linked to at least this share of its planted networks
ORGANISER_RANK_TARGET = 3  # planted organisers rank in the top 3 of their network


def _is_compound(cid: str | None) -> bool:
    return bool(cid) and not str(cid).startswith("list:")  # 'list:<name>' ids are sanctions lists, not compounds


def network_scores(con: duckdb.DuckDBPyConnection, patterns: pl.DataFrame, p_accounts: pl.DataFrame,
                   operations: pl.DataFrame | None = None) -> dict:
    """Networks and compound links against the truth's compound operations (current networks of the store).

    Returns {"compounds": {compound_id: {...}}, "legitimate": {...}, "compoundless": {...}, "targets": {...}}.
    A network counts as linked to a compound when networks.compound_ids holds it (the network-level link an
    investigator sees); `member_links` counts networks where any member account or party has a current
    compound_link to it at any confidence (context: weak single facts on victims or counterparties), and
    `linked_elsewhere` the compound's networks that are also linked to a compound none of whose suspects they
    hold (wrong links; a network merging two operations is rightly linked to both)."""
    planted, all_suspects, organisers = _operation_suspects(patterns, p_accounts, operations)
    from rules import alert_tables

    alert_tables.ensure_tables(con)
    view = _StoredNetworks.read(con)
    comp, legit, less, matched_to = _match_networks(view, planted, all_suspects)
    _rank_organisers(con, organisers, view, matched_to, comp)
    orgs = [o for m in comp.values() for o in m["organisers"]]
    workers = _trafficked_workers(con, p_accounts)
    return {
        "networks": len(view.nets),
        "compounds": comp,
        "legitimate": legit,
        "compoundless": less,
        "targets": {
            "link_share": LINK_SHARE_TARGET,
            "organiser_rank": ORGANISER_RANK_TARGET,
            "compounds_linked_ok": sum(1 for m in comp.values() if m["share"] is not None and m["share"] >= LINK_SHARE_TARGET),
            "compounds_with_networks": sum(1 for m in comp.values() if m["networks"]),
            "legitimate_linked": legit["linked"],
            "organisers_top": sum(1 for o in orgs if o["rank"] is not None and o["rank"] <= ORGANISER_RANK_TARGET),
            "organisers": len(orgs),
            "trafficked_as_organiser": workers["as_organiser"],
            "trafficked_ranked_first": workers["ranked_first"],
        },
        "trafficked_workers": workers,
    }


def _trafficked_workers(con: duckdb.DuckDBPyConnection, p_accounts: pl.DataFrame) -> dict:
    """Planted trafficked workers (role trafficked_worker) in the current networks: how many are labelled
    possible_trafficking_victim (their account or its holder party), and how many are wrongly an organiser (party
    role) or the first-ranked member of a network (targets: 0)."""
    workers = sorted(set(p_accounts.filter(pl.col("role") == "trafficked_worker")["account_id"].to_list()))
    out = {"planted": len(workers), "in_networks": 0, "labelled": 0, "as_organiser": 0, "ranked_first": 0}
    if not workers:
        return out
    rows = con.execute("""
        SELECT m.member_type, m.member_id, m.role, m.roles, m.rank, coalesce(m.account_ids, [m.member_id]) AS accounts
        FROM network_members m JOIN networks n USING (network_id) WHERE n.is_current
          AND list_has_any(coalesce(m.account_ids, [m.member_id]), ?)""", [workers]).fetchall()
    seen, labelled, organiser, first = set(), set(), set(), set()
    for _mtype, _mid, role, roles, rank, accounts in rows:
        mine = set(accounts) & set(workers)
        seen |= mine
        if role == "possible_trafficking_victim":
            labelled |= mine
        if "organiser" in (roles or []):
            organiser |= mine
        if rank == 1:
            first |= mine
    out.update(in_networks=len(seen), labelled=len(labelled), as_organiser=len(organiser), ranked_first=len(first))
    return out


def _operation_suspects(patterns: pl.DataFrame, p_accounts: pl.DataFrame, operations: pl.DataFrame | None
                        ) -> tuple[dict[str, set[str]], set[str], dict[str, set[str]]]:
    """Per compound, the accounts of its operation (suspects, not victims), every suspect, and its organisers."""
    compound_of = {}
    if "compound_id" in patterns.columns:
        compound_of = {p: (c or "").strip() for p, c in zip(patterns["pattern_id"].to_list(), patterns["compound_id"].to_list())}
    suspects: dict[str, set[str]] = {}  # compound -> suspect accounts ('' = compound-less patterns)
    organisers: dict[str, set[str]] = {}
    for pid, acc, role in p_accounts.select("pattern_id", "account_id", "role").iter_rows():
        if role in NOT_OPERATION_ROLES or not acc:
            continue
        c = compound_of.get(pid, "")
        suspects.setdefault(c, set()).add(acc)
        if role == "organiser" and c:
            organisers.setdefault(c, set()).add(acc)
    if operations is not None:  # every operation's organiser, whether or not a pattern names it
        for c, role, acc in operations.select("compound_id", "role", "account_id").iter_rows():
            if role == "organiser" and c and acc and c in suspects:
                organisers.setdefault(c, set()).add(acc)
    planted = {c: s for c, s in suspects.items() if c}
    return planted, set().union(*suspects.values()) if suspects else set(), organisers


@dataclass
class _StoredNetworks:
    """The current networks, their member accounts and parties with ranks, and the members' compound links."""

    nets: list[tuple]  # (network_id, compound_ids, n_accounts, n_alerts, top_member_type, top_member_id)
    accts_of: dict[str, set[str]]
    parties_of: dict[str, set[str]]
    rank_of: dict[tuple[str, str, str], int]  # (network, type, id) -> rank; parties also under their cluster id
    n_members: dict[str, int]
    member_link: dict[tuple[str, str], set[str]]

    @classmethod
    def read(cls, con) -> "_StoredNetworks":
        nets = con.execute(
            "SELECT network_id, coalesce(compound_ids, []), n_accounts, n_alerts, top_member_type, top_member_id"
            " FROM networks WHERE is_current ORDER BY network_id"
        ).fetchall()
        view = cls(nets, {}, {}, {}, {}, {})
        for nid, mtype, mid, rank, holder, _role in con.execute(
            "SELECT m.network_id, m.member_type, m.member_id, m.rank, m.holder_id, m.role FROM network_members m"
            " JOIN networks n USING (network_id) WHERE n.is_current"
        ).fetchall():
            view.n_members[nid] = view.n_members.get(nid, 0) + 1
            (view.accts_of if mtype == "account" else view.parties_of).setdefault(nid, set()).add(mid)
            view.rank_of[(nid, mtype, mid)] = rank
            if mtype == "party" and holder:
                view.rank_of[(nid, "cluster", holder)] = min(rank, view.rank_of.get((nid, "cluster", holder), rank))
        for st, sid, cid in con.execute(
            "SELECT DISTINCT subject_type, subject_id, compound_id FROM compound_links WHERE is_current"
        ).fetchall():
            if _is_compound(cid):
                view.member_link.setdefault((st, sid), set()).add(cid)
        return view

    def member_compounds(self, nid: str) -> set[str]:
        out: set[str] = set()
        for a in self.accts_of.get(nid, ()):
            out |= self.member_link.get(("account", a), set())
        for p in self.parties_of.get(nid, ()):
            out |= self.member_link.get(("party", p), set())
        return out


def _match_networks(view: _StoredNetworks, planted: dict[str, set[str]], all_suspects: set[str]
                    ) -> tuple[dict, dict, dict, dict[str, str]]:
    """Each network to the compound whose suspects it holds most of (or to none: compound-less or legitimate)."""
    comp = {c: {"suspects": len(s), "suspects_in_networks": 0, "networks": 0, "linked": 0, "share": None,
                "member_links": 0, "linked_elsewhere": 0, "network_ids": [], "unlinked_network_ids": [],
                "organisers": []}
            for c, s in sorted(planted.items())}
    legit = {"networks": 0, "linked": 0, "member_links": 0, "linked_networks": []}
    less = {"networks": 0, "linked": 0, "network_ids": []}
    matched_to: dict[str, str] = {}
    in_nets: dict[str, set[str]] = {c: set() for c in planted}
    for nid, cids, n_acc, n_al, _tt, _ti in view.nets:
        accs = view.accts_of.get(nid, set())
        linked = {c for c in cids if _is_compound(c)}
        cover = sorted(((len(accs & s), c) for c, s in planted.items() if accs & s), key=lambda x: (-x[0], x[1]))
        for _k, c in cover:
            in_nets[c] |= accs & planted[c]
        if cover:
            c = cover[0][1]
            matched_to[nid] = c
            m = comp[c]
            m["networks"] += 1
            m["network_ids"].append(nid)
            if c in linked:
                m["linked"] += 1
            else:
                m["unlinked_network_ids"].append(nid)
            m["member_links"] += c in view.member_compounds(nid)
            # also linked to a compound none of whose suspects is in the network (a wrong link)
            m["linked_elsewhere"] += bool({x for x in linked - {c} if not (accs & planted.get(x, set()))})
        elif accs & all_suspects:
            less["networks"] += 1
            less["network_ids"].append(nid)
            less["linked"] += bool(linked)
        else:
            legit["networks"] += 1
            legit["member_links"] += bool(view.member_compounds(nid))
            if linked:
                legit["linked"] += 1
                legit["linked_networks"].append({"network_id": nid, "compound_ids": sorted(linked), "accounts": n_acc, "alerts": n_al})
    for c, m in comp.items():
        m["suspects_in_networks"] = len(in_nets[c])
        m["share"] = round(m["linked"] / m["networks"], 4) if m["networks"] else None
    return comp, legit, less, matched_to


def _rank_organisers(con, organisers: dict[str, set[str]], view: _StoredNetworks, matched_to: dict[str, str],
                     comp: dict) -> None:
    """Each organiser's best rank: the party holding the organiser account (its resolved cluster) and every account
    it holds, in the compound's own networks first."""
    holder_of = dict(con.execute("SELECT account_id, holder_id FROM accounts WHERE holder_id IS NOT NULL").fetchall())
    cluster_of = dict(con.execute("SELECT party_id, cluster_id FROM party_clusters").fetchall())
    held_by: dict[str, set[str]] = {}
    for a, h in holder_of.items():
        held_by.setdefault(cluster_of.get(h, h), set()).add(a)
    for c, orgs in sorted(organisers.items()):
        for o in sorted(orgs):
            party = holder_of.get(o)
            cluster = cluster_of.get(party, party) if party else None
            own = held_by.get(cluster, set()) | {o} if cluster else {o}
            best = None
            for nid in sorted(set(view.accts_of) | set(view.parties_of)):
                ranks = [view.rank_of[(nid, "account", a)] for a in own if (nid, "account", a) in view.rank_of]
                if party:
                    ranks += [r for r in (view.rank_of.get((nid, "party", party)), view.rank_of.get((nid, "cluster", cluster))) if r]
                if not ranks:
                    continue
                cand = (matched_to.get(nid) != c, min(ranks), nid)  # prefer the compound's own networks
                if best is None or cand < best:
                    best = cand
            entry = {"account_id": o, "party_id": party, "rank": None, "network_id": None, "network_members": None}
            if best is not None:
                entry.update(rank=best[1], network_id=best[2], network_members=view.n_members.get(best[2]))
            if c in comp:
                comp[c]["organisers"].append(entry)


def print_table(result: dict, console: Console | None = None) -> None:
    console = console or Console()
    table = RichTable(title=f"scamtrace eval (run {result['run_id']}, pattern found at >= {result['coverage']:.0%} of its suspects)")
    for col in ("typology", "patterns", "found", "recall", "found by any", "alerts", "acct P", "acct P own", "acct R", "txn P",
                "txn R", "txn F1"):
        table.add_column(col, justify="left" if col == "typology" else "right")

    def pct(v):
        return "-" if v is None else f"{v:.0%}"

    for t, m in result["per_typology"].items():
        table.add_row(t, str(m["patterns"]), str(m["found"]), pct(m["pattern_recall"]), str(m["found_any"]), str(m["alerts"]),
                      pct(m["accounts"]["precision"]), pct(m["accounts"].get("precision_own")), pct(m["accounts"]["recall"]),
                      pct(m["transactions"]["precision"]), pct(m["transactions"]["recall"]), pct(m["transactions"]["f1"]))
    a, x, p = result["accounts"], result["transactions"], result["patterns"]
    table.add_row("all", str(p["total"]), str(p["found"]), pct(p["recall"]), str(p["found_any"]), str(a["flagged"]),
                  pct(a["precision"]), "", pct(a["recall"]), pct(x["precision"]), pct(x["recall"]), pct(x["f1"]), style="bold")
    console.print(table)
    if result.get("networks"):
        print_networks(result["networks"], console)


def print_networks(nw: dict, console: Console | None = None) -> None:
    """Per compound: planted networks found, linked share, organiser ranks; legitimate networks linked."""
    console = console or Console()
    t = nw["targets"]
    table = RichTable(title=f"networks and compounds ({nw['networks']} networks; targets: linked >= {t['link_share']:.0%} "
                            f"of a compound's networks, 0 legitimate networks linked, organisers in the top {t['organiser_rank']})")
    for col in ("compound", "suspects", "in networks", "networks", "linked", "share", "member links",
                "also other compound", "organiser rank"):
        table.add_column(col, justify="left" if col in ("compound", "organiser rank") else "right")
    for c, m in nw["compounds"].items():
        share = "-" if m["share"] is None else f"{m['share']:.0%}"
        orgs = ", ".join("-" if o["rank"] is None else f"{o['rank']} / {o['network_members']}" for o in m["organisers"]) or ""
        style = None if (m["share"] or 0) >= t["link_share"] and all(
            o["rank"] is not None and o["rank"] <= t["organiser_rank"] for o in m["organisers"]) else "red"
        table.add_row(c, str(m["suspects"]), str(m["suspects_in_networks"]), str(m["networks"]), str(m["linked"]), share,
                      str(m["member_links"]), str(m["linked_elsewhere"]), orgs, style=style)
    lg, cl = nw["legitimate"], nw["compoundless"]
    table.add_row("(compound-less patterns)", "", "", str(cl["networks"]), str(cl["linked"]), "", "", "", "")
    table.add_row("(legitimate)", "", "", str(lg["networks"]), str(lg["linked"]), "", str(lg["member_links"]), "", "",
                  style="bold red" if lg["linked"] else "bold")
    console.print(table)
    w = nw.get("trafficked_workers") or {}
    if w.get("planted"):
        bad = w["as_organiser"] or w["ranked_first"]
        console.print(f"trafficked workers: {w['planted']} planted, {w['in_networks']} in networks, {w['labelled']} labelled "
                      f"possible_trafficking_victim, {w['as_organiser']} as organiser, {w['ranked_first']} ranked first "
                      "(targets: 0 and 0)", style="bold red" if bad else None)
