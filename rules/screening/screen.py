"""Screen parties, counterparty names and wallets against the watch lists in the store.

    summary = screen(con, run_id)        # called by rules.casework.build before the networks are built

Who is screened: every KYC party (person or legal person), every counterparty name that a transaction gives for
an account without a KYC holder, and every account id (wallets: an exact match with a listed address).
Against what: the latest version of each list in watchlist_entities (a list's older rows are delisted entries).

How, in three steps:
  1. candidates (DuckDB): names are cut into keys: their Latin tokens, the tokens run together, pairs of tokens,
     the tokens' sounds and pairs of them (for spelling drift across scripts). A key that more than KEY_CAP
     listed entities hold ("nguyen", "nguyen van") finds nobody in particular and is not used. A screened name
     looks the list up by its RARE_KEYS rarest keys and compares all keys with the HIT_CAP entities that share
     most of them (a birth date that agrees first among equals); a listed form must hold MIN_OVERLAP of the
     shorter name's keys, and each screened name keeps its MAX_CANDIDATES best: birth date agreeing first, then
     the share of keys in common.
  2. score (Python, rigour): a pair whose birth dates differ cannot reach the threshold (BIRTH_DIFFERS caps it)
     and is not scored; a quick rapidfuzz check drops Latin pairs too far apart; the name comparison of
     names.py (in worker processes when there are many) scores each distinct name pair once, against the listed
     form that shares most keys; then the strong identifiers of identifiers.py (same passport number:
     confirmed), only for pairs that they could still lift to the threshold.
  3. write: pairs at or above the threshold go to watchlist_matches with their evidence (built column-wise);
     the screening itself (list versions, matcher, threshold, subjects hash) to screenings. The same inputs
     give the same screening_id, and the stored screening is reused instead of being run again.
A person is never matched to a listed company or the other way round; a counterparty name of unknown kind is
compared with both.
"""

from __future__ import annotations

import gc
import json
import os
import re
import time
from datetime import datetime, timezone

from functools import lru_cache
from typing import cast

import duckdb
import polars as pl
import pyarrow as pa

from rules.casework.common import sha16
from rules.screening import identifiers, names, tables
from rules.screening.translit import HONORIFICS, latin_legal_forms, latin_variants
from transforms import store

THRESHOLD = 0.80  # best F1 on data/screening/name_pairs.csv (bench/screening_quality.py; docs/screening.md)
KEY_CAP = 100  # listed entities sharing one key (token, pair, sound, run-together name) beyond which it finds nobody
MAX_CANDIDATES = 10
HIT_CAP = 2 * MAX_CANDIDATES  # entities found by the rare keys whose other keys are compared
RARE_KEYS = 4  # keys of a screened name used to look the list up: its rarest ones that the list holds
CHUNK = 100_000  # screened names per candidate query: fits the store's default 2 GB buffer pool at 500k listed
QUICK_MIN = 60  # rapidfuzz ratio under which two Latin names are not compared (see _quick_rejects)
SCORE_WORKERS = 8  # processes for the name scores of a large screening (at most one per core)
PARALLEL_MIN = 20_000  # name pairs from which the workers pay for their start-up (rigour loads ~5 s of data)
MIN_OVERLAP = 0.2  # share of a name's keys another must hold to be scored (keeps 142 of the 145 pairs the scorer accepts)
MAX_ALIASES = 40  # forms of one listed entity compared (some entries carry hundreds of spellings)
_WORD = re.compile(r"[a-z0-9]+")
_NOISE = {"co", "ltd", "limited", "company", "inc", "llc", "corp", "corporation", "plc", "pte", "sdn", "bhd", "pt",
          "jsc", "joint", "stock", "the", "and", "of", "mr", "mrs", "ms", "miss", "dr", *HONORIFICS}
PARAMS = {"threshold": THRESHOLD, "key_cap": KEY_CAP, "max_candidates": MAX_CANDIDATES, "hit_cap": HIT_CAP, "rare_keys": RARE_KEYS, "min_overlap": MIN_OVERLAP,
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
    collecting = gc.isenabled()
    gc.disable()  # millions of short-lived tuples and no cycles: the collector's passes would cost minutes at 1M
    try:
        return _screen(con, run_id, threshold)
    finally:
        if collecting:
            gc.enable()


def _screen(con: duckdb.DuckDBPyConnection, run_id: str, threshold: float) -> dict:
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
    pairs, forms = _candidates(con, subjects, entities, timings)
    matches = _scored(pairs, forms, subjects, entities, threshold, screening_id, timings)
    t = time.perf_counter()
    matches = pl.concat([matches, _rows_frame(_wallets(con, screening_id))])
    timings["wallets"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    _write(con, matches, {
        "screening_id": screening_id, "run_id": run_id, "screened_at": datetime.now(timezone.utc),
        "lists": json.dumps(lists), "matcher": names.MATCHER, "threshold": threshold, "params": json.dumps(params),
        "subjects_hash": subjects_hash, "n_subjects": subjects.height, "n_pairs": pairs.height, "n_matches": matches.height,
        "seconds": round(time.perf_counter() - t0, 3),
    })
    timings["write"] = round(time.perf_counter() - t, 3)
    return {"screening_id": screening_id, "subjects": subjects.height, "pairs": pairs.height, "matches": matches.height,
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
    """One row per (id, form, key), with the form's number of keys. Keys are cut once per distinct (name, kind)
    and joined back: common names recur thousands of times."""
    named = pl.DataFrame({id_col: ids, "f": forms, "name": names_, "kind": kinds},
                         schema={id_col: pl.Int64, "f": pl.Int32, "name": pl.Utf8, "kind": pl.Utf8})
    distinct = named.select("name", "kind").unique(maintain_order=True)
    n_of: list[int] = []
    keys_of: list[str] = []
    for i, (name, kind) in enumerate(distinct.iter_rows()):
        cut = name_keys(name, kind)
        n_of.extend([i] * len(cut))
        keys_of.extend(cut)
    keys = pl.DataFrame({"n": n_of, "k": keys_of}, schema={"n": pl.UInt32, "k": pl.Utf8})
    distinct = distinct.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias("n"))
    counts = keys.group_by("n").agg(pl.len().cast(pl.Int32).alias("nk"))
    return (named.join(distinct, on=["name", "kind"], how="left")
            .join(counts, on="n").join(keys, on="n").select(id_col, "f", "k", "nk"))


def _candidates(con, subjects: pl.DataFrame, entities: pl.DataFrame, timings: dict) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Candidate pairs (si: subject row, ei: entity row, form: the entity's form sharing the most keys,
    born_conflict: both give a birth date and none agrees) and the listed forms (ei, form, listed, ekind)."""
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
    e_keys = _key_frame(e_ids, e_forms, e_names, e_kinds, "ei")
    forms = pl.DataFrame({"ei": e_ids, "form": e_forms, "listed": e_names, "ekind": e_kinds},
                         schema={"ei": pl.Int64, "form": pl.Int32, "listed": pl.Utf8, "ekind": pl.Utf8})
    timings["keys"] = round(time.perf_counter() - t, 3)
    pairs = pl.DataFrame(schema={"si": pl.Int64, "ei": pl.Int64, "form": pl.Int32, "born_conflict": pl.Boolean})
    if not s_keys.height or not e_keys.height:
        return pairs, forms
    t = time.perf_counter()
    s_kind = subjects.select(pl.int_range(pl.len()).alias("si"), "kind", "birth_date")
    e_kind = entities.select(pl.int_range(pl.len()).alias("ei"), "birth_dates",
                             pl.col("schema").map_elements(_entity_kind, return_dtype=pl.Utf8).alias("kind"))
    # registered by name (not found by DuckDB in this frame's variables: a wrapped connection would not see them)
    frames = {"e_keys": e_keys, "s_keys": s_keys, "s_kind": s_kind, "e_kind": e_kind}
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        # native tables, so that the chunks below do not convert the frames again each time
        con.execute("CREATE OR REPLACE TEMP TABLE _sc_e AS SELECT * FROM e_keys")
        con.execute("CREATE OR REPLACE TEMP TABLE _sc_s AS SELECT * FROM s_keys ORDER BY si")
        con.execute("CREATE OR REPLACE TEMP TABLE _sc_df AS SELECT k, count(DISTINCT ei) AS n FROM _sc_e GROUP BY k")
        con.execute("""CREATE OR REPLACE TEMP TABLE _sc_born AS  -- the listed entities that give a birth date
                       SELECT ei, list_filter(birth_dates, lambda d: coalesce(d, '') <> '') AS births FROM e_kind
                       WHERE len(list_filter(birth_dates, lambda d: coalesce(d, '') <> '')) > 0""")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _sc_rare AS  -- the keys a probe may use, with their entities
                        SELECT DISTINCT e.k, e.ei FROM _sc_e e JOIN _sc_df df USING (k) WHERE df.n <= {KEY_CAP}""")
        parts = [pairs]
        for lo in range(0, subjects.height, CHUNK):  # bounded memory: the joins below grow with the subjects
            parts.append(con.sql(f"""
            WITH s AS (SELECT * FROM _sc_s WHERE si >= {lo} AND si < {lo + CHUNK}),
                 probe AS (  -- each screened name looks the list up by its RARE_KEYS rarest keys the list holds
                    SELECT s.si, s.k FROM s JOIN _sc_df df ON df.k = s.k AND df.n <= {KEY_CAP}
                    QUALIFY row_number() OVER (PARTITION BY s.si ORDER BY df.n, s.k) <= {RARE_KEYS}),
                 found AS (
                    SELECT p.si, e.ei, count(*) AS n_rare FROM probe p JOIN _sc_rare e ON e.k = p.k GROUP BY 1, 2),
                 hits AS (  -- the HIT_CAP entities sharing most rare keys; among equals, a listed birth date that agrees first
                    SELECT si, unnest(max_by(ei, n_rare * 4 + 2 * coalesce(list_bool_or(list_transform(b.births,
                                      lambda d: starts_with(s_kind.birth_date, d))), false)::INTEGER - ei / 1e12, {HIT_CAP})) AS ei
                    FROM found JOIN s_kind USING (si) LEFT JOIN _sc_born b USING (ei) GROUP BY si),
                 shared AS (  -- all keys in common per hit and listed form, as a share of the shorter's keys
                    SELECT h.si, h.ei, e.f, count(*) AS n_keys, count(*) / least(any_value(s.nk), any_value(e.nk)) AS overlap
                    FROM hits h JOIN s ON s.si = h.si JOIN _sc_e e ON e.ei = h.ei AND e.k = s.k
                    GROUP BY h.si, h.ei, e.f),
                 best AS (SELECT si, ei, max(overlap) AS overlap, max(n_keys) AS n_keys,
                                 arg_max(shared.f, (overlap * 1000 + n_keys) * 100 - shared.f) AS form  -- closest form (ties: the first)
                          FROM shared WHERE overlap >= {MIN_OVERLAP} GROUP BY 1, 2),
                 typed AS (  -- a listed birth date that agrees puts the namesake first among equals
                    SELECT best.*, coalesce(s_kind.birth_date, '') <> '' AS born_known,
                           list_filter(e_kind.birth_dates, lambda d: coalesce(d, '') <> '') AS listed_births,
                           coalesce(list_bool_or(list_transform(listed_births,
                                       lambda d: starts_with(s_kind.birth_date, d))), false) AS born_same
                    FROM best JOIN s_kind USING (si) JOIN e_kind USING (ei)
                    WHERE s_kind.kind = 'entity' OR s_kind.kind = e_kind.kind)
            SELECT si, ei, CAST(form AS INTEGER) AS form,
                   born_known AND coalesce(len(listed_births), 0) > 0 AND NOT born_same AS born_conflict
            FROM typed
            QUALIFY row_number() OVER (PARTITION BY si ORDER BY born_same DESC, overlap DESC, n_keys DESC, ei)
                    <= {MAX_CANDIDATES}
            ORDER BY si, ei
            """).pl().cast({"si": pl.Int64, "ei": pl.Int64}))
    finally:  # the keys of every listed name: not left on the connection, also on an error
        for table in ("_sc_df", "_sc_rare", "_sc_e", "_sc_s", "_sc_born"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
        for name in frames:
            con.unregister(name)
    timings["candidates"] = round(time.perf_counter() - t, 3)
    return pl.concat(parts), forms


# ------------------------------------------------------------------------------------------------------ scoring


@lru_cache(maxsize=4_000_000)
def _plain(name: str) -> str:
    """Lower-case Latin tokens without legal forms and honorifics (for the quick check)."""
    return " ".join(t for t in _WORD.findall(latin_legal_forms(name).lower()) if t not in _NOISE)


def _quick_rejects(jobs: pl.DataFrame) -> list[bool]:
    """Pairs of Latin names too far apart for the name comparison to reach the threshold: rapidfuzz's token-sort
    ratio (and the ratio with spaces removed) both under QUICK_MIN. On the labelled pairs no pair the comparison
    accepts is under 65; a pair in another script is never rejected here (its spellings differ by nature)."""
    from rapidfuzz import fuzz, process

    latin = jobs.select(pl.col("name").str.contains(r"^[\x00-\x7F]*$") & pl.col("listed").str.contains(r"^[\x00-\x7F]*$"))
    latin_rows = latin.to_series().arg_true().to_list()
    out = [False] * jobs.height
    if not latin_rows:
        return out
    names_ = jobs["name"].to_list()
    listed = jobs["listed"].to_list()
    qa = [_plain(names_[i]) for i in latin_rows]
    qb = [_plain(listed[i]) for i in latin_rows]
    sorted_ratio = process.cpdist(qa, qb, scorer=fuzz.token_sort_ratio, workers=-1)
    joined = process.cpdist([a.replace(" ", "") for a in qa], [b.replace(" ", "") for b in qb], scorer=fuzz.ratio,
                            workers=-1)
    for i, r1, r2 in zip(latin_rows, sorted_ratio, joined):
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
    """Name scores of the unique jobs, in SCORE_WORKERS processes when there are many. A pool of this screening
    only: its workers keep their caches of analysed names for the whole run (loky's reusable pool restarts a
    worker whose memory grows, and each restart reloads rigour's data). The workers are spawned: a script that
    screens must run under `if __name__ == "__main__":`, as the CLI, the flows and the benchmarks do."""
    workers = min(os.cpu_count() or 1, SCORE_WORKERS)
    if len(jobs) < PARALLEL_MIN or workers <= 1:
        return name_scores(jobs)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = max(1, min(50_000, len(jobs) // (workers * 4) + 1))
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return [r for part in pool.map(name_scores, chunks) for r in part]


def _scored(pairs: pl.DataFrame, forms: pl.DataFrame, subjects: pl.DataFrame, entities: pl.DataFrame,
            threshold: float, screening_id: str, timings: dict) -> pl.DataFrame:
    if not pairs.height:
        return _rows_frame([])
    t = time.perf_counter()
    job = ["name", "qkind", "listed", "ekind"]  # a screened name and its kind against a listed form and its kind
    p = (pairs.join(subjects.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("si"), "name", "kind"), on="si")
         .join(forms, on=["ei", "form"])
         .with_columns(qkind=pl.when(pl.col("kind") == "entity").then("ekind").otherwise("kind")))
    # a birth date that differs caps the score at BIRTH_DIFFERS: under the threshold, such a pair is not scored
    needed = p.filter(~pl.col("born_conflict")) if identifiers.BIRTH_DIFFERS < threshold else p
    jobs = needed.select(job).unique(maintain_order=True)  # common names recur: each name pair is scored once
    rejected = _quick_rejects(jobs)
    todo = jobs.filter(~pl.Series(rejected, dtype=pl.Boolean))
    timings["quick_check"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    results = _all_name_scores(list(todo.iter_rows()))
    timings["name_scores"] = round(time.perf_counter() - t, 3)
    timings["name_pairs"] = {"pairs": pairs.height, "unique": jobs.height, "quick_rejects": jobs.height - todo.height,
                             "birth_conflicts_skipped": p.height - needed.height}
    t = time.perf_counter()
    scored = todo.with_columns(pl.Series("score", [r[0] for r in results], dtype=pl.Float64),
                               pl.Series("query", [r[1] for r in results], dtype=pl.Utf8),
                               pl.Series("candidate", [r[2] for r in results], dtype=pl.Utf8),
                               pl.Series("detail", [r[3] for r in results], dtype=pl.Utf8))
    # the most the identifiers can add: a strong identifier only where the screened side has one
    strong = pl.any_horizontal(pl.col(c).is_not_null() for c in ("id_number", "registration_no", "phone", "email"))
    has_strong = subjects.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("si"), strong.alias("has_strong"))
    ceiling = (pl.when(pl.col("has_strong")).then(pl.col("score") + (1 - pl.col("score")) * identifiers.CONFIRM)
               .otherwise(pl.col("score")) + identifiers.BIRTH_AGREES)
    hits = (needed.join(scored.filter(pl.col("score") >= threshold * identifiers.BIRTH_DIFFERS), on=job)
            .join(has_strong, on="si").filter(ceiling >= threshold - 1e-4)  # adjust() rounds to 4 places
            .select("si", "ei", "score", "query", "candidate", "detail").sort("si", "ei"))
    subj = subjects.rows(named=True)
    ents = entities.rows(named=True)
    kept: dict[str, list] = {"si": [], "ei": [], "score": [], "name_score": [], "scores_text": [], "query": [],
                             "candidate": [], "detail": [], "features": [], "conflicts": [], "facts": []}
    for si, ei, name_score, query, candidate, detail in hits.iter_rows():
        cmp = identifiers.compare(subj[si], ents[ei])
        score = cmp.adjust(name_score)
        if score >= threshold:
            for key, value in zip(kept, (si, ei, score, name_score, (f"{name_score:.2f}", f"{score:.2f}"), query,
                                         candidate, detail, ["name", *cmp.features], cmp.conflicts, cmp.facts)):
                kept[key].append(value)
    # through Arrow: polars builds a Series per nested Python list, pyarrow converts them in one pass
    kept_frame = pl.from_arrow(pa.table(kept, schema=_KEPT_ARROW))
    out = _match_frame(screening_id, cast(pl.DataFrame, kept_frame), subjects, entities, threshold)
    timings["evidence"] = round(time.perf_counter() - t, 3)
    return out


_KEPT_ARROW = pa.schema([("si", pa.int64()), ("ei", pa.int64()), ("score", pa.float64()), ("name_score", pa.float64()),
                         ("scores_text", pa.list_(pa.string())), ("query", pa.string()), ("candidate", pa.string()), ("detail", pa.string()),
                         ("features", pa.list_(pa.string())), ("conflicts", pa.list_(pa.string())),
                         ("facts", pa.list_(pa.string()))])


def _match_frame(screening_id: str, kept: pl.DataFrame, subjects: pl.DataFrame, entities: pl.DataFrame,
                 threshold: float) -> pl.DataFrame:
    """The watchlist_matches rows of the pairs kept, with their evidence (built column-wise: millions at 1M)."""
    s = subjects.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("si"), "subject_type", "subject_id",
                        pl.col("name").alias("subject_name"))
    e = entities.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("ei"), "entity_id",
                        pl.col("name").alias("entity_name"), "schema", "list_name", "list_version", "programs",
                        "authority", "listed_at")
    m = kept.join(s, on="si").join(e, on="ei").sort("si", "ei")
    programs = pl.col("programs").list.join(", ")
    listed = pl.when(pl.col("listed_at").is_not_null()).then(pl.format(", listed {}", pl.col("listed_at"))).otherwise(pl.lit(""))
    facts = pl.col("facts").list.join("; ")
    text = pl.concat_str(
        pl.col("subject_name"), pl.lit(" ("), pl.col("subject_type"), pl.lit(" "), pl.col("subject_id"),
        pl.lit(") matches "), pl.col("entity_name"), pl.lit(" on the "), pl.col("list_name"), pl.lit(" list ("),
        pl.when(pl.col("authority").fill_null("") == "").then(pl.lit("authority not given")).otherwise("authority"),
        pl.lit("; "),
        pl.when(programs.fill_null("") == "").then(pl.lit("no programme given")).otherwise(programs), listed,
        pl.lit("): name score "), pl.col("scores_text").list.get(0), pl.lit(" ('"), pl.col("query"), pl.lit("' ~ '"),
        pl.col("candidate"), pl.lit("')"), pl.when(facts.fill_null("") == "").then(pl.lit("")).otherwise(pl.lit("; ") + facts),
        pl.lit("; score "), pl.col("scores_text").list.get(1), pl.lit(f" (threshold {threshold:.2f})."))
    ids = ["WM-" + sha16(t, sid, eid) for t, sid, eid in m.select("subject_type", "subject_id", "entity_id").iter_rows()]
    return m.select(
        pl.Series("match_id", ids, dtype=pl.Utf8),
        pl.lit(screening_id).alias("screening_id"), "subject_type", "subject_id", "subject_name", "entity_id",
        "entity_name", pl.col("candidate").alias("matched_name"), "schema", "list_name", "list_version",
        pl.col("programs").fill_null([]), "authority", "listed_at", "score", "name_score", "features", "conflicts",
        pl.struct(pl.col("query").alias("screened"), pl.col("candidate").alias("listed"),
                  pl.col("detail").alias("alignment"), pl.col("facts").alias("identifiers")).struct.json_encode().alias("evidence"),
        text.alias("evidence_text"), pl.lit(True).alias("is_current"),
    ).cast(_MATCH_SCHEMA)


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
        wallet = e["wallet"]
        out.append({
            "match_id": "WM-" + sha16("account", wallet, e["entity_id"]), "screening_id": screening_id,
            "subject_type": "account", "subject_id": wallet, "subject_name": wallet, "entity_id": e["entity_id"],
            "entity_name": e["name"], "matched_name": wallet, "schema": e["schema"], "list_name": e["list_name"],
            "list_version": e["list_version"], "programs": e["programs"] or [], "authority": e.get("authority"),
            "listed_at": e.get("listed_at"), "score": 1.0, "name_score": 0.0, "features": ["wallet"], "conflicts": [],
            "evidence": json.dumps({"screened": wallet, "listed": wallet, "alignment": "wallet address listed",
                                    "identifiers": [f"the address {wallet} is listed"]}, ensure_ascii=False,
                                   separators=(",", ":")),  # compact, as polars writes the name matches' evidence
            "evidence_text": (f"The address {wallet} is listed on the {e['list_name']} list as a wallet of {e['name']} "
                              f"({e.get('authority') or 'authority not given'}; "
                              f"{', '.join(e['programs'] or []) or 'no programme given'})."),
            "is_current": True,
        })
    return out


_POLARS_TYPES: dict[str, pl.DataType] = {"VARCHAR": pl.Utf8(), "JSON": pl.Utf8(), "VARCHAR[]": pl.List(pl.Utf8),
                                          "DATE": pl.Date(), "DOUBLE": pl.Float64(), "BOOLEAN": pl.Boolean()}
_MATCH_SCHEMA = pl.Schema({c.name: _POLARS_TYPES[c.type] for c in tables.WATCHLIST_MATCHES.columns})  # no inference


def _rows_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame({c: [r[c] for r in rows] for c in _MATCH_SCHEMA}, schema=_MATCH_SCHEMA)


def _write(con, matches: pl.DataFrame, screening: dict) -> None:
    cols = tables.WATCHLIST_MATCHES.names
    with store.transaction(con):
        con.execute("UPDATE watchlist_matches SET is_current = false WHERE is_current")
        if matches.height:
            con.register("_sc_matches", matches)
            try:
                con.execute(f"INSERT INTO watchlist_matches SELECT {', '.join(cols)} FROM _sc_matches")
            finally:
                con.unregister("_sc_matches")
        con.execute(f"INSERT INTO screenings VALUES ({', '.join('?' * len(tables.SCREENINGS.names))})",
                    [screening[c] for c in tables.SCREENINGS.names])
