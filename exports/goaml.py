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

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

import duckdb
import pyarrow as pa
from lxml import etree

from rules.casework import trafficking
from exports.goaml_documents import alert_document, network_document
from exports.goaml_values import BIC_RE, IBAN_RE, number_text, decimal_text, ip_elements, split_name, split_phone, sql_date, xml_text
from exports.goaml_config import CODE_LISTS, DEFAULT_CONFIG, GoamlConfigError, check_config, load_config
from exports.goaml_schema import (
    GOAML_NS,
    PACKAGE_XSD,
    XS,
    _schema_facts,
    enumeration,
    load_fast_schema,
    load_schema,
    validate_file,
    validate_tree,
)
from transforms.schema import KIND_GROUPS

# the schema and config functions are part of this module's interface (exports.goaml.load_schema, ...)
__all__ = ["CODE_LISTS", "DEFAULT_CONFIG", "GOAML_NS", "PACKAGE_XSD", "XS", "GoamlConfigError", "check_config",
           "enumeration", "load_config", "load_fast_schema", "load_schema", "validate_file", "validate_tree",
           "Builder", "GoamlWriter", "alert_document", "network_document", "cap_transactions", "to_bytes"]


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
        # (subject_type, subject_id) -> current watch-list matches (list, entity, name, score, sentence)
        self.listed: dict[tuple[str, str], list[tuple]] = {}
        # (member_type, member_id) -> (name, facts) of members casework found to be possible trafficking victims
        self.trafficked: dict[tuple[str, str], list[tuple]] = {}
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
                "links": self.links, "listed": self.listed, "trafficked": self.trafficked}

    def use(self, state: dict) -> None:
        self.accounts, self.parties = state["accounts"], state["parties"]
        self.ip_by_account, self.links = state["ip_by_account"], state["links"]
        self.listed = state.get("listed", {})
        self.trafficked = state.get("trafficked", {})
        self._account_cache = {}

    def _load_links(self, cond: str) -> None:
        self.links = {}
        for row in self.con.execute(f"""
                SELECT subject_type, subject_id, compound_id, link_kind, evidence_text, confidence, link_id
                FROM compound_links WHERE is_current IS NOT FALSE AND {cond}""").fetchall():
            self.links.setdefault((row[0], row[1]), []).append(row[2:])
        self.listed = {}
        if self.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'watchlist_matches'").fetchall()[0][0]:
            for row in self.con.execute(f"""
                    SELECT subject_type, subject_id, list_name, entity_id, entity_name, score, evidence_text
                    FROM watchlist_matches WHERE is_current AND {cond} ORDER BY score DESC, entity_id""").fetchall():
                self.listed.setdefault((row[0], row[1]), []).append(row[2:])
        self.trafficked = {}
        for row in self.con.execute(f"""
                SELECT subject_type, subject_id, any_value(name), flatten(list(trafficking_facts)) FROM (
                    SELECT m.member_type AS subject_type, m.member_id AS subject_id, m.name, m.trafficking_facts
                    FROM network_members m JOIN networks n USING (network_id)
                    WHERE n.is_current IS NOT FALSE AND list_contains(m.roles, '{trafficking.ROLE}')
                ) WHERE {cond} GROUP BY subject_type, subject_id""").fetchall():
            self.trafficked[(row[0], row[1])] = [(row[2], list(dict.fromkeys(row[3] or [])))]

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
        if code and BIC_RE.match(code):
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
        if IBAN_RE.match(compact):
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
        desc = [f"{t.get('channel') or 'transfer'}: {number_text(t.get('amount'))} {t.get('currency')}"]
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
                            f"token {t.get('currency')} contract {t.get('token_contract')}, amount {number_text(t.get('amount'))}")
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
                              f"amount={number_text(t.get('amount'))}; from={t.get('from_account_id')}; to={t.get('to_account_id')}"))
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
