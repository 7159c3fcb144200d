"""Screen parties, counterparty names and wallets against the watch lists in the store.

    summary = screen(con, run_id)        # called by rules.casework.build before the networks are built

Who is screened: every KYC party (person or legal person), every counterparty name that a transaction gives for
an account without a KYC holder, and every account id (wallets: an exact match with a listed address).
Against what: the latest version of each list in watchlist_entities (a list's older rows are delisted entries).

How, in three steps:
  1. candidates (DuckDB): names are cut into keys: their Latin tokens, pairs of tokens, and pairs of the tokens'
     sounds (for spelling drift across scripts). A single token listed more than TOKEN_CAP times ("nguyen",
     "co") is too common to find a candidate alone, but its pairs are not. Each screened name keeps the
     MAX_CANDIDATES listed entities sharing the most keys with it.
  2. score (Python, rigour): the name comparison of names.py over every form of both names, then the strong
     identifiers of identifiers.py (same passport number: confirmed; different birth date: ruled out).
  3. write: pairs at or above the threshold go to watchlist_matches with their evidence; the screening itself
     (list versions, matcher, threshold, subjects hash) to screenings. The same inputs give the same
     screening_id, and the stored screening is reused instead of being run again.
A person is never matched to a listed company or the other way round; a counterparty name of unknown kind is
compared with both.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone

import duckdb
import polars as pl

from rules.casework.common import sha16
from rules.screening import identifiers, names, tables
from rules.screening.translit import HONORIFICS, latin_variants
from transforms import store

THRESHOLD = 0.80  # best F1 on data/screening/name_pairs.csv (bench/screening_quality.py; docs/screening.md)
TOKEN_CAP = 500
MAX_CANDIDATES = 30
MAX_ALIASES = 40  # forms of one listed entity compared (some entries carry hundreds of spellings)
_WORD = re.compile(r"[a-z0-9]+")
_NOISE = {"co", "ltd", "limited", "company", "inc", "llc", "corp", "corporation", "plc", "pte", "sdn", "bhd", "pt",
          "jsc", "the", "and", "of", "mr", "mrs", "ms", "miss", "dr", *HONORIFICS}
PARAMS = {"threshold": THRESHOLD, "token_cap": TOKEN_CAP, "max_candidates": MAX_CANDIDATES,
          "max_aliases": MAX_ALIASES, "confirm": identifiers.CONFIRM, "birth_agrees": identifiers.BIRTH_AGREES,
          "birth_differs": identifiers.BIRTH_DIFFERS}


def screen(con: duckdb.DuckDBPyConnection, run_id: str, threshold: float = THRESHOLD) -> dict:
    t0 = time.perf_counter()
    tables.ensure_tables(con)
    if not store.has_table(con, "watchlist_entities") or not con.sql("SELECT count(*) FROM watchlist_entities").fetchall()[0][0]:
        return {"screening_id": None, "note": "no watch list loaded: nothing screened"}
    lists = _current_lists(con)
    subjects = _subjects(con)
    subjects_hash = sha16(*subjects.select(pl.struct(pl.all()).hash().sum()).row(0))
    params = {**PARAMS, "threshold": threshold}
    screening_id = "SC-" + sha16(json.dumps(lists, sort_keys=True), names.MATCHER, json.dumps(params, sort_keys=True),
                                 subjects_hash)
    if con.execute("SELECT count(*) FROM screenings WHERE screening_id = ?", [screening_id]).fetchall()[0][0]:
        n = con.execute("SELECT count(*) FROM watchlist_matches WHERE screening_id = ?", [screening_id]).fetchall()[0][0]
        con.execute("UPDATE watchlist_matches SET is_current = (screening_id = ?)", [screening_id])
        return {"screening_id": screening_id, "reused": True, "matches": n}
    entities = _entities(con)
    pairs = _candidates(con, subjects, entities)
    rows = _scored(pairs, subjects, entities, threshold, screening_id) + _wallets(con, screening_id)
    _write(con, rows, {
        "screening_id": screening_id, "run_id": run_id, "screened_at": datetime.now(timezone.utc),
        "lists": json.dumps(lists), "matcher": names.MATCHER, "threshold": threshold, "params": json.dumps(params),
        "subjects_hash": subjects_hash, "n_subjects": subjects.height, "n_pairs": len(pairs), "n_matches": len(rows),
        "seconds": round(time.perf_counter() - t0, 3),
    })
    return {"screening_id": screening_id, "subjects": subjects.height, "pairs": len(pairs), "matches": len(rows),
            "seconds": round(time.perf_counter() - t0, 3)}


# ------------------------------------------------------------------------------------------------------ inputs

_CURRENT = """
    SELECT e.* FROM watchlist_entities e
    JOIN (SELECT list_name, max(coalesce(list_version, '')) AS v FROM watchlist_entities GROUP BY 1) l
      ON e.list_name = l.list_name AND coalesce(e.list_version, '') = l.v
"""


def _current_lists(con) -> list[dict]:
    rows = con.sql(f"""SELECT list_name, list_version, count(*), list(DISTINCT file_id ORDER BY file_id)
                       FROM ({_CURRENT}) GROUP BY 1, 2 ORDER BY 1""").fetchall()
    return [{"list_name": r[0], "list_version": r[1], "entities": r[2], "file_ids": r[3]} for r in rows]


def _entities(con) -> pl.DataFrame:
    return con.sql(f"""SELECT entity_id, list_name, list_version, schema, name, aliases, birth_dates, countries,
                              id_numbers, registration_nos, wallets, phones, emails, programs, authority, listed_at
                       FROM ({_CURRENT}) ORDER BY entity_id""").pl()


def _subjects(con) -> pl.DataFrame:
    """One row per screened name: parties, then counterparty names of accounts without a KYC holder."""
    clean_id = "nullif(upper(regexp_replace(coalesce({c}, ''), '[^0-9A-Za-z]', '', 'g')), '')"
    parts = []
    if store.has_table(con, "parties"):
        parts.append(f"""
            SELECT 'party' AS subject_type, party_id AS subject_id, name,
                   CASE WHEN party_type = 'legal' THEN 'legal' ELSE 'person' END AS kind,
                   CAST(birth_date AS VARCHAR) AS birth_date, {clean_id.format(c='id_number')} AS id_number,
                   {clean_id.format(c='registration_no')} AS registration_no,
                   nullif(regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g'), '') AS phone,
                   nullif(lower(trim(email)), '') AS email,
                   list_filter([lower(nationality), lower(country)], lambda x: x IS NOT NULL) AS countries
            FROM parties WHERE name IS NOT NULL AND trim(name) <> ''""")
    if store.has_table(con, "transactions"):
        held = ("SELECT account_id FROM accounts WHERE holder_id IS NOT NULL" if store.has_table(con, "accounts")
                else "SELECT NULL::VARCHAR AS account_id WHERE false")
        parts.append(f"""
            SELECT 'account', account_id, name, 'entity', NULL, NULL, NULL, NULL, NULL, []::VARCHAR[]
            FROM (SELECT from_account_id AS account_id, trim(from_name) AS name FROM transactions WHERE from_name IS NOT NULL
                  UNION SELECT to_account_id, trim(to_name) FROM transactions WHERE to_name IS NOT NULL)
            WHERE account_id IS NOT NULL AND name <> '' AND account_id NOT IN ({held})""")
    if not parts:
        return pl.DataFrame(schema={"subject_type": pl.Utf8, "subject_id": pl.Utf8, "name": pl.Utf8})
    return con.sql(" UNION ALL ".join(parts) + " ORDER BY 1, 2, 3").pl()


# ------------------------------------------------------------------------------------------------------ candidates


def name_keys(name: str, kind: str) -> set[str]:
    """Blocking keys of a name: Latin tokens, token pairs, pairs of token sounds."""
    from anyascii import anyascii

    keys: set[str] = set()
    for form in (name, *latin_variants(name, kind)):
        tokens = sorted({t for t in _WORD.findall(anyascii(form).lower()) if t not in _NOISE})
        keys.update(tokens)
        keys.update(f"{a} {b}" for i, a in enumerate(tokens) for b in tokens[i + 1:])
        sounds = sorted({names.sound(t) for t in tokens if len(t) > 1})
        keys.update(f"~{a} {b}" for i, a in enumerate(sounds) for b in sounds[i + 1:])
    return keys


def _entity_kind(schema: str | None) -> str:
    return names.kind_of_schema(schema)


def _candidates(con, subjects: pl.DataFrame, entities: pl.DataFrame) -> list[tuple[int, int]]:
    s_rows = [(i, k) for i, (n, kind) in enumerate(zip(subjects["name"], subjects["kind"])) for k in name_keys(n, kind)]
    e_rows = []
    for j, (schema, name, aliases) in enumerate(zip(entities["schema"], entities["name"], entities["aliases"].to_list())):
        kind = _entity_kind(schema)
        if kind == "object":
            continue
        for form in [name, *(aliases or [])][:MAX_ALIASES]:
            e_rows += [(j, k) for k in name_keys(form, kind)]
    if not s_rows or not e_rows:
        return []
    s_keys = pl.DataFrame(s_rows, schema={"si": pl.Int64, "k": pl.Utf8}, orient="row")  # noqa: F841 (DuckDB reads it)
    e_keys = pl.DataFrame(e_rows, schema={"ei": pl.Int64, "k": pl.Utf8}, orient="row").unique()  # noqa: F841
    s_kind = subjects.select(pl.int_range(pl.len()).alias("si"), "kind")  # noqa: F841
    e_kind = entities.select(pl.int_range(pl.len()).alias("ei"),  # noqa: F841
                             pl.col("schema").map_elements(_entity_kind, return_dtype=pl.Utf8).alias("kind"))
    pairs = con.sql(f"""
        WITH df AS (SELECT k, count(*) AS n FROM e_keys GROUP BY k),
             shared AS (
                SELECT s.si, e.ei, count(*) AS n_keys
                FROM s_keys s JOIN df ON df.k = s.k AND (df.n <= {TOKEN_CAP} OR position(' ' IN s.k) > 0)
                JOIN e_keys e ON e.k = s.k
                GROUP BY 1, 2),
             typed AS (
                SELECT shared.* FROM shared JOIN s_kind USING (si) JOIN e_kind USING (ei)
                WHERE s_kind.kind = 'entity' OR s_kind.kind = e_kind.kind)
        SELECT si, ei FROM typed
        QUALIFY row_number() OVER (PARTITION BY si ORDER BY n_keys DESC, ei) <= {MAX_CANDIDATES}
        ORDER BY si, ei
    """).fetchall()
    return [(int(a), int(b)) for a, b in pairs]


# ------------------------------------------------------------------------------------------------------ scoring


def _entity_forms(entity: dict) -> names.Forms:
    kind = _entity_kind(entity["schema"])
    forms = [names.analyzed(n, kind) for n in [entity["name"], *(entity["aliases"] or [])][:MAX_ALIASES] if n]
    return names.Forms(tuple(n for f in forms for n in f.names), frozenset(s for f in forms for s in f.spelled))


def _scored(pairs: list[tuple[int, int]], subjects: pl.DataFrame, entities: pl.DataFrame, threshold: float,
            screening_id: str) -> list[dict]:
    subj = subjects.rows(named=True)
    ents = entities.rows(named=True)
    forms: dict[int, names.Forms] = {}
    out = []
    for si, ei in pairs:
        s, e = subj[si], ents[ei]
        if ei not in forms:
            forms[ei] = _entity_forms(e)
        kind = s["kind"] if s["kind"] != "entity" else _entity_kind(e["schema"])
        ns = names.compare(names.analyzed(s["name"], kind), forms[ei])
        if ns.score < threshold * identifiers.BIRTH_DIFFERS:  # no identifier can lift it over the threshold
            continue
        cmp = identifiers.compare(s, e)
        score = cmp.adjust(ns.score)
        if score >= threshold:
            out.append(match_row(screening_id, s, e, score, ns, cmp, threshold))
    return out


def match_row(screening_id: str, s: dict, e: dict, score: float, ns: names.NameScore,
              cmp: identifiers.Comparison, threshold: float) -> dict:
    features = ["name", *cmp.features]
    programs = ", ".join(e["programs"] or []) or "no programme given"
    listed = f", listed {e['listed_at']}" if e.get("listed_at") else ""
    facts = "; ".join(cmp.facts)
    text = (f"{s['name']} ({s['subject_type']} {s['subject_id']}) matches {e['name']} on the {e['list_name']} list"
            f" ({e.get('authority') or 'authority not given'}; {programs}{listed}): name score {ns.score:.2f}"
            f" ('{ns.query}' ~ '{ns.candidate}'){'; ' + facts if facts else ''}; score {score:.2f}"
            f" (threshold {threshold:.2f}).")
    return {
        "match_id": "WM-" + sha16(s["subject_type"], s["subject_id"], e["entity_id"]), "screening_id": screening_id,
        "subject_type": s["subject_type"], "subject_id": s["subject_id"], "subject_name": s["name"],
        "entity_id": e["entity_id"], "entity_name": e["name"], "matched_name": ns.candidate, "schema": e["schema"],
        "list_name": e["list_name"], "list_version": e["list_version"], "programs": e["programs"] or [],
        "authority": e.get("authority"), "listed_at": e.get("listed_at"), "score": score, "name_score": ns.score,
        "features": features, "conflicts": cmp.conflicts,
        "evidence": json.dumps({"screened": ns.query, "listed": ns.candidate, "alignment": ns.detail,
                                "identifiers": cmp.facts}, ensure_ascii=False),
        "evidence_text": text, "is_current": True,
    }


def _wallets(con, screening_id: str) -> list[dict]:
    """Accounts whose id is a listed wallet: a match on the identifier itself."""
    seen = ["SELECT account_id FROM accounts"] if store.has_table(con, "accounts") else []
    if store.has_table(con, "transactions"):
        seen += ["SELECT from_account_id FROM transactions", "SELECT to_account_id FROM transactions"]
    if not seen:
        return []
    rows = con.sql(f"""
        WITH listed AS (SELECT *, unnest(wallets) AS wallet FROM ({_CURRENT}) WHERE len(wallets) > 0)
        SELECT l.* FROM listed l WHERE l.wallet IN ({' UNION '.join(seen)}) ORDER BY l.wallet, l.entity_id
    """).pl().rows(named=True)
    out = []
    for e in rows:
        s = {"subject_type": "account", "subject_id": e["wallet"], "name": e["wallet"]}
        cmp = identifiers.Comparison(["wallet"], [], [f"the address {e['wallet']} is listed"])
        ns = names.NameScore(0.0, e["wallet"], e["wallet"], "wallet address listed")
        row = match_row(screening_id, s, e, 1.0, ns, cmp, 1.0)
        row["features"] = ["wallet"]
        row["evidence_text"] = (f"The address {e['wallet']} is listed on the {e['list_name']} list as a wallet of "
                                f"{e['name']} ({e.get('authority') or 'authority not given'}; "
                                f"{', '.join(e['programs'] or []) or 'no programme given'}).")
        out.append(row)
    return out


def _write(con, rows: list[dict], screening: dict) -> None:
    cols = tables.WATCHLIST_MATCHES.names
    with store.transaction(con):
        con.execute("UPDATE watchlist_matches SET is_current = false WHERE is_current")
        if rows:
            df = pl.DataFrame(rows).select(cols)  # noqa: F841 (DuckDB reads it)
            con.execute(f"INSERT INTO watchlist_matches SELECT {', '.join(cols)} FROM df")
        con.execute(f"INSERT INTO screenings VALUES ({', '.join('?' * len(tables.SCREENINGS.names))})",
                    [screening[c] for c in tables.SCREENINGS.names])
