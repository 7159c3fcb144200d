"""goAML XML reports (STR) per alert and per network, validated against the goAML 5.0.1 schema.

One report holds: the header (reporting entity, person and location from the goAML config), the reason
(typologies, scores, rule reasons, compound links), one <transaction> per evidence transaction with its
from / to account (institution, holder as person or entity, country), the report indicators mapped from the
typologies, and for on-chain transfers the virtual-asset fields the schema has (block_number,
virtual_address; only with a known IP, which the schema requires there) plus an additional_information
record with chain, hash, token and contract.

Lengths, and whether an element exists at the configured feature level, are read from the schema itself,
so a text from hostile input is cut to fit and an FIU's own XSD can be swapped in through the config.
"""

from __future__ import annotations

import copy
import functools
import ipaddress
import re
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable

import duckdb
import pyarrow as pa
import yaml
from lxml import etree

from transforms.errors import ConfigError
from transforms.schema import KIND_GROUPS

PACKAGE_XSD = Path(__file__).resolve().parent / "xsd" / "goAMLSchema_5.0.1.xsd"
DEFAULT_CONFIG = Path(__file__).resolve().parent / "goaml_default.yml"
XS = "{http://www.w3.org/2001/XMLSchema}"
GOAML_NS = "{http://www.unodc.org/goaml}"


class GoamlConfigError(ConfigError, ValueError):
    """The goAML config file is unreadable or names a code the schema does not know (usage-level, exit 2)."""


# --------------------------------------------------------------------------------------------- schema


@functools.lru_cache(maxsize=4)
def load_schema(path: str | None = None):
    """The goAML schema as xmlschema.XMLSchema11 (loaded once per process per path)."""
    import xmlschema

    return xmlschema.XMLSchema11(str(path or PACKAGE_XSD))


@functools.lru_cache(maxsize=4)
def _schema_facts(path: str) -> tuple[dict[str, int], dict[str, int], dict[str, str]]:
    """(max length per element name, min length per element name, supportedIn per element name).

    Per name the smallest maxLength over every declaration of that name, so a cut text fits wherever the
    element appears. Named simple types (email_address, iban_type, comments_type) are resolved.
    """
    doc = etree.parse(path)
    root = doc.getroot()

    def facets(simple) -> tuple[int | None, int | None]:
        mx = simple.find(f"{XS}restriction/{XS}maxLength")
        mn = simple.find(f"{XS}restriction/{XS}minLength")
        return (int(mx.get("value")) if mx is not None else None, int(mn.get("value")) if mn is not None else None)

    named = {st.get("name"): facets(st) for st in root.iter(f"{XS}simpleType") if st.get("name")}
    max_len: dict[str, int] = {}
    min_len: dict[str, int] = {}
    supported: dict[str, str] = {}
    for el in root.iter(f"{XS}element"):
        name = el.get("name")
        if not name:
            continue
        simple = el.find(f"{XS}simpleType")
        mx, mn = facets(simple) if simple is not None else named.get((el.get("type") or "").split(":")[-1], (None, None))
        if mx is not None:
            max_len[name] = min(mx, max_len.get(name, mx))
        if mn is not None:
            min_len[name] = max(mn, min_len.get(name, mn))
        level = el.get(f"{GOAML_NS}supportedIn")
        if level:
            supported[name] = max(level, supported.get(name, level))
    return max_len, min_len, supported


def enumeration(schema, type_name: str) -> set[str] | None:
    t = schema.types.get(type_name)
    values = getattr(t, "enumeration", None) if t is not None else None
    return set(values) if values else None


# Constructs that only XSD 1.1 has: a schema without them means the same to an XSD 1.0 processor (libxml2).
XSD11_ONLY = ("xs:assert", "xs:alternative", "openContent", "xs:override", "defaultAttributes", "notQName",
              "notNamespace", "explicitTimezone", "dateTimeStamp", "inheritable")


@functools.lru_cache(maxsize=4)
def load_fast_schema(path: str | None = None):
    """The schema in libxml2 (lxml), or None when it uses XSD 1.1 constructs or libxml2 cannot load it."""
    p = Path(path or PACKAGE_XSD)
    text = p.read_text(encoding="utf-8")
    if any(k in text for k in XSD11_ONLY):
        return None
    try:
        return etree.XMLSchema(etree.parse(str(p), etree.XMLParser(resolve_entities=False, no_network=True)))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError):
        return None


def validate_tree(root, path: Path | str, schema_path: str | None = None, *, validator: str = "auto") -> list[str]:
    """Schema errors of a report built as `root` and written to `path` as to_bytes(root).

    With the "auto" validator libxml2 checks the tree in memory (a report's serialisation parses back to the
    same tree, so this saves parsing the file again: 3 of its 8 ms); anything it rejects, and any other
    validator, goes through validate_file, whose verdict stands.
    """
    if validator == "auto":
        fast = load_fast_schema(schema_path)
        if fast is not None and fast.validate(root.getroottree()):
            return []
    return validate_file(path, schema_path, validator=validator)


def validate_file(path: Path | str, schema_path: str | None = None, *, validator: str = "auto") -> list[str]:
    """Schema errors of one goAML file (empty when valid).

    validator "xmlschema": the XSD 1.1 processor (xmlschema.XMLSchema11), authoritative and slow (~1 s/MB).
    "auto" (default): libxml2 first, which is ~100x faster and equivalent for a schema without XSD 1.1-only
    constructs (checked; the goAML 5.0.1 schema has none, only vc:minVersion="1.1"); a file libxml2 rejects
    is re-checked with xmlschema, whose verdict stands. tests/exports check that both agree.
    """
    if validator == "auto":
        fast = load_fast_schema(schema_path)
        if fast is not None:
            doc = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
            if fast.validate(doc):
                return []
    schema = load_schema(schema_path)
    import xmlschema

    resource = xmlschema.XMLResource(str(path), lazy=True)  # lazy: no element-count limit on large reports
    return [f"{e.path}: {e.reason}" for e in schema.iter_errors(resource)]


# --------------------------------------------------------------------------------------------- config


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


CODE_LISTS = ("transmode", "funds", "indicators", "currency")


def load_config(path: Path | str | None = None) -> dict:
    """The packaged defaults overlaid with the user's file; codes checked against the schema."""
    cfg = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    if path is not None:
        p = Path(path)
        try:
            user = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise GoamlConfigError(f"{p}: cannot read the goAML config ({str(exc).splitlines()[0]})") from None
        if not isinstance(user, dict):
            raise GoamlConfigError(f"{p}: the goAML config must be a mapping of settings")
        cfg = _merge(cfg, user)
        # A code list given by the user replaces the packaged one whole: its `default` then applies to every
        # channel / typology it does not name (a merge would keep the packaged "-" entries).
        for key in CODE_LISTS:
            if isinstance((user.get("codes") or {}).get(key), dict):
                cfg["codes"][key] = dict(user["codes"][key])
        if cfg.get("schema"):
            sp = Path(cfg["schema"])
            cfg["schema"] = str(sp if sp.is_absolute() else (p.parent / sp).resolve())
        cfg["_path"] = str(p)
    problems = check_config(cfg)
    if problems:
        where = cfg.get("_path", str(DEFAULT_CONFIG))
        raise GoamlConfigError("\n".join(f"{where}: {msg}" for msg in problems))
    return cfg


def check_config(cfg: dict) -> list[str]:
    problems: list[str] = []
    schema_path = cfg.get("schema")
    if schema_path and not Path(schema_path).is_file():
        return [f"schema: no such file {schema_path}"]
    schema = load_schema(schema_path)

    def check(key: str, value: Any, type_name: str, *, allow_null: bool = False) -> None:
        allowed = enumeration(schema, type_name)
        if value is None and allow_null:
            return
        if allowed is not None and str(value) not in allowed:
            sample = ", ".join(sorted(allowed)[:12])
            problems.append(f"{key}: {value!r} is not a {type_name} code of the schema (known: {sample}, ...)")

    rep = cfg.get("report", {})
    try:
        if int(rep.get("rentity_id", 0)) < 1:
            problems.append("report.rentity_id: must be an integer >= 1")
    except (TypeError, ValueError):
        problems.append("report.rentity_id: must be an integer >= 1")
    if not str(rep.get("rentity_branch") or "").strip():
        problems.append("report.rentity_branch: must not be empty")
    if rep.get("date_element") not in ("submission_date", "report_date"):
        problems.append("report.date_element: submission_date or report_date")
    check("report.submission_code", rep.get("submission_code"), "submission_type")
    check("report.report_code", rep.get("report_code"), "report_type")
    check("report.currency_code_local", rep.get("currency_code_local"), "currency_type")
    check("location.country_code", cfg.get("location", {}).get("country_code"), "country_type")
    check("location.address_type", cfg.get("location", {}).get("address_type"), "contact_type")
    codes = cfg.get("codes", {})
    for channel, code in (codes.get("transmode") or {}).items():
        check(f"codes.transmode.{channel}", code, "conduction_type")
    for channel, code in (codes.get("funds") or {}).items():
        check(f"codes.funds.{channel}", code, "funds_type")
    for typ, items in (codes.get("indicators") or {}).items():
        for code in items if isinstance(items, list) else [items]:
            check(f"codes.indicators.{typ}", code, "report_indicator_type")
    check("codes.address_type", codes.get("address_type"), "contact_type")
    check("codes.contact_type", codes.get("contact_type"), "contact_type")
    check("codes.communication_type", codes.get("communication_type"), "communication_type")
    for token, code in (codes.get("currency") or {}).items():
        check(f"codes.currency.{token}", code, "currency_type", allow_null=True)
    check("codes.unknown_country", codes.get("unknown_country"), "country_type")
    for key in ("first_name", "last_name"):
        if not str(cfg.get("reporting_person", {}).get(key) or "").strip():
            problems.append(f"reporting_person.{key}: must not be empty")
    try:
        if int(cfg.get("max_transactions") or 0) < 0:
            raise ValueError
    except (TypeError, ValueError):
        problems.append("max_transactions: an integer >= 0 (0 = no limit)")
    if str(cfg.get("validator") or "auto") not in ("auto", "xmlschema"):
        problems.append("validator: auto (libxml2, re-checked with xmlschema on failure) or xmlschema (XSD 1.1 only)")
    if str(cfg.get("target_version")) not in ("5.0", "5.1", "5.2"):
        problems.append("target_version: one of 5.0, 5.1, 5.2")
    return problems


# --------------------------------------------------------------------------------------------- values

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_BIC = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")
_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$")
# ITU calling codes of one or two digits; every other code has three.
_CC1 = {"1", "7"}
_CC2 = {"20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49",
        "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66", "81", "82", "84",
        "86", "90", "91", "92", "93", "94", "95", "98"}


def xml_text(value: Any) -> str:
    return _XML_BAD.sub("", str(value))


def sql_date(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00"
    return None


def decimal_text(value: Any, places: int = 2) -> str:
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    q = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = format(q, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _num(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return "-" if value is None else str(value)


def split_name(name: str | None) -> tuple[str, str]:
    """(first_name, last_name): last word is taken as the last name; the full name is kept elsewhere."""
    words = (name or "").split()
    if not words:
        return "-", "unknown"
    if len(words) == 1:
        return "-", words[0]
    return " ".join(words[:-1]), words[-1]


def split_phone(phone: str | None) -> tuple[str, str] | None:
    if not phone:
        return None
    digits = re.sub(r"[^0-9]", "", phone)
    if not digits:
        return None
    if phone.strip().startswith("+"):
        for n in (1, 2, 3):
            if (n == 1 and digits[:1] in _CC1) or (n == 2 and digits[:2] in _CC2) or n == 3:
                return digits[:n], digits[n:] or digits
    return "-", digits


def ip_elements(ip: str | None) -> tuple[str, str] | None:
    try:
        addr = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return None
    return ("ipv4", str(addr)) if addr.version == 4 else ("ipv6", addr.exploded)


# --------------------------------------------------------------------------------------------- builder


class Builder:
    """Writes goAML elements in schema order, cutting texts to the schema's lengths."""

    def __init__(self, cfg: dict):
        self.cfg = cfg
        schema_path = cfg.get("schema") or str(PACKAGE_XSD)
        self.schema_path = schema_path
        self.max_len, self.min_len, self.supported = _schema_facts(schema_path)
        schema = load_schema(cfg.get("schema"))
        self.countries = enumeration(schema, "country_type") or set()
        self.currencies = enumeration(schema, "currency_type") or set()
        self.level = str(cfg.get("target_version", "5.2"))
        self._tag_facts: dict[str, tuple[bool, int | None, int]] = {}

    def allowed(self, tag: str) -> bool:
        return self._facts(tag)[0]

    def _facts(self, tag: str) -> tuple[bool, int | None, int]:
        """(allowed at the target level, max length, min length) of a tag; looked up once per tag, as a report
        calls el() ~20 times per transaction."""
        facts = self._tag_facts.get(tag)
        if facts is None:
            need = self.supported.get(tag)
            facts = self._tag_facts[tag] = (need is None or need <= self.level, self.max_len.get(tag),
                                            self.min_len.get(tag, 0))
        return facts

    def el(self, parent, tag: str, value: Any = None, *, required: bool = False):
        """Sub-element with text; skipped when empty (unless required: then '-') or above the feature level."""
        allowed, limit, min_len = self._facts(tag)
        if not allowed:
            return None
        if value is None or (isinstance(value, str) and not value.strip()):
            if not required:
                return None
            value = "-"
        text = xml_text(value)
        if limit is not None and len(text) > limit:
            text = text[: max(limit - 1, 1)] + "…" if limit > 1 else text[:limit]
        if len(text) < min_len:
            text = text.ljust(min_len, "-")
        node = etree.SubElement(parent, tag)
        node.text = text
        return node

    def node(self, parent, tag: str):
        return etree.SubElement(parent, tag) if self.allowed(tag) else None

    def country(self, code: Any) -> str:
        c = str(code or "").strip().upper()
        return c if c in self.countries else str(self.cfg["codes"].get("unknown_country", "-"))

    def code(self, table: str, key: Any) -> str:
        mapping = self.cfg["codes"].get(table) or {}
        return str(mapping.get(key, mapping.get("default", "-")))


class GoamlWriter:
    """Reads the store once per export and writes goAML reports for alerts and networks."""

    def __init__(self, con: duckdb.DuckDBPyConnection | None, cfg: dict, *, preload: bool = True,
                 rates: list[dict] | None = None):
        """preload: read every account, party and login IP now; False: read them per batch of reports
        with scope() (what a large store needs: memory then follows the batch, not the store).
        con None (a worker process, goaml_files.py): no store; rates are given, and each batch's state() via use()."""
        from exports.tables import rows

        self.con = con
        self.cfg = cfg
        self.b = Builder(cfg)
        self.local = str(cfg["report"]["currency_code_local"])
        self.rates = rates if rates is not None else rows(
            con, "SELECT rate_date, usd_per_unit FROM fx_rates WHERE currency = ? ORDER BY rate_date", [self.local])
        self.accounts: dict[str, dict] = {}
        self.parties: dict[str, dict] = {}
        self.ip_by_account: dict[str, list[dict]] = {}
        self._account_cache: dict[tuple, Any] = {}
        # (subject_type, subject_id) -> current compound links, held for the subjects in scope
        self.links: dict[tuple[str, str], list[tuple]] = {}
        if preload and con is not None:
            self._load("TRUE", "TRUE", "account_id IS NOT NULL", [])
            self._load_links("TRUE")

    def scope(self, account_ids: Iterable[str], party_ids: Iterable[str],
              subjects: Iterable[tuple[str, str]] = ()) -> None:
        """Hold only these accounts, their holders, these parties, these accounts' login IPs, and the
        compound links of these (subject_type, subject_id) subjects."""
        from exports.tables import _temp_name

        accounts = pa.table({"id": pa.array(sorted({a for a in account_ids if a}), pa.string())})
        parties = pa.table({"id": pa.array(sorted({p for p in party_ids if p}), pa.string())})
        acc_view, party_view = _temp_name("acc"), _temp_name("party")
        subj = sorted(set(subjects))
        subj_table = pa.table({"st": pa.array([t for t, _ in subj], pa.string()),
                               "sid": pa.array([i for _, i in subj], pa.string())})
        subj_view = _temp_name("subj")
        self.con.register(acc_view, accounts)
        self.con.register(party_view, parties)
        self.con.register(subj_view, subj_table)
        try:
            self._load(f"account_id IN (SELECT id FROM {acc_view})",
                       f"party_id IN (SELECT id FROM {party_view}) OR party_id IN "
                       f"(SELECT holder_id FROM accounts WHERE account_id IN (SELECT id FROM {acc_view}))",
                       f"account_id IN (SELECT id FROM {acc_view})", [])
            self._load_links(f"EXISTS (SELECT 1 FROM {subj_view} v WHERE v.st = subject_type AND v.sid = subject_id)")
        finally:
            self.con.unregister(acc_view)
            self.con.unregister(party_view)
            self.con.unregister(subj_view)
        self._account_cache = {}  # its blocks were built from the previous scope's rows

    def state(self) -> dict:
        """What scope() loaded, as plain data a worker process can be given (use())."""
        return {"accounts": self.accounts, "parties": self.parties, "ip_by_account": self.ip_by_account,
                "links": self.links}

    def use(self, state: dict) -> None:
        self.accounts, self.parties = state["accounts"], state["parties"]
        self.ip_by_account, self.links = state["ip_by_account"], state["links"]
        self._account_cache = {}

    def _load_links(self, cond: str) -> None:
        self.links = {}
        for row in self.con.execute(f"""
                SELECT subject_type, subject_id, compound_id, link_kind, evidence_text, confidence, link_id
                FROM compound_links WHERE is_current IS NOT FALSE AND {cond}""").fetchall():
            self.links.setdefault((row[0], row[1]), []).append(row[2:])

    def _load(self, acc_cond: str, party_cond: str, ip_cond: str, params: list) -> None:
        from exports.tables import rows

        self.accounts = {r["account_id"]: r for r in rows(self.con, f"SELECT * FROM accounts WHERE {acc_cond}", params)}
        self.parties = {r["party_id"]: r for r in rows(self.con, f"SELECT * FROM parties WHERE {party_cond}", params)}
        ips = rows(self.con, f"""
            SELECT account_id, party_id, ip, occurred_at FROM events
            WHERE ip IS NOT NULL AND (account_id IS NOT NULL OR party_id IS NOT NULL) AND {ip_cond}
            ORDER BY occurred_at""", params)
        self.ip_by_account = {}
        for r in ips:
            if r["account_id"]:
                self.ip_by_account.setdefault(r["account_id"], []).append(r)

    # ---- amounts

    def _usd_per_local(self, when: datetime | None) -> Decimal | None:
        if self.local == "USD":
            return Decimal(1)
        day = when.date() if isinstance(when, datetime) else None
        best = None
        for r in self.rates:
            if day is None or r["rate_date"] <= day:
                best = r["usd_per_unit"]
        if best is None and self.rates:
            best = self.rates[0]["usd_per_unit"]
        return Decimal(best) if best else None

    def amount_local(self, t: dict) -> tuple[Decimal, str | None]:
        """(amount in the local currency, note when it had to be estimated)."""
        if t.get("currency") == self.local and t.get("amount") is not None:
            return Decimal(t["amount"]), None
        usd = t.get("amount_usd")
        rate = self._usd_per_local(t.get("booked_at"))
        if usd is not None and rate:
            return Decimal(usd) / rate, None
        return Decimal(0), f"amount_local unknown: no {self.local} rate and no USD amount; see foreign amount / comments"

    # ---- parties

    def person(self, parent, tag: str, party: dict | None, fallback_name: str | None):
        b = self.b
        p = b.node(parent, tag)
        name = (party or {}).get("name") or fallback_name
        first, last = split_name(name)
        b.el(p, "first_name", first, required=True)
        b.el(p, "last_name", last, required=True)
        if party:
            b.el(p, "birthdate", sql_date(party.get("birth_date")))
        b.el(p, "full_name_frn", name)
        if party:
            b.el(p, "id_number", party.get("id_number"))
            if party.get("nationality"):
                b.el(p, "nationality1", b.country(party.get("nationality")))
            if party.get("country"):
                b.el(p, "residence", b.country(party.get("country")))
            self._phones(p, party.get("phone"))
            self._addresses(p, party.get("address"), party.get("country"))
            b.el(p, "email", party.get("email"))
        b.el(p, "comments", f"name as given: {name}; party_id: {(party or {}).get('party_id', '-')}")
        return p

    def entity(self, parent, tag: str, party: dict | None, fallback_name: str | None):
        b = self.b
        e = b.node(parent, tag)
        name = (party or {}).get("name") or fallback_name
        b.el(e, "name", name, required=True)
        if party:
            b.el(e, "incorporation_number", party.get("registration_no"))
            self._phones(e, party.get("phone"))
            self._addresses(e, party.get("address"), party.get("country"))
            b.el(e, "email", party.get("email"))
            if party.get("country"):
                b.el(e, "incorporation_country_code", b.country(party.get("country")))
        b.el(e, "comments", f"party_id: {(party or {}).get('party_id', '-')}")
        return e

    def _phones(self, parent, phone: str | None) -> None:
        parts = split_phone(phone)
        if not parts:
            return
        b = self.b
        phones = b.node(parent, "phones")
        ph = etree.SubElement(phones, "phone")
        b.el(ph, "tph_contact_type", self.cfg["codes"]["contact_type"], required=True)
        b.el(ph, "tph_communication_type", self.cfg["codes"]["communication_type"], required=True)
        b.el(ph, "tph_country_prefix", parts[0], required=True)
        b.el(ph, "tph_number", parts[1], required=True)

    def _addresses(self, parent, address: str | None, country: Any) -> None:
        if not address:
            return
        b = self.b
        addrs = b.node(parent, "addresses")
        a = etree.SubElement(addrs, "address")
        b.el(a, "address_type", self.cfg["codes"]["address_type"], required=True)
        b.el(a, "address", address, required=True)
        b.el(a, "city", "-", required=True)
        b.el(a, "country_code", b.country(country), required=True)
        b.el(a, "comments", f"address as given: {address}")

    # ---- accounts

    def account(self, parent, tag: str, account_id: str, t: dict, side: str, role_note: str):
        """The account block; built once per account and context, then copied (reports repeat accounts)."""
        key = (tag, account_id, side, role_note, t.get(f"{side}_institution"), t.get(f"{side}_country"),
               t.get(f"{side}_name"), t.get("chain"), t.get("rail"))
        cached = self._account_cache.get(key)
        if cached is None:
            holder = etree.Element("holder")
            self._account(holder, tag, account_id, t, side, role_note)
            cached = self._account_cache[key] = holder[0]
        parent.append(cached.__copy__())  # lxml copies the subtree; copy.deepcopy only adds its memo

    def _account(self, parent, tag: str, account_id: str, t: dict, side: str, role_note: str):
        b = self.b
        acc = self.accounts.get(account_id, {})
        is_crypto = (acc.get("rail") or t.get("rail")) == "crypto" or account_id.split(":", 1)[0] in ("tron", "ethereum", "bitcoin", "bsc", "polygon")
        institution = acc.get("institution") or t.get(f"{side}_institution")
        a = b.node(parent, tag)
        if is_crypto and not institution:
            inst_name = f"self-hosted wallet ({t.get('chain') or account_id.split(':', 1)[0]})"
        else:
            inst_name = institution or "unknown institution"
        b.el(a, "institution_name", acc.get("label") or inst_name, required=True)
        code = (institution or "").strip().upper()
        if code and _BIC.match(code):
            b.el(a, "swift", code)
        else:
            b.el(a, "institution_code", institution or (t.get("chain") if is_crypto else None), required=True)
        country = acc.get("country") or t.get(f"{side}_country")
        if country:
            b.el(a, "institution_country", b.country(country))
        b.el(a, "non_bank_institution", "true" if is_crypto or (acc.get("kind") or "") in NON_BANK_KINDS else "false")
        number = account_id
        if ":" in account_id:
            prefix, rest = account_id.split(":", 1)
            if prefix == (institution or "") or is_crypto:
                number = rest
        b.el(a, "account", number, required=True)
        holder = self.parties.get(acc.get("holder_id") or "")
        b.el(a, "account_name", (holder or {}).get("name") or t.get(f"{side}_name"))
        compact = account_id.replace(" ", "").upper()
        if _IBAN.match(compact):
            b.el(a, "iban", compact)
        if holder and holder.get("party_type") == "legal":
            self.entity(a, "t_entity", holder, None)
        elif holder:
            sig = etree.SubElement(a, "signatory")
            b.el(sig, "is_primary", "1")
            self.person(sig, "t_person", holder, None)
        b.el(a, "opened", sql_date(acc.get("opened_at")))
        notes = [f"account_id: {account_id}"]
        if acc.get("kind"):
            notes.append(f"kind: {acc['kind']}")
        if is_crypto:
            notes.append(f"virtual address: {number}")
        if role_note:
            notes.append(role_note)
        b.el(a, "comments", "; ".join(notes))
        return a

    # ---- transactions

    def transaction(self, parent, t: dict, suspects: set[str], roles: dict[str, str]) -> None:
        b = self.b
        tx = etree.SubElement(parent, "transaction")
        b.el(tx, "transactionnumber", t.get("source_txn_id") or t["txn_id"], required=True)
        b.el(tx, "transaction_is_suspicious", "true")
        b.el(tx, "internal_ref_number", t["txn_id"])
        rail = t.get("rail") or ("crypto" if t.get("chain") else "bank")
        loc = str((self.cfg.get("transaction_location") or {}).get(rail, rail)).replace("{chain}", str(t.get("chain") or "-"))
        b.el(tx, "transaction_location", loc, required=True)
        desc = [f"{t.get('channel') or 'transfer'}: {_num(t.get('amount'))} {t.get('currency')}"]
        if t.get("reference"):
            desc.append(f"reference: {t['reference']}")
        desc.append(f"source: {t.get('source_path') or '-'} row {t.get('row_no')} ({t.get('source')}; file sha256 {t.get('file_id')})")
        b.el(tx, "transaction_description", " | ".join(desc), required=True)
        b.el(tx, "date_transaction", sql_date(t.get("booked_at")) or "1753-01-01T00:00:00", required=True)
        b.el(tx, "value_date", sql_date(t.get("value_date")))
        b.el(tx, "transmode_code", b.code("transmode", t.get("channel")), required=True)
        b.el(tx, "transmode_comment", t.get("channel"))
        local, note = self.amount_local(t)
        b.el(tx, "amount_local", decimal_text(local, 2), required=True)
        for side in ("from", "to"):
            self._side(tx, t, side, local, suspects, roles)
        comments = [f"txn_id {t['txn_id']}"]
        if t.get("roles"):
            comments.append("evidence roles: " + ", ".join(t["roles"]))
        if t.get("alert_ids"):
            comments.append("alerts: " + ", ".join(t["alert_ids"]))
        if t.get("chain"):
            comments.append(f"chain {t['chain']}, tx_hash {t.get('tx_hash')}, block {t.get('block_number')}, "
                            f"token {t.get('currency')} contract {t.get('token_contract')}, amount {_num(t.get('amount'))}")
        if note:
            comments.append(note)
        b.el(tx, "comments", "; ".join(comments))

    def _side(self, tx, t: dict, side: str, local: Decimal, suspects: set[str], roles: dict[str, str]) -> None:
        b = self.b
        account_id = t.get(f"{side}_account_id")
        s = etree.SubElement(tx, f"t_{side}")
        b.el(s, f"{side}_funds_code", b.code("funds", t.get("channel")), required=True)
        self._additional_info(s, t, side, account_id)
        self._foreign_currency(s, t, side, local)
        b.el(s, f"{side}_is_suspected", "true" if account_id in suspects else "false")
        if account_id:
            self.account(s, f"{side}_account", account_id, t, side, roles.get(account_id, ""))
        else:
            self.person(s, f"{side}_person", None, t.get(f"{side}_name") or ("cash depositor" if side == "from" else "cash recipient"))
        acc = self.accounts.get(account_id or "", {})
        b.el(s, f"{side}_country", b.country(t.get(f"{side}_country") or acc.get("country")), required=True)

    def _foreign_currency(self, parent, t: dict, side: str, local: Decimal) -> None:
        cur = t.get("currency")
        if not cur or cur == self.local or t.get("amount") in (None, 0):
            return
        mapping = self.cfg["codes"].get("currency") or {}
        code = mapping[cur] if cur in mapping else (cur if cur in self.b.currencies else None)
        if not code or code == "-":
            return
        amount = Decimal(t["amount"])
        try:
            rate = local / amount
        except (InvalidOperation, ZeroDivisionError):
            return
        fc = self.b.node(parent, f"{side}_foreign_currency")
        self.b.el(fc, "foreign_currency_code", code, required=True)
        self.b.el(fc, "foreign_amount", decimal_text(amount, 13), required=True)
        self.b.el(fc, "foreign_exchange_rate", decimal_text(rate, 13), required=True)

    def _additional_info(self, parent, t: dict, side: str, account_id: str | None) -> None:
        """Virtual-asset fields: only for on-chain transfers, and only with a known IP (the schema requires one)."""
        tag = f"{side}_transaction_additional_info"
        if not t.get("chain") or not account_id or not self.b.allowed(tag):
            return
        seen = self.ip_by_account.get(account_id) or []
        when = t.get("booked_at")
        before = [e for e in seen if when is None or e["occurred_at"] <= when] or seen
        ip = ip_elements(before[-1]["ip"]) if before else None
        if not ip:
            return
        b = self.b
        info = etree.SubElement(parent, tag)
        dev = etree.SubElement(info, "network_device")
        addr = etree.SubElement(dev, "ip_address")
        b.el(addr, ip[0], ip[1], required=True)
        b.el(addr, "last_seen_date", sql_date(before[-1]["occurred_at"]))
        if t.get("block_number") is not None:
            b.el(info, "block_number", str(int(t["block_number"])))
        b.el(info, "virtual_address", account_id.split(":", 1)[-1])

    def report_party(self, parent, subject_type: str, subject_id: str, why: str, roles: dict[str, str]) -> None:
        b = self.b
        rp = etree.SubElement(parent, "report_party")
        b.el(rp, "role", "-")
        country = None
        if subject_type == "account":
            acc = self.accounts.get(subject_id, {})
            self.account(rp, "account", subject_id, {"rail": acc.get("rail")}, "from", roles.get(subject_id, ""))
            country = acc.get("country")
        else:
            party = self.parties.get(subject_id)
            if party and party.get("party_type") == "legal":
                self.entity(rp, "entity", party, subject_id)
            else:
                self.person(rp, "person", party, subject_id)
            country = (party or {}).get("country")
        if country:
            b.el(rp, "country", b.country(country))
        b.el(rp, "is_suspected", "true")
        b.el(rp, "reason", why)

    # ---- reports

    def document(self, *, reference: str, reason: str, transactions: list[dict], typologies: Iterable[str],
                 suspects: set[str], roles: dict[str, str], extra_info: list[tuple[str, str]] | None = None,
                 now: datetime | None = None, activity_subjects: list[tuple[str, str, str]] | None = None,
                 whole: tuple[int, Decimal] | None = None):
        """The report as an lxml tree (its root element); to_bytes gives the file. whole: see cap_transactions."""
        cfg, b = self.cfg, self.b
        rep_cfg = cfg["report"]
        transactions, note = cap_transactions(transactions, int(cfg.get("max_transactions") or 0), whole)
        if note:
            reason = note + "\n" + reason  # first, so a cut to the schema's length keeps it
        root = etree.Element("report")
        b.el(root, "rentity_id", str(int(rep_cfg["rentity_id"])), required=True)
        b.el(root, "rentity_branch", rep_cfg["rentity_branch"], required=True)
        b.el(root, "submission_code", rep_cfg["submission_code"], required=True)
        b.el(root, "report_code", rep_cfg["report_code"], required=True)
        b.el(root, "entity_reference", f"{rep_cfg.get('entity_reference_prefix') or ''}{reference}")
        b.el(root, rep_cfg["date_element"], sql_date(now or datetime.now(timezone.utc)), required=True)
        b.el(root, "currency_code_local", self.local, required=True)
        rp_cfg = cfg["reporting_person"]
        rp = etree.SubElement(root, "reporting_person")
        b.el(rp, "first_name", rp_cfg["first_name"], required=True)
        b.el(rp, "last_name", rp_cfg["last_name"], required=True)
        b.el(rp, "email", rp_cfg.get("email"))
        b.el(rp, "occupation", rp_cfg.get("occupation"))
        loc_cfg = cfg["location"]
        loc = etree.SubElement(root, "location")
        b.el(loc, "address_type", loc_cfg.get("address_type"), required=True)
        b.el(loc, "address", loc_cfg.get("address"), required=True)
        b.el(loc, "city", loc_cfg.get("city"), required=True)
        b.el(loc, "country_code", b.country(loc_cfg.get("country_code")), required=True)
        b.el(root, "reason", reason)
        b.el(root, "action", rep_cfg.get("action"))
        if transactions:
            for t in transactions:
                self.transaction(root, t, suspects, roles)
        elif activity_subjects:
            # No transactions (e.g. shared identifiers only): an activity report naming the subjects.
            act = etree.SubElement(root, "activity")
            parties = etree.SubElement(act, "report_parties")
            for subject_type, subject_id, why in activity_subjects:
                self.report_party(parties, subject_type, subject_id, why, roles)
        else:
            raise ValueError(f"{reference}: no evidence transactions and no subject: nothing to report")
        inds = etree.SubElement(root, "report_indicators")
        mapping = cfg["codes"].get("indicators") or {}
        codes: list[str] = []
        for typ in typologies:
            for c in mapping.get(typ) or []:
                if c not in codes:
                    codes.append(str(c))
        for c in codes or [str(x) for x in mapping.get("default") or ["-"]]:
            b.el(inds, "indicator", c, required=True)
        infos = list(extra_info or [])
        for t in transactions:
            if t.get("chain"):
                infos.append((f"virtual asset transfer {t.get('source_txn_id') or t['txn_id']}",
                              f"chain={t.get('chain')}; tx_hash={t.get('tx_hash')}; block={t.get('block_number')}; "
                              f"token={t.get('currency')}; token_contract={t.get('token_contract')}; "
                              f"amount={_num(t.get('amount'))}; from={t.get('from_account_id')}; to={t.get('to_account_id')}"))
        if infos and b.allowed("additional_information"):
            add = etree.SubElement(root, "additional_information")
            for subject, text in infos:
                item = etree.SubElement(add, "additional_info")
                b.el(item, "info_subject", subject, required=True)
                b.el(item, "info_text", text)
        return root


def to_bytes(root) -> bytes:
    """A report tree as its file content."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


NON_BANK_KINDS = set(KIND_GROUPS["non_bank"])  # transforms/schema.py


# --------------------------------------------------------------------------------------------- per alert / network


def _compound_sentences(writer: GoamlWriter, subjects: list[tuple[str, str]]) -> list[str]:
    """One sentence per current compound link of the subjects (held by the writer's scope), the most
    confident first."""
    found = [(sid, *link) for st, sid in dict.fromkeys(subjects) for link in writer.links.get((st, sid), ())]
    found.sort(key=lambda r: (r[4] is None, -(r[4] or 0), r[5]))
    return [f"compound {c} ({k}, confidence {conf:.2f}) via {s}: {txt}" if conf is not None else
            f"compound {c} ({k}) via {s}: {txt}" for s, c, k, txt, conf, _ in found]


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
        *_compound_sentences(writer, [(alert.get("subject_type"), alert.get("subject_id"))]),
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
    suspects = {alert["subject_id"]} | set(alert.get("member_ids") or [])
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
        *[f"{m['rank']}. {m.get('role')}: {m.get('member_type')} {m.get('member_id')} ({m.get('name') or '-'})" for m in top],
        *_compound_sentences(writer, [(m["member_type"], m["member_id"]) for m in members]),
    ]
    roles = {m["member_id"]: f"network role: {m.get('role')} (rank {m.get('rank')})" for m in members}
    suspects = {m["member_id"] for m in members if m.get("role") not in ("victim", "counterparty")}
    return writer.document(reference=str(network["network_id"]), reason="\n".join(lines),
                         transactions=_distinct_txns(evidence), typologies=network.get("typologies") or [],
                         suspects=suspects, roles=roles,
                         activity_subjects=[(m["member_type"], m["member_id"], f"network role: {m.get('role')} (rank {m.get('rank')})")
                                            for m in members if m.get("role") not in ("victim", "counterparty")][:50],
                         extra_info=[("scamtrace network", f"network_id={network['network_id']}; alerts={', '.join(network.get('alert_ids') or [])}")])


def cap_transactions(txns: list[dict], limit: int,
                     whole: tuple[int, Decimal] | None = None) -> tuple[list[dict], str | None]:
    """At most `limit` transactions (the largest by USD, then in time order), with a sentence saying so.

    whole: (number, USD total) of all the evidence transactions when txns holds only the largest of them
    (tables.capped_evidence)."""
    n_all = whole[0] if whole else len(txns)
    if limit <= 0 or n_all <= limit:
        return txns, None
    keep = sorted(txns, key=lambda t: (-(Decimal(t.get("amount_usd") or 0)), t["txn_id"]))[:limit]
    keep.sort(key=lambda t: (t["booked_at"], t["txn_id"]))
    # exact sums: amounts are DECIMAL(18,2)
    total = whole[1] if whole else sum((Decimal(t.get("amount_usd") or 0) for t in txns), Decimal(0))
    kept = sum((Decimal(t.get("amount_usd") or 0) for t in keep), Decimal(0))
    return keep, (f"This report holds the {limit} largest of {n_all} evidence transactions "
                  f"(USD {kept:,.2f} of {total:,.2f}); every transaction is listed with its source file and row in "
                  f"alert_transactions.csv of the same export package (goAML config max_transactions).")


def _distinct_txns(evidence: list[dict]) -> list[dict]:
    seen: dict[str, dict] = {}
    for e in evidence:
        if e.get("txn_id") and e["txn_id"] not in seen and e.get("booked_at") is not None:
            seen[e["txn_id"]] = e
    return sorted(seen.values(), key=lambda r: (r["booked_at"], r["txn_id"]))
