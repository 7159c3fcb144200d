"""Name comparison for screening, on rigour's name model (the engine of OpenSanctions' matcher).

rigour parses a name into tagged parts (honorifics and legal forms rewritten, "Co., Ltd." ~ "Limited"), knows
symbols (given names across spellings, org classes, initials) and scores leftover parts with a typo- and
transliteration-tolerant edit distance. The composition below follows nomenklatura's logic_v2 name matcher
(MIT licence; nomenklatura itself is not a dependency: it pins DuckDB below 2): every symbol pairing of two
names is scored as the weighted mean of its aligned parts, unmatched parts count against it, family names weigh
more, and the best pairing wins. Part order does not matter for persons ("ZHAO Wei" = "Wei Zhao").

A name in Thai, Chinese, Khmer, Burmese ... is compared through its Latin spellings (translit.py) as well as
as written, so that 佘智江 meets "She Zhijiang" and สมชาย ใจดี meets "Somchai Jaidee" as far as the spellings allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rigour.names import (
    Alignment,
    CompareConfig,
    Name,
    NamePart,
    NamePartTag,
    NameTypeTag,
    Symbol,
    align_person_name_order,
    analyze_names,
    compare_parts,
    pair_symbols,
)

from rules.screening.translit import latin_legal_forms, latin_variants, strip_honorifics

MATCHER = "scamtrace-names/2 (rigour logic_v2 composition; legal forms of the region in Latin letters)"
EXTRA_QUERY_WEIGHT = 0.8  # a part of the screened name that the listed name lacks
EXTRA_RESULT_WEIGHT = 0.8  # a listed part the screened name lacks: in this region an extra syllable is mostly another person
FAMILY_WEIGHT = 1.3
SYM_WEIGHTS = {
    Symbol.Category.ORG_CLASS: 0.7, Symbol.Category.INITIAL: 0.5, Symbol.Category.NICK: 0.8,
    Symbol.Category.SYMBOL: 0.3, Symbol.Category.DOMAIN: 0.7, Symbol.Category.NUMERIC: 1.3,
    Symbol.Category.LOCATION: 0.8,
}
SYM_SCORES = {
    Symbol.Category.ORG_CLASS: 0.8, Symbol.Category.INITIAL: 0.9, Symbol.Category.NAME: 0.9,
    Symbol.Category.NICK: 0.6, Symbol.Category.SYMBOL: 0.9, Symbol.Category.DOMAIN: 0.9,
    Symbol.Category.NUMERIC: 0.9, Symbol.Category.LOCATION: 0.9,
}
EXTRA_WEIGHTS = {Symbol.Category.ORG_CLASS: 0.7, Symbol.Category.SYMBOL: 0.7, Symbol.Category.NUMERIC: 1.3,
                 Symbol.Category.LOCATION: 0.8}
LEGAL_EXTRA_WEIGHT = 0.2
SPELLING_SCORE = 0.8
_STOP, _LEGAL, _FAMILY = NamePartTag.STOP, NamePartTag.LEGAL, NamePartTag.FAMILY
_COMPARE = CompareConfig()
# Letters that romanisations of Thai, Khmer, Burmese and Chinese swap for one another, folded to one
_SOUND_FOLD = (("ph", "p"), ("th", "t"), ("kh", "k"), ("ch", "j"), ("sh", "j"), ("ny", "n"), ("ng", "n"),
               ("c", "k"), ("g", "k"), ("q", "k"), ("x", "s"), ("z", "s"), ("v", "w"), ("f", "p"), ("l", "r"),
               ("d", "t"), ("b", "p"))


@dataclass(frozen=True)
class NameScore:
    score: float
    query: str  # the screened name (or its Latin spelling) that matched best
    candidate: str  # the listed name that matched best
    detail: str  # how the parts aligned


def type_tag(kind: str | None) -> NameTypeTag:
    k = (kind or "").lower()
    if k in ("person", "individual"):
        return NameTypeTag.PER
    if k in ("legal", "company", "organization", "organisation", "legalentity", "publicbody", "entity"):
        return NameTypeTag.ORG
    return NameTypeTag.ENT


def kind_of_schema(schema: str | None) -> str:
    s = (schema or "").lower()
    if s == "person":
        return "person"
    if s in ("vessel", "airplane", "cryptowallet"):
        return "object"
    return "legal"


@dataclass(frozen=True)
class Forms:
    """A name as written and its Latin spellings, analysed; `spelled` marks the forms that are transliterations."""

    names: tuple[Name, ...]
    spelled: frozenset[str]
    extras: tuple[dict, ...] = ()  # per name: the weights of its parts when left unmatched (_extra_weights)


@lru_cache(maxsize=500_000)
def analyzed(name: str, kind: str) -> Forms:
    """rigour Names of one name and of its Latin spellings, honorifics of the region dropped."""
    tag = type_tag(kind)
    written = analyze_names(tag, [strip_honorifics(name) if kind == "person" else latin_legal_forms(name)],
                            consolidate=False)
    # a Latin spelling is not rewritten: 'Hon' in 'hon saen' is a Khmer name, not 'Honourable'
    spelled = analyze_names(tag, list(latin_variants(name, kind)), consolidate=False, rewrite=False)
    every = tuple(written) + tuple(spelled)
    return Forms(every, frozenset(n.original for n in spelled), tuple(_extra_weights(n) for n in every))


def compare(query: Forms, candidate: Forms) -> NameScore:
    """Best score over the pairs of forms of two names."""
    best, best_q, best_r, best_parts = 0.0, None, None, []
    for q, q_extras in zip(query.names, query.extras):
        loose = q.original in query.spelled
        for r, r_extras in zip(candidate.names, candidate.extras):
            if q.comparable == r.comparable:
                return NameScore(1.0, q.original, r.original, f"[{r.comparable!r} literal match]")
            score, parts = _pairing_score(q, r, loose or r.original in candidate.spelled, q_extras, r_extras)
            if score > best:
                best, best_q, best_r, best_parts = score, q, r, parts
    if best_q is None or best_r is None:
        return NameScore(0.0, "", "", "no name match")
    return NameScore(round(best, 4), best_q.original, best_r.original, " ".join(_explain(a) for a in best_parts))


def _pairing_score(query: Name, result: Name, loose: bool, q_extras: dict, r_extras: dict) -> tuple[float, list[Alignment]]:
    best, best_parts = 0.0, []
    per = NameTypeTag.PER in (query.tag, result.tag)
    for edges in pair_symbols(query, result):
        matches: list[Alignment] = []
        for edge in edges:
            if edge.symbol:
                edge.score = SYM_SCORES.get(edge.symbol.category, 1.0)
                edge.weight = SYM_WEIGHTS.get(edge.symbol.category, 1.0)
            else:
                edge.score = edge.weight = 1.0
            matches.append(edge)
        q_used = {p for e in edges for p in e.qps}
        r_used = {p for e in edges for p in e.rps}
        q_rem = [p for p in query.parts if p not in q_used]
        r_rem = [p for p in result.parts if p not in r_used]
        if q_rem or r_rem:
            if per:
                q_rem, r_rem = align_person_name_order(q_rem, r_rem)
            else:
                q_rem, r_rem = NamePart.tag_sort(q_rem), NamePart.tag_sort(r_rem)
            matches.extend(compare_parts(q_rem, r_rem, config=_COMPARE))
        if loose:
            matches = _paired_by_sound(matches)
        total = weighted = 0.0
        for m in matches:
            qps, rps = m.qps, m.rps
            if not qps:
                m.weight = EXTRA_RESULT_WEIGHT * _extra_bias(rps, r_extras)
            elif not rps:
                m.weight = EXTRA_QUERY_WEIGHT * _extra_bias(qps, q_extras)
            if len(qps) == 1 and qps[0].tag == _STOP or len(rps) == 1 and rps[0].tag == _STOP:
                m.weight *= 0.7
            if qps and rps:
                if m.score < 1.0 and m.qstr == m.rstr:
                    m.score = 1.0
                elif loose and m.score < SPELLING_SCORE and sound(m.qstr) == sound(m.rstr):
                    m.score = SPELLING_SCORE  # a transliteration's spelling drift (chaidi ~ jaidee, hon ~ hun)
            elif all(p.tag == _LEGAL for p in (*qps, *rps)):
                m.weight = LEGAL_EXTRA_WEIGHT  # "Co., Ltd." left out on one side
            if any(p.tag == _FAMILY for p in qps) or any(p.tag == _FAMILY for p in rps):
                m.weight *= FAMILY_WEIGHT
            total += m.weight
            weighted += m.score * m.weight
        score = weighted / total if total > 0 else 0.0
        if score > best:
            best, best_parts = score, matches
            if score >= 1.0:
                break
    return best, best_parts


def _paired_by_sound(matches: list[Alignment]) -> list[Alignment]:
    """Parts left unmatched on both sides that sound alike become a pair (a transliteration drifted too far for
    the edit distance: 'chaidi' / 'jaidee')."""
    q_extra = [m for m in matches if m.qps and not m.rps]
    r_extra = [m for m in matches if m.rps and not m.qps]
    if not q_extra or not r_extra:
        return matches
    out = [m for m in matches if m.qps and m.rps]
    for q in q_extra:
        hit = next((r for r in r_extra if sound(q.qstr) == sound(r.rstr)), None)
        if hit is None:
            out.append(q)
            continue
        r_extra.remove(hit)
        out.append(Alignment(q.qps, hit.rps, None, SPELLING_SCORE, 1.0))
    return out + r_extra


@lru_cache(maxsize=1_000_000)
def sound(text: str) -> str:
    """A romanised name part folded to its consonants ('chaidi' and 'jaidee' -> 'jt'; 'hon', 'hun' -> 'hn')."""
    t = "".join(ch for ch in text.lower() if ch.isalpha())
    for a, b in _SOUND_FOLD:
        t = t.replace(a, b)
    head, rest = t[:1], t[1:]
    head = "a" if head in "aeiouy" else head
    out = head
    for ch in rest:
        if ch not in "aeiouyhw" and ch != out[-1]:
            out += ch
    return out


def _extra_weights(name: Name) -> dict[tuple[NamePart, ...], float]:
    weights: dict[tuple[NamePart, ...], float] = {}
    for span in name.spans:
        w = EXTRA_WEIGHTS.get(span.symbol.category, 1.0)
        if w != 1.0:
            weights[span.parts] = weights.get(span.parts, 1.0) * w
    return weights


def _extra_bias(parts, weights: dict) -> float:
    if len(parts) == 1 and parts[0].tag == NamePartTag.STOP:
        return 0.5
    return weights.get(tuple(parts), 1.0)


def _explain(a: Alignment) -> str:
    if a.symbol is not None:
        return f"[{a.qstr!r}~{a.rstr!r} symbol {a.symbol}: {a.score:.2f}]"
    if not a.qstr:
        return f"[{a.rstr!r} only listed]"
    if not a.rstr:
        return f"[{a.qstr!r} only screened]"
    if a.qstr == a.rstr:
        return f"[{a.rstr!r} equal]"
    return f"[{a.qstr!r}~{a.rstr!r} similar: {a.score:.2f}]"
