"""Party resolution across sources with splink (DuckDB backend): the same person or company in two banks' KYC.

Names are transliterated to Latin (text_unidecode: Thai, Khmer, Burmese, Chinese ... -> ASCII), lower-cased,
stripped of punctuation and legal-form words, and their tokens sorted ("Kyaw Aung" == "Aung Kyaw"). A Fellegi-
Sunter model with fixed m/u probabilities (no EM training: KYC extracts are small and often one-sided) compares
the name (Jaro-Winkler), birth date, id number, registration number, phone and e-mail. Pairs at or above
`threshold` are joined into clusters (connected components). Written to party_clusters, one row per party.

Cross-script pairs ("สมชาย ใจดี" / "Somchai Jaidee") are found through the identifiers (id number, birth date,
phone, e-mail): romanisation of Thai by unidecode is phonetic letter by letter and does not match RTGS spelling.
"""

from __future__ import annotations

import logging
import re

import duckdb
import networkx as nx
import polars as pl

from rules.casework.common import frame, sha16

log = logging.getLogger(__name__)

THRESHOLD = 0.9  # match probability that joins two parties
_LEGAL_WORDS = {
    "co", "company", "ltd", "limited", "llc", "inc", "corp", "corporation", "plc", "pte", "sdn", "bhd", "pt", "tbk",
    "jsc", "group", "holding", "holdings", "the", "and", "public", "pcl", "bv", "gmbh", "sa", "intl", "international",
}
_NON_ALNUM = re.compile(r"[^0-9a-z ]+")


def _translit(text: str) -> str:
    try:
        from text_unidecode import unidecode
    except ImportError:  # pragma: no cover - text_unidecode comes with prefect (python-slugify)
        return text
    return unidecode(text)


def name_key(name: str | None, *, legal: bool = False) -> str | None:
    """Comparable form of a name: Latin, lower case, no punctuation, tokens sorted (legal forms dropped)."""
    if not name:
        return None
    text = _NON_ALNUM.sub(" ", _translit(name).lower().replace("[?]", " "))
    tokens = [t for t in text.split() if t and not (legal and t in _LEGAL_WORDS)]
    return " ".join(sorted(tokens)) or None


def _frame(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    df = frame(
        con,
        """
        SELECT party_id, coalesce(party_type, 'person') AS party_type, name,
               CAST(birth_date AS VARCHAR) AS birth_date,
               nullif(upper(regexp_replace(coalesce(id_number, ''), '[^0-9A-Za-z]', '', 'g')), '') AS id_number,
               nullif(upper(regexp_replace(coalesce(registration_no, ''), '[^0-9A-Za-z]', '', 'g')), '') AS registration_no,
               nullif(regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g'), '') AS phone,
               nullif(lower(trim(email)), '') AS email
        FROM parties
        """,
    )
    keys = [name_key(n, legal=t == "legal") for n, t in zip(df["name"].to_list(), df["party_type"].to_list())]
    return df.with_columns(pl.Series("name_key", keys, dtype=pl.Utf8)).drop("name")


def _settings(n: int):
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="party_id",
        # prior odds that two random parties are the same: name alone never suffices for a person; name plus
        # birth date, or any identifier (id number, registration, phone, e-mail) plus a similar name, does
        probability_two_random_records_match=1e-4,
        comparisons=[
            cl.JaroWinklerAtThresholds("name_key", [0.95, 0.88]).configure(
                m_probabilities=[0.70, 0.15, 0.08, 0.07], u_probabilities=[0.0005, 0.002, 0.01, 0.9875]
            ),
            cl.ExactMatch("birth_date").configure(m_probabilities=[0.92, 0.08], u_probabilities=[0.0003, 0.9997]),
            cl.ExactMatch("id_number").configure(m_probabilities=[0.90, 0.10], u_probabilities=[0.000001, 0.999999]),
            cl.ExactMatch("registration_no").configure(m_probabilities=[0.90, 0.10], u_probabilities=[0.000001, 0.999999]),
            cl.ExactMatch("phone").configure(m_probabilities=[0.65, 0.35], u_probabilities=[0.0005, 0.9995]),
            cl.ExactMatch("email").configure(m_probabilities=[0.60, 0.40], u_probabilities=[0.0001, 0.9999]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("party_type", "id_number"),
            block_on("party_type", "registration_no"),
            block_on("party_type", "birth_date"),
            block_on("party_type", "phone"),
            block_on("party_type", "email"),
            block_on("party_type", "name_key"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=True,
    )


_FIELDS = ("name_key", "birth_date", "id_number", "registration_no", "phone", "email")


def match_pairs(df: pl.DataFrame, threshold: float = THRESHOLD) -> list[tuple[str, str, float, list[str]]]:
    """Scored pairs (party_id_l, party_id_r, match_probability, agreeing fields) at or above threshold."""
    if df.height < 2:
        return []
    from splink import DuckDBAPI, Linker

    logging.getLogger("splink").setLevel(logging.WARNING)
    scratch = duckdb.connect()  # splink's working tables stay out of the store
    try:
        db_api = DuckDBAPI(scratch)
        sdf = db_api.register(df.to_arrow())
        linker = Linker(sdf, _settings(df.height), log_level=None)
        pred = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
        gamma = ", ".join(f"p.mw_{f}" for f in _FIELDS)
        # identity documents that disagree veto a match: two companies with the same name and e-mail but different
        # registration numbers are two legal persons (front companies reuse names across operations)
        veto = " AND ".join(
            f"NOT (l.{f} IS NOT NULL AND r.{f} IS NOT NULL AND l.{f} <> r.{f})" for f in ("id_number", "registration_no", "birth_date")
        )
        scratch.register("_parties", df.to_arrow())
        rows = scratch.execute(
            f"SELECT p.party_id_l, p.party_id_r, p.match_probability, {gamma} FROM {pred.physical_name} p"
            f" JOIN _parties l ON l.party_id = p.party_id_l JOIN _parties r ON r.party_id = p.party_id_r WHERE {veto}"
        ).fetchall()
    finally:
        scratch.close()
    out = []
    for pid_l, pid_r, prob, *gammas in rows:
        fields = [f.replace("name_key", "name") for f, g in zip(_FIELDS, gammas) if g is not None and g > 0.5]
        out.append((pid_l, pid_r, float(prob), fields))
    return out


def resolve(con: duckdb.DuckDBPyConnection, run_id: str, *, threshold: float = THRESHOLD) -> dict:
    """Rebuild party_clusters from the parties table. Returns counts."""
    df = _frame(con)
    pairs = match_pairs(df, threshold) if df.height else []
    g = nx.Graph()
    g.add_nodes_from(df["party_id"].to_list())
    best: dict[str, tuple[float, list[str]]] = {}
    for a, b, p, fields in pairs:
        g.add_edge(a, b)
        for x in (a, b):
            if x not in best or p > best[x][0]:
                best[x] = (p, fields)
    rows = []
    for comp in nx.connected_components(g):
        members = sorted(comp)
        cid = "PC-" + sha16(members[0])
        for pid in members:
            p, fields = best.get(pid, (1.0, []))
            rows.append((pid, cid, round(p, 6), len(members), fields, run_id))
    con.execute("DELETE FROM party_clusters")
    if rows:
        frame = pl.DataFrame(
            rows, schema={"party_id": pl.Utf8, "cluster_id": pl.Utf8, "match_probability": pl.Float64,
                          "cluster_size": pl.Int64, "matched_on": pl.List(pl.Utf8), "run_id": pl.Utf8},
            orient="row",
        )
        con.register("_cw_pc", frame.to_arrow())
        try:
            con.execute("INSERT INTO party_clusters SELECT * FROM _cw_pc")
        finally:
            con.unregister("_cw_pc")
    return {"parties": df.height, "pairs": len(pairs), "clusters": sum(1 for _ in nx.connected_components(g)),
            "merged_clusters": sum(1 for c in nx.connected_components(g) if len(c) > 1)}
