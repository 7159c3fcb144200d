"""The catalogue section of docs/rules.md, written from the rule.yml and typology files (the reference).

    python -m rules.catalog_doc            # rewrite the section between the catalogue markers
    python -m rules.catalog_doc --check    # exit 1 when docs/rules.md is not current (the tests run this)

One place for the catalogue's facts: a rule change updates its rule.yml, and this writes the docs from it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rules.spec import Band, RuleSpec, TypologySpec, load_catalog, load_typologies
from transforms.schema import KIND_GROUPS

DOC = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
START, END = "<!-- catalogue:start -->", "<!-- catalogue:end -->"


def _limit(value, lower: bool) -> str:
    if value is None:
        return "-inf" if lower else "+inf"
    return str(value)


def _band(b: Band) -> str:
    return f'- [{_limit(b.lower, True)}, {_limit(b.upper, False)}) score {b.score}: "{b.reason}"'


def _default(value) -> str:
    if isinstance(value, list) and any(str(v).startswith("@") for v in value):  # a group of account kinds
        return ", ".join(f"{v} ({', '.join(KIND_GROUPS[v[1:]])})" if str(v).startswith("@") else str(v) for v in value)
    if isinstance(value, list) and len(value) > 4:
        return f"{len(value)} values: {', '.join(map(str, value[:3]))}, ..."
    return str(value)


def _kind(spec: RuleSpec) -> str:
    query = f", query of `{spec.query_from}`" if spec.query_from else ""
    history = f", history {spec.history}" if spec.history else ""
    return f"{spec.kind}{query}, v{spec.version}, lookback {spec.lookback}{history}"


def rule_section(spec: RuleSpec) -> list[str]:
    out = [f"#### `{spec.id}` ({_kind(spec)})", "", " ".join(spec.description.split()), ""]
    if spec.parameters:
        out += ["| parameter | type | default | meaning |", "|---|---|---|---|"]
        out += [f"| `{name}` | {p.type} | `{_default(p.default)}` | {' '.join(p.description.split())} |"
                for name, p in spec.parameters.items()]
        out.append("")
    out += ["Bands (lower inclusive, upper exclusive; score 0 = no hit):", ""]
    out += [_band(b) for b in spec.bands]
    out.append("")
    evidence = ", ".join(f"`{e}`" for e in spec.evidence) or "none"
    needs = " and ".join(spec.requires) + (f"; one of {', '.join(spec.requires_any)}" if spec.requires_any else "")
    reads = f" Reads: {', '.join(spec.reads)} (rules/transfers.py)." if spec.reads else ""
    out.append(f"Evidence: {evidence}. Subject: {spec.subject}. Requires: {needs}.{reads}")
    if spec.sources:
        out.append(f"Sources: {'; '.join(spec.sources)}.")
    return out + [""]


def typology_section(t: TypologySpec, rules: dict[str, RuleSpec]) -> list[str]:
    weights = ", ".join(f"`{rid}` x{w}" for rid, w in t.rules.items())
    out = [f"### {t.id}", "", f"{' '.join(t.description.split())} Alert threshold **{t.threshold}**; weights: {weights}.", ""]
    for rid in t.rules:
        out += rule_section(rules[rid])
    return out


def render() -> str:
    rules = load_catalog()
    typologies = load_typologies(rules=rules)
    lines = ["Written from the rule.yml and typology files by `python -m rules.catalog_doc`; do not edit by hand.", ""]
    for tid in sorted(typologies):
        lines += typology_section(typologies[tid], rules)
    orphans = sorted(set(rules) - {r for t in typologies.values() for r in t.rules})
    if orphans:
        lines += ["### Rules in no typology", ""]
        for rid in orphans:
            lines += rule_section(rules[rid])
    return "\n".join(lines).rstrip() + "\n"


def updated(text: str) -> str:
    if START not in text or END not in text:
        raise SystemExit(f"{DOC}: the markers {START} and {END} are missing; put them around the catalogue section")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{render()}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when docs/rules.md is not current")
    args = ap.parse_args(argv)
    text = DOC.read_text()
    new = updated(text)
    if args.check:
        if new != text:
            print(f"{DOC} is not current with the rule files: run python -m rules.catalog_doc", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
