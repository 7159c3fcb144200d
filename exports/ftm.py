"""Networks as FollowTheMoney entities (JSON lines), for Aleph and the other tools of that ecosystem.

The same nodes and edges as the GraphML (exports/graphml.py), in FtM's schemas:
  party member          -> Person (party_type person) or Company (legal), with KYC identifiers
  bank account member   -> BankAccount (accountNumber, bankName, country)
  crypto account member -> CryptoWallet (publicKey, currency = the chain), holder = its holder party if known
  compound              -> Organization (topics crime)
  flow edge             -> Payment between two bank accounts (payerAccount / beneficiaryAccount, their holders as
                           payer / beneficiary, USD and dates); a flow with a wallet on either side is an
                           UnknownLink (role "payment flow"), FtM's Payment only takes bank accounts
  holder edge           -> Ownership (owner party, asset bank account); for a wallet, CryptoWallet.holder as well
  shared identifier     -> UnknownLink (role "shares device / ip / phone / email / address")
  compound link         -> UnknownLink (role "compound link: <kind>") to the compound, evidence in the description
  watch-list match      -> Sanction on the member (authority, programme, listing date, the match as reason)
Entity ids are stable: a hash of the member id (or the network, edge ends and kind) with a namespace, so a re-export
of the same network gives the same ids. Edges are per network, as in the GraphML; members are one entity each. Each entity is checked by followthemoney before it is written.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import duckdb
import pyarrow as pa

from exports.graphml import is_wallet
from exports.safe import atomic_path
from exports.tables import EDGE_ORDER

NAMESPACE = "scamtrace"
_TEXT_TYPES = frozenset({"string", "text", "name"})   # followthemoney types whose cleaning reads the text only
_CLEANED_MAX = 200_000   # cleaned texts kept (a bound on memory: about 120 MB of evidence sentences)
SHARED = {"device", "ip", "phone", "email", "address"}


def write(con: duckdb.DuckDBPyConnection, networks_table: str, path: Path, network_id: str | None = None) -> list[Path]:
    """network.ftm.json (FtM entities, one JSON object per line) of the selected networks, or of one of them."""
    return write_rows(gather(con, networks_table, network_id), path)


def gather(con: duckdb.DuckDBPyConnection, networks_table: str, network_id: str | None = None) -> dict[str, Any]:
    """The rows the entities are made of (members, edges, their KYC, compound links, compounds, watch-list
    matches) as Arrow tables: read here, turned into Python rows by write_rows, which can run in a worker
    process that never opens the store (a large export spends more time making rows than reading them)."""
    cond, params = ("network_id IN (SELECT network_id FROM " + networks_table + ")", []) if network_id is None \
        else ("network_id = ?", [network_id])
    return {
        "members": _arrow(con, f"SELECT {_MEMBER_COLS} FROM network_members WHERE {cond} "
                               "ORDER BY network_id, rank NULLS LAST, member_id, member_type", params),
        "edges": _arrow(con, f"SELECT * FROM network_edges WHERE {cond} ORDER BY network_id, {EDGE_ORDER}", params),
        "kyc": _arrow(con, f"""SELECT * FROM parties WHERE party_id IN (
                                 SELECT member_id FROM network_members WHERE {cond} AND member_type = 'party')""",
                      params),
        "links": _arrow(con, f"""
            SELECT m.network_id, {_LINK_COLS} FROM compound_links l JOIN network_members m
              ON l.subject_type = m.member_type AND l.subject_id = m.member_id
            WHERE m.{cond} AND l.is_current IS NOT FALSE ORDER BY m.network_id, l.link_id""", params),
        "compounds": _arrow(con, "SELECT compound_id, name, country, sources FROM compounds"),
        "listed": _arrow(con, f"""
            SELECT DISTINCT w.* FROM watchlist_matches w JOIN network_members m
              ON w.subject_type = m.member_type AND w.subject_id = m.member_id
            WHERE m.{cond} AND w.is_current ORDER BY w.match_id""", params) if _has(con, "watchlist_matches") else None,
    }


# The columns the entities are made of (a member's trafficking facts and a link's evidence record are not).
_MEMBER_COLS = ("network_id, member_type, member_id, name, role, rank, party_type, kind, institution, country, "
                "watchlist_ids")
_LINK_COLS = ", ".join(f"l.{c}" for c in ("link_id", "compound_id", "subject_type", "subject_id", "link_kind",
                                          "evidence_text", "confidence"))


def _arrow(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pa.Table:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DuckDB warns that DB-API Arrow output copies: fine here
        return con.execute(sql, params or []).to_arrow_table()


def write_rows(data: dict[str, Any], path: Path) -> list[Path]:
    """network.ftm.json from gather's tables."""
    def rows_of(name: str) -> Iterator[dict]:
        """A table's rows, one Arrow batch of them at a time (a large export's rows as Python objects take
        gigabytes; the entities are what needs to be held)."""
        table = data[name]
        for batch in ([] if table is None else table.to_batches(max_chunksize=50_000)):
            yield from batch.to_pylist()

    kyc = {r["party_id"]: r for r in rows_of("kyc")}
    compounds = {r["compound_id"]: r for r in rows_of("compounds")}
    builder = _Builder()
    for m in rows_of("members"):
        builder.member(m, kyc.get(m["member_id"]))
    for e in rows_of("edges"):
        builder.edge(e)
    for link in rows_of("links"):
        builder.compound_link(link, compounds.get(link["compound_id"]))
    for match in rows_of("listed"):
        builder.sanction(match)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for entity in builder.entities():
            fh.write(json.dumps(entity, ensure_ascii=False, sort_keys=True) + "\n")
    return [path]


def _has(con, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).fetchall()[0][0])


def _text(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if not hasattr(value, "hour") else value.isoformat()
    return str(value)


class _Builder:
    """Entities by id; a member seen in several networks is one entity with every network in its notes."""

    def __init__(self) -> None:
        from followthemoney import model
        from followthemoney.util import key_bytes
        from followthemoney.value import string_list

        self.model, self.string_list, self.key_bytes = model, string_list, key_bytes
        self.id_base: dict[str, Any] = {}  # schema -> sha1 of the id's namespace and schema parts
        self.by_id: dict[str, Any] = {}
        self.by_key: dict[tuple[str, ...], Any] = {}  # (schema, *key) -> its entity: an id is hashed once
        self.node_of: dict[tuple[str, str], str] = {}  # (account | party | compound, id) -> entity id
        self.holder_of: dict[str, str] = {}  # account id -> holder party entity id
        self.networks: dict[str, set[str]] = defaultdict(set)
        self.described: set[str] = set()  # compounds whose Organization has its properties
        self.seen_members: dict[tuple, str] = {}  # a member's properties as added -> its entity: then only notes
        self.cleaned: dict[tuple[str, str], list[str]] = {}  # (type, text) -> followthemoney's cleaning of it

    def _make(self, schema: str, *key: str):
        known = self.by_key.get((schema, *key))
        if known is not None:
            return known
        # proxy.make_id(NAMESPACE, schema, *key), with the hash of the first two parts made once per schema
        base = self.id_base.get(schema)
        if base is None:
            base = self.id_base[schema] = hashlib.sha1(self.key_bytes(NAMESPACE) + self.key_bytes(schema))
        digest = base.copy()
        for part in key:
            digest.update(self.key_bytes(part))
        eid = digest.hexdigest()
        proxy = self.by_id.get(eid)
        if proxy is None:
            proxy = self.by_id[eid] = self.model.make_entity(schema)
            proxy.id = eid
        self.by_key[(schema, *key)] = proxy
        return proxy

    @staticmethod
    def _own(proxy, prop: str, value: str) -> None:
        """A value this module made (an entity id it hashed, a fixed role or topic): valid as it is, so
        followthemoney's cleaning, most of the time of an export, is skipped. Data from the store, and text
        formatted from it, goes through proxy.add."""
        proxy.unsafe_add(proxy.schema.properties[prop], value, cleaned=True)

    def _add(self, proxy, prop_name: str, value: Any, quiet: bool = False) -> None:
        """proxy.add for a text of a type whose cleaning depends on the text alone (a compound link's role and
        summary repeat across links, its evidence in every network of its member): cleaned once, added as
        cleaned."""
        prop = proxy.schema.properties.get(prop_name)
        if type(value) is not str or prop is None or prop.stub or prop.type.name not in _TEXT_TYPES:
            proxy.add(prop_name, value, quiet=quiet)
            return
        key = (prop.type.name, value)
        cleaned = self.cleaned.get(key)
        if cleaned is None:
            if len(self.cleaned) >= _CLEANED_MAX:
                self.cleaned.clear()
            cleaned = self.cleaned[key] = [c for v in self.string_list(value, sanitize=True)
                                           if (c := prop.type.clean_text(v, format=prop.format)) is not None]
        for c in cleaned:
            proxy.unsafe_add(prop, c, cleaned=True)

    def member(self, m: dict, party: dict | None) -> None:
        kind, mid = m["member_type"], m["member_id"]
        # A member is a row per network it is in; its properties are the same in each (they come from the member
        # and its KYC, not the network), so after the first only the network's note is added.
        props = (kind, mid, m.get("party_type"), m.get("institution"), m.get("name"), m.get("country"),
                 bool(m.get("watchlist_ids")))
        eid = self.seen_members.get(props)
        if eid is not None:   # the entity these properties made (a party listed as person and as legal has two)
            self.networks[eid].add(f"{m['network_id']}: {m.get('role')} (rank {m.get('rank')})")
            self.node_of[(kind, mid)] = eid   # the member's last row names its entity, as the full path does
            return
        if kind == "party":
            proxy = self._make("Company" if m.get("party_type") == "legal" else "Person", "party", mid)
            if party:
                for prop, col in (("idNumber", "id_number"), ("phone", "phone"), ("email", "email"),
                                  ("address", "address"), ("nationality", "nationality"), ("birthDate", "birth_date"),
                                  ("registrationNumber", "registration_no")):
                    if party.get(col) and proxy.schema.get(prop) is not None:
                        proxy.add(prop, _text(party[col]), quiet=True)
        elif is_wallet(mid, m.get("kind")):
            proxy = self._make("CryptoWallet", "account", mid)
            chain, _, address = mid.partition(":")
            proxy.add("publicKey", address)
            proxy.add("currency", chain.upper())
        else:
            proxy = self._make("BankAccount", "account", mid)
            proxy.add("accountNumber", mid)
            proxy.add("bankName", m.get("institution"), quiet=True)
        proxy.add("name", m.get("name") or mid)
        proxy.add("country", m.get("country"), quiet=True)
        self.networks[proxy.id].add(f"{m['network_id']}: {m.get('role')} (rank {m.get('rank')})")
        if m.get("watchlist_ids"):
            proxy.add("topics", "sanction")
        self.node_of[(kind, mid)] = self.seen_members[props] = proxy.id

    def _node(self, kind: str, ident: str) -> str:
        """An edge end that is not a member (GraphML creates such nodes too): a bare account or party."""
        if (kind, ident) not in self.node_of:
            self.member({"member_type": kind, "member_id": ident, "network_id": "-", "role": "edge end",
                         "rank": None, "name": ident}, None)
        return self.node_of[(kind, ident)]

    def edge(self, e: dict) -> None:
        src, dst = self._node(e["src_type"], e["src_id"]), self._node(e["dst_type"], e["dst_id"])
        kind = e["kind"]
        if kind == "flow":
            bank = all(self.by_id[x].schema.name == "BankAccount" for x in (src, dst))
            proxy = self._make("Payment" if bank else "UnknownLink", "flow", e["network_id"], e["src_id"], e["dst_id"])
            if bank:
                self._own(proxy, "payerAccount", src)
                self._own(proxy, "beneficiaryAccount", dst)
                proxy.add("amountUsd", _text(e.get("usd") or 0))
                proxy.add("startDate", _text(e["first_at"]) if e.get("first_at") else None, quiet=True)
                proxy.add("endDate", _text(e["last_at"]) if e.get("last_at") else None, quiet=True)
            else:
                self._own(proxy, "subject", src)
                self._own(proxy, "object", dst)
                self._own(proxy, "role", "payment flow")
            proxy.add("summary", f"{e.get('n_txns')} transfers, USD {_text(e.get('usd') or 0)}")
            proxy.add("description", f"transactions: {e.get('evidence') or ''}")
        elif kind == "holder":
            holder, asset = src, dst
            if self.by_id[asset].schema.name == "CryptoWallet":
                self.by_id[asset].add("holder", holder)
            proxy = self._make("Ownership" if self.by_id[asset].schema.name == "BankAccount" else "UnknownLink",
                               "holder", e["network_id"], e["src_id"], e["dst_id"])
            if proxy.schema.name == "Ownership":
                self._own(proxy, "owner", holder)
                self._own(proxy, "asset", asset)
            else:
                self._own(proxy, "subject", holder)
                self._own(proxy, "object", asset)
            self._own(proxy, "role", "account holder")
        else:
            proxy = self._make("UnknownLink", kind, e["network_id"], e["src_id"], e["dst_id"])
            self._own(proxy, "subject", src)
            self._own(proxy, "object", dst)
            proxy.add("role", f"shares {kind}" if kind in SHARED else kind)
            proxy.add("description", e.get("evidence"), quiet=True)

    def compound_link(self, link: dict, compound: dict | None) -> None:
        cid = link["compound_id"]
        org = self._make("Organization", "compound", cid)
        if cid not in self.described:   # a compound linked to many members is described once
            self.described.add(cid)
            org.add("name", (compound or {}).get("name") or cid)
            org.add("country", (compound or {}).get("country"), quiet=True)
            self._own(org, "topics", "crime")
        self.node_of[("compound", cid)] = org.id
        proxy = self._make("UnknownLink", "compound_link", link["network_id"], link["link_id"])
        self._own(proxy, "subject", self._node(link["subject_type"], link["subject_id"]))
        self._own(proxy, "object", org.id)
        self._add(proxy, "role", f"compound link: {link['link_kind']}")
        self._add(proxy, "description", link.get("evidence_text"), quiet=True)
        self._add(proxy, "summary", f"confidence {float(link['confidence']):.2f}" if link.get("confidence") is not None
                  else None, quiet=True)

    def sanction(self, match: dict) -> None:
        proxy = self._make("Sanction", "watchlist", match["match_id"])
        proxy.add("entity", self._node(match["subject_type"], match["subject_id"]))
        proxy.add("authority", match.get("authority"), quiet=True)
        proxy.add("program", match.get("programs") or [], quiet=True)
        proxy.add("startDate", _text(match["listed_at"]) if match.get("listed_at") else None, quiet=True)
        proxy.add("reason", match.get("evidence_text"), quiet=True)
        proxy.add("summary", f"{match['list_name']} {match['entity_id']}, score {float(match['score']):.2f}")

    def entities(self) -> list[dict]:
        for eid, notes in self.networks.items():
            self.by_id[eid].add("notes", sorted(notes), quiet=True)
        return [self.by_id[k].to_dict() for k in sorted(self.by_id)]
