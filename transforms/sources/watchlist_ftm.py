"""FollowTheMoney entities as JSON lines: OpenSanctions' `entities.ftm.json` (flat) and `targets.nested.json`.

One JSON object per line: {"id", "schema", "properties": {prop: [values]}, "datasets", "last_seen", ...}. The
designated parties are the LegalEntity schemas (Person, Company, Organization, PublicBody, LegalEntity), Vessels,
Airplanes and CryptoWallets without a holder. Their facts often sit in entities of their own that point at them and
are folded in here: Sanction (entity -> programme, authority, listing date), Identification / Passport (holder ->
number), CryptoWallet (holder -> address), Address (an entity's addressEntity -> full address). In the nested form
those arrive embedded in the properties and are read the same way. Property kinds follow followthemoney's type
registry (identifier, phone, email, country, address), so a schema's own identifiers (innCode, imoNumber, ...) are
taken without listing them here.

The list is the entity's first dataset (e.g. us_ofac_sdn); the version is the newest last_change / last_seen in the
file. A folded record whose target is not in the file is quarantined with that reason; relations (Ownership,
Family, ...) are counted in the reconciliation note.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterator

import polars as pl

from transforms.errors import InputError
from transforms.sources.base import ReadContext, Reader, json_dumps
from transforms.sources.watchlist_fields import Listed, frame, ident, listing_date, partial_date, phone, text

ENTITY_SCHEMAS = {"Person", "Company", "Organization", "PublicBody", "LegalEntity", "Vessel", "Airplane"}
FOLDED = {"Sanction": "entity", "Identification": "holder", "Passport": "holder", "CryptoWallet": "holder"}


class FtmEntitiesReader(Reader):
    name = "ftm_entities"
    table = "watchlist_entities"
    priority = 8

    def detect(self, path: Path, head: str, ctx: ReadContext) -> bool:
        if path.suffix.lower() not in (".json", ".jsonl", ".ndjson", ".ftm"):
            return False
        first = head.lstrip("\ufeff").split("\n", 1)[0]
        try:
            obj = json.loads(first)
        except ValueError:
            return False
        return isinstance(obj, dict) and "schema" in obj and isinstance(obj.get("properties"), dict)

    def read(self, path: Path, ctx: ReadContext) -> Iterator[pl.DataFrame]:
        from followthemoney import model

        main: list[tuple[int, dict]] = []
        folded: dict[str, list[tuple[int, dict]]] = defaultdict(list)  # target id -> folded records
        addresses: dict[str, str] = {}
        skipped: Counter[str] = Counter()
        rows: list[dict] = []
        version = ""
        with open(path, encoding="utf-8-sig") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as exc:
                    rows.append({"row_no": n, "raw": line[:2000], "errors": [f"line: not JSON ({str(exc).splitlines()[0]})"]})
                    continue
                schema = obj.get("schema") if isinstance(obj, dict) else None
                if model.get(schema or "") is None:
                    rows.append({"row_no": n, "raw": line[:2000], "errors": [f"schema: {schema!r} is not a FollowTheMoney schema"]})
                    continue
                version = max(version, str(obj.get("last_change") or obj.get("last_seen") or ""))
                for sub in _embedded(obj):  # nested form: facts inside the properties
                    _sort(sub, n, main, folded, addresses, skipped, inner=True)
                _sort(obj, n, main, folded, addresses, skipped)
        known = {obj["id"] for _, obj in main}
        for target, recs in folded.items():
            if target not in known:
                for n, rec in recs:
                    if rec.get("schema") == "CryptoWallet":  # a wallet whose holder is not listed is listed itself
                        main.append((n, rec))
                    else:
                        rows.append({"row_no": n, "raw": json_dumps(rec)[:2000],
                                     "errors": [f"{FOLDED.get(str(rec.get('schema')), 'entity')}: points at {target!r}, "
                                                "which is not in the file"]})
        for n, obj in main:
            rows.append(_entity(obj, n, folded.get(obj["id"], []), addresses))
        list_version = partial_date(version[:10]) or None
        for r in rows:
            r["list_version"] = list_version
        if skipped:
            ctx.notes.append("not screened: " + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())))
        if not rows and not skipped:
            raise InputError("no FollowTheMoney entities in the file", path=path)
        yield frame(rows)


def _embedded(obj: dict) -> Iterator[dict]:
    for values in (obj.get("properties") or {}).values():
        for v in values if isinstance(values, list) else []:
            if isinstance(v, dict) and "schema" in v:
                yield v


def _sort(obj: dict, n: int, main: list, folded: dict, addresses: dict, skipped: Counter, inner: bool = False) -> None:
    schema = obj.get("schema")
    props = obj.get("properties") or {}
    if schema in FOLDED:
        targets = [_ref(t) for t in props.get(FOLDED[schema], [])]
        if schema == "CryptoWallet" and not targets:
            main.append((n, obj))
        for t in targets:
            if t:
                folded[t].append((n, obj))
    elif schema == "Address":
        full = text(" ".join(props.get("full", [])[:1])) or ", ".join(
            v for k in ("street", "city", "postalCode", "country") for v in props.get(k, []))
        if obj.get("id") and full:
            addresses[obj["id"]] = full
    elif schema in ENTITY_SCHEMAS and not inner:
        if obj.get("id"):
            main.append((n, obj))
        else:
            main.append((n, {**obj, "id": ""}))
    elif not inner:
        skipped[str(schema)] += 1


def _ref(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return value if isinstance(value, str) else None


def _entity(obj: dict, n: int, facts: list[tuple[int, dict]], addresses: dict[str, str]) -> dict:
    from followthemoney import model
    from followthemoney.types import registry

    schema = model.get(obj["schema"])
    assert schema is not None  # read() kept only entities of known schemas
    props = obj.get("properties") or {}
    datasets = obj.get("datasets") or []
    e = Listed(datasets[0] if datasets else "ftm", obj["id"], obj["schema"], n, obj)
    person = schema.is_a("Person")
    if obj["schema"] == "CryptoWallet":
        e.add_name(text((props.get("publicKey") or [None])[0]))
        _wallet(e, props)
    for name in props.get("name", []):
        e.add_name(name)
    for alias_prop in ("alias", "weakAlias", "previousName", "abbreviation"):
        for name in props.get(alias_prop, []):
            e.add_name(name)
    e.add("birth_dates", [partial_date(d) for d in props.get("birthDate", [])])
    for key, values in props.items():
        ftm_prop = schema.get(key)
        if ftm_prop is None or not isinstance(values, list):
            continue
        plain = [v for v in values if isinstance(v, str)]
        if ftm_prop.type == registry.identifier:
            e.add("id_numbers" if person else "registration_nos", [ident(v) for v in plain])
        elif ftm_prop.type == registry.phone:
            e.add("phones", [phone(v) for v in plain])
        elif ftm_prop.type == registry.email:
            e.add("emails", [v.strip().lower() for v in plain])
        elif ftm_prop.type == registry.country:
            e.add("countries", [v.lower() for v in plain])
        elif ftm_prop.type == registry.address:
            e.add("addresses", plain)
        elif key == "addressEntity":
            e.add("addresses", [addresses.get(_ref(v) or "") for v in values])
    e.add("programs", [text(p) for p in props.get("program", [])])
    for _, fact in facts:
        fp = fact.get("properties") or {}
        if fact["schema"] == "Sanction":
            e.add("programs", [text(p) for p in fp.get("program", []) + fp.get("programId", [])])
            e.authority = e.authority or text((fp.get("authority") or [None])[0])
            dates = sorted(d for d in fp.get("listingDate", []) + fp.get("startDate", []) if isinstance(d, str))
            e.listed_at = e.listed_at or (listing_date(dates[0][:10]) if dates else None)
            e.add("countries", [c.lower() for c in fp.get("country", [])])
        elif fact["schema"] in ("Identification", "Passport"):
            e.add("id_numbers" if person else "registration_nos", [ident(v) for v in fp.get("number", [])])
        elif fact["schema"] == "CryptoWallet":
            _wallet(e, fp)
    for note in props.get("notes", [])[:3]:
        e.remarks.append(note)
    return e.row(None)


def _wallet(e: Listed, props: dict) -> None:
    for key in props.get("publicKey", []):
        currency = " ".join(props.get("currency", [])[:1]).upper()
        e.add_identifier(f"Digital Currency Address - {currency}" if currency else "crypto wallet", key)


READERS = [FtmEntitiesReader()]
