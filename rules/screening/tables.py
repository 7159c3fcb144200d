"""Screening tables: every screening run (what it compared, with which lists and matcher) and its matches.

A match is evidence like a compound link: the list, the listed entity, its programmes, the score, the facts that
agreed or disagreed, and a sentence. Rows of the latest screening are is_current; earlier ones stay for the record
(an examiner can see what a list version said about a customer at the time).
"""

from __future__ import annotations

import duckdb

from transforms.schema import Column, Table

SCREENINGS = Table(
    "screenings",
    "One row per screening: the list versions, the matcher and its threshold, so that a rerun reproduces the scores.",
    (
        Column("screening_id", "VARCHAR", "'SC-' + sha256(list versions | matcher | threshold | subjects)[:16]"),
        Column("run_id", "VARCHAR", "detect run that ran it"),
        Column("screened_at", "TIMESTAMPTZ", "UTC"),
        Column("lists", "JSON", "[{list_name, list_version, entities, file_ids}] of the list versions compared"),
        Column("matcher", "VARCHAR", "name comparison and its version (rules/screening/names.py MATCHER)"),
        Column("threshold", "DOUBLE", "score at or above which a pair is a match"),
        Column("params", "JSON", "the screening settings (weights of identifiers, candidate limits)"),
        Column("subjects_hash", "VARCHAR", "hash of the screened names and identifiers"),
        Column("n_subjects", "BIGINT", "parties and counterparty names screened"),
        Column("n_pairs", "BIGINT", "candidate pairs scored"),
        Column("n_matches", "BIGINT", "pairs at or above the threshold"),
        Column("seconds", "DOUBLE", "wall time"),
    ),
    key=("screening_id",),
)

WATCHLIST_MATCHES = Table(
    "watchlist_matches",
    "A party, counterparty name or wallet that matches a listed entity, with its evidence.",
    (
        Column("match_id", "VARCHAR", "'WM-' + sha256(subject_type|subject_id|entity_id)[:16]: stable across screenings"),
        Column("screening_id", "VARCHAR", "screenings.screening_id"),
        Column("subject_type", "VARCHAR", "party | account (an account's counterparty name, or a listed wallet)"),
        Column("subject_id", "VARCHAR", "party_id or account_id"),
        Column("subject_name", "VARCHAR", "the screened name as the data has it"),
        Column("entity_id", "VARCHAR", "watchlist_entities.entity_id"),
        Column("entity_name", "VARCHAR", "the listed entity's primary name"),
        Column("matched_name", "VARCHAR", "the listed name or alias that matched best"),
        Column("schema", "VARCHAR", "the entity's FtM schema (Person, Company, ...)"),
        Column("list_name", "VARCHAR", "the list"),
        Column("list_version", "VARCHAR", "its version"),
        Column("programs", "VARCHAR[]", "sanctions programmes of the entity"),
        Column("authority", "VARCHAR", "who designated it"),
        Column("listed_at", "DATE", "designation date, where the list gives one"),
        Column("score", "DOUBLE", "0..1: name score adjusted by the identifiers (docs/screening.md)"),
        Column("name_score", "DOUBLE", "0..1: the name comparison alone"),
        Column("features", "VARCHAR[]", "what agreed: name, birth_date, id_number, registration_no, wallet, phone, email, country"),
        Column("conflicts", "VARCHAR[]", "what disagreed (a different birth date, ...)"),
        Column("evidence", "JSON", "names compared and how their parts aligned, identifiers compared"),
        Column("evidence_text", "VARCHAR", "one sentence for reports and narratives"),
        Column("is_current", "BOOLEAN", "found by the latest screening"),
    ),
    key=("match_id", "screening_id"),
)

ALL = (SCREENINGS, WATCHLIST_MATCHES)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in ALL:
        con.execute(table.ddl())
