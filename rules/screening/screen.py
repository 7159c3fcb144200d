"""Screen parties, counterparty names and wallets against the watch lists in the store.

    summary = screen(con, run_id)        # called by rules.casework.build before the networks are built

Who is screened: every KYC party (person or legal person), every counterparty name that a transaction gives for
an account without a KYC holder, and every account id (wallets: an exact match with a listed address).
Against what: the latest version of each list in watchlist_entities (a list's older rows are delisted entries).

How, in three steps:
  1. candidates (DuckDB): names are cut into keys: their Latin tokens, the tokens run together, pairs of tokens,
     the tokens' sounds and pairs of them (for spelling drift across scripts). A key that more than KEY_CAP
     listed entities hold ("nguyen", "nguyen van") finds nobody in particular and is not used. A screened name
     looks the list up by its RARE_KEYS rarest keys; of the entities found, a listed form must hold MIN_OVERLAP
     of the shorter name's keys, and each screened name keeps its MAX_CANDIDATES best: birth date agreeing
     first, then the share of keys in common.
  2. score (Python, rigour): a quick rapidfuzz check drops Latin pairs too far apart; the name comparison of
     names.py (in worker processes when there are many) scores each distinct name pair once, against the listed
     form that shares most keys; then the strong identifiers of identifiers.py (same passport number:
     confirmed; different birth date: ruled out).
  3. write: pairs at or above the threshold go to watchlist_matches with their evidence; the screening itself
     (list versions, matcher, threshold, subjects hash) to screenings. The same inputs give the same
     screening_id, and the stored screening is reused instead of being run again.
A person is never matched to a listed company or the other way round; a counterparty name of unknown kind is
compared with both.
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime, timezone

from functools import lru_cache

import duckdb
import polars as pl

from rules.casework.common import sha16
from rules.screening import identifiers, names, tables
from rules.screening.translit import HONORIFICS, latin_variants
from transforms import store

THRESHOLD = 0.80  # best F1 on data/screening/name_pairs.csv (bench/screening_quality.py; docs/screening.md)
KEY_CAP = 100  # listed entities sharing one key (token, pair, sound, run-together name) beyond which it finds nobody
MAX_CANDIDATES = 10
RARE_KEYS = 4  # keys of a screened name used to look the list up: its rarest ones that the list holds
CHUNK = 200_000  # screened names per candidate query
QUICK_MIN = 60  # rapidfuzz ratio under which two Latin names are not compared (see _quick_rejects)
SCORE_WORKERS = 8  # processes for the name scores of a large screening (at most one per core)
PARALLEL_MIN = 20_000  # name pairs from which the workers pay for their start-up (rigour loads ~5 s of data)
MIN_OVERLAP = 0.2  # share of a name's keys another must hold to be scored (keeps 142 of the 145 pairs the scorer accepts)
MAX_ALIASES = 40  # forms of one listed entity compared (some entries carry hundreds of spellings)
_WORD = re.compile(r"[a-z0-9]+")
_NOISE = {"co", "ltd", "limited", "company", "inc", "llc", "corp", "corporation", "plc", "pte", "sdn", "bhd", "pt",
          "jsc", "the", "and", "of", "mr", "mrs", "ms", "miss", "dr", *HONORIFICS}
PARAMS = {"threshold": THRESHOLD, "key_cap": KEY_CAP, "max_candidates": MAX_CANDIDATES, "rare_keys": RARE_KEYS, "min_overlap": MIN_OVERLAP,
          "max_aliases": MAX_ALIASES, "quick_min": QUICK_MIN, "confirm": identifiers.CONFIRM, "birth_agrees": identifiers.BIRTH_AGREES,
          "birth_differs": identifiers.BIRTH_DIFFERS}


SETTINGS = {"threshold": (0.5, 1.0)}  # what a deployment may set (config `screening:`), with its range


def settings(raw: dict | None) -> dict:
    """A deployment's screening settings, checked: a wrong name or value stops the run with one line."""
    from rules.spec import SpecError

    out = {}
    for key, value in (raw or {}).items():
        if key not in SETTINGS:
            raise SpecError(f"screening.{key}: unknown setting; known: {', '.join(sorted(SETTINGS))}")
        lo, hi = SETTINGS[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise SpecError(f"screening.{key}: {value!r} is not a number within {lo}..{hi}")
        out[key] = float(value)
    return out


def screen(con: duckdb.DuckDBPyConnection, run_id: str, threshold: float = THRESHOLD) -> dict:
    """Screen and record (see the module doc); the same inputs and settings reuse the stored screening."""
    t0 = time.perf_counter()
    tables.ensure_tables(con)
    if not store.has_table(con, "watchlist_entities") or not con.sql("SELECT count(*) FROM watchlist_entities").fetchall()[0][0]:
        return {"screening_id": None, "note": "no watch list loaded: nothing screened"}
    timings: dict[str, float] = {}
    t = time.perf_counter()
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
    timings["subjects"] = round(time.perf_counter() - t, 3)
    pairs = _candidates(con, subjects, entities, timings)
    rows = _scored(pairs, subjects, entities, threshold, screening_id, timings)
    t = time.perf_counter()
    rows += _wallets(con, screening_id)
    timings["wallets"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    _write(con, rows, {
        "screening_id": screening_id, "run_id": run_id, "screened_at": datetime.now(timezone.utc),
        "lists": json.dumps(lists), "matcher": names.MATCHER, "threshold": threshold, "params": json.dumps(params),
        "subjects_hash": subjects_hash, "n_subjects": subjects.height, "n_pairs": len(pairs), "n_matches": len(rows),
        "seconds": round(time.perf_counter() - t0, 3),
    })
    timings["write"] = round(time.perf_counter() - t, 3)
    return {"screening_id": screening_id, "subjects": subjects.height, "pairs": len(pairs), "matches": len(rows),
            "seconds": round(time.perf_counter() - t0, 3), "timings": timings}


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


@lru_cache(maxsize=2_000_000)
def name_keys(name: str, kind: str) -> frozenset[str]:
    """Blocking keys of a name: Latin tokens, the tokens run together, token pairs, the tokens' sounds and pairs of
    them (spelling drift across scripts: 'chaidi' / 'jaidee' share the sound 'jt')."""
    from anyascii import anyascii

    keys: set[str] = set()
    for form in (name, *latin_variants(name, kind)):
        words = [t for t in _WORD.findall(anyascii(form).lower()) if t not in _NOISE]
        tokens = sorted(set(words))
        keys.update(tokens)
        if len(words) > 1:
            keys.add("=" + "".join(words))  # 'SunriseTech' / 'Sunrise Tech', 'Zhihong' / 'Zhi Hong'
        keys.update(f"{a} {b}" for i, a in enumerate(tokens) for b in tokens[i + 1:])
        sounds = sorted({names.sound(t) for t in tokens if len(t) > 1})
        keys.update("~" + x for x in sounds if len(x) >= 4)
        keys.update(f"~{a} {b}" for i, a in enumerate(sounds) for b in sounds[i + 1:])
    return frozenset(keys)


def _entity_kind(schema: str | None) -> str:
    return names.kind_of_schema(schema)


def _key_frame(ids: list[int], forms: list[int], names_: list[str], kinds: list[str], id_col: str) -> pl.DataFrame:
    """One row per (id, form, key), with the form's number of keys."""
    keys = [sorted(name_keys(n, k)) for n, k in zip(names_, kinds)]
    return (pl.DataFrame({id_col: ids, "f": forms, "k": keys, "nk": [len(k) for k in keys]},
                         schema={id_col: pl.Int64, "f": pl.Int32, "k": pl.List(pl.Utf8), "nk": pl.Int32})
            .explode("k").drop_nulls("k"))


def _candidates(con, subjects: pl.DataFrame, entities: pl.DataFrame, timings: dict) -> list[tuple[int, int, int]]:
    """(subject, entity, the entity's form that shares the most keys) of each candidate pair."""
    t = time.perf_counter()
    s_keys = _key_frame(list(range(subjects.height)), [0] * subjects.height, subjects["name"].to_list(),
                        subjects["kind"].to_list(), "si")
    e_ids, e_forms, e_names, e_kinds = [], [], [], []
    for j, (schema, name, aliases) in enumerate(zip(entities["schema"], entities["name"], entities["aliases"].to_list())):
        kind = _entity_kind(schema)
        if kind == "object":
            continue
        for f, form in enumerate([name, *(aliases or [])][:MAX_ALIASES]):
            e_ids.append(j)
            e_forms.append(f)
            e_names.append(form)
            e_kinds.append(kind)
    e_keys = _key_frame(e_ids, e_forms, e_names, e_kinds, "ei")  # noqa: F841 (DuckDB reads it)
    timings["keys"] = round(time.perf_counter() - t, 3)
    if not s_keys.height or not e_keys.height:
        return []
    t = time.perf_counter()
    s_kind = subjects.select(pl.int_range(pl.len()).alias("si"), "kind", "birth_date")  # noqa: F841
    e_kind = entities.select(pl.int_range(pl.len()).alias("ei"), "birth_dates",  # noqa: F841
                             pl.col("schema").map_elements(_entity_kind, return_dtype=pl.Utf8).alias("kind"))
    con.execute("CREATE OR REPLACE TEMP TABLE _sc_df AS SELECT k, count(DISTINCT ei) AS n FROM e_keys GROUP BY k")
    pairs: list[tuple] = []
    for lo in range(0, subjects.height, CHUNK):  # bounded memory: the joins below grow with the subjects
        pairs += con.sql(f"""
        WITH s AS (SELECT * FROM s_keys WHERE si >= {lo} AND si < {lo + CHUNK}),
             probe AS (  -- each screened name looks the list up by its RARE_KEYS rarest keys the list holds
                SELECT s.si, s.k FROM s JOIN _sc_df df ON df.k = s.k AND df.n <= {KEY_CAP}
                QUALIFY row_number() OVER (PARTITION BY s.si ORDER BY df.n, s.k) <= {RARE_KEYS}),
             hits AS (
                SELECT p.si, e.ei, count(DISTINCT p.k) AS n_rare FROM probe p JOIN e_keys e ON e.k = p.k GROUP BY 1, 2
                QUALIFY row_number() OVER (PARTITION BY p.si ORDER BY n_rare DESC, e.ei) <= {4 * MAX_CANDIDATES}),
             shared AS (  -- all keys in common per hit and listed form, as a share of the shorter's keys
                SELECT h.si, h.ei, e.f, count(*) AS n_keys, count(*) / least(any_value(s.nk), any_value(e.nk)) AS overlap
                FROM hits h JOIN s ON s.si = h.si JOIN e_keys e ON e.ei = h.ei AND e.k = s.k
                GROUP BY h.si, h.ei, e.f),
             best AS (SELECT si, ei, max(overlap) AS overlap, max(n_keys) AS n_keys,
                             arg_max(shared.f, overlap * 1000 + n_keys) AS form  -- the listed form closest to the name
                      FROM shared WHERE overlap >= {MIN_OVERLAP} GROUP BY 1, 2),
             typed AS (  -- a listed birth date that agrees puts the namesake first among equals
                SELECT best.*, coalesce(list_bool_or(list_transform(e_kind.birth_dates,
                                   lambda d: starts_with(s_kind.birth_date, d))), false) AS born_same
                FROM best JOIN s_kind USING (si) JOIN e_kind USING (ei)
                WHERE s_kind.kind = 'entity' OR s_kind.kind = e_kind.kind)
        SELECT si, ei, form FROM typed
        QUALIFY row_number() OVER (PARTITION BY si ORDER BY born_same DESC, overlap DESC, n_keys DESC, ei)
                <= {MAX_CANDIDATES}
        ORDER BY si, ei
        """).fetchall()
    con.execute("DROP TABLE IF EXISTS _sc_df")
    timings["candidates"] = round(time.perf_counter() - t, 3)
    return [(int(a), int(b), int(f)) for a, b, f in pairs]


# ------------------------------------------------------------------------------------------------------ scoring


def _listed_form(entity: dict, form: int) -> str:
    return entity["name"] if form == 0 else entity["aliases"][form - 1]


@lru_cache(maxsize=4_000_000)
def _plain(name: str) -> str:
    """Lower-case Latin tokens without legal forms and honorifics (for the quick check)."""
    return " ".join(t for t in _WORD.findall(name.lower()) if t not in _NOISE)


def _quick_rejects(jobs: list[tuple[str, str, str, str]]) -> list[bool]:
    """Pairs of Latin names too far apart for the name comparison to reach the threshold: rapidfuzz's token-sort
    ratio (and the ratio with spaces removed) both under QUICK_MIN. On the labelled pairs no pair the comparison
    accepts is under 65; a pair in another script is never rejected here (its spellings differ by nature)."""
    from rapidfuzz import fuzz, process

    latin = [i for i, (a, _k, b, _ek) in enumerate(jobs) if a.isascii() and b.isascii()]
    out = [False] * len(jobs)
    if not latin:
        return out
    qa = [_plain(jobs[i][0]) for i in latin]
    qb = [_plain(jobs[i][2]) for i in latin]
    sorted_ratio = process.cpdist(qa, qb, scorer=fuzz.token_sort_ratio, workers=-1)
    joined = process.cpdist([a.replace(" ", "") for a in qa], [b.replace(" ", "") for b in qb], scorer=fuzz.ratio,
                            workers=-1)
    for i, r1, r2 in zip(latin, sorted_ratio, joined):
        out[i] = max(r1, r2) < QUICK_MIN
    return out


def name_scores(jobs: list[tuple[str, str, str, str]]) -> list[tuple[float, str, str, str]]:
    """(screened name, its kind, listed form, the entity's kind) -> name score, best forms, detail. Runs in
    worker processes for a large screening (plain data in and out)."""
    out = []
    for name, kind, listed, listed_kind in jobs:
        ns = names.compare(names.analyzed(name, kind), names.analyzed(listed, listed_kind))
        out.append((ns.score, ns.query, ns.candidate, ns.detail))
    return out


def _all_name_scores(jobs: list[tuple[str, str, str, str]]) -> list[tuple[float, str, str, str]]:
    """Name scores of the unique jobs, in SCORE_WORKERS processes when there are many (loky, as exports do)."""
    workers = min(os.cpu_count() or 1, SCORE_WORKERS)
    if len(jobs) < PARALLEL_MIN or workers <= 1:
        return name_scores(jobs)
    from loky import get_reusable_executor

    pool = get_reusable_executor(max_workers=workers, timeout=60)
    size = max(1, min(50_000, len(jobs) // (workers * 4) + 1))
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    return [r for part in pool.map(name_scores, chunks) for r in part]


def _scored(pairs: list[tuple[int, int, int]], subjects: pl.DataFrame, entities: pl.DataFrame, threshold: float,
            screening_id: str, timings: dict) -> list[dict]:
    t = time.perf_counter()
    subj = subjects.rows(named=True)
    ents = entities.rows(named=True)
    job_of: dict[tuple[str, str, str, str], int] = {}  # common names recur: each name pair is scored once
    pair_job = []
    ekinds = [_entity_kind(e["schema"]) for e in ents]
    for si, ei, form in pairs:
        s, e, ekind = subj[si], ents[ei], ekinds[ei]
        job = (s["name"], s["kind"] if s["kind"] != "entity" else ekind, _listed_form(e, form), ekind)
        pair_job.append(job_of.setdefault(job, len(job_of)))
    jobs = list(job_of)
    rejected = _quick_rejects(jobs)
    todo = [j for j, r in zip(jobs, rejected) if not r]
    timings["quick_check"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    scored = dict(zip(todo, _all_name_scores(todo)))
    timings["name_scores"] = round(time.perf_counter() - t, 3)
    timings["name_pairs"] = {"pairs": len(pairs), "unique": len(jobs), "quick_rejects": len(jobs) - len(todo)}
    out = []
    for (si, ei, _form), j in zip(pairs, pair_job):
        hit = scored.get(jobs[j])
        if hit is None or hit[0] < threshold * identifiers.BIRTH_DIFFERS:  # no identifier can lift it enough
            continue
        s, e = subj[si], ents[ei]
        ns = names.NameScore(*hit)
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
